// A choice of location for a new account, and moving an account to another server (issue 13 §5),
// on both backends.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "bot/domain/account_moves.hpp"
#include "bot/domain/accounts.hpp"
#include "bot/domain/audit.hpp"
#include "bot/domain/export.hpp"
#include "bot/domain/load_balancer.hpp"
#include "bot/domain/provisioning.hpp"
#include "bot/domain/referrals.hpp"
#include "bot/support/fake_nebula_gateway.hpp"
#include "domain_fixture.hpp"

namespace nebula::bot::domain {
namespace {

using testing::run_awaitable;

const DiscordId kAdmin{100000000000000001ULL};

/// One fake gateway per server, as in a shop with a panel per location.
class PerServerDirectory final : public GatewayDirectory {
  public:
    GatewayClient& gateway_for(const Server& server) override { return gateways_[server.id.value]; }
    testing::FakeNebulaGateway& of(ServerId id) { return gateways_[id.value]; }

  private:
    std::map<std::int64_t, testing::FakeNebulaGateway> gateways_;
};

ServerLoad load(std::int64_t id, std::string location, std::int64_t used, int capacity = 10) {
    ServerLoad l;
    l.id = ServerId{id};
    l.location = std::move(location);
    l.used = used;
    l.capacity = capacity;
    return l;
}

TEST(LocationChoice, LeastLoadedWithinTheLocationAndOnlyLocationsWithRoom) {
    std::vector<ServerLoad> servers{load(1, "Germany", 2), load(2, "Germany", 1), load(3, "Egypt", 0),
                                    load(4, "France", 10)};
    EXPECT_EQ(choose_server(servers, std::string("Germany")), ServerId{2});
    EXPECT_EQ(choose_server(servers, std::nullopt), ServerId{3});
    EXPECT_EQ(choose_server(servers, std::string("France")), std::nullopt);  // full
    EXPECT_EQ(locations_with_room(servers), (std::vector<std::string>{"Egypt", "Germany"}));
    servers[2].health = ServerHealth::down;
    servers[0].enabled = false;
    EXPECT_EQ(locations_with_room(servers), (std::vector<std::string>{"Germany"}));
}

class LocationTest : public testing::DomainTest {
  protected:
    void SetUp() override {
        DomainTest::SetUp();
        if (HasFatalFailure()) return;
        berlin_ = make_server_in("berlin-1", "Germany", 2);
        berlin_2_ = make_server_in("berlin-2", "Germany", 2);
        cairo_ = make_server_in("cairo-1", "Egypt", 1);
        auto executor = db::DbExecutor::open(db().url(), 4);
        ASSERT_TRUE(executor.has_value()) << executor.error();
        executor_ = std::move(executor).value();
        provisioner_ = std::make_unique<Provisioner>(*executor_, directory_, *orders_, catalog_, clock_);
        mover_ = std::make_unique<AccountMover>(*executor_, directory_, catalog_, clock_);
    }
    void TearDown() override {
        mover_.reset();
        provisioner_.reset();
        executor_.reset();
        DomainTest::TearDown();
    }

    ServerId make_server_in(const std::string& name, const std::string& location, int capacity) {
        auto server = catalog_.create_server(
            conn(), kAdmin,
            {name, location, "https://" + name + ".example:8443", std::string(40, 'k'), "", 1, capacity, 1});
        EXPECT_TRUE(server.has_value()) << server.error().message;
        return server->id;
    }

    /// A new order in `location` taken to under_review.
    Order order_in(const std::string& discord_id, std::optional<std::string> location) {
        const auto user = make_user(discord_id);
        auto placed = orders_->place(conn(), user, plan_, location);
        EXPECT_TRUE(placed.has_value()) << placed.error().message;
        EXPECT_EQ(placed->order.location, location);
        EXPECT_TRUE(orders_->choose_payment_method(conn(), placed->order.id, user, method_).has_value());
        auto submitted = orders_->submit_receipt(
            conn(), placed->order.id, user, {"receipt-" + discord_id, "image/png", testing::discord_id("a")});
        EXPECT_TRUE(submitted.has_value()) << submitted.error().message;
        return submitted->order;
    }

    Fulfilment approve(const Order& order) {
        auto done = run_awaitable(provisioner_->approve_and_fulfil(order.id, kAdmin));
        EXPECT_TRUE(done.has_value()) << done.error().message;
        return *done;
    }

