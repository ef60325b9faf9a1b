// The revenue job: yesterday's snapshot written and posted once with a 30-day chart.
#include <map>

#include "bot/core/charts.hpp"
#include "bot/jobs/jobs.hpp"
#include "bot/ui/chart.hpp"

namespace nebula::bot::jobs {
namespace asio = boost::asio;
using discord::MessagePayload;
using domain::Timestamp;
using ui::Msg;

// ---- revenue ----

asio::awaitable<JobResult> Jobs::snapshot_revenue() {
    const auto now = clock_now();
    const auto today = ctx_.analytics.start_of_day(now);
    // Yesterday may have been 23 or 25 hours long (daylight saving): step back half a day.
    const auto yesterday = ctx_.analytics.start_of_day(today - std::chrono::hours(12));
    const std::string day = ctx_.analytics.day_of(yesterday);
    struct Figures {
        domain::Piasters revenue;
        std::int64_t orders = 0;
        std::int64_t accounts = 0;
        std::vector<domain::RevenueRow> days;
        bool posted = false;
    };
    auto figures = co_await ctx_.db.run([&](db::Connection& c) {
        ctx_.analytics.snapshot_day(c, yesterday, now);
        Figures f;
        if (auto snapshot = ctx_.analytics.snapshot(c, day)) {
            f.revenue = snapshot->revenue;
            f.orders = snapshot->orders_fulfilled;
            f.accounts = snapshot->active_accounts;
            f.posted = snapshot->posted_message_id.has_value();
        }
        f.days = ctx_.analytics.revenue_by_day(c, today - std::chrono::days(30), today);
        return f;
    });
    if (figures.posted) co_return "snapshot of " + day + " rewritten; already posted";

    std::map<std::string, double> by_day;
    for (const auto& row : figures.days) by_day[row.key] = static_cast<double>(row.revenue.value) / 100.0;
    std::vector<ui::ChartBar> bars;
    for (auto d = today - std::chrono::days(30); d < today; d += std::chrono::days(1)) {
        const std::string key_day = ctx_.analytics.day_of(d);
        const auto it = by_day.find(key_day);
        bars.push_back({key_day.substr(key_day.size() - 2), it == by_day.end() ? 0.0 : it->second});
    }
    const auto locale = ctx_.shop.default_locale;
    const ui::BarChart chart =
        ui::revenue_chart(locale, ui::tr(locale, Msg::period_30_days), std::move(bars), /*monthly=*/false);
    MessagePayload payload;
    payload.content = ui::tr(locale, Msg::job_revenue_posted,
                             {{"day", day},
                              {"revenue", ui::format_money(locale, figures.revenue)},
                              {"orders", figures.orders},
                              {"accounts", figures.accounts}});
    std::string png = co_await core::draw_chart(ctx_.db, chart);
    payload.files.push_back({"revenue.png", "image/png", std::move(png), chart.title});
    auto posted = co_await ctx_.rest.create_message(ctx_.shop.billing_channel_id, std::move(payload));
    if (!posted)
        co_return common::unexpected("snapshot of " + day +
                                     " written; not posted: " + posted.error().describe());
    const discord::Snowflake message = posted->id;
    co_await ctx_.db.run([&](db::Connection& c) { ctx_.analytics.mark_posted(c, day, message); });
    co_return "snapshot of " + day + " written and posted";
}

}  // namespace nebula::bot::jobs
