#pragma once

#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "bot/db/executor.hpp"
#include "bot/domain/analytics.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/orders.hpp"
#include "bot/domain/provisioning.hpp"
#include "bot/domain/users.hpp"
#include "bot/handlers/context.hpp"
#include "bot/jobs/jobs.hpp"
#include "bot/jobs/scheduler.hpp"
#include "bot/support/fake_gateway.hpp"
#include "bot/support/test_database.hpp"
#include "common/clock.hpp"
#include "common/sleeper.hpp"
#include "common/task_group.hpp"
#include "discord/rest.hpp"
#include "fakes/discord/fake_discord.hpp"

namespace nebula::bot::testing {

/// A FakeGateway per server that counts the calls the jobs make.
class CountingGateway final : public domain::GatewayClient {
  public:
    boost::asio::awaitable<domain::GatewayResult<domain::ClientWithLinks>> create_client(
        domain::NewClient client) override {
        return fake.create_client(std::move(client));
    }
    boost::asio::awaitable<domain::GatewayResult<domain::ClientWithLinks>> get_client(
        std::string email) override {
        return fake.get_client(std::move(email));
    }
    boost::asio::awaitable<domain::GatewayResult<domain::GatewayClientInfo>> update_client(
        std::string email, domain::ClientChange change) override {
        return fake.update_client(std::move(email), change);
    }
    boost::asio::awaitable<domain::GatewayResult<domain::GatewayClientInfo>> reset_traffic(
        std::string email) override {
        return fake.reset_traffic(std::move(email));
    }
    boost::asio::awaitable<Status<domain::GatewayError>> delete_client(std::string email) override {
        ++deletes;
        return fake.delete_client(std::move(email));
    }
    boost::asio::awaitable<domain::GatewayResult<std::vector<domain::TrafficEntry>>> traffic() override {
        ++traffic_calls;
        return fake.traffic();
    }
    boost::asio::awaitable<domain::GatewayResult<domain::DisableOutcome>> disable_clients(
        std::vector<std::string> emails) override {
        ++disable_calls;
        EXPECT_LE(emails.size(), 1000u) << "the gateway takes at most 1000 emails per call";
        return fake.disable_clients(std::move(emails));
    }
    boost::asio::awaitable<domain::GatewayResult<domain::GatewayHealth>> health() override {
        ++health_calls;
        return fake.health();
    }

    FakeGateway fake;
    int disable_calls = 0;
    int traffic_calls = 0;
    int deletes = 0;
    int health_calls = 0;
};

class PerServerDirectory final : public domain::GatewayDirectory {
  public:
    domain::GatewayClient& gateway_for(const domain::Server& server) override { return at(server.id); }
    CountingGateway& at(domain::ServerId id) {
        auto& slot = gateways_[id.value];
        if (!slot) slot = std::make_unique<CountingGateway>();
        return *slot;
    }

  private:
    std::map<std::int64_t, std::unique_ptr<CountingGateway>> gateways_;
};

/// The jobs over a migrated database (SQLite or PostgreSQL, per test parameter), a fake gateway
/// per server, a fake Discord on 127.0.0.1 and a ManualClock that only the test moves.
class JobsTest : public ::testing::TestWithParam<db::Backend> {
  protected:
    static constexpr std::uint64_t kGuild = 800000000000000001ULL;
    static constexpr std::uint64_t kAdminRole = 700000000000000001ULL;
    static constexpr std::uint64_t kSubscriberRole = 700000000000000009ULL;
    static constexpr std::uint64_t kReviewChannel = 810000000000000001ULL;
    static constexpr std::uint64_t kBillingChannel = 810000000000000002ULL;
    static constexpr std::uint64_t kPanelChannel = 810000000000000003ULL;

    void SetUp() override;
    void TearDown() override;

    /// Runs `body` on the test's io_context to completion.
    void run(std::function<boost::asio::awaitable<void>()> body);
    /// A new Jobs over the same context (what a restart builds).
    std::unique_ptr<jobs::Jobs> make_jobs();

    domain::Server make_server(const std::string& name);
    domain::PlanId make_plan(int days = 30, std::int64_t traffic_bytes = 100LL << 30);
    domain::UserId make_user(std::uint64_t discord_id);
    /// A fulfilled account (order, account row and panel client), expiring at `expires_at`.
    domain::Account make_account(domain::UserId user, const domain::Server& server,
                                 domain::Timestamp expires_at, std::int64_t traffic_limit = 100LL << 30);
    domain::Account account(domain::AccountId id);
    /// A text channel in the shop's server, made through the fake Discord (as an order channel).
    discord::Snowflake make_channel(const std::string& name);
    /// An order of `user` for `plan`, paid by Vodafone Cash, its receipt submitted: under review.
    domain::Order order_under_review(domain::UserId user, domain::PlanId plan);
    /// Messages the fake Discord accepted in DM channels (any user).
    std::vector<fakes::discord::RecordedRequest> dms() const;
    std::vector<fakes::discord::RecordedRequest> posts_to(std::uint64_t channel) const;
    domain::Timestamp now() const { return domain::to_timestamp(clock_.now()); }

    template <typename F>
    auto with_db(F fn) {
        auto connection = database_->connect();
        return fn(*connection);
    }

    boost::asio::io_context io_;
    common::SystemClock system_clock_;
    common::ManualClock clock_;
    std::unique_ptr<fakes::discord::FakeDiscord> fake_;
    std::unique_ptr<discord::RestClient> rest_;
    std::unique_ptr<TestDatabase> database_;
    std::unique_ptr<db::DbExecutor> db_;
    PerServerDirectory gateways_;
    ui::TimeZone zone_ = ui::TimeZone::utc();
    domain::UserService users_{clock_};
    domain::CatalogService catalog_{clock_};
    std::unique_ptr<domain::OrderService> orders_;
    std::unique_ptr<domain::Provisioner> provisioner_;
    std::unique_ptr<domain::AccountOperations> accounts_;
    domain::Analytics analytics_{std::chrono::seconds(0)};
    common::TaskGroup background_{io_.get_executor()};
    std::unique_ptr<common::Sleeper> sleeper_ = common::make_asio_sleeper(io_.get_executor(), clock_);
    core::ShopSettings shop_;
    std::unique_ptr<core::BotContext> ctx_;
    jobs::JobsConfig config_;
    std::unique_ptr<jobs::Jobs> jobs_;
    int next_order_ = 0;
};

}  // namespace nebula::bot::testing