    std::int64_t count(const std::string& sql) { return *conn().scalar<std::int64_t>(sql); }

    PerServerDirectory directory_;
    ServerId berlin_, berlin_2_, cairo_;
    std::unique_ptr<db::DbExecutor> executor_;
    std::unique_ptr<Provisioner> provisioner_;
    std::unique_ptr<AccountMover> mover_;
};

TEST_P(LocationTest, TheChosenLocationIsStoredAndTheLeastLoadedServerThereIsUsed) {
    // Germany's first server already holds an account; Egypt is empty (the least loaded overall).
    approve(order_in("100000000000000010", std::string("Germany")));
    const auto second = approve(order_in("100000000000000011", std::string("Germany")));
    EXPECT_EQ(second.account.server_id, berlin_2_);
    EXPECT_EQ(directory_.of(berlin_2_).clients().size(), 1u);
    EXPECT_TRUE(directory_.of(cairo_).clients().empty());
    // "Any": the least loaded of all.
    const auto any = approve(order_in("100000000000000012", std::nullopt));
    EXPECT_EQ(any.account.server_id, cairo_);

    // The exports say where each order asked to be and where each account is.
    std::ostringstream orders_csv;
    EXPECT_EQ(export_rows(conn(), ExportKind::orders, orders_csv, {ExportFormat::csv, false}), 3);
    EXPECT_NE(orders_csv.str().find(",location,server\r\n"), std::string::npos) << orders_csv.str();
    EXPECT_NE(orders_csv.str().find(",Germany,berlin-2\r\n"), std::string::npos) << orders_csv.str();
    EXPECT_NE(orders_csv.str().find(",,cairo-1\r\n"), std::string::npos) << orders_csv.str();
    std::ostringstream accounts_csv;
    EXPECT_EQ(export_rows(conn(), ExportKind::accounts, accounts_csv, {ExportFormat::csv, false}), 3);
    EXPECT_NE(accounts_csv.str().find(",berlin-2,Germany,"), std::string::npos) << accounts_csv.str();
    EXPECT_NE(accounts_csv.str().find(",cairo-1,Egypt,"), std::string::npos) << accounts_csv.str();
}

TEST_P(LocationTest, AnUnknownLocationIsRefused) {
    const auto user = make_user("100000000000000013");
    auto placed = orders_->place(conn(), user, plan_, std::string("Atlantis"));
    ASSERT_FALSE(placed.has_value());
    EXPECT_EQ(placed.error().code, ErrorCode::validation);
    EXPECT_EQ(count("SELECT COUNT(*) FROM orders"), 0);
}

TEST_P(LocationTest, ALocationThatFilledUpMeanwhileFallsBackElsewhereNeverOverCapacity) {
    auto waiting = order_in("100000000000000020", std::string("Egypt"));
    // Someone else takes Egypt's only slot while the first customer pays.
    approve(order_in("100000000000000021", std::string("Egypt")));
    const auto placed = approve(waiting);
    EXPECT_NE(placed.account.server_id, cairo_);
    EXPECT_EQ(placed.order.location, std::string("Egypt"));
    EXPECT_EQ(count("SELECT COUNT(*) FROM vpn_accounts WHERE server_id = " + std::to_string(cairo_.value)),
              1);
    EXPECT_EQ(directory_.of(cairo_).clients().size(), 1u);
}

TEST_P(LocationTest, EverythingFullLeavesThePaidOrderForTheReconcilerWhichKeepsToTheLocation) {
    std::vector<Order> orders;
    for (int i = 0; i < 5; ++i) approve(order_in("10000000000000003" + std::to_string(i), std::nullopt));
    auto late = order_in("100000000000000039", std::string("Egypt"));
    auto result = run_awaitable(provisioner_->approve_and_fulfil(late.id, kAdmin));
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, ErrorCode::no_capacity);
    // Room in Egypt again: the reconciler places it there.
    ASSERT_TRUE(catalog_
                    .update_server(conn(), kAdmin, cairo_,
                                   {"cairo-1", "Egypt", "https://cairo-1.example:8443", std::string(40, 'k'),
                                    "", 1, 2, 1})
                    .has_value());
    EXPECT_EQ(run_awaitable(provisioner_->reconcile()).fulfilled, 1);
    EXPECT_EQ(orders_->get(conn(), late.id)->server_id, cairo_);
}

TEST_P(LocationTest, ARenewalStaysOnItsServer) {
    const auto first = approve(order_in("100000000000000040", std::string("Egypt")));
    auto renewal = orders_->place_renewal(conn(), first.account.user_id, plan_, first.account.id);
    ASSERT_TRUE(renewal.has_value());
    const auto user = first.account.user_id;
    ASSERT_TRUE(orders_->choose_payment_method(conn(), renewal->order.id, user, method_).has_value());
    ASSERT_TRUE(
        orders_
            ->submit_receipt(conn(), renewal->order.id, user, {"r2", "image/png", testing::discord_id("b")})
            .has_value());
    // Egypt is full (this very account): the renewal does not need a slot and stays.
    const auto renewed = approve(*orders_->get(conn(), renewal->order.id));
    EXPECT_EQ(renewed.account.id, first.account.id);
    EXPECT_EQ(renewed.account.server_id, cairo_);
}

// ---- moves ----

class MoveTest : public LocationTest {
  protected:
    Account account_on_berlin() {
        auto done = approve(order_in("100000000000000050", std::string("Germany")));
        EXPECT_EQ(done.account.server_id, berlin_);
        accounts::record_usage(conn(), done.account.id, 10LL << 30, 5LL << 30, to_timestamp(clock_.now()));
        return *accounts::get(conn(), done.account.id);
    }

