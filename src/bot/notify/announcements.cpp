#include "bot/notify/announcements.hpp"

#include <spdlog/spdlog.h>

#include "bot/notify/customer.hpp"
#include "discord/custom_id.hpp"

namespace nebula::bot::notify {
namespace asio = boost::asio;
using discord::RestError;
using discord::RestErrorCode;
using ui::Msg;

namespace {

/// What to do with a DM that failed.
enum class Verdict { failed, deferred, unknown };

Verdict judge(const RestError& error, bool message_create) {
    switch (error.code) {
        case RestErrorCode::rate_limited:
        case RestErrorCode::invalid_budget:
        case RestErrorCode::unauthorized:
            return Verdict::deferred;
        case RestErrorCode::network:
        case RestErrorCode::timeout:
        case RestErrorCode::server:
            // Opening the DM channel is safe to repeat; a message that may have reached Discord
            // is not sent again.
            if (!message_create || (error.code != RestErrorCode::server && !error.request_written))
                return Verdict::deferred;
            return Verdict::unknown;
        default:
            // 403 (50007: DMs closed or no shared server), 404 (unknown user), other refusals.
            return Verdict::failed;
    }
}

}  // namespace

std::optional<discord::Snowflake> announcement_role(const core::ShopSettings& shop,
                                                    const domain::Announcement& announcement) {
    if (announcement.audience == domain::Audience::active) return shop.subscriber_role_id;
    return std::nullopt;
}

asio::awaitable<std::optional<std::string>> post_announcement(core::BotContext& ctx,
                                                              domain::Announcement announcement) {
    if (!ctx.shop.announce_channel_id) co_return std::nullopt;
    discord::MessagePayload payload;
    payload.content = "📣 " + announcement.message;
    if (const auto role = announcement_role(ctx.shop, announcement)) {
        payload.content = "<@&" + role->str() + ">\n" + payload.content;
        payload.allowed_mentions.roles = {*role};
    }
    payload.nonce = "ann-" + std::to_string(announcement.id.value);
    auto posted = co_await ctx.rest.create_message(*ctx.shop.announce_channel_id, std::move(payload));
    if (!posted) co_return posted.error().describe();
    const domain::DiscordId message_id = posted->id;
    co_await ctx.db.run(
        [&](db::Connection& c) { domain::announcements::set_posted(c, announcement.id, message_id); });
    co_return std::nullopt;
}

discord::MessagePayload announcement_dm(const core::BotContext& ctx, ui::Locale locale,
                                        const domain::Announcement& announcement) {
    discord::MessagePayload payload;
    payload.content =
        ui::tr(locale, Msg::announce_dm, {{"shop", ctx.shop.shop_name}, {"message", announcement.message}});
    payload.components.push_back(discord::ActionRow{std::vector<discord::Button>{discord::Button::action(
        discord::ButtonStyle::secondary, ui::tr(locale, Msg::button_announce_stop), "announce_stop")}});
    return payload;
}

asio::awaitable<AnnouncementSweep> send_announcement_dms(core::BotContext& ctx, AnnouncementPacing pacing) {
    AnnouncementSweep sweep;
    const auto started = domain::to_timestamp(ctx.clock.now());
    const auto stale_before = started - pacing.stale_after;
    sweep.settled = co_await ctx.db.run([&](db::Connection& c) {
        return domain::announcements::settle_interrupted(c, stale_before, started);
    });
    struct Next {
        domain::AnnouncementClaim claim;
        std::optional<domain::Announcement> announcement;
        std::optional<domain::User> user;
    };
    bool stop = false;
    for (int n = 0; n < pacing.per_run && !stop; ++n) {
        if (n > 0) co_await ctx.sleeper.sleep_until(ctx.clock.steady_now() + pacing.interval);
        const auto now = domain::to_timestamp(ctx.clock.now());
        // One row at a time: a stop leaves at most this one row in doubt.
        auto next = co_await ctx.db.run([&](db::Connection& c) -> std::optional<Next> {
            auto claimed = domain::announcements::claim(c, 1, now);
            if (claimed.empty()) return std::nullopt;
            return Next{claimed.front(), domain::announcements::get(c, claimed.front().announcement),
                        ctx.users.get(c, claimed.front().user)};
        });
        if (!next) break;
        const auto claim = next->claim;
        const auto customer =
            next->user ? std::optional<discord::Snowflake>(next->user->discord_id) : std::nullopt;
        std::optional<RestError> error;
        bool message_create = false;
        if (!customer || !next->announcement) {
            error = RestError{RestErrorCode::not_found, 0, 0, "no such customer", std::nullopt, false};
        } else {
            auto dm = co_await ctx.rest.create_dm(*customer);
            if (!dm) {
                error = dm.error();
            } else {
                auto payload = announcement_dm(ctx, customer_locale(ctx, *next->user), *next->announcement);
                // Discord answers a repeat of this nonce within minutes with the first message.
                payload.nonce =
                    "a" + std::to_string(claim.announcement.value) + "u" + std::to_string(claim.user.value);
                message_create = true;
                auto sent = co_await ctx.rest.create_message(dm->id, std::move(payload));
                if (!sent) error = sent.error();
            }
        }
        const auto at = domain::to_timestamp(ctx.clock.now());
        if (!error) {
            co_await ctx.db.run([&](db::Connection& c) { domain::announcements::mark_sent(c, claim, at); });
            ++sweep.sent;
            continue;
        }
        const std::string why = error->describe();
        switch (judge(*error, message_create)) {
            case Verdict::failed:
                co_await ctx.db.run(
                    [&](db::Connection& c) { domain::announcements::mark_failed(c, claim, why, at); });
                ++sweep.failed;
                break;
            case Verdict::unknown:
                co_await ctx.db.run(
                    [&](db::Connection& c) { domain::announcements::mark_unknown(c, claim, why, at); });
                ++sweep.unknown;
                break;
            case Verdict::deferred:
                co_await ctx.db.run(
                    [&](db::Connection& c) { domain::announcements::release(c, claim, why, at); });
                ++sweep.deferred;
                // Rate limited (after the REST client waited out its 429s) or unreachable: the
                // next run goes on.
                stop = true;
                break;
        }
        spdlog::info("announcement {}: DM to customer {} not sent: {}", claim.announcement.value,
                     claim.user.value, why);
    }
    const auto now = domain::to_timestamp(ctx.clock.now());
    sweep.finished = static_cast<int>(
        co_await ctx.db.run([&](db::Connection& c) { return domain::announcements::finish(c, now).size(); }));
    co_return sweep;
}

}  // namespace nebula::bot::notify
