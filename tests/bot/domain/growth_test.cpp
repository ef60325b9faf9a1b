// Free trials and promo codes in the domain: the guards, the exactly-once provisioning of a trial,
// a code's discount and its consumption at approval, and concurrent approvals against max_uses.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <sstream>
#include <thread>

#include "bot/domain/accounts.hpp"
#include "bot/domain/analytics.hpp"
#include "bot/domain/audit.hpp"
#include "bot/domain/export.hpp"
#include "bot/domain/promos.hpp"
#include "bot/domain/provisioning.hpp"
#include "bot/domain/referrals.hpp"
#include "bot/domain/trials.hpp"
#include "bot/support/discord_ids.hpp"
#include "bot/support/fake_nebula_gateway.hpp"
#include "domain_fixture.hpp"

using nebula::bot::testing::discord_id;

namespace nebula::bot::domain {
namespace {

using namespace std::chrono_literals;
using testing::run_awaitable;

class GrowthTest : public testing::DomainTest {
  protected:
    void SetUp() override {
        DomainTest::SetUp();
        if (HasFatalFailure()) return;
        server_ = make_server("eu-1");
        auto executor = db::DbExecutor::open(db().url(), 4);
        ASSERT_TRUE(executor.has_value()) << executor.error();
        executor_ = std::move(executor).value();
        provisioner_ = std::make_unique<Provisioner>(*executor_, directory_, *orders_, catalog_, clock_);
    }
    void TearDown() override {
        provisioner_.reset();
        executor_.reset();
        DomainTest::TearDown();
    }

    Timestamp now() { return to_timestamp(clock_.now()); }
    std::int64_t count(const std::string& sql) { return *conn().scalar<std::int64_t>(sql); }

    /// A Discord account made a year ago.
    trials::TrialRequest request(UserId user, std::chrono::days min_age = std::chrono::days(0)) {
        return {user, now() - std::chrono::days(365), min_age};
    }

    PromoCode make_code(PromoInput input) {
        auto created = promos::create(conn(), discord_id("admin-1"), input, now());
        EXPECT_TRUE(created.has_value()) << created.error().message;
        return *created;
    }

    /// A new order of `user` with `code` applied, taken to under_review.
    Order discounted_under_review(UserId user, const std::string& code, const std::string& receipt) {
        auto placed = orders_->place(conn(), user, plan_);
        EXPECT_TRUE(placed.has_value());
        auto applied = promos::apply(conn(), *orders_, placed->order.id, user, code, now());
        EXPECT_TRUE(applied.has_value()) << (applied ? "" : to_string(applied.error()));
        EXPECT_TRUE(orders_->choose_payment_method(conn(), placed->order.id, user, method_).has_value());
        auto submitted = orders_->submit_receipt(conn(), placed->order.id, user,
                                                 {receipt, "image/png", discord_id("att")});
        EXPECT_TRUE(submitted.has_value());
        return submitted->order;
    }

    testing::FakeNebulaGateway gateway_;
    testing::FakeDirectory directory_{gateway_};
    ServerId server_;
    std::unique_ptr<db::DbExecutor> executor_;
    std::unique_ptr<Provisioner> provisioner_;
};

// ---- free trial ----

TEST_P(GrowthTest, TrialIsProvisionedAtOnceLikeAPaidOrderAndOnlyOncePerCustomerEver) {
    const auto user = make_user("300");
    auto refused = trials::start(conn(), *orders_, request(user), now());
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), TrialRefusal::not_offered);

    ASSERT_TRUE(trials::set(conn(), discord_id("admin-1"), plan_, 3, 5LL << 30, now()).has_value());
    auto started = trials::start(conn(), *orders_, request(user), now());
    ASSERT_TRUE(started.has_value()) << to_string(started.error());
    EXPECT_TRUE(started->trial);
    EXPECT_EQ(started->status, OrderStatus::approved);
    EXPECT_EQ(started->amount, Piasters{0});
    EXPECT_EQ(started->server_id, server_);

