#pragma once

#include <chrono>

#include <boost/asio/awaitable.hpp>

#include "bot/core/context.hpp"
#include "bot/db/connection.hpp"
#include "discord/snowflake.hpp"

// Closing a finished order's channel: read-only for the customer after a delay, deleted the
// shop's delete delay after that. The schedule is stored (order_channels), the waits run on
// ctx.sleeper in ctx.background, so tests drive them with the fake clock and a restart resumes
// them.

namespace nebula::bot::notify {

/// Stores the closing schedule of schedule_channel_close() on `connection`, so it can join the
/// transaction that ends the order; a restart (or the reconciler) runs it.
void record_channel_close(const core::BotContext& ctx, db::Connection& connection, discord::Snowflake channel,
                          discord::Snowflake customer, std::chrono::seconds archive_after);

/// Archives the channel (read-only for the customer) after `archive_after`, deletes it after
/// the shop's delete delay; the schedule is stored so a restart picks it up.
boost::asio::awaitable<void> schedule_channel_close(core::BotContext& ctx, discord::Snowflake channel,
                                                    discord::Snowflake customer,
                                                    std::chrono::seconds archive_after);

/// Restarts the archive/delete waits of finished order channels from their stored schedules.
/// Called at start-up and by the reconciler, which picks up schedules another process
/// (`nebula-bot jobs run`) stored; a channel whose closer already runs here is left alone.
void resume_channel_closers(core::BotContext& ctx);

}  // namespace nebula::bot::notify
