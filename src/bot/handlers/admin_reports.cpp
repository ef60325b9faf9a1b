// /admin stats, /admin export …, /admin audit
#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>
#include <streambuf>

#include "bot/core/charts.hpp"
#include "bot/domain/admin_queries.hpp"
#include "bot/domain/export.hpp"
#include "bot/domain/referrals.hpp"
#include "bot/domain/trials.hpp"
#include "bot/handlers/admin_commands.hpp"
#include "bot/handlers/admin_internal.hpp"
#include "bot/ui/chart.hpp"

namespace nebula::bot::handlers {
namespace {

namespace asio = boost::asio;
using admin::failure;
using admin::text_reply;
using ui::Msg;

constexpr auto kDay = std::chrono::days(1);
// Bot uploads above this are refused by Discord unless the guild is boosted.
constexpr std::size_t kDefaultUploadLimit = 10 * 1024 * 1024;
// Longer ranges are charted by month so the bars stay readable.
constexpr std::size_t kMaxDailyBars = 62;

struct Period {
    Msg name;
    std::optional<int> days;  ///< nothing: all time
};

std::optional<Period> parse_period(std::string_view text) {
    if (text.empty() || text == "30d") return Period{Msg::period_30_days, 30};
    if (text == "today") return Period{Msg::period_today, 1};
    if (text == "7d") return Period{Msg::period_7_days, 7};
    if (text == "all") return Period{Msg::period_all_time, std::nullopt};
    return std::nullopt;
}

// The revenue bars: one per day of the range (days without sales included), or one per month
// when the range is long.
std::vector<ui::ChartBar> revenue_bars(const std::vector<domain::RevenueRow>& rows,
                                       const domain::Analytics& analytics, domain::Timestamp from,
                                       domain::Timestamp to) {
    std::map<std::string, double> by_day;
    for (const auto& row : rows) by_day[row.key] += static_cast<double>(row.revenue.value) / 100.0;
    std::vector<std::pair<std::string, double>> days;
    for (auto t = from; t < to; t += kDay) {
        const auto key = analytics.day_of(t);
        const auto it = by_day.find(key);
        days.emplace_back(key, it == by_day.end() ? 0.0 : it->second);
    }
    std::vector<ui::ChartBar> bars;
    if (days.size() <= kMaxDailyBars) {
        for (const auto& [key, value] : days) {
            const int day_of_month = std::stoi(key.substr(8, 2));
            bars.push_back({std::to_string(day_of_month), value});
        }
        return bars;
    }
    for (const auto& [key, value] : days) {
        const auto month = key.substr(0, 7);
        if (bars.empty() || bars.back().label != month) bars.push_back({month, 0.0});
        bars.back().value += value;
    }
    return bars;
}

// An ostream buffer that refuses to grow past a cap, so an export too big to upload fails
// early instead of filling memory.
class CappedBuffer final : public std::streambuf {
  public:
    explicit CappedBuffer(std::size_t cap) : cap_(cap) {}
    std::string& data() { return data_; }
    bool overflowed() const { return overflowed_; }

  protected:
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        if (data_.size() + static_cast<std::size_t>(n) > cap_) {
            overflowed_ = true;
            return 0;
        }
        data_.append(s, static_cast<std::size_t>(n));
        return n;
    }
    int_type overflow(int_type c) override {
        if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
        const char ch = traits_type::to_char_type(c);
        return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
    }

  private:
    std::size_t cap_;
    std::string data_;
    bool overflowed_ = false;
};

struct ExportFile {
    std::string data;
    std::int64_t rows = 0;
    bool too_large = false;
};

/// "4 started, 1 paid later (25.0%)".
std::string trials_text(const AdminCommands::Invocation& call, const domain::TrialStats& trials) {
    char share[32];
    std::snprintf(share, sizeof share, "%.1f%%",
                  trials.started == 0
                      ? 0.0
                      : 100.0 * static_cast<double>(trials.converted) / static_cast<double>(trials.started));
    return call.t(Msg::stats_trials_value, {{"started", std::to_string(trials.started)},
                                            {"converted", std::to_string(trials.converted)},
                                            {"share", std::string(share)}});
}

}  // namespace