    auto done = run_awaitable(provisioner_->fulfil(started->id));
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_EQ(done->order.status, OrderStatus::fulfilled);
    EXPECT_EQ(done->account.expires_at, now() + std::chrono::days(3));
    EXPECT_EQ(done->account.traffic_limit_bytes, 5LL << 30);
    EXPECT_EQ(done->account.device_limit, 2);  // the plan's
    ASSERT_EQ(gateway_.clients().size(), 1u);
    EXPECT_EQ(gateway_.clients().begin()->second.total_bytes, 5LL << 30);
    // The same exactly-once path: a repeated fulfil makes no second client; the delivery is recorded.
    EXPECT_EQ(run_awaitable(provisioner_->fulfil(started->id))->account.id, done->account.id);
    EXPECT_EQ(gateway_.clients().size(), 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM order_deliveries"), 1);
    EXPECT_TRUE(trials::is_trial_account(conn(), done->account.id));

    auto again = trials::start(conn(), *orders_, request(user), now());
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error(), TrialRefusal::already_used);
    // Still after the account expired and was deleted.
    conn().exec("UPDATE vpn_accounts SET status = 'deleted'");
    EXPECT_EQ(trials::start(conn(), *orders_, request(user), now()).error(), TrialRefusal::already_used);

    const auto audit = audit_for(conn(), "order", std::to_string(started->id.value));
    ASSERT_FALSE(audit.empty());
    EXPECT_EQ(audit.front().entry.action, "trial.started");
    EXPECT_EQ(audit_for(conn(), "trial", "1").front().entry.action, "trial.set");
}

TEST_P(GrowthTest, TrialRefusesBannedYoungAccountsOpenOrdersAndAfterItIsDisabled) {
    ASSERT_TRUE(trials::set(conn(), discord_id("admin-1"), plan_, 1, 0, now()).has_value());
    const auto banned = make_user("301");
    ASSERT_TRUE(users_.ban(conn(), discord_id("admin-1"), banned, "abuse").has_value());
    EXPECT_EQ(trials::start(conn(), *orders_, request(banned), now()).error(), TrialRefusal::banned);

    const auto young = make_user("302");
    trials::TrialRequest fresh{young, now() - std::chrono::days(2), std::chrono::days(7)};
    EXPECT_EQ(trials::start(conn(), *orders_, fresh, now()).error(), TrialRefusal::account_too_new);
    fresh.discord_created_at = now() - std::chrono::days(8);
    EXPECT_TRUE(trials::start(conn(), *orders_, fresh, now()).has_value());

    const auto buyer = make_user("303");
    ASSERT_TRUE(orders_->place(conn(), buyer, plan_).has_value());
    EXPECT_EQ(trials::start(conn(), *orders_, request(buyer), now()).error(), TrialRefusal::open_order);

    ASSERT_TRUE(trials::disable(conn(), discord_id("admin-1"), now()).has_value());
    EXPECT_FALSE(trials::offered(conn()).has_value());
    EXPECT_EQ(trials::start(conn(), *orders_, request(make_user("304")), now()).error(),
              TrialRefusal::not_offered);
    EXPECT_EQ(trials::disable(conn(), discord_id("admin-1"), now()).error().code, ErrorCode::not_found);
    EXPECT_EQ(trials::set(conn(), discord_id("admin-1"), plan_, 0, 0, now()).error().code,
              ErrorCode::validation);
    EXPECT_EQ(trials::set(conn(), discord_id("admin-1"), PlanId{999}, 3, 0, now()).error().code,
              ErrorCode::not_found);
}

TEST_P(GrowthTest, TrialWithNoServerWithRoomIsRefusedAndNothingIsRecorded) {
    ASSERT_TRUE(trials::set(conn(), discord_id("admin-1"), plan_, 1, 0, now()).has_value());
    conn().exec("UPDATE servers SET enabled = 0");
    EXPECT_EQ(trials::start(conn(), *orders_, request(make_user("305")), now()).error(),
              TrialRefusal::no_capacity);
    EXPECT_EQ(count("SELECT COUNT(*) FROM orders"), 0);
}