    void tell(std::int64_t move) { moves::mark_told(conn(), move, to_timestamp(clock_.now())); }

    /// The customer's renewal of `account`, paid and waiting for review.
    Order renewal_of(const Account& account) {
        auto renewal = orders_->place_renewal(conn(), account.user_id, plan_, account.id);
        EXPECT_TRUE(renewal.has_value()) << renewal.error().message;
        EXPECT_TRUE(
            orders_->choose_payment_method(conn(), renewal->order.id, account.user_id, method_).has_value());
        EXPECT_TRUE(orders_
                        ->submit_receipt(conn(), renewal->order.id, account.user_id,
                                         {"renewal-receipt", "image/png", testing::discord_id("renewal")})
                        .has_value());
        return *orders_->get(conn(), renewal->order.id);
    }

    /// The panel client the account uses now, as its server's panel holds it.
    domain::GatewayClientInfo panel_client(AccountId id) {
        const auto account = *accounts::get(conn(), id);
        return directory_.of(account.server_id).clients().at(account.client_email);
    }

    AccountOperations operations() { return AccountOperations(*executor_, directory_, catalog_, clock_); }
};

// The account changes on its old server while the new client is being made (an admin extends
// it): the new client is brought up to date before the account switches to it.
TEST_P(MoveTest, AnExtensionWhileTheNewClientIsMadeReachesTheNewClient) {
    const auto account = account_on_berlin();
    auto move = run_awaitable(mover_->start(account.id, cairo_, kAdmin));
    ASSERT_TRUE(move.has_value());
    auto ops = operations();
    directory_.of(cairo_).after_next_change([&] {
        auto extended = run_awaitable(ops.extend(account.id, 30, Actor{kAdmin}));
        EXPECT_TRUE(extended.has_value()) << extended.error().message;
    });
    auto moved = run_awaitable(mover_->create(move->id));
    ASSERT_TRUE(moved.has_value()) << moved.error().message;
    const auto after = *accounts::get(conn(), account.id);
    EXPECT_EQ(after.server_id, cairo_);
    EXPECT_EQ(after.expires_at, account.expires_at + std::chrono::days(30));
    EXPECT_EQ(panel_client(account.id).expiry_ms, epoch_seconds(after.expires_at) * 1000)
        << "the customer's new client must carry the extension";
}

// An admin's extension whose panel call went to the old client just before the account switched
// servers is made again on the new client.
TEST_P(MoveTest, AnExtensionOverlappingTheSwitchIsMadeAgainOnTheNewClient) {
    const auto account = account_on_berlin();
    auto move = run_awaitable(mover_->start(account.id, cairo_, kAdmin));
    ASSERT_TRUE(move.has_value());
    directory_.of(berlin_).after_next_change([&] {
        auto moved = run_awaitable(mover_->create(move->id));
        EXPECT_TRUE(moved.has_value()) << moved.error().message;
    });
    auto ops = operations();
    auto extended = run_awaitable(ops.extend(account.id, 30, Actor{kAdmin}));
    ASSERT_TRUE(extended.has_value()) << extended.error().message;
    EXPECT_EQ(extended->server_id, cairo_);
    EXPECT_EQ(extended->expires_at, account.expires_at + std::chrono::days(30));
    EXPECT_EQ(panel_client(account.id).expiry_ms, epoch_seconds(extended->expires_at) * 1000);
    EXPECT_EQ(count("SELECT COUNT(*) FROM audit_logs WHERE action = 'account.extended'"), 1);
}

// The old server is down when a customer's renewal is approved, so the admin moves the account
// to another server: the renewal the customer paid for lands on the client they now use.
TEST_P(MoveTest, ARenewalApprovedWhileTheOldServerIsDownLandsOnTheNewServer) {
    const auto account = account_on_berlin();
    const auto renewal = renewal_of(account);
    directory_.of(berlin_).set_down(GatewayError{GatewayErrorCode::unreachable, 0, "down"});
    auto first = run_awaitable(provisioner_->approve_and_fulfil(renewal.id, kAdmin));
    ASSERT_FALSE(first.has_value());
    EXPECT_EQ(orders_->get(conn(), renewal.id)->status, OrderStatus::approved);

    auto move = run_awaitable(mover_->start(account.id, cairo_, kAdmin));
    ASSERT_TRUE(move.has_value()) << move.error().message;
    ASSERT_TRUE(run_awaitable(mover_->create(move->id)).has_value());

    // The reconciler's next pass; berlin is still down.
    EXPECT_EQ(run_awaitable(provisioner_->reconcile()).fulfilled, 1);
    const auto order = *orders_->get(conn(), renewal.id);
    EXPECT_EQ(order.status, OrderStatus::fulfilled);
    EXPECT_EQ(order.server_id, cairo_);
    const auto after = *accounts::get(conn(), account.id);
    EXPECT_EQ(after.server_id, cairo_);
    EXPECT_EQ(after.expires_at, *order.target_expires_at);
    EXPECT_EQ(panel_client(account.id).expiry_ms, epoch_seconds(after.expires_at) * 1000)
        << "the renewal must reach the client the customer uses";
}

// A referral bonus whose panel change reached the old client just as the account switched
// servers is given on the new client at the next run, once.
TEST_P(MoveTest, AReferralBonusOverlappingTheSwitchIsGivenOnTheNewClient) {
    const auto account = account_on_berlin();
    const auto referred = make_user("100000000000000052");
    ASSERT_TRUE(
        referrals::attach(conn(), referred, referrals::code_for(account.user_id), to_timestamp(clock_.now()))
            .has_value());
    auto order = order_in("100000000000000052", std::string("Germany"));
    approve(order);
    ASSERT_EQ(referrals::queue_rewards(conn(), 7, to_timestamp(clock_.now())), 1);
    auto move = run_awaitable(mover_->start(account.id, cairo_, kAdmin));
    ASSERT_TRUE(move.has_value());
    directory_.of(berlin_).after_next_change([&] {
        auto moved = run_awaitable(mover_->create(move->id));
        EXPECT_TRUE(moved.has_value()) << moved.error().message;
    });
    EXPECT_EQ(run_awaitable(referrals::grant_rewards(*executor_, directory_, catalog_, clock_)), 0);
    EXPECT_EQ(run_awaitable(referrals::grant_rewards(*executor_, directory_, catalog_, clock_)), 1);
    EXPECT_EQ(run_awaitable(referrals::grant_rewards(*executor_, directory_, catalog_, clock_)), 0);
    const auto after = *accounts::get(conn(), account.id);
    EXPECT_EQ(after.server_id, cairo_);
    EXPECT_EQ(after.expires_at, account.expires_at + std::chrono::days(7));
    EXPECT_EQ(panel_client(account.id).expiry_ms, epoch_seconds(after.expires_at) * 1000);
}

// A move waits for its target server; meanwhile the customer renews (which resets the used
// traffic): the new client gets the renewed quota, not what was left before the renewal.
TEST_P(MoveTest, ARenewalDuringAWaitingMoveKeepsTheRenewedQuota) {
    const auto account = account_on_berlin();
    auto move = run_awaitable(mover_->start(account.id, cairo_, kAdmin));
    ASSERT_TRUE(move.has_value());
    directory_.of(cairo_).script_create({testing::CreateFault::server_error});
    ASSERT_FALSE(run_awaitable(mover_->create(move->id)).has_value());

    const auto renewal = renewal_of(account);
    ASSERT_TRUE(run_awaitable(provisioner_->approve_and_fulfil(renewal.id, kAdmin)).has_value());
    const auto renewed = *accounts::get(conn(), account.id);
    EXPECT_EQ(renewed.used_up_bytes + renewed.used_down_bytes, 0);

    ASSERT_TRUE(run_awaitable(mover_->create(move->id)).has_value());
    const auto after = *accounts::get(conn(), account.id);
    EXPECT_EQ(after.server_id, cairo_);
    EXPECT_EQ(after.traffic_limit_bytes, renewed.traffic_limit_bytes);
    EXPECT_EQ(after.expires_at, renewed.expires_at);
    const auto client = panel_client(account.id);
    EXPECT_EQ(client.total_bytes, renewed.traffic_limit_bytes);
    EXPECT_EQ(client.expiry_ms, epoch_seconds(renewed.expires_at) * 1000);
}

TEST_P(MoveTest, NewClientFirstThenTheAccountSwitchesThenTheOldClientGoesAuditedThroughout) {
    const auto account = account_on_berlin();
    auto move = run_awaitable(mover_->start(account.id, cairo_, kAdmin));
    ASSERT_TRUE(move.has_value()) << move.error().message;
    EXPECT_EQ(move->state, MoveState::creating);
    EXPECT_EQ(move->new_client_email, client_email_for(account.order_id) + "-m" + std::to_string(move->id));
    // What was left of 50 GB after 15 GB used.
    EXPECT_EQ(move->traffic_limit_bytes, 35LL << 30);

    auto moved = run_awaitable(mover_->create(move->id));
    ASSERT_TRUE(moved.has_value()) << moved.error().message;
    ASSERT_TRUE(moved->links.has_value());
    EXPECT_EQ(moved->move.state, MoveState::switched);
    // Both clients exist until the customer has the new link.
    EXPECT_EQ(directory_.of(berlin_).clients().count(account.client_email), 1u);
    const auto created = directory_.of(cairo_).clients();
    ASSERT_EQ(created.count(move->new_client_email), 1u);
    EXPECT_EQ(created.at(move->new_client_email).uuid, move->new_client_uuid);
    EXPECT_EQ(created.at(move->new_client_email).expiry_ms, epoch_seconds(account.expires_at) * 1000);
    const auto after = *accounts::get(conn(), account.id);
    EXPECT_EQ(after.server_id, cairo_);
    EXPECT_EQ(after.client_email, move->new_client_email);
    EXPECT_EQ(after.expires_at, account.expires_at);
    EXPECT_EQ(after.traffic_limit_bytes, 35LL << 30);

    // Not before the customer is told.
    auto early = run_awaitable(mover_->remove_old(move->id));
    ASSERT_FALSE(early.has_value());
    EXPECT_EQ(directory_.of(berlin_).clients().size(), 1u);

    tell(move->id);
    auto done = run_awaitable(mover_->remove_old(move->id));
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_EQ(done->state, MoveState::done);
    EXPECT_TRUE(directory_.of(berlin_).clients().empty());
    EXPECT_EQ(directory_.of(berlin_).deletions(), 1);
    std::vector<std::string> actions;
    for (const auto& record : audit_for(conn(), "account", std::to_string(account.id.value)))
        actions.push_back(record.entry.action);
    EXPECT_NE(std::find(actions.begin(), actions.end(), "account.move_started"), actions.end());
    EXPECT_NE(std::find(actions.begin(), actions.end(), "account.moved"), actions.end());
    EXPECT_NE(std::find(actions.begin(), actions.end(), "account.move_finished"), actions.end());
    EXPECT_TRUE(run_awaitable(mover_->start(account.id, berlin_, kAdmin)).has_value());  // a next move
}

TEST_P(MoveTest, ACrashAtEveryStepResumesWithOneNewClientAndTheOldOneRemovedOnce) {
    const auto account = account_on_berlin();
    auto move = run_awaitable(mover_->start(account.id, cairo_, kAdmin));
    ASSERT_TRUE(move.has_value());
    auto& target = directory_.of(cairo_);

    // Crash 1: the panel made the client but the answer was lost before the switch was recorded.
    target.script_create({testing::CreateFault::timeout_after_create});
    auto lost = run_awaitable(mover_->create(move->id));
    ASSERT_FALSE(lost.has_value());
    EXPECT_EQ(lost.error().code, ErrorCode::gateway);
    EXPECT_EQ(moves::get(conn(), move->id)->state, MoveState::creating);
    EXPECT_EQ(moves::get(conn(), move->id)->attempts, 1);
    EXPECT_EQ(accounts::get(conn(), account.id)->server_id, berlin_);
    // The slot on the target stays taken while the move is creating.
    for (const auto& l : server_loads(conn())) {
        if (l.id == cairo_) {
            EXPECT_EQ(l.used, 1);
        }
    }

    // Resumed (a new process): the same client, not a second one.
    ASSERT_TRUE(run_awaitable(mover_->create(move->id)).has_value());
    // Crash 2: resumed again after the switch: nothing is created again.
    auto again = run_awaitable(mover_->create(move->id));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->move.state, MoveState::switched);
    EXPECT_EQ(target.clients().size(), 1u);
    EXPECT_EQ(accounts::get(conn(), account.id)->server_id, cairo_);
    for (const auto& l : server_loads(conn())) {
        if (l.id == cairo_) {
            EXPECT_EQ(l.used, 1);
        }
        if (l.id == berlin_) {
            EXPECT_EQ(l.used, 0);
        }
    }

