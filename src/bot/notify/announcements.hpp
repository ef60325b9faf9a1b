#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "bot/core/context.hpp"
#include "bot/domain/announcements.hpp"

// Announcements to customers on Discord: the post in the announcements channel and the paced DMs
// of the outbox (domain/announcements.hpp).

namespace nebula::bot::notify {

/// The role an announcement's channel post mentions: the Subscriber role for customers with an
/// active account; nothing for the other audiences (no role marks them).
std::optional<discord::Snowflake> announcement_role(const core::ShopSettings& shop,
                                                    const domain::Announcement& announcement);

/// Posts the announcement in ANNOUNCE_CHANNEL_ID, mentioning announcement_role() and nobody else,
/// and keeps the post's id. Nothing when it was posted (or no channel is set), else why not.
boost::asio::awaitable<std::optional<std::string>> post_announcement(core::BotContext& ctx,
                                                                     domain::Announcement announcement);

/// The DM of an announcement in `locale`, with its Stop announcements button.
discord::MessagePayload announcement_dm(const core::BotContext& ctx, ui::Locale locale,
                                        const domain::Announcement& announcement);

struct AnnouncementPacing {
    /// Pause between two DMs (Discord treats bursts of DMs from bots as spam).
    std::chrono::milliseconds interval{std::chrono::milliseconds(500)};
    /// DMs sent by one run at most; the next run goes on.
    int per_run = 100;
    /// A row claimed longer ago than this by a sender that stopped is settled as 'unknown'.
    std::chrono::seconds stale_after{std::chrono::minutes(10)};
};

struct AnnouncementSweep {
    int sent = 0;
    int failed = 0;    ///< final: DMs closed (50007), unknown user, given up
    int deferred = 0;  ///< Discord never acted (rate limited, not reached): tried again later
    int unknown = 0;   ///< no answer after the request reached Discord: counted as sent
    int settled = 0;   ///< rows a stopped sender left mid-send, settled as 'unknown'
    int finished = 0;  ///< announcements with nothing left to send
};

/// Works through the DM outbox: each row claimed before its DM and marked after, one DM every
/// `pacing.interval` on ctx.sleeper, at most `pacing.per_run`. 429s are waited out by the REST
/// client (retry_after); a row still rate limited goes back to the outbox and the run stops.
boost::asio::awaitable<AnnouncementSweep> send_announcement_dms(core::BotContext& ctx,
                                                                AnnouncementPacing pacing);

}  // namespace nebula::bot::notify
