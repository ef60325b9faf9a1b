#include "bot/domain/provisioning.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "bot/domain/audit.hpp"
#include "bot/support/discord_ids.hpp"
#include "bot/support/fake_nebula_gateway.hpp"
#include "domain_fixture.hpp"

using nebula::bot::testing::discord_id;

namespace nebula::bot::domain {
namespace {

using testing::CreateFault;
using testing::run_awaitable;

class ProvisioningTest : public testing::DomainTest {
  protected:
    void SetUp() override {
        DomainTest::SetUp();
        if (HasFatalFailure()) return;
        server_ = make_server("eu-1");
        auto executor = db::DbExecutor::open(db().url(), 4);
        ASSERT_TRUE(executor.has_value()) << executor.error();
        executor_ = std::move(executor).value();
        provisioner_ = std::make_unique<Provisioner>(*executor_, directory_, *orders_, catalog_, clock_);
        operations_ = std::make_unique<AccountOperations>(*executor_, directory_, catalog_, clock_);
    }
    void TearDown() override {
        operations_.reset();
        provisioner_.reset();
        executor_.reset();
        DomainTest::TearDown();
    }

    std::int64_t count(const std::string& sql) { return *conn().scalar<std::int64_t>(sql); }

    testing::FakeNebulaGateway gateway_;
    testing::FakeDirectory directory_{gateway_};
    ServerId server_;
    std::unique_ptr<db::DbExecutor> executor_;
    std::unique_ptr<Provisioner> provisioner_;
    std::unique_ptr<AccountOperations> operations_;
};

TEST_P(ProvisioningTest, ApproveCreatesOneClientWithTheStoredIdentity) {
    auto order = order_under_review(make_user("200"));
    auto done = run_awaitable(provisioner_->approve_and_fulfil(order.id, discord_id("admin-1")));
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_EQ(done->order.status, OrderStatus::fulfilled);
    EXPECT_EQ(done->account.client_email, "nl-" + std::to_string(order.id.value));
    EXPECT_EQ(done->account.client_uuid, *done->order.client_uuid);
    EXPECT_EQ(done->account.server_id, server_);
    EXPECT_EQ(done->account.expires_at, to_timestamp(clock_.now()) + std::chrono::days(30));
    ASSERT_TRUE(done->links.has_value());
    EXPECT_TRUE(done->links->vless.starts_with("vless://" + done->account.client_uuid));

    const auto clients = gateway_.clients();
    ASSERT_EQ(clients.size(), 1u);
    const auto& client = clients.at(done->account.client_email);
    EXPECT_EQ(client.uuid, done->account.client_uuid);
    EXPECT_EQ(client.expiry_ms, epoch_seconds(done->account.expires_at) * 1000);
    EXPECT_EQ(client.total_bytes, 50LL << 30);
    EXPECT_EQ(client.limit_ip, 2);
    EXPECT_EQ(client.comment, order.reference);

    auto again = run_awaitable(provisioner_->fulfil(order.id));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->account.id, done->account.id);
    EXPECT_EQ(gateway_.clients().size(), 1u);
    EXPECT_EQ(audit_for(conn(), "account", std::to_string(done->account.id.value)).size(), 1u);
}

TEST_P(ProvisioningTest, TimeoutAfterCreateIsFinishedByTheReconcilerWithoutASecondClient) {
    auto order = order_under_review(make_user("201"));
    gateway_.script_create({CreateFault::timeout_after_create});
    auto first = run_awaitable(provisioner_->approve_and_fulfil(order.id, discord_id("admin-1")));
    ASSERT_FALSE(first.has_value());
    EXPECT_EQ(first.error().code, ErrorCode::gateway);
    auto stuck = orders_->get(conn(), order.id);
    EXPECT_EQ(stuck->status, OrderStatus::approved);
    EXPECT_EQ(stuck->provision_attempts, 1);
    EXPECT_NE(stuck->last_error->find("timeout"), std::string::npos);
    EXPECT_EQ(gateway_.clients().size(), 1u);  // the panel did create it

    auto report = run_awaitable(provisioner_->reconcile());
    EXPECT_EQ(report.fulfilled, 1);
    EXPECT_EQ(report.failed, 0);
    EXPECT_EQ(orders_->get(conn(), order.id)->status, OrderStatus::fulfilled);
    EXPECT_EQ(gateway_.clients().size(), 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM vpn_accounts"), 1);
    EXPECT_EQ(gateway_.clients().begin()->second.uuid, orders_->get(conn(), order.id)->client_uuid);
}

TEST_P(ProvisioningTest, ServerErrorLeavesTheOrderApprovedUntilTheGatewayRecovers) {
    auto order = order_under_review(make_user("202"));
    gateway_.script_create({CreateFault::server_error, CreateFault::server_error});
    EXPECT_FALSE(
        run_awaitable(provisioner_->approve_and_fulfil(order.id, discord_id("admin-1"))).has_value());
    auto report = run_awaitable(provisioner_->reconcile());
    EXPECT_EQ(report.failed, 1);
    EXPECT_EQ(orders_->get(conn(), order.id)->provision_attempts, 2);
    EXPECT_TRUE(gateway_.clients().empty());
    report = run_awaitable(provisioner_->reconcile());
    EXPECT_EQ(report.fulfilled, 1);
    EXPECT_EQ(gateway_.clients().size(), 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM orders WHERE status = 'fulfilled'"), 1);
}

TEST_P(ProvisioningTest, ConflictWithOurOwnClientIsSuccess) {
    auto order = order_under_review(make_user("203"));
    // The create went through, its answer was lost, and the retry raced into a 409.
    gateway_.script_create({CreateFault::timeout_after_create, CreateFault::conflict});
    EXPECT_FALSE(
        run_awaitable(provisioner_->approve_and_fulfil(order.id, discord_id("admin-1"))).has_value());
    auto report = run_awaitable(provisioner_->reconcile());
    EXPECT_EQ(report.fulfilled, 1);
    EXPECT_EQ(gateway_.clients().size(), 1u);
}

TEST_P(ProvisioningTest, ConflictWithAForeignClientIsNeverAdopted) {
    auto order = order_under_review(make_user("204"));
    gateway_.add_foreign_client(client_email_for(order.id), "11111111-1111-4111-8111-111111111111");
    auto result = run_awaitable(provisioner_->approve_and_fulfil(order.id, discord_id("admin-1")));
    ASSERT_FALSE(result.has_value());
    EXPECT_NE(result.error().message.find("another UUID"), std::string::npos);
    auto report = run_awaitable(provisioner_->reconcile());
    EXPECT_EQ(report.failed, 1);
    EXPECT_EQ(orders_->get(conn(), order.id)->status, OrderStatus::approved);
    EXPECT_EQ(count("SELECT COUNT(*) FROM vpn_accounts"), 0);
    EXPECT_EQ(gateway_.clients().size(), 1u);
}

TEST_P(ProvisioningTest, MixedFaultsEndWithExactlyOneClientPerFulfilledOrder) {
    std::vector<OrderId> ids;
    for (int i = 0; i < 6; ++i)
        ids.push_back(order_under_review(make_user("mix-" + std::to_string(i)), "r" + std::to_string(i)).id);
    gateway_.script_create({CreateFault::timeout_after_create, CreateFault::server_error,
                            CreateFault::conflict, CreateFault::none, CreateFault::timeout_after_create,
                            CreateFault::server_error});
    for (auto id : ids) (void)run_awaitable(provisioner_->approve_and_fulfil(id, discord_id("admin-1")));
    for (int round = 0; round < 3; ++round) (void)run_awaitable(provisioner_->reconcile());
    EXPECT_EQ(count("SELECT COUNT(*) FROM orders WHERE status = 'fulfilled'"), 6);
    EXPECT_EQ(count("SELECT COUNT(*) FROM vpn_accounts"), 6);
    const auto clients = gateway_.clients();
    EXPECT_EQ(clients.size(), 6u);
    for (auto id : ids) {
        auto order = orders_->get(conn(), id);
        ASSERT_TRUE(clients.contains(*order->client_email));
        EXPECT_EQ(clients.at(*order->client_email).uuid, order->client_uuid);
    }
}

TEST_P(ProvisioningTest, TwoApprovalsAtOnceGiveOneAccount) {
    auto order = order_under_review(make_user("205"));
    boost::asio::io_context io;
    std::vector<Outcome<Fulfilment>> results;
    for (const domain::DiscordId admin : {discord_id("admin-a"), discord_id("admin-b")}) {
        boost::asio::co_spawn(
            io,
            [&, admin]() -> boost::asio::awaitable<void> {
                results.push_back(co_await provisioner_->approve_and_fulfil(order.id, admin));
            },
            [](std::exception_ptr error) { EXPECT_FALSE(error); });
    }
    io.run();
    ASSERT_EQ(results.size(), 2u);
    const int successes = results[0].has_value() + results[1].has_value();
    EXPECT_EQ(successes, 1);
    for (const auto& result : results) {
        if (!result) {
            EXPECT_TRUE(result.error().code == ErrorCode::invalid_transition ||
                        result.error().code == ErrorCode::conflict)
                << result.error().message;
        }
    }
    EXPECT_EQ(count("SELECT COUNT(*) FROM vpn_accounts"), 1);
    EXPECT_EQ(gateway_.clients().size(), 1u);
    EXPECT_EQ(gateway_.create_calls(), 1);
}

// A clock whose first `parties` readings wait for one another, so approvals that read it on
// different DbExecutor threads start their capacity checks at the same moment.
class StartLineClock final : public common::Clock {
  public:
    StartLineClock(const common::Clock& time, int parties) : time_(time), waiting_for_(parties) {}
    std::chrono::system_clock::time_point now() const override {
        std::unique_lock lock(mutex_);
        if (waiting_for_ > 0 && --waiting_for_ == 0) everyone_here_.notify_all();
        everyone_here_.wait(lock, [this] { return waiting_for_ == 0; });
        return time_.now();
    }
    std::chrono::steady_clock::time_point steady_now() const override { return time_.steady_now(); }

  private:
    const common::Clock& time_;
    mutable std::mutex mutex_;
    mutable std::condition_variable everyone_here_;
    mutable int waiting_for_;
};

TEST_P(ProvisioningTest, TwoApprovalsCannotBothTakeTheLastSlot) {
    // Only one-slot servers take part; each round's server is full once the round is over.
    ASSERT_TRUE(catalog_.set_server_enabled(conn(), discord_id("admin-1"), server_, false).has_value());
    for (int round = 0; round < 10; ++round) {
        const auto tag = std::to_string(round);
        const auto server = make_server("one-slot-" + tag, 1);
        const auto a = order_under_review(make_user("slot-a-" + tag), "receipt-a-" + tag);
        const auto b = order_under_review(make_user("slot-b-" + tag), "receipt-b-" + tag);
        StartLineClock start_line(clock_, 2);
        Provisioner provisioner(*executor_, directory_, *orders_, catalog_, start_line);
        boost::asio::io_context io;
        std::vector<std::pair<OrderId, Outcome<Fulfilment>>> results;
        for (const auto id : {a.id, b.id}) {
            boost::asio::co_spawn(
                io,
                [&, id]() -> boost::asio::awaitable<void> {
                    auto result = co_await provisioner.approve_and_fulfil(id, discord_id("admin-1"));
                    results.emplace_back(id, std::move(result));
                },
                [](std::exception_ptr error) { EXPECT_FALSE(error); });
        }
        io.run();
        ASSERT_EQ(results.size(), 2u);
        int fulfilled = 0;
        for (const auto& [id, result] : results) {
            if (result) {
                ++fulfilled;
                EXPECT_EQ(result->account.server_id, server);
            } else {
                // Paid and approved, waiting for room: no slot is held and no client made.
                EXPECT_EQ(result.error().code, ErrorCode::no_capacity) << result.error().message;
                const auto waiting = orders_->get(conn(), id);
                EXPECT_EQ(waiting->status, OrderStatus::approved);
                EXPECT_FALSE(waiting->server_id.has_value());
            }
        }
        EXPECT_EQ(fulfilled, 1) << "round " << round;
        EXPECT_EQ(
            count("SELECT COUNT(*) FROM vpn_accounts WHERE server_id = " + std::to_string(server.value)), 1);
        EXPECT_EQ(count("SELECT COUNT(*) FROM orders WHERE status = 'approved' AND server_id IS NOT NULL"),
                  0);
        if (HasFailure()) break;
    }
    EXPECT_EQ(gateway_.clients().size(), 10u);
}

TEST_P(ProvisioningTest, ConcurrentFulfilAndReconcileMakeOneAccount) {
    std::vector<OrderId> ids;
    for (int i = 0; i < 5; ++i) {
        auto order = order_under_review(make_user("race-" + std::to_string(i)), "race" + std::to_string(i));
        ASSERT_TRUE(run_awaitable(provisioner_->approve(order.id, discord_id("admin-1"))).has_value());
        ids.push_back(order.id);
    }
    boost::asio::io_context io;
    for (auto id : ids) {
        boost::asio::co_spawn(
            io, [&, id]() -> boost::asio::awaitable<void> { (void)co_await provisioner_->fulfil(id); },
            [](std::exception_ptr e) { EXPECT_FALSE(e); });
    }
    boost::asio::co_spawn(
        io, [&]() -> boost::asio::awaitable<void> { (void)co_await provisioner_->reconcile(); },
        [](std::exception_ptr e) { EXPECT_FALSE(e); });
    io.run();
    EXPECT_EQ(count("SELECT COUNT(*) FROM vpn_accounts"), 5);
    EXPECT_EQ(count("SELECT COUNT(*) FROM orders WHERE status = 'fulfilled'"), 5);
    EXPECT_EQ(gateway_.clients().size(), 5u);
}

TEST_P(ProvisioningTest, NoCapacityApprovesAndTheReconcilerPlacesTheOrderLater) {
    ASSERT_TRUE(catalog_.set_server_enabled(conn(), discord_id("admin-1"), server_, false).has_value());
    auto order = order_under_review(make_user("206"));
    auto result = run_awaitable(provisioner_->approve_and_fulfil(order.id, discord_id("admin-1")));
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, ErrorCode::no_capacity);
    EXPECT_TRUE(is_pending(result.error()));
    auto waiting = orders_->get(conn(), order.id);
    EXPECT_EQ(waiting->status, OrderStatus::approved);
    EXPECT_FALSE(waiting->server_id.has_value());
    EXPECT_NE(waiting->last_error.value_or("").find("no VPN server has room"), std::string::npos);
    EXPECT_TRUE(gateway_.clients().empty());

    // Still full: the reconciler leaves it approved and says why.
    auto report = run_awaitable(provisioner_->reconcile());
    EXPECT_EQ(report.fulfilled, 0);
    EXPECT_EQ(report.failed, 1);
    EXPECT_EQ(orders_->get(conn(), order.id)->status, OrderStatus::approved);

    // Room again: the next run places and provisions it, exactly once.
    ASSERT_TRUE(catalog_.set_server_enabled(conn(), discord_id("admin-1"), server_, true).has_value());
    report = run_awaitable(provisioner_->reconcile());
    EXPECT_EQ(report.fulfilled, 1);
    const auto done = orders_->get(conn(), order.id);
    EXPECT_EQ(done->status, OrderStatus::fulfilled);
    EXPECT_EQ(done->server_id, server_);
    EXPECT_EQ(count("SELECT COUNT(*) FROM vpn_accounts WHERE server_id = " + std::to_string(server_.value)),
              1);
    EXPECT_EQ(gateway_.clients().size(), 1u);
}

TEST_P(ProvisioningTest, RenewalExtendsFromLaterOfNowAndExpiryOnTheSameClient) {
    const auto user = make_user("207");
    auto first = run_awaitable(
        provisioner_->approve_and_fulfil(order_under_review(user, "first").id, discord_id("admin-1")));
    ASSERT_TRUE(first.has_value());
    const auto account = first->account;
    gateway_.set_usage(account.client_email, 100, 200);
    clock_.advance(std::chrono::days(10));  // 20 days left

    auto renewal = orders_->place_renewal(conn(), user, plan_, account.id);
    ASSERT_TRUE(renewal.has_value()) << renewal.error().message;
    EXPECT_EQ(renewal->order.kind, OrderKind::renewal);
    ASSERT_TRUE(orders_->choose_payment_method(conn(), renewal->order.id, user, method_).has_value());
    ASSERT_TRUE(
        orders_->submit_receipt(conn(), renewal->order.id, user, {"second", "image/png", {}}).has_value());
    auto renewed = run_awaitable(provisioner_->approve_and_fulfil(renewal->order.id, discord_id("admin-1")));
    ASSERT_TRUE(renewed.has_value()) << renewed.error().message;
    EXPECT_EQ(renewed->account.id, account.id);
    EXPECT_EQ(renewed->account.expires_at, account.expires_at + std::chrono::days(30));
    const auto clients = gateway_.clients();
    ASSERT_EQ(clients.size(), 1u);
    EXPECT_EQ(clients.at(account.client_email).expiry_ms, epoch_seconds(renewed->account.expires_at) * 1000);
    EXPECT_EQ(clients.at(account.client_email).up, 0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM vpn_accounts"), 1);

    // Long expired: the renewal counts from now.
    clock_.advance(std::chrono::days(100));
    auto late = orders_->place_renewal(conn(), user, plan_, account.id);
    ASSERT_TRUE(orders_->choose_payment_method(conn(), late->order.id, user, method_).has_value());
    ASSERT_TRUE(
        orders_->submit_receipt(conn(), late->order.id, user, {"third", "image/png", {}}).has_value());
    auto late_renewed =
        run_awaitable(provisioner_->approve_and_fulfil(late->order.id, discord_id("admin-1")));
    ASSERT_TRUE(late_renewed.has_value());
    EXPECT_EQ(late_renewed->account.expires_at, to_timestamp(clock_.now()) + std::chrono::days(30));
}

TEST_P(ProvisioningTest, AccountOperationsChangePanelThenDatabase) {
    auto done = run_awaitable(
        provisioner_->approve_and_fulfil(order_under_review(make_user("208")).id, discord_id("admin-1")));
    ASSERT_TRUE(done.has_value());
    const auto id = done->account.id;
    const auto email = done->account.client_email;

    auto extended = run_awaitable(operations_->extend(id, 7, discord_id("admin-9")));
    ASSERT_TRUE(extended.has_value());
    EXPECT_EQ(extended->expires_at, done->account.expires_at + std::chrono::days(7));
    EXPECT_EQ(gateway_.clients().at(email).expiry_ms, epoch_seconds(extended->expires_at) * 1000);

    auto disabled = run_awaitable(operations_->set_enabled(id, false, discord_id("admin-9")));
    ASSERT_TRUE(disabled.has_value());
    EXPECT_EQ(disabled->status, AccountStatus::disabled);
    EXPECT_FALSE(gateway_.clients().at(email).enable);
    ASSERT_TRUE(run_awaitable(operations_->set_enabled(id, true, discord_id("admin-9"))).has_value());
    EXPECT_TRUE(gateway_.clients().at(email).enable);

    gateway_.set_usage(email, 5, 6);
    ASSERT_TRUE(run_awaitable(operations_->reset_traffic(id, discord_id("admin-9"))).has_value());
    EXPECT_EQ(gateway_.clients().at(email).down, 0);

    auto config = run_awaitable(operations_->show_config(id));
    ASSERT_TRUE(config.has_value());
    EXPECT_TRUE(config->links.subscription.starts_with("https://"));

    gateway_.set_down(GatewayError{GatewayErrorCode::unreachable, 0, "connection refused"});
    auto failed = run_awaitable(operations_->extend(id, 1, discord_id("admin-9")));
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().code, ErrorCode::gateway);
    EXPECT_EQ(accounts::get(conn(), id)->expires_at, extended->expires_at);
    gateway_.set_down(std::nullopt);

    auto removed = run_awaitable(operations_->remove(id, discord_id("admin-9")));
    ASSERT_TRUE(removed.has_value());
    EXPECT_EQ(removed->status, AccountStatus::deleted);
    EXPECT_TRUE(gateway_.clients().empty());
    EXPECT_EQ(run_awaitable(operations_->extend(id, 1, discord_id("admin-9"))).error().code,
              ErrorCode::invalid_transition);

    auto trail = audit_for(conn(), "account", std::to_string(id.value));
    ASSERT_EQ(trail.size(), 6u);
    EXPECT_EQ(trail.back().entry.action, "account.deleted");
    EXPECT_EQ(trail.back().entry.actor, discord_id("admin-9").str());
}

NEBULA_INSTANTIATE_FOR_BACKENDS(ProvisioningTest);

}  // namespace
}  // namespace nebula::bot::domain
