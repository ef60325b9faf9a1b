#pragma once

#include <optional>

#include <boost/asio/awaitable.hpp>

#include "bot/core/context.hpp"
#include "discord/snowflake.hpp"

namespace nebula::bot::notify {

struct NoticeReport {
    int sent = 0;
    int failed = 0;
};

/// Delivers queued customer notices (job_notices: expiry, reminders, traffic, expired orders,
/// outages) with a Renew button where it helps: by DM, else where only the customer and the admins
/// can read (tell_privately(); `pointer_channel` is NOTICE_CHANNEL_ID). A notice is claimed for a
/// few minutes before sending, so two processes never send the same one at once; it is marked sent
/// afterwards (a crash in between sends it again). One with nothing to say any more (the account
/// was renewed meanwhile) is dropped; one that failed ten times is given up.
boost::asio::awaitable<NoticeReport> deliver_notices(core::BotContext& ctx,
                                                     std::optional<discord::Snowflake> pointer_channel);

}  // namespace nebula::bot::notify