asio::awaitable<discord::MessagePayload> AdminCommands::stats(const Invocation& call) {
    const auto period = parse_period(call.string("period").value_or(""));
    if (!period) co_return failure(call, "period must be today, 7d, 30d or all");
    const auto& analytics = ctx_.analytics;
    const auto now = domain::to_timestamp(ctx_.clock.now());
    const auto to = analytics.start_of_day(now) + kDay;
    struct Figures {
        domain::Summary summary;
        domain::TrialStats trials;
        domain::ReferralStats referrals;
        std::vector<domain::RevenueRow> days;
        domain::Timestamp from;
    };
    auto figures = co_await ctx_.db.run([&](db::Connection& c) {
        Figures f;
        if (period->days) {
            f.from = to - kDay * *period->days;
        } else {
            // All time starts on the day of the first order.
            const auto first = analytics.first_order_at(c);
            f.from = first ? analytics.start_of_day(*first) : to - kDay;
        }
        f.days = analytics.revenue_by_day(c, f.from, to);
        f.summary = analytics.summary(c, f.from, to, now);
        f.trials = domain::trials::stats(c, f.from, to);
        f.referrals = domain::referrals::stats(c, f.from, to);
        return f;
    });

    const auto& s = figures.summary;
    const std::string period_name = call.t(period->name);
    char conversion[32];
    std::snprintf(conversion, sizeof conversion, "%.1f%%", s.conversion * 100.0);
    discord::Embed embed;
    embed.title(call.t(Msg::admin_stats_title, {{"period", period_name}}))
        .color(kAdminColor)
        .field(call.t(Msg::stats_revenue), ui::format_money(call.locale, s.revenue), true)
        .field(call.t(Msg::stats_orders), std::to_string(s.orders_created), true)
        .field(call.t(Msg::stats_conversion),
               std::string(conversion) + " (" + std::to_string(s.orders_fulfilled) + "/" +
                   std::to_string(s.orders_created) + ")",
               true)
        .field(call.t(Msg::stats_new_users), std::to_string(s.new_users), true)
        .field(call.t(Msg::stats_active_accounts), std::to_string(s.active_accounts), true)
        .field(call.t(Msg::stats_discounts), ui::format_money(call.locale, s.discounts), true)
        .field(call.t(Msg::stats_refunds),
               call.t(Msg::stats_refunds_value,
                      {{"amount", ui::format_money(call.locale, s.refunds)}, {"orders", s.orders_refunded}}),
               true)
        .field(call.t(Msg::stats_trials), trials_text(call, figures.trials), true)
        .field(call.t(Msg::stats_referrals),
               call.t(Msg::stats_referrals_value, {{"referred", std::to_string(figures.referrals.referred)},
                                                   {"rewarded", std::to_string(figures.referrals.rewarded)}}),
               true)
        .image("attachment://revenue.png");

    const bool monthly = (to - figures.from) / kDay > static_cast<std::int64_t>(kMaxDailyBars);
    const ui::BarChart chart = ui::revenue_chart(
        call.locale, period_name, revenue_bars(figures.days, analytics, figures.from, to), monthly);
    discord::MessagePayload payload = admin::embed_reply(std::move(embed));
    std::string png = co_await core::draw_chart(ctx_.db, chart);
    payload.files.push_back({"revenue.png", "image/png", std::move(png), chart.title});
    co_return payload;
}

asio::awaitable<discord::MessagePayload> AdminCommands::export_data(const Invocation& call,
                                                                    std::string what) {
    domain::ExportKind kind{};
    if (what == "orders") {
        kind = domain::ExportKind::orders;
    } else if (what == "users") {
        kind = domain::ExportKind::users;
    } else if (what == "accounts") {
        kind = domain::ExportKind::accounts;
    } else if (what == "revenue") {
        kind = domain::ExportKind::revenue;
    } else if (what == "audit") {
        kind = domain::ExportKind::audit;
    } else {
        co_return failure(call, "unknown export " + what);
    }
    const std::string format = call.string("format").value_or("csv");
    if (format != "csv" && format != "json") co_return failure(call, "format must be csv or json");
    domain::ExportOptions options;
    options.format = format == "json" ? domain::ExportFormat::json : domain::ExportFormat::csv;
    // Spreadsheet programs need the byte order mark to read Arabic names in CSV correctly.
    options.excel_bom = options.format == domain::ExportFormat::csv;
    const std::size_t cap = call.interaction.attachment_size_limit > 0
                                ? static_cast<std::size_t>(call.interaction.attachment_size_limit)
                                : kDefaultUploadLimit;

    auto file = co_await ctx_.db.run([&](db::Connection& c) {
        CappedBuffer buffer(cap);
        std::ostream out(&buffer);
        out.exceptions(std::ios_base::badbit);
        ExportFile result;
        try {
            result.rows = domain::export_rows(c, kind, out, options);
        } catch (const std::ios_base::failure&) {
            if (!buffer.overflowed()) throw;
            result.too_large = true;
            return result;
        }
        result.data = std::move(buffer.data());
        return result;
    });
    if (file.too_large) {
        co_return failure(call, "the " + what + " export is larger than Discord's upload limit (" +
                                    ui::format_bytes(static_cast<std::int64_t>(cap)) +
                                    "); read it from the database instead");
    }
    const auto today = ctx_.analytics.day_of(domain::to_timestamp(ctx_.clock.now()));
    discord::MessagePayload payload = text_reply(
        call.t(Msg::admin_export_ready,
               {{"what", what}, {"format", format == "json" ? "JSON" : "CSV"}, {"rows", file.rows}}));
    payload.files.push_back({"nebula-" + what + "-" + today + "." + format,
                             format == "json" ? "application/json" : "text/csv", std::move(file.data), ""});
    co_return payload;
}

asio::awaitable<discord::MessagePayload> AdminCommands::audit(const Invocation& call) {
    const int limit = static_cast<int>(std::clamp<std::int64_t>(call.integer("limit").value_or(15), 1, 50));
    const auto member = call.member("user");
    auto records = co_await ctx_.db.run([&](db::Connection& c) {
        if (!member) return domain::recent_audit(c, limit);
        const auto user = ctx_.users.find(c, *member);
        return domain::admin::audit_involving(c, *member, user ? std::optional(user->id) : std::nullopt,
                                              limit);
    });
    if (records.empty()) co_return text_reply(call.t(Msg::admin_audit_empty));
    std::string lines;
    for (const auto& record : records) {
        lines += "`" + ui::format_date_time(ui::Locale::en, record.at, ctx_.zone) + "` " +
                 admin::actor_label(record.entry.actor) + " `" + record.entry.action + "` " +
                 record.entry.target_type + " #" + record.entry.target_id + "\n";
    }
    discord::Embed embed;
    embed.title(call.t(Msg::admin_audit_title)).description(lines).color(kAdminColor);
    co_return admin::embed_reply(std::move(embed));
}

}  // namespace nebula::bot::handlers
