// Running the shop by hand, in the domain on both backends: finding customers and their history,
// admin notes, accounts given without a payment (exactly-once provisioning), refunds (revenue,
// stats and exports) and moving an account to another plan.
#include <gtest/gtest.h>

#include <sstream>

#include "bot/domain/accounts.hpp"
#include "bot/domain/analytics.hpp"
#include "bot/domain/audit.hpp"
#include "bot/domain/customers.hpp"
#include "bot/domain/export.hpp"
#include "bot/domain/manual_orders.hpp"
#include "bot/domain/provisioning.hpp"
#include "bot/support/fake_nebula_gateway.hpp"
#include "domain_fixture.hpp"

namespace nebula::bot::domain {
namespace {

using testing::run_awaitable;

const domain::DiscordId kAdmin{100000000000000001ULL};

class ShopAdminTest : public testing::DomainTest {
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

    Timestamp now() { return to_timestamp(clock_.now()); }
    std::int64_t count(const std::string& sql) { return *conn().scalar<std::int64_t>(sql); }

    /// A paid order of a new customer, approved and fulfilled.
    Fulfilment paid(const std::string& discord_id, const std::string& receipt) {
        const auto order = order_under_review(make_user(discord_id), receipt);
        auto done = run_awaitable(provisioner_->approve_and_fulfil(order.id, kAdmin));
        EXPECT_TRUE(done.has_value()) << done.error().message;
        return *done;
    }

    std::vector<std::string> names(const CustomerPage& page) {
        std::vector<std::string> out;
        for (const auto& row : page.rows) out.push_back(row.username);
        return out;
    }