TEST_P(GrowthTest, ConcurrentTrialClicksGiveOneTrial) {
    ASSERT_TRUE(trials::set(conn(), discord_id("admin-1"), plan_, 1, 0, now()).has_value());
    const auto user = make_user("306");
    constexpr int kClicks = 4;
    std::latch go(kClicks);
    std::atomic<int> started{0};
    std::vector<std::thread> clicks;
    for (int i = 0; i < kClicks; ++i) {
        clicks.emplace_back([&] {
            auto connection = db().connect();
            go.arrive_and_wait();
            if (trials::start(*connection, *orders_, request(user), now())) ++started;
        });
    }
    for (auto& t : clicks) t.join();
    EXPECT_EQ(started.load(), 1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM orders WHERE trial = 1"), 1);
}

TEST_P(GrowthTest, StatsCountTrialsApartAndTheShareThatPaidLater) {
    ASSERT_TRUE(trials::set(conn(), discord_id("admin-1"), plan_, 1, 0, now()).has_value());
    const auto from = now();
    const auto converts = make_user("310");
    const auto stays_free = make_user("311");
    for (const auto user : {converts, stays_free}) {
        auto trial = trials::start(conn(), *orders_, request(user), now());
        ASSERT_TRUE(trial.has_value());
        ASSERT_TRUE(run_awaitable(provisioner_->fulfil(trial->id)).has_value());
    }
    clock_.advance(1h);
    auto paid = order_under_review(converts);
    ASSERT_TRUE(run_awaitable(provisioner_->approve_and_fulfil(paid.id, discord_id("admin-1"))).has_value());

    const auto to = now() + 1h;
    const auto stats = trials::stats(conn(), from, to);
    EXPECT_EQ(stats.started, 2);
    EXPECT_EQ(stats.converted, 1);
    // Paid orders only in the order figures.
    const auto summary = Analytics(std::chrono::seconds(0)).summary(conn(), from, to, now());
    EXPECT_EQ(summary.orders_created, 1);
    EXPECT_EQ(summary.orders_fulfilled, 1);
    EXPECT_EQ(summary.revenue, Piasters::from_pounds(150));
}

// ---- promo codes ----

TEST_P(GrowthTest, PromoCodesAreValidatedAndUniqueWhateverTheCase) {
    auto created = make_code({"summer-25", 25, std::nullopt, {}, std::nullopt, std::nullopt, std::nullopt});
    EXPECT_EQ(created.code, "SUMMER-25");
    const auto duplicate = promos::create(conn(), discord_id("admin-2"),
                                          {"Summer-25", std::nullopt, Piasters{500}, {}, {}, {}, {}}, now());
    ASSERT_FALSE(duplicate.has_value());
    EXPECT_NE(duplicate.error().message.find("exists already"), std::string::npos);
    EXPECT_FALSE(
        promos::create(conn(), discord_id("a"), {"two words", 10, {}, {}, {}, {}, {}}, now()).has_value());
    EXPECT_FALSE(promos::create(conn(), discord_id("a"), {"BOTH", 10, Piasters{100}, {}, {}, {}, {}}, now())
                     .has_value());
    EXPECT_FALSE(
        promos::create(conn(), discord_id("a"), {"NONE", {}, {}, {}, {}, {}, {}}, now()).has_value());
    EXPECT_FALSE(
        promos::create(conn(), discord_id("a"), {"PAST", 10, {}, {}, {}, {}, now() - 1h}, now()).has_value());
    EXPECT_FALSE(promos::create(conn(), discord_id("a"), {"NOPLAN", 10, {}, {PlanId{999}}, {}, {}, {}}, now())
                     .has_value());
    EXPECT_TRUE(promos::find(conn(), " summer-25 ").has_value());
    ASSERT_TRUE(promos::disable(conn(), discord_id("admin-1"), "SUMMER-25", now()).has_value());
    EXPECT_FALSE(promos::find(conn(), "summer-25")->enabled);
    EXPECT_FALSE(promos::any_enabled(conn(), now()));
    const auto audit = audit_for(conn(), "promo_code", std::to_string(created.id));
    ASSERT_EQ(audit.size(), 2u);
    EXPECT_EQ(audit[0].entry.action, "promo.created");
    EXPECT_EQ(audit[1].entry.action, "promo.disabled");
}

TEST_P(GrowthTest, ACodeLowersTheAmountToPayAndIsConsumedOnlyWhenTheOrderIsApproved) {
    make_code({"SAVE20", 20, std::nullopt, {}, 5, std::nullopt, std::nullopt});
    const auto user = make_user("320");
    auto placed = orders_->place(conn(), user, plan_);
    ASSERT_TRUE(placed.has_value());
    auto applied = promos::apply(conn(), *orders_, placed->order.id, user, "save20", now());
    ASSERT_TRUE(applied.has_value()) << to_string(applied.error());
    EXPECT_EQ(applied->list_price, Piasters::from_pounds(150));
    EXPECT_EQ(applied->discount, Piasters::from_pounds(30));
    EXPECT_EQ(applied->amount, Piasters::from_pounds(120));
    EXPECT_EQ(promos::find(conn(), "SAVE20")->uses, 0);
    // A second code replaces the first, from the list price.
    make_code({"TENOFF", std::nullopt, Piasters::from_pounds(10), {}, {}, {}, {}});
    applied = promos::apply(conn(), *orders_, placed->order.id, user, "TenOff", now());
    ASSERT_TRUE(applied.has_value());
    EXPECT_EQ(applied->amount, Piasters::from_pounds(140));
    applied = promos::apply(conn(), *orders_, placed->order.id, user, "SAVE20", now());
    EXPECT_EQ(applied->amount, Piasters::from_pounds(120));

    ASSERT_TRUE(orders_->choose_payment_method(conn(), placed->order.id, user, method_).has_value());
    ASSERT_TRUE(orders_->submit_receipt(conn(), placed->order.id, user, {"r", "image/png", discord_id("a")})
                    .has_value());
    EXPECT_EQ(promos::apply(conn(), *orders_, placed->order.id, user, "SAVE20", now()).error(),
              PromoRefusal::too_late);
    EXPECT_EQ(promos::find(conn(), "SAVE20")->uses, 0);
    auto done = run_awaitable(provisioner_->approve_and_fulfil(placed->order.id, discord_id("admin-1")));
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_EQ(promos::find(conn(), "SAVE20")->uses, 1);

    // Revenue counts what was paid, and the discounts beside it.
    const auto summary = Analytics(std::chrono::seconds(0)).summary(conn(), now() - 1h, now() + 1h, now());
    EXPECT_EQ(summary.revenue, Piasters::from_pounds(120));
    EXPECT_EQ(summary.discounts, Piasters::from_pounds(30));
    std::ostringstream out;
    export_rows(conn(), ExportKind::orders, out, {});
    const std::string csv = out.str();
    EXPECT_NE(csv.find("list_price_piasters,discount_piasters,promo_code"), std::string::npos) << csv;
    EXPECT_NE(csv.find("12000,15000,3000,SAVE20"), std::string::npos) << csv;
}

TEST_P(GrowthTest, CodesRefuseOtherPlansExpiryUsedUpRepeatCustomersAndStrangers) {
    const auto weekly = make_plan("Weekly", 7, 0, Piasters::from_pounds(50));
    make_code({"WEEKLY", 50, {}, {weekly}, {}, {}, {}});
    make_code({"SOON", 10, {}, {}, {}, {}, now() + 1h});
    make_code({"ONCE", 10, {}, {}, {}, 1, {}});
    const auto user = make_user("330");
    auto placed = orders_->place(conn(), user, plan_);
    ASSERT_TRUE(placed.has_value());
    const auto id = placed->order.id;
    EXPECT_EQ(promos::apply(conn(), *orders_, id, user, "WEEKLY", now()).error(), PromoRefusal::not_for_plan);
    EXPECT_EQ(promos::apply(conn(), *orders_, id, user, "NOPE", now()).error(), PromoRefusal::unknown_code);
    EXPECT_EQ(promos::apply(conn(), *orders_, id, make_user("331"), "ONCE", now()).error(),
              PromoRefusal::not_your_order);
    clock_.advance(2h);
    EXPECT_EQ(promos::apply(conn(), *orders_, id, user, "SOON", now()).error(), PromoRefusal::expired);
    EXPECT_EQ(orders_->get(conn(), id)->amount, Piasters::from_pounds(150));

    // per_customer 1: after one approved order with it, the same customer is refused.
    ASSERT_TRUE(orders_->cancel(conn(), id, user).has_value());
    auto first = discounted_under_review(user, "ONCE", "r1");
    ASSERT_TRUE(run_awaitable(provisioner_->approve_and_fulfil(first.id, discord_id("admin-1"))).has_value());
    auto second = orders_->place(conn(), user, plan_);
    EXPECT_EQ(promos::apply(conn(), *orders_, second->order.id, user, "ONCE", now()).error(),
              PromoRefusal::per_customer);

    // max_uses reached: refused for everybody.
    make_code({"ONE-USE", 10, {}, {}, 1, {}, {}});
    auto used = discounted_under_review(make_user("332"), "ONE-USE", "r2");
    ASSERT_TRUE(run_awaitable(provisioner_->approve_and_fulfil(used.id, discord_id("admin-1"))).has_value());
    EXPECT_EQ(promos::apply(conn(), *orders_, second->order.id, user, "ONE-USE", now()).error(),
              PromoRefusal::used_up);
}

// Two customers entered the last use of a code; their receipts are approved at the same moment
// by two admins on two connections: one approval takes the use, the other is refused, and the
// code never exceeds max_uses.
TEST_P(GrowthTest, ConcurrentApprovalsNeverExceedMaxUses) {
    make_code({"LAST", 10, {}, {}, 1, {}, {}});
    const auto a = discounted_under_review(make_user("340"), "LAST", "ra");
    const auto b = discounted_under_review(make_user("341"), "LAST", "rb");
    std::latch go(2);
    std::vector<Outcome<Order>> results(2, fail(ErrorCode::conflict, "not run"));
    std::vector<std::thread> admins;
    const std::vector<OrderId> ids{a.id, b.id};
    for (int i = 0; i < 2; ++i) {
        admins.emplace_back([&, i] {
            auto connection = db().connect();
            ApprovalPlan plan{std::nullopt, client_email_for(ids[i]),      "uuid",
                              "sub",        now() + std::chrono::days(30), 0};
            go.arrive_and_wait();
            results[i] =
                orders_->approve(*connection, ids[i], discord_id("admin-" + std::to_string(i)), plan);
        });
    }
    for (auto& t : admins) t.join();
    const int approved = (results[0] ? 1 : 0) + (results[1] ? 1 : 0);
    EXPECT_EQ(approved, 1);
    for (const auto& result : results) {
        if (!result) {
            EXPECT_EQ(result.error().code, ErrorCode::conflict);
            EXPECT_NE(result.error().message.find("no uses left"), std::string::npos)
                << result.error().message;
        }
    }
    EXPECT_EQ(promos::find(conn(), "LAST")->uses, 1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM orders WHERE status = 'approved'"), 1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM orders WHERE status = 'under_review'"), 1);
}

