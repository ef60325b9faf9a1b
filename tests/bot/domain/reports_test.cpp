#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "bot/domain/analytics.hpp"
#include "bot/domain/export.hpp"
#include "bot/support/discord_ids.hpp"
#include "domain_fixture.hpp"

using nebula::bot::testing::discord_id;

namespace nebula::bot::domain {
namespace {

TEST(Csv, QuotesOnlyWhenRfc4180Requires) {
    std::ostringstream out;
    for (std::string_view field : {"plain", "a,b", "say \"hi\"", "two\nlines", "عربي"}) {
        write_csv_field(out, field);
        out << '|';
    }
    EXPECT_EQ(out.str(), "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|عربي|");
}

class ReportsTest : public testing::DomainTest {
  protected:
    // Two fulfilled orders (one today, one yesterday) and one still awaiting payment.
    void seed() {
        const auto vip = make_plan("Quarterly", 90, 0, Piasters::from_pounds(400));
        const auto now = to_timestamp(clock_.now());
        int n = 0;
        for (auto [plan, fulfilled_at] :
             {std::pair{plan_, now - std::chrono::days(1)}, std::pair{vip, now}}) {
            const auto user = make_user("rep-" + std::to_string(++n));
            auto placed = orders_->place(conn(), user, plan);
            conn().exec(
                "UPDATE orders SET status = 'fulfilled', payment_method_id = ?, fulfilled_at = ? WHERE id = "
                "?",
                method_, fulfilled_at, placed->order.id);
        }
        (void)orders_->place(conn(), users_.ensure(conn(), discord_id("rep-x"), "أحمد, \"the\" buyer").id,
                             plan_);
    }
};

TEST_P(ReportsTest, RevenueByDayMethodPlanAndSummary) {
    seed();
    Analytics analytics(std::chrono::hours(2));
    const auto now = to_timestamp(clock_.now());
    const auto from = now - std::chrono::days(30);
    const auto to = now + std::chrono::seconds(1);
    auto days = analytics.revenue_by_day(conn(), from, to);
    ASSERT_EQ(days.size(), 2u);
    EXPECT_EQ(days[0].key, analytics.day_of(now - std::chrono::days(1)));
    EXPECT_EQ(days[0].revenue, Piasters::from_pounds(150));
    EXPECT_EQ(days[1].revenue, Piasters::from_pounds(400));
    auto methods = analytics.revenue_by_method(conn(), from, to);
    ASSERT_EQ(methods.size(), 1u);
    EXPECT_EQ(methods[0].key, "vodafone_cash");
    EXPECT_EQ(methods[0].revenue, Piasters::from_pounds(550));
    auto plans = analytics.revenue_by_plan(conn(), from, to);
    ASSERT_EQ(plans.size(), 2u);
    EXPECT_EQ(plans[0].key, "Quarterly");
    auto summary = analytics.summary(conn(), from, to, now);
    EXPECT_EQ(summary.revenue, Piasters::from_pounds(550));
    EXPECT_EQ(summary.orders_created, 3);
    EXPECT_EQ(summary.orders_fulfilled, 2);
    EXPECT_NEAR(summary.conversion, 2.0 / 3.0, 1e-9);
    EXPECT_EQ(summary.revenue_per_user, Piasters::from_pounds(275));
    EXPECT_EQ(summary.new_users, 3);

    analytics.snapshot_day(conn(), now, now);
    analytics.snapshot_day(conn(), now, now);  // rewriting is idempotent
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT COUNT(*) FROM revenue_snapshots"), 1);
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT revenue_piasters FROM revenue_snapshots"), 40000);
    auto by_plan =
        nlohmann::json::parse(*conn().scalar<std::string>("SELECT revenue_by_plan FROM revenue_snapshots"));
    EXPECT_EQ(by_plan["Quarterly"], 40000);
}

TEST_P(ReportsTest, DaysFollowTheShopClockAcrossADaylightSavingChange) {
    // A zone at UTC+2 that moves to UTC+3 when 24 April 2026 begins (22:00 UTC on the 23rd, the
    // clocks jump from 00:00 to 01:00), so 24 April is 23 hours long on the shop's clock.
    using std::chrono::hours;
    const Timestamp change = std::chrono::sys_days{std::chrono::year{2026} / 4 / 23} + hours(22);
    Analytics analytics([change](Timestamp t) { return t < change ? hours(2) : hours(3); });
    const auto utc = [](int day, int hour) {
        return Timestamp{std::chrono::sys_days{std::chrono::year{2026} / 4 / day} + hours(hour)};
    };
    EXPECT_EQ(analytics.day_of(utc(23, 21)), "2026-04-23");  // 23:00 at +2
    EXPECT_EQ(analytics.day_of(utc(23, 22)), "2026-04-24");  // 01:00 at +3: the clocks jumped
    EXPECT_EQ(analytics.start_of_day(utc(24, 12)), utc(23, 22));
    EXPECT_EQ(analytics.start_of_day(utc(25, 12)), utc(24, 21));

    int n = 0;
    for (const auto fulfilled_at : {utc(23, 20), utc(23, 22), utc(24, 20), utc(24, 21)}) {
        auto placed = orders_->place(conn(), make_user("dst-" + std::to_string(++n)), plan_);
        conn().exec(
            "UPDATE orders SET status = 'fulfilled', payment_method_id = ?, fulfilled_at = ? WHERE id = ?",
            method_, fulfilled_at, placed->order.id);
    }
    auto days = analytics.revenue_by_day(conn(), utc(20, 0), utc(27, 0));
    ASSERT_EQ(days.size(), 3u);
    EXPECT_EQ(days[0].key, "2026-04-23");
    EXPECT_EQ(days[0].orders, 1);
    EXPECT_EQ(days[1].key, "2026-04-24");
    EXPECT_EQ(days[1].orders, 2);
    EXPECT_EQ(days[2].key, "2026-04-25");
    EXPECT_EQ(days[2].orders, 1);

    analytics.snapshot_day(conn(), utc(24, 12), utc(26, 0));
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT orders_fulfilled FROM revenue_snapshots"), 2);
}

TEST_P(ReportsTest, CsvExportIsRfc4180WithOptionalBom) {
    seed();
    std::ostringstream out;
    EXPECT_EQ(export_rows(conn(), ExportKind::users, out, {ExportFormat::csv, true}), 3);
    const auto text = out.str();
    ASSERT_TRUE(text.starts_with(
        "\xEF\xBB\xBFid,discord_id,username,locale_choice,last_locale,status,ban_reason,created_at\r\n"));
    EXPECT_NE(text.find(",\"أحمد, \"\"the\"\" buyer\",,,active,,"), std::string::npos) << text;
    std::ostringstream plain;
    EXPECT_EQ(export_rows(conn(), ExportKind::orders, plain, {ExportFormat::csv, false}), 3);
    EXPECT_TRUE(plain.str().starts_with("id,reference,"));
    EXPECT_NE(plain.str().find("NL-000001,"), std::string::npos);
}

// Both backends run this with the same expected bytes, so any difference between PostgreSQL's
// COPY output and the SQLite writer (quoting, NULL, empty text, Arabic, numbers) fails one.
TEST_P(ReportsTest, OrderExportIsTheSameBytesOnBothBackends) {
    const auto quarterly = make_plan("Quarterly, 2 devices", 90, 0, Piasters::from_pounds(400));
    const auto arabic =
        users_.ensure(conn(), domain::DiscordId{300000000000000001ULL}, "أحمد, \"the\" buyer\nسطر").id;
    const auto plain = make_user("300000000000000002");
    const auto first = orders_->place(conn(), arabic, quarterly)->order.id;
    const auto second = orders_->place(conn(), plain, plan_)->order.id;
    conn().exec(
        "UPDATE orders SET status = 'declined', payment_method_id = ?, reviewer_id = ?, decline_reason = ?, "
        "created_at = ?, submitted_at = ? WHERE id = ?",
        method_, "400000000000000009", "wrong amount: paid 300, not \"400\"\r\nplease retry", 1767225600,
        1767229200, first);
    conn().exec(
        "UPDATE orders SET status = 'fulfilled', payment_method_id = ?, reviewer_id = '', created_at = ?, "
        "approved_at = ?, fulfilled_at = ?, location = 'Germany' WHERE id = ?",
        method_, 1767225600, 1767232800, 1767236400, second);

    std::ostringstream csv;
    EXPECT_EQ(export_rows(conn(), ExportKind::orders, csv, {ExportFormat::csv, true}), 2);
    EXPECT_EQ(
        csv.str(),
        "\xEF\xBB\xBF"
        "id,reference,discord_id,username,plan,kind,status,amount_piasters,list_price_piasters,"
        "discount_piasters,promo_code,trial,payment_method,reviewer_id,decline_reason,account_id,created_at,"
        "submitted_at,approved_at,fulfilled_at,gift_reason,refunded_at,refunded_by,refund_reason,location,"
        "server\r\n"
        "1,NL-000001,300000000000000001,\"أحمد, \"\"the\"\" buyer\nسطر\",\"Quarterly, 2 devices\",new,"
        "declined,40000,,0,,0,vodafone_cash,400000000000000009,\"wrong amount: paid 300, not \"\"400\"\"\r\n"
        "please retry\",,1767225600,1767229200,,,,,,,,\r\n"
        "2,NL-000002,300000000000000002,user300000000000000002,Monthly,new,fulfilled,15000,,0,,0,"
        "vodafone_cash,,,,1767225600,,1767232800,1767236400,,,,,Germany,\r\n");

    std::ostringstream json;
    EXPECT_EQ(export_rows(conn(), ExportKind::orders, json, {ExportFormat::json, false}), 2);
    EXPECT_EQ(json.str(),
              "[\n"
              "{\"id\":1,\"reference\":\"NL-000001\",\"discord_id\":\"300000000000000001\","
              "\"username\":\"أحمد, \\\"the\\\" buyer\\nسطر\",\"plan\":\"Quarterly, 2 devices\","
              "\"kind\":\"new\",\"status\":\"declined\",\"amount_piasters\":40000,"
              "\"list_price_piasters\":null,\"discount_piasters\":0,\"promo_code\":null,\"trial\":0,"
              "\"payment_method\":\"vodafone_cash\",\"reviewer_id\":\"400000000000000009\","
              "\"decline_reason\":\"wrong amount: paid 300, not \\\"400\\\"\\r\\nplease retry\","
              "\"account_id\":null,\"created_at\":1767225600,\"submitted_at\":1767229200,"
              "\"approved_at\":null,\"fulfilled_at\":null,\"gift_reason\":null,\"refunded_at\":null,"
              "\"refunded_by\":null,\"refund_reason\":null,\"location\":null,\"server\":null},\n"
              "{\"id\":2,\"reference\":\"NL-000002\",\"discord_id\":\"300000000000000002\","
              "\"username\":\"user300000000000000002\",\"plan\":\"Monthly\",\"kind\":\"new\","
              "\"status\":\"fulfilled\",\"amount_piasters\":15000,\"list_price_piasters\":null,"
              "\"discount_piasters\":0,\"promo_code\":null,\"trial\":0,\"payment_method\":\"vodafone_cash\","
              "\"reviewer_id\":\"\",\"decline_reason\":null,\"account_id\":null,\"created_at\":1767225600,"
              "\"submitted_at\":null,\"approved_at\":1767232800,\"fulfilled_at\":1767236400,"
              "\"gift_reason\":null,\"refunded_at\":null,\"refunded_by\":null,\"refund_reason\":null,"
              "\"location\":\"Germany\",\"server\":null}\n"
              "]\n");
}

// A customer's Discord name or an admin's decline reason reaches the CSV: a spreadsheet must
// show it, never run it. Same bytes on both backends; JSON keeps the text as it is.
TEST_P(ReportsTest, CsvCellsASpreadsheetWouldRunAsFormulasAreNeutralised) {
    const std::vector<std::string> names = {"=HYPERLINK(\"http://evil.example\",\"x\")",
                                            "+20 100",
                                            "-2+3",
                                            "@SUM(A1)",
                                            "\tTAB",
                                            "\rCR",
                                            "safe=name",
                                            "'quoted"};
    for (std::size_t i = 0; i < names.size(); ++i) {
        users_.ensure(conn(), domain::DiscordId{300000000000000000ULL + static_cast<std::uint64_t>(i)},
                      names[i]);
    }
    std::ostringstream csv;
    EXPECT_EQ(export_rows(conn(), ExportKind::users, csv, {ExportFormat::csv, false}),
              static_cast<std::int64_t>(names.size()));
    const auto text = csv.str();
    for (const std::string expected :
         {",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",", ",'+20 100,", ",'-2+3,", ",'@SUM(A1),",
          ",'\tTAB,", ",\"'\rCR\",", ",safe=name,", ",'quoted,"}) {
        EXPECT_NE(text.find(expected), std::string::npos) << expected << " in\n" << text;
    }
    std::ostringstream json;
    export_rows(conn(), ExportKind::users, json, {ExportFormat::json, false});
    const auto rows = nlohmann::json::parse(json.str());
    for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(rows[i]["username"], names[i]);
}

TEST_P(ReportsTest, JsonExportParsesWithTypes) {
    seed();
    std::ostringstream out;
    EXPECT_EQ(export_rows(conn(), ExportKind::orders, out, {ExportFormat::json, false}), 3);
    auto rows = nlohmann::json::parse(out.str());
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0]["amount_piasters"], 15000);
    EXPECT_EQ(rows[0]["payment_method"], "vodafone_cash");
    EXPECT_TRUE(rows[2]["fulfilled_at"].is_null());
    std::ostringstream empty;
    EXPECT_EQ(export_rows(conn(), ExportKind::accounts, empty, {ExportFormat::json, false}), 0);
    EXPECT_TRUE(nlohmann::json::parse(empty.str()).empty());
    std::ostringstream audit;
    EXPECT_GT(export_rows(conn(), ExportKind::audit, audit, {ExportFormat::csv, false}), 0);
}

TEST_P(ReportsTest, ExportStreamsManyRowsAndLeavesTheConnectionUsable) {
    db::in_transaction(conn(), [](db::Connection& c) {
        auto insert =
            c.prepare("INSERT INTO users (discord_id, username, created_at, updated_at) VALUES (?, ?, 0, 0)");
        for (int i = 0; i < 5000; ++i) {
            insert->reset();
            insert->bind_all("bulk-" + std::to_string(i), "name " + std::to_string(i));
            insert->step();
        }
    });
    std::ostringstream out;
    EXPECT_EQ(export_rows(conn(), ExportKind::users, out, {ExportFormat::csv, false}), 5000);
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT COUNT(*) FROM users"), 5000);
}

NEBULA_INSTANTIATE_FOR_BACKENDS(ReportsTest);

}  // namespace
}  // namespace nebula::bot::domain
