#pragma once

#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "bot/jobs/jobs.hpp"
#include "bot/jobs/scheduler.hpp"
#include "bot/support/bot_harness.hpp"
#include "bot/support/fake_nebula_gateway.hpp"

namespace nebula::bot::testing {

/// A FakeNebulaGateway per server that counts the calls the jobs make.
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
    boost::asio::awaitable<common::Status<domain::GatewayError>> delete_client(std::string email) override {
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

    FakeNebulaGateway fake;
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

/// The jobs on the bot's graph (the test harness) over a migrated database (SQLite or PostgreSQL,
/// per test parameter), a fake nebula-gateway per server, a fake Discord on 127.0.0.1 and a
/// ManualClock that only the test moves.
class JobsTest : public ::testing::TestWithParam<db::Backend>, protected BotGraph {
  protected:
    static constexpr std::uint64_t kGuild = shop::kGuild;
    static constexpr std::uint64_t kAdminRole = shop::kAdminRole;
    static constexpr std::uint64_t kSubscriberRole = shop::kSubscriberRole;
    static constexpr std::uint64_t kReviewChannel = shop::kReviewChannel;
    static constexpr std::uint64_t kBillingChannel = shop::kBillingChannel;
    static constexpr std::uint64_t kPanelChannel = shop::kPanelChannel;

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

    PerServerDirectory gateways_;
    jobs::JobsConfig config_;
    std::unique_ptr<jobs::Jobs> jobs_;
    int next_order_ = 0;
};

}  // namespace nebula::bot::testing
