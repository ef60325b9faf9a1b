#include "bot/notify/notices.hpp"

#include <spdlog/spdlog.h>

#include "bot/domain/accounts.hpp"
#include "bot/domain/notices.hpp"
#include "bot/domain/trials.hpp"
#include "bot/notify/channel_closer.hpp"
#include "bot/notify/customer.hpp"
#include "discord/custom_id.hpp"

namespace nebula::bot::notify {
namespace asio = boost::asio;
using core::BotContext;
using discord::MessagePayload;
using discord::Snowflake;
using domain::Notice;
using domain::NoticeKind;
using ui::Msg;

namespace {

constexpr int kNoticesPerRun = 500;
constexpr int kMaxNoticeAttempts = 10;
constexpr auto kNoticeHold = std::chrono::minutes(5);

/// What a notice needs, read in one go.
struct NoticeData {
    std::optional<domain::User> user;
    std::optional<domain::Account> account;
    std::optional<domain::Server> server;
    std::optional<domain::Order> order;
    bool other_active = false;  ///< the customer still has another active account
    bool trial = false;         ///< the account is a free trial
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

std::string notice_text(const BotContext& ctx, ui::Locale locale, const Notice& n, const NoticeData& d) {
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
            // A trial's reminder offers the paid plans (its Renew button lists them).
            if (d.trial) return ui::tr(locale, Msg::trial_reminder, {{"server", server}, {"expiry", expiry}});
            if (n.level > 24) {
                const int days = ui::days_left(domain::to_timestamp(ctx.clock.now()), a.expires_at);
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

}  // namespace

asio::awaitable<NoticeReport> deliver_notices(BotContext& ctx, std::optional<Snowflake> pointer_channel) {
    NoticeReport report;
    auto pending =
        co_await ctx.db.run([](db::Connection& c) { return domain::pending_notices(c, kNoticesPerRun); });
    for (const auto& n : pending) {
        const auto now = domain::to_timestamp(ctx.clock.now());
        const bool claimed = co_await ctx.db.run(
            [&](db::Connection& c) { return domain::claim_notice(c, n.key, now, kNoticeHold); });
        if (!claimed) continue;
        auto data = co_await ctx.db.run([&](db::Connection& c) {
            NoticeData d;
            d.user = ctx.users.get(c, n.user);
            if (n.account) {
                d.account = domain::accounts::get(c, *n.account);
                if (d.account) d.server = ctx.catalog.server(c, d.account->server_id);
                d.other_active = domain::has_other_active_account(c, n.user, *n.account);
                d.trial = domain::trials::is_trial_account(c, *n.account);
            }
            if (n.order) d.order = ctx.orders.get(c, *n.order);
            return d;
        });
        std::optional<std::string> error;
        const auto customer = data.user ? std::optional<Snowflake>(data.user->discord_id) : std::nullopt;
        if (!customer || stale(n, data)) {
            error = std::nullopt;  // nothing to say: done
        } else if (n.kind == NoticeKind::order_expired) {
            const auto locale = customer_locale(ctx, *data.user);
            MessagePayload payload;
            payload.content = notice_text(ctx, locale, n, data);
            const auto channel = data.order->channel_id;
            bool in_channel = false;
            if (channel) in_channel = (co_await ctx.rest.create_message(*channel, payload)).has_value();
            if (in_channel) {
                co_await schedule_channel_close(ctx, *channel, *customer,
                                                ctx.shop.order_channel_archive_after);
            } else {
                error =
                    co_await tell_privately(ctx, pointer_channel, *data.user, *customer, std::move(payload));
            }
        } else {
            const auto locale = customer_locale(ctx, *data.user);
            if (n.kind == NoticeKind::account_expired && ctx.shop.subscriber_role_id && !data.other_active) {
                auto removed = co_await ctx.rest.remove_member_role(
                    ctx.shop.guild_id, *customer, *ctx.shop.subscriber_role_id, "VPN access expired");
                if (!removed && removed.error().code != discord::RestErrorCode::not_found) {
                    error = "removing the Subscriber role: " + removed.error().describe();
                }
            }
            if (!error) {
                MessagePayload payload;
                payload.content = notice_text(ctx, locale, n, data);
                if (n.kind != NoticeKind::server_outage && n.kind != NoticeKind::server_restored) {
                    payload.components.push_back(renew_row(locale, data.account->id));
                }
                error =
                    co_await tell_privately(ctx, pointer_channel, *data.user, *customer, std::move(payload));
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
        const auto finished = domain::to_timestamp(ctx.clock.now());
        co_await ctx.db.run([&](db::Connection& c) {
            if (give_up) {
                domain::give_up_notice(c, n.key, finished, *error);
            } else {
                domain::finish_notice(c, n.key, finished, error);
            }
        });
    }
    co_return report;
}

}  // namespace nebula::bot::notify