// ---- referrals ----

TEST_P(GrowthTest, ReferralCodesRefuseSelfSecondCodesOldCustomersAndLoops) {
    const auto alice = make_user("350");
    const auto bob = make_user("351");
    const auto carol = make_user("352");
    EXPECT_EQ(referrals::parse_code(referrals::code_for(alice)), alice);
    EXPECT_EQ(referrals::parse_code(" r" + std::to_string(alice.value)), alice);
    EXPECT_FALSE(referrals::parse_code("R12x").has_value());
    EXPECT_EQ(referrals::attach(conn(), alice, "R999999", now()).error(), ReferralRefusal::unknown_code);
    EXPECT_EQ(referrals::attach(conn(), alice, referrals::code_for(alice), now()).error(),
              ReferralRefusal::self);
    ASSERT_EQ(referrals::attach(conn(), bob, referrals::code_for(alice), now()).value(), alice);
    EXPECT_EQ(referrals::attach(conn(), bob, referrals::code_for(carol), now()).error(),
              ReferralRefusal::already_referred);
    ASSERT_TRUE(referrals::attach(conn(), carol, referrals::code_for(bob), now()).has_value());
    // Alice entering Carol's code would close the circle Carol → Bob → Alice.
    EXPECT_EQ(referrals::attach(conn(), alice, referrals::code_for(carol), now()).error(),
              ReferralRefusal::loop);
    // A customer who already paid is not new.
    const auto dave = make_user("353");
    auto paid = order_under_review(dave);
    ASSERT_TRUE(run_awaitable(provisioner_->approve_and_fulfil(paid.id, discord_id("admin-1"))).has_value());
    EXPECT_EQ(referrals::attach(conn(), dave, referrals::code_for(alice), now()).error(),
              ReferralRefusal::not_new);
    EXPECT_EQ(audit_for(conn(), "user", std::to_string(bob.value)).back().entry.action, "referral.attached");
}

