// The My Account usage chart and the audit channel's line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bot/ui/audit_line.hpp"
#include "bot/ui/chart.hpp"
#include "bot/ui/font.hpp"
#include "bot/ui/png_reader.hpp"

namespace nebula::bot::ui {
namespace {

using testing::decode_png;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RgbImage;

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::vector<ChartBar> thirty_days(double scale) {
    std::vector<ChartBar> days;
    for (int day = 1; day <= 30; ++day) days.push_back({std::to_string(day), scale * (day % 5)});
    return days;
}

int count_colour(const RgbImage& image, std::uint32_t colour, int x0, int y0, int x1, int y1) {
    int n = 0;
    for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) n += image.at(x, y) == colour;
    }
    return n;
}

// Where the title's ink is (columns of the title band holding text-coloured pixels).
std::pair<int, int> title_span(const RgbImage& image) {
    int left = image.width, right = -1;
    for (int y = 10; y < 46; ++y) {
        for (int x = 0; x < image.width; ++x) {
            if (image.at(x, y) != kChartText) continue;
            left = std::min(left, x);
            right = std::max(right, x);
        }
    }
    return {left, right};
}

TEST(UsageChart, EnglishInGigabytesDecodesWithBarsAndTitleOnTheLeft) {
    const BarChart chart =
        usage_chart(Locale::en, tr(Locale::en, Msg::period_30_days), thirty_days(2 * kGiB));
    EXPECT_EQ(chart.title, "Traffic used — Last 30 days");
    EXPECT_EQ(chart.x_label, "Day");
    EXPECT_EQ(chart.y_label, "GB");
    EXPECT_FALSE(chart.right_to_left);
    ASSERT_EQ(chart.bars.size(), 30u);
    EXPECT_DOUBLE_EQ(chart.bars[3].value, 8.0) << "4 × 2 GiB in GB";

    const std::string png = render_bar_chart(chart);
    const auto image = decode_png(png);
    ASSERT_TRUE(image.has_value());
    EXPECT_EQ(image->width, 900);
    EXPECT_EQ(image->height, 400);
    EXPECT_GT(count_colour(*image, kChartBar, 0, 0, 900, 400), 2000) << "bars are drawn";
    const auto [left, right] = title_span(*image);
    EXPECT_LT(left, 30);
    EXPECT_LT(right, 600);
}

TEST(UsageChart, ArabicIsRightToLeftAndSmallDaysAreInMegabytes) {
    const BarChart chart =
        usage_chart(Locale::ar, tr(Locale::ar, Msg::period_30_days), thirty_days(100.0 * 1024 * 1024));
    EXPECT_TRUE(chart.right_to_left);
    EXPECT_EQ(chart.y_label, tr(Locale::ar, Msg::chart_axis_megabytes));
    EXPECT_DOUBLE_EQ(chart.bars[3].value, 400.0);
    for (const std::string& text : {chart.title, chart.x_label, chart.y_label, chart.no_data}) {
        SCOPED_TRACE(text);
        const auto info = detail::measure_text(text, 14);
        EXPECT_EQ(info.unknown_glyphs, 0);
        EXPECT_TRUE(info.right_to_left);
    }
    const auto image = decode_png(render_bar_chart(chart));
    ASSERT_TRUE(image.has_value());
    EXPECT_GT(count_colour(*image, kChartBar, 0, 0, 900, 400), 2000);
    const auto [left, right] = title_span(*image);
    EXPECT_GT(left, 300) << "the Arabic title sits on the right";
    EXPECT_GT(right, 900 - 24);
}

TEST(UsageChart, NoTrafficSaysSoInTheReadersLanguage) {
    const BarChart english = usage_chart(Locale::en, "Last 30 days", thirty_days(0));
    EXPECT_EQ(english.no_data, "No traffic in this period");
    const auto image = decode_png(render_bar_chart(english));
    ASSERT_TRUE(image.has_value());
    EXPECT_EQ(count_colour(*image, kChartBar, 0, 0, 900, 400), 0);
    EXPECT_EQ(usage_chart(Locale::ar, "x", {}).no_data, tr(Locale::ar, Msg::chart_no_usage));
}

domain::AuditRecord record(std::string actor, std::optional<nlohmann::json> before,
                           std::optional<nlohmann::json> after) {
    domain::AuditRecord r;
    r.id = 7;
    r.entry = {std::move(actor), "plan.updated", "plan", "3", std::move(before), std::move(after)};
    r.at = domain::Timestamp(std::chrono::seconds(1765000000));
    return r;
}

TEST(AuditLine, SaysWhoWhatWhichAndOnlyWhatChanged) {
    const auto line = audit_line(record("100000000000000001",
                                        nlohmann::json{{"name", "Monthly"}, {"price_piasters", 15000}},
                                        nlohmann::json{{"name", "Monthly"}, {"price_piasters", 17500}}));
    EXPECT_EQ(line,
              "<t:1765000000:f> <@100000000000000001> `plan.updated` plan #3: price_piasters: 15000 → 17500");
    EXPECT_EQ(audit_line(record("system", std::nullopt, nlohmann::json{{"status", "expired"}})),
              "<t:1765000000:f> system `plan.updated` plan #3: {\"status\":\"expired\"}");
    EXPECT_THAT(audit_line(record("user:100000000000000002", std::nullopt, std::nullopt)),
                HasSubstr("<@100000000000000002> `plan.updated` plan #3"));
    EXPECT_THAT(audit_line(record("100000000000000001", nlohmann::json{{"a", 1}}, nlohmann::json{{"b", 2}})),
                HasSubstr("a: 1 → —, b: — → 2"));
}

TEST(AuditLine, HidesSecretsAndStaysWithinOneMessage) {
    const std::string key = "super-secret-gateway-key-0123456789abcdef";
    const auto line = audit_line(record(
        "100000000000000001", nlohmann::json{{"gateway_key", "old-" + key}, {"nested", {{"api_token", key}}}},
        nlohmann::json{{"gateway_key", key}, {"BACKUP_PASSPHRASE", key}, {"password", key}}));
    EXPECT_THAT(line, Not(HasSubstr(key)));
    EXPECT_THAT(line, HasSubstr("[hidden]"));

    const std::string arabic(3000, 'x');
    const auto long_line =
        audit_line(record("100000000000000001", std::nullopt,
                          nlohmann::json{{"note", "ملاحظة " + std::string(5000, 'y')}, {"more", arabic}}));
    EXPECT_LE(long_line.size(), kAuditLineMax + 3);
}

}  // namespace
}  // namespace nebula::bot::ui
