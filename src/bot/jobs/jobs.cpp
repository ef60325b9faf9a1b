#include "bot/jobs/jobs.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <system_error>

#include <spdlog/spdlog.h>

#include "bot/domain/audit.hpp"
#include "bot/handlers/customer.hpp"
#include "bot/handlers/flow.hpp"
#include "bot/handlers/router.hpp"
#include "bot/handlers/store.hpp"
#include "bot/jobs/notices.hpp"
#include "bot/ui/chart.hpp"
#include "discord/custom_id.hpp"

namespace nebula::bot::jobs {
namespace asio = boost::asio;
using discord::MessagePayload;
using discord::Snowflake;
using domain::Timestamp;
using ui::Msg;

namespace {

constexpr int kNoticesPerRun = 500;
constexpr int kMaxNoticeAttempts = 10;
constexpr auto kNoticeHold = std::chrono::minutes(5);
/// Unpaid orders expired this recently are announced even if the run that expired them died.
constexpr auto kOrderNoticeWindow = std::chrono::days(7);
constexpr std::string_view kHealthAlertedPrefix = "health_alerted:";
constexpr std::string_view kHealthFailuresPrefix = "health_failures:";
constexpr std::string_view kOutageToldPrefix = "outage_told:";
constexpr std::string_view kRevenuePostedPrefix = "revenue_posted:";

Timestamp now_of(const handlers::BotContext& ctx) { return domain::to_timestamp(ctx.clock.now()); }

/// What a notice needs, read in one go.
struct NoticeData {
    std::optional<domain::User> user;
    std::optional<domain::Account> account;
    std::optional<domain::Server> server;
    std::optional<domain::Order> order;
    bool other_active = false;  ///< the customer still has another active account
};

discord::ActionRow renew_row(ui::Locale locale, domain::AccountId account) {
    return discord::ActionRow{std::vector<discord::Button>{
        discord::Button::action(discord::ButtonStyle::success, ui::tr(locale, Msg::button_renew),
                                discord::custom_id::make("acct", account.value, "renew"))}};
}

/// Nothing to say any more: the account was renewed, reset or removed since the decision.
bool stale(const Notice& n, const NoticeData& d) {
    if (n.kind == NoticeKind::order_expired) return !d.order;
    if (!d.account) return true;
    const auto status = d.account->status;
    switch (n.kind) {
        case NoticeKind::server_outage:
            return status != domain::AccountStatus::active || !d.server ||
                   d.server->health != domain::ServerHealth::down;
        case NoticeKind::server_restored:
            return status != domain::AccountStatus::active || !d.server ||
                   d.server->health == domain::ServerHealth::down;
        case NoticeKind::account_expired:
            return status != domain::AccountStatus::expired;
        case NoticeKind::expiry_reminder:
            return status != domain::AccountStatus::active || d.account->expiry_alert_level == 0;
        case NoticeKind::traffic_alert:
            return status != domain::AccountStatus::active || d.account->traffic_alert_level < n.level;
        case NoticeKind::traffic_exhausted:
            return status != domain::AccountStatus::disabled;
        case NoticeKind::order_expired:
            break;
    }
    return false;
}

std::string notice_text(const handlers::BotContext& ctx, ui::Locale locale, const Notice& n,
                        const NoticeData& d) {
    if (n.kind == NoticeKind::order_expired) {
        return ui::tr(locale, d.order->declined_at ? Msg::order_expired_declined : Msg::order_expired,
                      {{"reference", d.order->reference},
                       {"duration", ui::format_duration(locale, ctx.orders.options().unpaid_timeout)}});
    }
    const auto& a = *d.account;
    const std::string server = d.server ? d.server->spec.name : std::string("?");
    const std::string expiry = ui::format_date_time(locale, a.expires_at, ctx.zone);
    switch (n.kind) {
        case NoticeKind::account_expired:
            return ui::tr(locale, Msg::account_expired_notice, {{"server", server}, {"expiry", expiry}});
        case NoticeKind::expiry_reminder:
            if (n.level > 24) {
                const int days = ui::days_left(now_of(ctx), a.expires_at);
                return ui::tr(locale, Msg::reminder_expiry_days,
                              {{"server", server},
                               {"days", ui::format_count(locale, days, ui::Unit::day)},
                               {"expiry", expiry}});
            }
            return ui::tr(locale, Msg::reminder_expiry_day, {{"server", server}, {"expiry", expiry}});
        case NoticeKind::traffic_alert:
            return ui::tr(locale, Msg::traffic_alert,
                          {{"percent", std::to_string(n.level) + "%"},
                           {"server", server},
                           {"used", ui::format_bytes(a.used_up_bytes + a.used_down_bytes)},
                           {"total", ui::format_bytes(a.traffic_limit_bytes)}});
        case NoticeKind::traffic_exhausted:
            return ui::tr(locale, Msg::traffic_exhausted,
                          {{"total", ui::format_bytes(a.traffic_limit_bytes)}, {"server", server}});
        case NoticeKind::server_outage:
            return ui::tr(locale, Msg::notice_server_outage, {{"server", server}});
        case NoticeKind::server_restored:
            return ui::tr(locale, Msg::notice_server_restored, {{"server", server}});
        case NoticeKind::order_expired:
            break;
    }
    return {};
}

constexpr std::string_view kNoticeChannelPrefix = "notice_channel:";

/// Posts `payload` in `channel` after a mention of the customer; nothing when it was posted, else
/// why not (also added to `error`).
asio::awaitable<std::optional<discord::RestErrorCode>> post_with_mention(
    handlers::BotContext& ctx, Snowflake channel, Snowflake customer, ui::Locale locale,
    MessagePayload payload, std::string& error) {
    payload.content = handlers::flow::with_mention(locale, customer.str(), payload.content);
    payload.allowed_mentions.users = {customer};
    auto posted = co_await ctx.rest.create_message(channel, std::move(payload));
    if (posted) co_return std::nullopt;
    error += "; channel " + channel.str() + ": " + posted.error().describe();
    co_return posted.error().code;
}

/// A text channel in the orders category that only the customer, the admin role and the bot can
/// see, for what the bot would otherwise have said by DM.
asio::awaitable<discord::RestResult<discord::Channel>> create_private_channel(handlers::BotContext& ctx,
                                                                              const domain::User& user,
                                                                              Snowflake customer) {
    namespace p = discord::permissions;
    const auto& shop = ctx.shop;
    const std::uint64_t read = p::kViewChannel | p::kReadMessageHistory;
    const std::uint64_t write = p::kSendMessages | p::kEmbedLinks | p::kAttachFiles;
    discord::ChannelCreate create;
    create.name = "notices-" + std::to_string(user.id.value);
    if (!shop.orders_category_id.empty()) create.parent_id = shop.orders_category_id;
    create.permission_overwrites = {
        {shop.guild_id, discord::OverwriteType::role, 0, p::kViewChannel},
        {customer, discord::OverwriteType::member, read, 0},
        {shop.admin_role_id, discord::OverwriteType::role, read | write, 0},
    };
    if (!shop.bot_user_id.empty()) {
        create.permission_overwrites.push_back(
            {shop.bot_user_id, discord::OverwriteType::member, read | write | p::kManageChannels, 0});
    }
    co_return co_await ctx.rest.create_guild_channel(shop.guild_id, std::move(create),
                                                     "notices for a customer whose DMs are closed");
}

/// By DM; when that fails, where only the customer and the admins can read: the channel of their
/// newest order while it exists, else their private notices channel (made on first need; a
/// public channel then carries only a mention pointing at it). Never the notice's text in public.
/// The error of the last attempt when nothing worked.
asio::awaitable<std::optional<std::string>> send_to_customer(handlers::BotContext& ctx,
                                                             std::optional<Snowflake> notice_channel,
                                                             const domain::User& user, Snowflake customer,
                                                             MessagePayload payload) {
    std::string error;
    const auto locale = handlers::flow::customer_locale(ctx, user);
    auto dm = co_await ctx.rest.create_dm(customer);
    if (dm) {
        auto sent = co_await ctx.rest.create_message(dm->id, payload);
        if (sent) co_return std::nullopt;
        error = "DM: " + sent.error().describe();
    } else {
        error = "DM: " + dm.error().describe();
    }
    const std::string key = std::string(kNoticeChannelPrefix) + std::to_string(user.id.value);
    const auto user_id = user.id;
    auto [order_channel, private_channel] = co_await ctx.db.run([&](db::Connection& c) {
        return std::make_pair(
            c.scalar<std::string>(
                "SELECT channel_id FROM orders WHERE user_id = ? AND channel_id IS NOT NULL "
                "ORDER BY id DESC LIMIT 1",
                user_id),
            handlers::store::get_setting(c, key));
    });
    using discord::RestErrorCode;
    if (auto channel = handlers::flow::snowflake(order_channel)) {
        // Deleted, or closed to the bot: on to the private channel. Anything else: the next run.
        const auto failed = co_await post_with_mention(ctx, *channel, customer, locale, payload, error);
        if (!failed) co_return std::nullopt;
        if (*failed != RestErrorCode::not_found && *failed != RestErrorCode::forbidden) co_return error;
    }
    if (auto channel = handlers::flow::snowflake(private_channel)) {
        // A new one only when this one was deleted.
        const auto failed = co_await post_with_mention(ctx, *channel, customer, locale, payload, error);
        if (!failed) co_return std::nullopt;
        if (*failed != RestErrorCode::not_found) co_return error;
    }
    auto created = co_await create_private_channel(ctx, user, customer);
    if (!created) co_return error + "; private channel: " + created.error().describe();
    const auto now = domain::to_timestamp(ctx.clock.now());
    const std::string id = created->id.str();
    co_await ctx.db.run([&](db::Connection& c) { handlers::store::set_setting(c, key, id, now); });
    if (co_await post_with_mention(ctx, created->id, customer, locale, std::move(payload), error))
        co_return error;
    // Where they will look: a mention and the channel's name, nothing of the notice itself.
    const Snowflake pointer_channel = notice_channel.value_or(ctx.shop.main_panel_channel_id);
    if (!pointer_channel.empty()) {
        MessagePayload pointer;
        pointer.content = handlers::flow::with_mention(
            locale, customer.str(),
            ui::tr(locale, Msg::notice_private_pointer, {{"channel", "<#" + id + ">"}}));
        pointer.allowed_mentions.users = {customer};
        if (auto posted = co_await ctx.rest.create_message(pointer_channel, std::move(pointer)); !posted) {
            spdlog::warn("pointer to {}'s notices channel not posted: {}", customer.str(),
                         posted.error().describe());
        }
    }
    co_return std::nullopt;
}

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
    NoticeReport report;
    auto pending = co_await ctx_.db.run([](db::Connection& c) { return pending_notices(c, kNoticesPerRun); });
    for (const auto& n : pending) {
        const auto now = now_of(ctx_);
        const bool claimed =
            co_await ctx_.db.run([&](db::Connection& c) { return claim_notice(c, n.key, now, kNoticeHold); });
        if (!claimed) continue;
        auto data = co_await ctx_.db.run([&](db::Connection& c) {
            NoticeData d;
            d.user = ctx_.users.get(c, n.user);
            if (n.account) {
                d.account = domain::accounts::get(c, *n.account);
                if (d.account) d.server = ctx_.catalog.server(c, d.account->server_id);
                d.other_active = c.scalar<std::int64_t>(
                                      "SELECT COUNT(*) FROM vpn_accounts WHERE user_id = ? AND status = "
                                      "'active' AND id <> ?",
                                      n.user, *n.account)
                                     .value_or(0) > 0;
            }
            if (n.order) d.order = ctx_.orders.get(c, *n.order);
            return d;
        });
        std::optional<std::string> error;
        const auto customer = data.user ? Snowflake::parse(data.user->discord_id) : std::nullopt;
        if (!customer || stale(n, data)) {
            error = std::nullopt;  // nothing to say: done
        } else if (n.kind == NoticeKind::order_expired) {
            const auto locale = handlers::flow::customer_locale(ctx_, *data.user);
            MessagePayload payload;
            payload.content = notice_text(ctx_, locale, n, data);
            const auto channel = handlers::flow::snowflake(data.order->channel_id);
            bool in_channel = false;
            if (channel) in_channel = (co_await ctx_.rest.create_message(*channel, payload)).has_value();
            if (in_channel) {
                co_await handlers::flow::schedule_channel_close(ctx_, *channel, *customer,
                                                                ctx_.shop.order_channel_archive_after);
            } else {
                error = co_await send_to_customer(ctx_, config_.notice_channel, *data.user, *customer,
                                                  std::move(payload));
            }
        } else {
            const auto locale = handlers::flow::customer_locale(ctx_, *data.user);
            if (n.kind == NoticeKind::account_expired && ctx_.shop.subscriber_role_id && !data.other_active) {
                auto removed = co_await ctx_.rest.remove_member_role(
                    ctx_.shop.guild_id, *customer, *ctx_.shop.subscriber_role_id, "VPN access expired");
                if (!removed && removed.error().code != discord::RestErrorCode::not_found) {
                    error = "removing the Subscriber role: " + removed.error().describe();
                }
            }
            if (!error) {
                MessagePayload payload;
                payload.content = notice_text(ctx_, locale, n, data);
                if (n.kind != NoticeKind::server_outage && n.kind != NoticeKind::server_restored) {
                    payload.components.push_back(renew_row(locale, data.account->id));
                }
                error = co_await send_to_customer(ctx_, config_.notice_channel, *data.user, *customer,
                                                  std::move(payload));
            }
        }
        const bool give_up = error && n.attempts + 1 >= kMaxNoticeAttempts;
        if (error) {
            ++report.failed;
            spdlog::warn("notice {}: not delivered (attempt {}){}: {}", n.key, n.attempts + 1,
                         give_up ? ", giving up" : "", *error);
        } else {
            ++report.sent;
        }
        const auto finished = now_of(ctx_);
        co_await ctx_.db.run([&](db::Connection& c) {
            finish_notice(c, n.key, finished, give_up ? std::nullopt : error);
            if (give_up) {
                c.exec("UPDATE job_notices SET last_error = ? WHERE notice_key = ?", "gave up: " + *error,
                       n.key);
            }
        });
    }
    co_return report;
}

// ---- order timeout ----

asio::awaitable<JobResult> Jobs::expire_orders() {
    const auto now = now_of(ctx_);
    auto expired = co_await ctx_.db.run([&](db::Connection& c) {
        auto orders = ctx_.orders.expire_unpaid(c);
        // Also orders a previous run expired but died before queueing their notice.
        c.exec(
            "INSERT INTO job_notices (notice_key, kind, user_id, order_id, level, created_at) "
            "SELECT 'order_expired:' || id, 'order_expired', user_id, id, 0, ? FROM orders "
            "WHERE status = 'expired' AND expired_at >= ? ON CONFLICT (notice_key) DO NOTHING",
            now, now - kOrderNoticeWindow);
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

namespace {

std::string server_key(std::string_view prefix, domain::ServerId server) {
    return std::string(prefix) + std::to_string(server.value);
}

/// Queues a "back up" notice for every customer who was told of the server's outage, once.
/// Inside the transaction that records the server up again.
int queue_restored_notices(db::Connection& c, domain::ServerId server, Timestamp now) {
    const auto told_key = server_key(kOutageToldPrefix, server);
    const auto incident = handlers::store::get_setting(c, told_key);
    if (!incident) return 0;
    const std::string outage = "outage:" + std::to_string(server.value) + ":" + *incident + ":";
    const auto queued = c.exec(
        "INSERT INTO job_notices (notice_key, kind, user_id, account_id, level, created_at) "
        "SELECT 'restored:' || substr(notice_key, 8), 'server_restored', user_id, account_id, 0, ? "
        "FROM job_notices WHERE notice_key LIKE ? AND sent_at IS NOT NULL AND last_error IS NULL "
        "ON CONFLICT (notice_key) DO NOTHING",
        now, outage + "%");
    handlers::store::delete_setting(c, told_key);
    return static_cast<int>(queued);
}

}  // namespace

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
        const auto alerted_key = server_key(kHealthAlertedPrefix, server.id);
        const auto failures_key = server_key(kHealthFailuresPrefix, server.id);
        const auto now = now_of(ctx_);
        // A down server takes no new accounts from its first failed check; admins hear of it once
        // it failed HEALTH_ALERT_AFTER_FAILURES checks in a row, so one lost probe is not an alarm.
        // The alert state is kept apart from the health itself, so an alert that could not be
        // posted (Discord down) is posted by the next run instead of being forgotten.
        struct Seen {
            std::string alerted;
            int failures = 0;
        };
        auto seen = co_await ctx_.db.run([&](db::Connection& c) {
            db::Transaction transaction(c);
            auto set = ctx_.catalog.set_server_health(c, server.id, health);
            if (!set) throw std::runtime_error(set.error().message);
            Seen out{handlers::store::get_setting(c, alerted_key).value_or("up"), 0};
            const auto before = handlers::store::get_setting(c, failures_key);
            if (health == domain::ServerHealth::down) {
                out.failures = std::max(0, std::atoi(before.value_or("0").c_str())) + 1;
                handlers::store::set_setting(c, failures_key, std::to_string(out.failures), now);
            } else {
                if (before) handlers::store::delete_setting(c, failures_key);
                restored += queue_restored_notices(c, server.id, now);
            }
            transaction.commit();
            return out;
        });
        const std::string state(domain::to_string(health));
        if (seen.alerted == state) continue;
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
            [&](db::Connection& c) { handlers::store::set_setting(c, alerted_key, state, now); });
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
    co_return co_await ctx_.db.run([&](db::Connection& c) -> std::optional<int> {
        db::Transaction transaction(c);
        const auto found = ctx_.catalog.server(c, server);
        if (!found || found->health != domain::ServerHealth::down) return std::nullopt;
        const std::string prefix =
            "outage:" + std::to_string(server.value) + ":" + std::to_string(incident) + ":";
        std::vector<Notice> notices;
        {
            auto rows = c.query(
                "SELECT user_id, MIN(id) FROM vpn_accounts WHERE server_id = ? AND status = 'active' "
                "GROUP BY user_id ORDER BY user_id",
                server);
            while (rows->step()) {
                const auto user = rows->get<domain::UserId>(0);
                notices.push_back({prefix + std::to_string(user.value), NoticeKind::server_outage, user,
                                   rows->get<domain::AccountId>(1), std::nullopt, 0, 0});
            }
        }
        queue_notices(c, notices, now);
        handlers::store::set_setting(c, server_key(kOutageToldPrefix, server), std::to_string(incident), now);
        domain::record_audit(
            c,
            {actor, "server.outage_notified", "server", std::to_string(server.value), std::nullopt,
             nlohmann::json{{"incident", incident}, {"customers", notices.size()}}},
            now);
        transaction.commit();
        return static_cast<int>(notices.size());
    });
}

// ---- reconciler ----

asio::awaitable<JobResult> Jobs::reconcile() {
    const auto started = now_of(ctx_);
    // Order channels that a `nebula-bot jobs run` process finished get their closing timers here.
    handlers::resume_channel_closers(ctx_);
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
    const auto channels = co_await handlers::repair_order_channels(ctx_);
    const auto cards = co_await repost_review_cards(started - config_.reconcile_settle);
    failed += channels.failed + cards.failed;
    // Deliveries of orders fulfilled just now, and whatever earlier deliveries still miss (a
    // crash after the commit, a Discord outage): the billing line names the automatic retry, a
    // customer who has left is reported in the review channel.
    const auto sweep = co_await handlers::flow::deliver_pending(ctx_, false);
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
        co_await handlers::flow::post_review_card(ctx_, m.submitted, std::move(m.image), content_type);
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
    const std::string key = std::string(kRevenuePostedPrefix) + day;
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
        auto row = c.query(
            "SELECT revenue_piasters, orders_fulfilled, active_accounts FROM revenue_snapshots WHERE day = ?",
            day);
        if (row->step()) {
            f.revenue = domain::Piasters{row->get<std::int64_t>(0)};
            f.orders = row->get<std::int64_t>(1);
            f.accounts = row->get<std::int64_t>(2);
        }
        f.days = ctx_.analytics.revenue_by_day(c, today - std::chrono::days(30), today);
        f.posted = handlers::store::get_setting(c, key).has_value();
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
    co_await ctx_.db.run(
        [&](db::Connection& c) { handlers::store::set_setting(c, key, posted->id.str(), now); });
    co_return "snapshot of " + day + " written and posted";
}

// ---- backup ----

Status<std::string> backup_sqlite(const std::string& source, const std::filesystem::path& target) {
    sqlite3* from = nullptr;
    sqlite3* to = nullptr;
    auto close = [&] {
        sqlite3_close(from);
        sqlite3_close(to);
    };
    if (sqlite3_open_v2(source.c_str(), &from, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string error = "opening " + source + ": " + sqlite3_errmsg(from);
        close();
        return unexpected(error);
    }
    sqlite3_busy_timeout(from, 5000);
    if (sqlite3_open_v2(target.c_str(), &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
        std::string error = "creating " + target.string() + ": " + sqlite3_errmsg(to);
        close();
        return unexpected(error);
    }
    sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
    if (backup == nullptr) {
        std::string error = std::string("starting the backup: ") + sqlite3_errmsg(to);
        close();
        return unexpected(error);
    }
    int rc = SQLITE_OK;
    // Small steps, so writers of the live database are never blocked for long.
    do {
        rc = sqlite3_backup_step(backup, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(10);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(backup);
    std::string error = rc == SQLITE_DONE ? std::string() : std::string("backup step: ") + sqlite3_errstr(rc);
    close();
    if (!error.empty()) return unexpected(error);
    return {};
}

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
        if (auto copied = backup_sqlite(source, partial); !copied) {
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

namespace {

// (Not inside the coroutine: g++ 12 mishandles braced argument lists in coroutine bodies.)
std::string outage_reply(const handlers::Call& call, std::optional<int> queued, const std::string& server) {
    if (!queued) return call.tr(Msg::job_outage_over, {{"server", server}});
    return call.tr(Msg::job_outage_queued, {{"count", *queued}, {"server", server}});
}

asio::awaitable<void> tell_outage(handlers::Call& call, Jobs& jobs, std::int64_t server_value,
                                  std::int64_t incident) {
    if (!co_await handlers::require_admin(call)) co_return;
    const domain::ServerId id{server_value};
    auto& ctx = call.ctx;
    auto server = co_await ctx.db.run([&](db::Connection& c) { return ctx.catalog.server(c, id); });
    if (!server) {
        co_await handlers::reply_ephemeral(call, call.tr(Msg::error_stale_button));
        co_return;
    }
    auto queued = co_await jobs.queue_outage_notices(id, incident, call.user().id.str());
    co_await handlers::reply_ephemeral(call, outage_reply(call, queued, server->spec.name));
    if (!queued) co_return;
    const auto report = co_await jobs.deliver_notices();
    spdlog::info("outage of {}: {} customer(s) queued by {}, {} notice(s) sent, {} not delivered yet",
                 server->spec.name, *queued, call.user().id.str(), report.sent, report.failed);
}

}  // namespace

void register_job_handlers(handlers::Router& router, Jobs& jobs) {
    router.on_component<std::int64_t, std::int64_t>(
        "outage", [&jobs](handlers::Call& call, std::int64_t server, std::int64_t incident) {
            return tell_outage(call, jobs, server, incident);
        });
}

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