    testing::FakeNebulaGateway gateway_;
    testing::FakeDirectory directory_{gateway_};
    ServerId server_;
    std::unique_ptr<db::DbExecutor> executor_;
    std::unique_ptr<Provisioner> provisioner_;
    std::unique_ptr<AccountOperations> operations_;
};

// ---- customers ----

TEST_P(ShopAdminTest, SearchFindsACustomerByNameIdReferenceOrAccountEmailAndWildcardsMatchThemselves) {
    const auto bought = paid("100000000000000011", "receipt-a");
    users_.ensure(conn(), domain::DiscordId{100000000000000012ULL}, "Mona_50%");
    users_.ensure(conn(), domain::DiscordId{100000000000000013ULL}, "Mona");
    const auto by = [&](std::string_view query) {
        return names(customers::list(conn(), CustomerFilter::all, query, 0, 10));
    };
    EXPECT_EQ(by("user1000"), std::vector<std::string>{"user100000000000000011"});
    EXPECT_EQ(by("100000000000000011"), std::vector<std::string>{"user100000000000000011"});
    EXPECT_EQ(by("<@100000000000000011>"), std::vector<std::string>{"user100000000000000011"});
    EXPECT_EQ(by(bought.order.reference), std::vector<std::string>{"user100000000000000011"});
    EXPECT_EQ(by("nl-" + std::to_string(bought.order.id.value)),
              std::vector<std::string>{"user100000000000000011"});
    EXPECT_EQ(by("MONA").size(), 2u);  // case-insensitive, newest first
    EXPECT_EQ(by("MONA").front(), "Mona");
    // % and _ are letters in a query, not wildcards.
    EXPECT_EQ(by("%"), std::vector<std::string>{"Mona_50%"});
    EXPECT_EQ(by("a_5"), std::vector<std::string>{"Mona_50%"});
    EXPECT_TRUE(by("o_a").empty());
    EXPECT_TRUE(by("' OR 1=1 --").empty());
    EXPECT_EQ(by("").size(), 3u);
}

TEST_P(ShopAdminTest, ListFiltersByStatusAndPagesNewestFirst) {
    paid("100000000000000021", "receipt-b");
    for (int i = 0; i < 12; ++i)
        users_.ensure(conn(), domain::DiscordId{100000000000000110ULL + static_cast<std::uint64_t>(i)}, "p");
    const auto banned = make_user("100000000000000022");
    ASSERT_TRUE(users_.ban(conn(), kAdmin, banned, "fraud").has_value());

    const auto first = customers::list(conn(), CustomerFilter::all, "", 0, 10);
    EXPECT_EQ(first.total, 14);
    ASSERT_EQ(first.rows.size(), 10u);
    EXPECT_EQ(first.rows.front().discord_id, domain::DiscordId{100000000000000022ULL});
    const auto last = customers::list(conn(), CustomerFilter::all, "", 10, 10);
    ASSERT_EQ(last.rows.size(), 4u);
    EXPECT_EQ(last.rows.back().discord_id, domain::DiscordId{100000000000000021ULL});
    EXPECT_EQ(last.rows.back().orders, 1);
    EXPECT_EQ(last.rows.back().active_accounts, 1);

    const auto only_banned = customers::list(conn(), CustomerFilter::banned, "", 0, 10);
    ASSERT_EQ(only_banned.total, 1);
    EXPECT_EQ(only_banned.rows[0].status, UserStatus::banned);
    EXPECT_EQ(customers::list(conn(), CustomerFilter::active, "", 0, 10).total, 13);
    const auto subscribed = customers::list(conn(), CustomerFilter::subscribed, "", 0, 10);
    ASSERT_EQ(subscribed.total, 1);
    EXPECT_EQ(subscribed.rows[0].discord_id, domain::DiscordId{100000000000000021ULL});
    EXPECT_EQ(parse_customer_filter("subscribed"), CustomerFilter::subscribed);
    EXPECT_FALSE(parse_customer_filter("everyone").has_value());
}

TEST_P(ShopAdminTest, HistoryHoldsOrdersAccountsAndAuditedNotes) {
    const auto bought = paid("100000000000000031", "receipt-c");
    const auto user = bought.order.user_id;
    EXPECT_FALSE(customers::add_note(conn(), kAdmin, user, "   ", now()).has_value());
    EXPECT_EQ(customers::add_note(conn(), kAdmin, user, std::string(1001, 'x'), now()).error().code,
              ErrorCode::validation);
    EXPECT_EQ(customers::add_note(conn(), kAdmin, UserId{999}, "hi", now()).error().code,
              ErrorCode::not_found);
    auto note = customers::add_note(conn(), kAdmin, user, "  paid twice, refunded once  ", now());
    ASSERT_TRUE(note.has_value()) << note.error().message;
    EXPECT_EQ(note->body, "paid twice, refunded once");

    const auto history = customers::history(conn(), *orders_, user);
    ASSERT_EQ(history.orders.size(), 1u);
    EXPECT_EQ(history.orders[0].order.reference, bought.order.reference);
    EXPECT_EQ(history.orders[0].plan_name, "Monthly");
    EXPECT_EQ(history.orders[0].payment_method, "vodafone_cash");
    ASSERT_EQ(history.accounts.size(), 1u);
    ASSERT_EQ(history.notes.size(), 1u);
    EXPECT_EQ(history.notes[0].author, kAdmin);
    const auto audit = audit_for(conn(), "user", std::to_string(user.value));
    ASSERT_FALSE(audit.empty());
    EXPECT_EQ(audit.back().entry.action, "user.note_added");
    EXPECT_EQ(audit.back().entry.actor, kAdmin.str());
}

// ---- accounts given by admins ----

TEST_P(ShopAdminTest, AGiftRetriedAfterAGatewayFailureMakesExactlyOneClient) {
    const auto user = make_user("100000000000000041");
    const auto other = make_server("eu-2");
    gateway_.script_create({testing::CreateFault::server_error});
    auto gift =
        gifts::create(conn(), *orders_, kAdmin, {user, plan_, other, 7, "outage compensation"}, now());
    ASSERT_TRUE(gift.has_value()) << gift.error().message;
    EXPECT_EQ(gift->status, OrderStatus::approved);
    EXPECT_EQ(gift->amount, Piasters{0});
    EXPECT_FALSE(gift->trial);
    EXPECT_EQ(gift->gift_reason, "outage compensation");
    EXPECT_EQ(gift->server_id, other);
    EXPECT_EQ(gift->reviewer_id, kAdmin);

    auto failed = run_awaitable(provisioner_->fulfil(gift->id, kAdmin));
    ASSERT_FALSE(failed.has_value());
    EXPECT_TRUE(is_pending(failed.error()));
    EXPECT_TRUE(gateway_.clients().empty());
    // The reconciler's retry makes the client; a second retry makes nothing more.
    EXPECT_EQ(run_awaitable(provisioner_->reconcile()).fulfilled, 1);
    EXPECT_EQ(run_awaitable(provisioner_->reconcile()).fulfilled, 0);
    ASSERT_EQ(gateway_.clients().size(), 1u);
    const auto account = accounts::by_order(conn(), gift->id);
    ASSERT_TRUE(account.has_value());
    EXPECT_EQ(account->expires_at, now() + std::chrono::days(7));
    EXPECT_EQ(account->traffic_limit_bytes, 50LL << 30);
    EXPECT_EQ(count("SELECT COUNT(*) FROM order_deliveries"), 1);
    EXPECT_EQ(orders_->get(conn(), gift->id)->status, OrderStatus::fulfilled);
    const auto audit = audit_for(conn(), "order", std::to_string(gift->id.value));
    ASSERT_FALSE(audit.empty());
    EXPECT_EQ(audit.front().entry.action, "order.gifted");
    EXPECT_EQ(audit.front().entry.actor, kAdmin.str());

    // Not revenue, not a paid order in the stats.
    Analytics analytics;
    const auto summary =
        analytics.summary(conn(), now() - std::chrono::days(1), now() + std::chrono::days(1), now());
    EXPECT_EQ(summary.revenue, Piasters{0});
    EXPECT_EQ(summary.orders_created, 0);
}

TEST_P(ShopAdminTest, AGiftIsRefusedClearlyAndNothingIsWritten) {
    const auto user = make_user("100000000000000051");
    const auto make = [&](GiftRequest request) {
        return gifts::create(conn(), *orders_, kAdmin, request, now());
    };
    EXPECT_EQ(make({user, plan_, std::nullopt, std::nullopt, "  "}).error().code, ErrorCode::validation);
    EXPECT_EQ(make({user, plan_, std::nullopt, 0, "staff"}).error().code, ErrorCode::validation);
    EXPECT_EQ(make({user, plan_, std::nullopt, 3651, "staff"}).error().code, ErrorCode::validation);
    EXPECT_EQ(make({user, PlanId{999}, std::nullopt, std::nullopt, "staff"}).error().code,
              ErrorCode::not_found);
    EXPECT_EQ(make({user, plan_, ServerId{999}, std::nullopt, "staff"}).error().code, ErrorCode::not_found);
    EXPECT_EQ(make({UserId{999}, plan_, std::nullopt, std::nullopt, "staff"}).error().code,
              ErrorCode::not_found);
    const auto open = order_under_review(user);
    auto busy = make({user, plan_, std::nullopt, std::nullopt, "staff"});
    ASSERT_FALSE(busy.has_value());
    EXPECT_EQ(busy.error().code, ErrorCode::conflict);
    EXPECT_NE(busy.error().message.find(open.reference), std::string::npos) << busy.error().message;
    const auto banned = make_user("100000000000000052");
    ASSERT_TRUE(users_.ban(conn(), kAdmin, banned, "fraud").has_value());
    EXPECT_EQ(make({banned, plan_, std::nullopt, std::nullopt, "staff"}).error().code, ErrorCode::forbidden);
    EXPECT_EQ(count("SELECT COUNT(*) FROM orders"), 1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM audit_logs WHERE action = 'order.gifted'"), 0);
}

// ---- refunds ----

TEST_P(ShopAdminTest, ARefundLeavesRevenueShowsInStatsAndExportsAndIsRefusedTheSecondTime) {
    const auto kept = paid("100000000000000061", "receipt-d");
    const auto refunded = paid("100000000000000062", "receipt-e");
    Analytics analytics;
    const auto from = now() - std::chrono::days(1);
    const auto to = now() + std::chrono::days(1);
    EXPECT_EQ(analytics.summary(conn(), from, to, now()).revenue, Piasters::from_pounds(300));

    EXPECT_EQ(refunds::refund(conn(), *orders_, kAdmin, refunded.order.id, " ", now()).error().code,
              ErrorCode::validation);
    auto done = refunds::refund(conn(), *orders_, kAdmin, refunded.order.id, "paid twice", now());
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_EQ(done->status, OrderStatus::fulfilled);
    EXPECT_EQ(done->refunded_at, now());
    EXPECT_EQ(done->refunded_by, kAdmin);
    EXPECT_EQ(done->refund_reason, "paid twice");

    const auto summary = analytics.summary(conn(), from, to, now());
    EXPECT_EQ(summary.revenue, Piasters::from_pounds(150));
    EXPECT_EQ(summary.refunds, Piasters::from_pounds(150));
    EXPECT_EQ(summary.orders_refunded, 1);
    const auto days = analytics.revenue_by_day(conn(), from, to);
    ASSERT_EQ(days.size(), 1u);
    EXPECT_EQ(days[0].revenue, Piasters::from_pounds(150));
    EXPECT_EQ(days[0].orders, 1);

    std::ostringstream exported;
    export_rows(conn(), ExportKind::orders, exported, {ExportFormat::json, false});
    const auto rows = nlohmann::json::parse(exported.str());
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_TRUE(rows[0]["refunded_at"].is_null());
    EXPECT_EQ(rows[1]["refunded_at"], epoch_seconds(now()));
    EXPECT_EQ(rows[1]["refund_reason"], "paid twice");
    EXPECT_EQ(rows[1]["refunded_by"], kAdmin.str());

    auto twice = refunds::refund(conn(), *orders_, kAdmin, refunded.order.id, "again", now());
    ASSERT_FALSE(twice.has_value());
    EXPECT_EQ(twice.error().code, ErrorCode::conflict);
    EXPECT_NE(twice.error().message.find("already refunded"), std::string::npos) << twice.error().message;
    EXPECT_EQ(orders_->get(conn(), refunded.order.id)->refund_reason, "paid twice");
    EXPECT_EQ(count("SELECT COUNT(*) FROM audit_logs WHERE action = 'order.refunded'"), 1);
    const auto audit = audit_for(conn(), "order", std::to_string(refunded.order.id.value));
    EXPECT_EQ(audit.back().entry.action, "order.refunded");
    EXPECT_EQ(audit.back().entry.actor, kAdmin.str());
    (void)kept;

    // Only a fulfilled, paid order can be refunded.
    const auto open = order_under_review(make_user("100000000000000063"));
    EXPECT_EQ(refunds::refund(conn(), *orders_, kAdmin, open.id, "x", now()).error().code,
              ErrorCode::invalid_transition);
    EXPECT_EQ(refunds::refund(conn(), *orders_, kAdmin, OrderId{999}, "x", now()).error().code,
              ErrorCode::not_found);
    auto gift =
        gifts::create(conn(), *orders_, kAdmin,
                      {make_user("100000000000000064"), plan_, std::nullopt, std::nullopt, "staff"}, now());
    ASSERT_TRUE(run_awaitable(provisioner_->fulfil(gift->id)).has_value());
    EXPECT_EQ(refunds::refund(conn(), *orders_, kAdmin, gift->id, "x", now()).error().code,
              ErrorCode::validation);
}

// ---- change plan ----

TEST_P(ShopAdminTest, ChangePlanSetsTheNewQuotaDevicesAndExpiryFromNowOrFromTheCurrentExpiry) {
    const auto bought = paid("100000000000000071", "receipt-f");
    const auto yearly = make_plan("Yearly", 365, 0, Piasters::from_pounds(1500));
    const auto id = bought.account.id;
    const auto old_expiry = bought.account.expires_at;

    auto from_expiry = run_awaitable(operations_->change_plan(id, yearly, true, kAdmin));
    ASSERT_TRUE(from_expiry.has_value()) << from_expiry.error().message;
    EXPECT_EQ(from_expiry->expires_at, old_expiry + std::chrono::days(365));
    EXPECT_EQ(from_expiry->traffic_limit_bytes, 0);
    EXPECT_EQ(from_expiry->plan_id, yearly);
    const auto client = gateway_.clients().at(bought.account.client_email);
    EXPECT_EQ(client.total_bytes, 0);
    EXPECT_EQ(client.expiry_ms, epoch_seconds(old_expiry + std::chrono::days(365)) * 1000);

    auto from_now = run_awaitable(operations_->change_plan(id, plan_, false, kAdmin));
    ASSERT_TRUE(from_now.has_value());
    EXPECT_EQ(from_now->expires_at, now() + std::chrono::days(30));
    EXPECT_EQ(from_now->traffic_limit_bytes, 50LL << 30);
    EXPECT_EQ(gateway_.clients().at(bought.account.client_email).total_bytes, 50LL << 30);
    const auto audit = audit_for(conn(), "account", std::to_string(id.value));
    EXPECT_EQ(audit.back().entry.action, "account.plan_changed");

    // The panel down: nothing changes in the database.
    gateway_.set_down(GatewayError{GatewayErrorCode::unreachable, 0, "refused"});
    auto failed = run_awaitable(operations_->change_plan(id, yearly, false, kAdmin));
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().code, ErrorCode::gateway);
    EXPECT_EQ(accounts::get(conn(), id)->plan_id, plan_);
    gateway_.set_down(std::nullopt);
    EXPECT_EQ(run_awaitable(operations_->change_plan(id, PlanId{999}, false, kAdmin)).error().code,
              ErrorCode::not_found);
}

NEBULA_INSTANTIATE_FOR_BACKENDS(ShopAdminTest);

}  // namespace
}  // namespace nebula::bot::domain