TEST_P(GrowthTest, TheReferrerGetsTheBonusOnceWhenTheFirstPaidOrderIsFulfilled) {
    const auto alice = make_user("360");
    auto hers = order_under_review(alice, "alice-receipt");
    auto account = run_awaitable(provisioner_->approve_and_fulfil(hers.id, discord_id("admin-1")));
    ASSERT_TRUE(account.has_value());
    const auto expiry = account->account.expires_at;
    const auto bob = make_user("361");
    ASSERT_TRUE(referrals::attach(conn(), bob, referrals::code_for(alice), now()).has_value());

    // A trial is not a paid order: nothing is owed yet.
    ASSERT_TRUE(trials::set(conn(), discord_id("admin-1"), plan_, 1, 0, now()).has_value());
    auto trial = trials::start(conn(), *orders_, request(bob), now());
    ASSERT_TRUE(trial.has_value());
    ASSERT_TRUE(run_awaitable(provisioner_->fulfil(trial->id)).has_value());
    EXPECT_EQ(referrals::queue_rewards(conn(), 7, now()), 0);

    auto his = order_under_review(bob, "bob-receipt");
    ASSERT_TRUE(run_awaitable(provisioner_->approve_and_fulfil(his.id, discord_id("admin-1"))).has_value());
    EXPECT_EQ(referrals::queue_rewards(conn(), 7, now()), 1);
    EXPECT_EQ(referrals::queue_rewards(conn(), 7, now()), 0);
    EXPECT_EQ(run_awaitable(referrals::grant_rewards(*executor_, directory_, catalog_, clock_)), 1);
    EXPECT_EQ(run_awaitable(referrals::grant_rewards(*executor_, directory_, catalog_, clock_)), 0);
    const auto extended = *accounts::get(conn(), account->account.id);
    EXPECT_EQ(extended.expires_at, expiry + std::chrono::days(7));
    EXPECT_EQ(gateway_.clients().at(extended.client_email).expiry_ms,
              epoch_seconds(extended.expires_at) * 1000);
    ASSERT_EQ(referrals::untold(conn()).size(), 1u);
    referrals::mark_told(conn(), bob, now());
    EXPECT_TRUE(referrals::untold(conn()).empty());

    // A second paid order of Bob's owes nothing more.
    auto again = order_under_review(bob, "bob-again");
    ASSERT_TRUE(run_awaitable(provisioner_->approve_and_fulfil(again.id, discord_id("admin-1"))).has_value());
    EXPECT_EQ(referrals::queue_rewards(conn(), 7, now()), 0);
    const auto stats = referrals::stats(conn(), now() - 1h, now() + 1h);
    EXPECT_EQ(stats.referred, 1);
    EXPECT_EQ(stats.rewarded, 1);
}