    // Crash 3: the old server is down when the old client should go; then it is back.
    tell(move->id);
    tell(move->id);  // told twice (a resumed teller): one state change
    directory_.of(berlin_).set_down(GatewayError{GatewayErrorCode::unreachable, 0, "down"});
    EXPECT_FALSE(run_awaitable(mover_->remove_old(move->id)).has_value());
    EXPECT_EQ(moves::get(conn(), move->id)->state, MoveState::told);
    directory_.of(berlin_).set_down(std::nullopt);
    ASSERT_TRUE(run_awaitable(mover_->remove_old(move->id)).has_value());
    ASSERT_TRUE(run_awaitable(mover_->remove_old(move->id)).has_value());
    EXPECT_EQ(directory_.of(berlin_).deletions(), 1);
    EXPECT_TRUE(moves::open(conn()).empty());
    EXPECT_EQ(count("SELECT COUNT(*) FROM audit_logs WHERE action = 'account.moved'"), 1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM audit_logs WHERE action = 'account.move_finished'"), 1);
}

TEST_P(MoveTest, RefusedMovesChangeNothing) {
    const auto account = account_on_berlin();
    auto same = run_awaitable(mover_->start(account.id, berlin_, kAdmin));
    ASSERT_FALSE(same.has_value());
    EXPECT_EQ(same.error().code, ErrorCode::validation);
    // Egypt's one slot is taken by another customer: full.
    approve(order_in("100000000000000051", std::string("Egypt")));
    auto full = run_awaitable(mover_->start(account.id, cairo_, kAdmin));
    ASSERT_FALSE(full.has_value());
    EXPECT_EQ(full.error().code, ErrorCode::no_capacity);
    auto unknown = run_awaitable(mover_->start(account.id, ServerId{999}, kAdmin));
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().code, ErrorCode::not_found);
    // One move at a time.
    ASSERT_TRUE(run_awaitable(mover_->start(account.id, berlin_2_, kAdmin)).has_value());
    auto second = run_awaitable(mover_->start(account.id, berlin_2_, kAdmin));
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().code, ErrorCode::conflict);
    EXPECT_EQ(count("SELECT COUNT(*) FROM account_moves"), 1);
    EXPECT_EQ(accounts::get(conn(), account.id)->server_id, berlin_);
}

NEBULA_INSTANTIATE_FOR_BACKENDS(LocationTest);
NEBULA_INSTANTIATE_FOR_BACKENDS(MoveTest);

}  // namespace
}  // namespace nebula::bot::domain
