#include "bot/jobs/jobs.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <system_error>

#include <spdlog/spdlog.h>

#include "bot/db/sqlite_backup.hpp"
#include "bot/domain/notices.hpp"
#include "bot/domain/server_health.hpp"
#include "bot/notify/channel_closer.hpp"
#include "bot/notify/delivery.hpp"
#include "bot/notify/order_channel.hpp"
#include "bot/notify/review_card.hpp"
#include "bot/ui/chart.hpp"
#include "discord/custom_id.hpp"

namespace nebula::bot::jobs {
namespace asio = boost::asio;
using discord::MessagePayload;
using discord::Snowflake;
using domain::Timestamp;
using ui::Msg;

namespace {

/// Unpaid orders expired this recently are announced even if the run that expired them died.
constexpr auto kOrderNoticeWindow = std::chrono::days(7);

Timestamp now_of(const core::BotContext& ctx) { return domain::to_timestamp(ctx.clock.now()); }

std::string backup_stamp(Timestamp t) {
    const auto day = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss hms{t - day};
    char text[32];
    std::snprintf(text, sizeof text, "%04d%02u%02u-%02d%02d%02d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return text;
}

}  // namespace

// ---- notices ----

asio::awaitable<NoticeReport> Jobs::deliver_notices() {
    co_return co_await notify::deliver_notices(ctx_, config_.notice_channel);
}

// ---- order timeout ----

asio::awaitable<JobResult> Jobs::expire_orders() {
    const auto now = now_of(ctx_);
    auto expired = co_await ctx_.db.run([&](db::Connection& c) {
        auto orders = ctx_.orders.expire_unpaid(c);
        // Also orders a previous run expired but died before queueing their notice.
        domain::queue_order_expired_notices(c, now, now - kOrderNoticeWindow);
        return orders.size();
    });
    auto notices = co_await deliver_notices();
    const int reminded = co_await remind_unreviewed();
    std::string summary = std::to_string(expired) + " order(s) expired; " + std::to_string(notices.sent) +
                          " notice(s) sent, " + std::to_string(notices.failed) + " not delivered; " +
                          std::to_string(reminded) + " review reminder(s)";
    if (notices.failed > 0) co_return unexpected(summary);
    co_return summary;
}

asio::awaitable<int> Jobs::remind_unreviewed() {
    // A receipt nobody reviewed within the order timeout: admins are reminded once (the customer
    // can cancel it meanwhile). Posted, then recorded: a crash in between reminds them twice.
    const auto timeout = ctx_.orders.options().unpaid_timeout;
    const auto before = now_of(ctx_) - timeout;
    auto waiting = co_await ctx_.db.run([&](db::Connection& c) { return ctx_.orders.unreviewed(c, before); });
    int reminded = 0;
    for (const auto& order : waiting) {
        const auto locale = ctx_.shop.default_locale;
        MessagePayload payload;
        payload.content =
            ui::tr(locale, Msg::job_review_reminder,
                   {{"reference", order.reference},
                    {"duration", ui::format_duration(locale, now_of(ctx_) - *order.submitted_at)}});
        auto posted = co_await ctx_.rest.create_message(ctx_.shop.review_channel_id, std::move(payload));
        if (!posted) {
            spdlog::warn("order {}: review reminder not posted: {}", order.reference,
                         posted.error().describe());
            continue;
        }
        const auto id = order.id;
        co_await ctx_.db.run([&](db::Connection& c) { ctx_.orders.mark_review_reminded(c, id); });
        ++reminded;
    }
    co_return reminded;
}

// ---- health ----

asio::awaitable<JobResult> Jobs::check_health() {
    auto servers = co_await ctx_.db.run([&](db::Connection& c) { return ctx_.catalog.servers(c); });
    int up = 0, down = 0, alerts = 0, alert_failures = 0, restored = 0;
    for (const auto& server : servers) {
        if (!server.enabled) continue;
        auto probe = co_await ctx_.gateways.gateway_for(server).health();
        std::string problem;
        if (!probe) {
            problem = domain::describe(probe.error());
        } else if (probe->status != "ok") {
            problem = "panel " + probe->panel;
        }
        const auto health = problem.empty() ? domain::ServerHealth::up : domain::ServerHealth::down;
        health == domain::ServerHealth::up ? ++up : ++down;
        const auto now = now_of(ctx_);
        // A down server takes no new accounts from its first failed check; admins hear of it once
        // it failed HEALTH_ALERT_AFTER_FAILURES checks in a row, so one lost probe is not an alarm.
        // The alert state is kept apart from the health itself, so an alert that could not be
        // posted (Discord down) is posted by the next run instead of being forgotten.
        const auto seen = co_await ctx_.db.run([&](db::Connection& c) {
            return domain::server_health::record_check(c, ctx_.catalog, server.id, health, now);
        });
        restored += seen.restored;
        if (seen.alerted == health) continue;
        if (health == domain::ServerHealth::down && seen.failures < config_.health_alert_after_failures)
            continue;
        const auto locale = ctx_.shop.default_locale;
        MessagePayload payload;
        if (health == domain::ServerHealth::down) {
            payload.content =
                ui::tr(locale, Msg::job_server_down, {{"server", server.spec.name}, {"error", problem}});
            payload.components.push_back(
                discord::ActionRow{std::vector<discord::Button>{discord::Button::action(
                    discord::ButtonStyle::secondary, ui::tr(locale, Msg::job_tell_customers),
                    discord::custom_id::make("outage", server.id.value, domain::epoch_seconds(now)))}});
        } else {
            payload.content = ui::tr(locale, Msg::job_server_up, {{"server", server.spec.name}});
        }
        auto posted = co_await ctx_.rest.create_message(ctx_.shop.review_channel_id, std::move(payload));
        if (!posted) {
            ++alert_failures;
            spdlog::warn("health: alert for {} not posted: {}", server.spec.name, posted.error().describe());
            continue;
        }
        ++alerts;
        co_await ctx_.db.run(
            [&](db::Connection& c) { domain::server_health::record_alert(c, server.id, health); });
    }
    std::string summary = std::to_string(up) + " up, " + std::to_string(down) + " down, " +
                          std::to_string(alerts) + " alert(s) posted";
    if (restored > 0) {
        auto notices = co_await deliver_notices();
        summary += ", " + std::to_string(restored) + " customer(s) told a server is back (" +
                   std::to_string(notices.failed) + " not delivered yet)";
    }
    if (alert_failures > 0)
        co_return unexpected(summary + ", " + std::to_string(alert_failures) + " not posted");
    co_return summary;
}

asio::awaitable<std::optional<int>> Jobs::queue_outage_notices(domain::ServerId server, std::int64_t incident,
                                                               std::string actor) {
    const auto now = now_of(ctx_);
    co_return co_await ctx_.db.run([&](db::Connection& c) {
        return domain::server_health::queue_outage_notices(c, ctx_.catalog, server, incident, actor, now);
    });
}

// ---- reconciler ----

asio::awaitable<JobResult> Jobs::reconcile() {
    const auto started = now_of(ctx_);
    // Order channels that a `nebula-bot jobs run` process finished get their closing timers here.
    notify::resume_channel_closers(ctx_);
    auto pending = co_await ctx_.db.run(
        [&](db::Connection& c) { return ctx_.orders.with_status(c, domain::OrderStatus::approved, 1000); });
    int fulfilled = 0, failed = 0;
    for (const auto& order : pending) {
        if (order.approved_at && *order.approved_at > started - config_.reconcile_settle) continue;
        auto result = co_await ctx_.provisioner.fulfil(order.id);
        if (!result) {
            ++failed;
            spdlog::warn("reconciler: order {} still not provisioned: {}", order.reference,
                         result.error().message);
            if (order.provision_attempts + 1 == config_.stuck_after_attempts) {
                MessagePayload payload;
                payload.content = ui::tr(ctx_.shop.default_locale, Msg::job_order_stuck,
                                         {{"reference", order.reference},
                                          {"attempts", order.provision_attempts + 1},
                                          {"error", result.error().message}});
                auto posted =
                    co_await ctx_.rest.create_message(ctx_.shop.review_channel_id, std::move(payload));
                if (!posted) spdlog::warn("reconciler: report not posted: {}", posted.error().describe());
            }
            continue;
        }
        ++fulfilled;
    }
    // Steps a crash (or Discord) interrupted before approval: order channels and review cards.
    const auto channels = co_await notify::repair_order_channels(ctx_);
    const auto cards = co_await repost_review_cards(started - config_.reconcile_settle);
    failed += channels.failed + cards.failed;
    // Deliveries of orders fulfilled just now, and whatever earlier deliveries still miss (a
    // crash after the commit, a Discord outage): the billing line names the automatic retry, a
    // customer who has left is reported in the review channel.
    const auto sweep = co_await notify::deliver_pending(ctx_, false);
    std::string summary = std::to_string(fulfilled) + " order(s) provisioned, " + std::to_string(failed) +
                          " still failing; " + std::to_string(sweep.completed) +
                          " delivery(ies) completed, " + std::to_string(sweep.pending) + " still pending";
    if (channels.finished + channels.orphans_deleted + cards.sent > 0) {
        summary += "; " + std::to_string(channels.finished) + " order channel(s) completed, " +
                   std::to_string(channels.orphans_deleted) + " left-behind channel(s) deleted, " +
                   std::to_string(cards.sent) + " review card(s) posted";
    }
    if (failed > 0 || sweep.pending > 0) co_return unexpected(summary);
    co_return summary;
}

asio::awaitable<NoticeReport> Jobs::repost_review_cards(Timestamp submitted_before) {
    struct Missing {
        domain::SubmittedReceipt submitted;
        std::string image;
    };
    NoticeReport report;
    auto missing = co_await ctx_.db.run([&](db::Connection& c) {
        std::vector<Missing> out;
        for (auto& order : ctx_.orders.without_review_card(c, submitted_before)) {
            auto receipts = ctx_.orders.receipts(c, order.id);
            if (receipts.empty()) continue;
            // Blocking file work on a database thread, never on the Discord executor.
            std::ifstream in(receipts.back().file_path, std::ios::binary);
            std::string image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            out.push_back({{std::move(order), std::move(receipts.back())}, std::move(image)});
        }
        return out;
    });
    for (auto& m : missing) {
        const auto id = m.submitted.order.id;
        const std::string content_type = m.submitted.receipt.content_type;
        co_await notify::post_review_card(ctx_, m.submitted, std::move(m.image), content_type);
        const bool stored = co_await ctx_.db.run([&](db::Connection& c) {
            auto order = ctx_.orders.get(c, id);
            return order && order->review_message_id;
        });
        stored ? ++report.sent : ++report.failed;
    }
    co_return report;
}

// ---- revenue ----

asio::awaitable<JobResult> Jobs::snapshot_revenue() {
    const auto now = now_of(ctx_);
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
    ui::BarChart chart;
    chart.title = "Revenue - last 30 days";  // the chart's built-in font is ASCII only
    chart.x_label = "Day";
    chart.y_label = "EGP";
    for (auto d = today - std::chrono::days(30); d < today; d += std::chrono::days(1)) {
        const std::string key_day = ctx_.analytics.day_of(d);
        const auto it = by_day.find(key_day);
        chart.bars.push_back({key_day.substr(key_day.size() - 2), it == by_day.end() ? 0.0 : it->second});
    }
    const auto locale = ctx_.shop.default_locale;
    MessagePayload payload;
    payload.content = ui::tr(locale, Msg::job_revenue_posted,
                             {{"day", day},
                              {"revenue", ui::format_money(locale, figures.revenue)},
                              {"orders", figures.orders},
                              {"accounts", figures.accounts}});
    payload.files.push_back({"revenue.png", "image/png", ui::render_bar_chart(chart), chart.title});
    auto posted = co_await ctx_.rest.create_message(ctx_.shop.billing_channel_id, std::move(payload));
    if (!posted)
        co_return unexpected("snapshot of " + day + " written; not posted: " + posted.error().describe());
    const std::string message = posted->id.str();
    co_await ctx_.db.run([&](db::Connection& c) { ctx_.analytics.mark_posted(c, day, message); });
    co_return "snapshot of " + day + " written and posted";
}

// ---- backup ----

asio::awaitable<JobResult> Jobs::backup() {
    if (database_.backend == db::Backend::postgres) {
        spdlog::info("backup: PostgreSQL is backed up with pg_dump (docs/operations.md); nothing to do here");
        co_return "skipped: PostgreSQL is backed up with pg_dump";
    }
    if (database_.sqlite_path == ":memory:") co_return "skipped: in-memory database";
    const auto directory = ctx_.shop.data_dir / "backups";
    const std::string name = "bot-" + backup_stamp(now_of(ctx_)) + ".db";
    const int keep = config_.backup_keep;
    const std::string source = database_.sqlite_path;
    // Blocking file work runs on a database thread, never on the Discord executor.
    auto outcome = co_await ctx_.db.run([&](db::Connection&) -> Result<int, std::string> {
        std::error_code ec;
        std::filesystem::create_directories(directory, ec);
        if (ec) return unexpected("creating " + directory.string() + ": " + ec.message());
        const auto partial = directory / (name + ".partial");
        if (auto copied = db::backup_sqlite(source, partial); !copied) {
            std::filesystem::remove(partial, ec);
            return unexpected(copied.error());
        }
        std::filesystem::rename(partial, directory / name, ec);
        if (ec) return unexpected("renaming the backup: " + ec.message());
        std::vector<std::filesystem::path> backups;
        for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
            const std::string file = entry.path().filename().string();
            if (file.rfind("bot-", 0) != 0) continue;
            // A copy left half-written by a crash is never a backup.
            if (file.ends_with(".partial") && file != name + ".partial") {
                std::filesystem::remove(entry.path(), ec);
                continue;
            }
            if (file.ends_with(".db")) backups.push_back(entry.path());
        }
        std::sort(backups.begin(), backups.end());
        int removed = 0;
        while (static_cast<int>(backups.size()) > keep) {
            std::filesystem::remove(backups.front(), ec);
            backups.erase(backups.begin());
            ++removed;
        }
        return removed;
    });
    if (!outcome) co_return unexpected(outcome.error());
    co_return "written " + (directory / name).string() + ", " + std::to_string(*outcome) +
        " old backup(s) removed";
}

// ---- registration ----

void register_jobs(Scheduler& scheduler, Jobs& jobs) {
    const auto& c = jobs.config();
    auto with_notices = [&jobs](std::string summary, int failures) -> asio::awaitable<JobResult> {
        auto notices = co_await jobs.deliver_notices();
        summary += "; " + std::to_string(notices.sent) + " notice(s) sent, " +
                   std::to_string(notices.failed) + " not delivered";
        if (failures > 0 || notices.failed > 0) co_return unexpected(summary);
        co_return summary;
    };
    scheduler.add("expiry", Schedule::every(c.expiry_interval),
                  [&jobs, with_notices]() -> asio::awaitable<JobResult> {
                      auto r = co_await jobs.expire_accounts();
                      co_return co_await with_notices(
                          std::to_string(r.expired) + " account(s) expired, " + std::to_string(r.deleted) +
                              " deleted after the grace period, " + std::to_string(r.gateway_calls) +
                              " gateway call(s), " + std::to_string(r.servers_failed) + " server failure(s)",
                          r.servers_failed);
                  });
    scheduler.add("reminders", Schedule::every(c.reminder_interval),
                  [&jobs, with_notices]() -> asio::awaitable<JobResult> {
                      const int queued = co_await jobs.queue_reminders();
                      co_return co_await with_notices(std::to_string(queued) + " reminder(s) queued", 0);
                  });
    scheduler.add("traffic", Schedule::every(c.traffic_interval),
                  [&jobs, with_notices]() -> asio::awaitable<JobResult> {
                      auto r = co_await jobs.monitor_traffic();
                      co_return co_await with_notices(
                          std::to_string(r.accounts_updated) + " account(s) updated on " +
                              std::to_string(r.servers) + " server(s), " + std::to_string(r.alerts) +
                              " alert(s), " + std::to_string(r.suspended) + " suspended, " +
                              std::to_string(r.servers_failed) + " server failure(s)",
                          r.servers_failed);
                  });
    scheduler.add("order-timeout", Schedule::every(c.order_timeout_interval),
                  [&jobs] { return jobs.expire_orders(); });
    scheduler.add("health", Schedule::every(c.health_interval), [&jobs] { return jobs.check_health(); });
    scheduler.add("reconciler", Schedule::every(c.reconcile_interval, true),
                  [&jobs] { return jobs.reconcile(); });
    scheduler.add("revenue", Schedule::daily(c.revenue_time), [&jobs] { return jobs.snapshot_revenue(); });
    scheduler.add("backup", Schedule::daily(c.backup_time), [&jobs] { return jobs.backup(); });
}

}  // namespace nebula::bot::jobs