TEST_P(GrowthTest, AReferrerWithoutAnAccountKeepsTheRewardUntilTheyHaveOne) {
    const auto alice = make_user("370");
    const auto bob = make_user("371");
    ASSERT_TRUE(referrals::attach(conn(), bob, referrals::code_for(alice), now()).has_value());
    auto his = order_under_review(bob, "bob-receipt");
    ASSERT_TRUE(run_awaitable(provisioner_->approve_and_fulfil(his.id, discord_id("admin-1"))).has_value());
    EXPECT_EQ(referrals::queue_rewards(conn(), 5, now()), 1);
    EXPECT_EQ(run_awaitable(referrals::grant_rewards(*executor_, directory_, catalog_, clock_)), 0);
    auto hers = order_under_review(alice, "alice-receipt");
    auto account = run_awaitable(provisioner_->approve_and_fulfil(hers.id, discord_id("admin-1")));
    ASSERT_TRUE(account.has_value());
    EXPECT_EQ(run_awaitable(referrals::grant_rewards(*executor_, directory_, catalog_, clock_)), 1);
    EXPECT_EQ(accounts::get(conn(), account->account.id)->expires_at,
              account->account.expires_at + std::chrono::days(5));
}

NEBULA_INSTANTIATE_FOR_BACKENDS(GrowthTest);

}  // namespace
}  // namespace nebula::bot::domain
