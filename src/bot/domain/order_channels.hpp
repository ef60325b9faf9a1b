#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

/// When a finished order's Discord channel turns read-only for its customer and when it is
/// deleted (a row of order_channels). Stored in the transaction that ends the order, so a restart
/// or the reconciler (for a `nebula-bot jobs run` process) picks the schedule up again.
struct ChannelClose {
    DiscordId channel;
    DiscordId customer;
    Timestamp archive_at;
    Timestamp delete_at;
    bool archived = false;
};

/// Order channels and what the bot keeps about them. Functions run on the connection given
/// (callers use the DbExecutor); safe from several connections at once.
namespace order_channels {

/// Stores (or replaces) the closing schedule of `close.channel`.
void schedule_close(db::Connection& connection, const ChannelClose& close, Timestamp now);
/// The channel's stored schedule: nothing once it was closed (or never scheduled).
std::optional<ChannelClose> close_of(db::Connection& connection, DiscordId channel);
/// Every stored schedule, by channel id.
std::vector<ChannelClose> scheduled_closes(db::Connection& connection);
/// The channel is read-only for the customer now (nothing when it is no longer scheduled).
void mark_archived(db::Connection& connection, DiscordId channel, Timestamp now);
/// The channel is gone: its schedule is forgotten.
void forget(db::Connection& connection, DiscordId channel);

/// The newest order whose private channel is `channel`.
std::optional<OrderId> order_for_channel(db::Connection& connection, DiscordId channel);

/// Records that the customer of `order` was told how to pay after a message without a receipt;
/// true the first time only.
bool mark_payment_hint(db::Connection& connection, OrderId order, Timestamp now);

}  // namespace order_channels
}  // namespace nebula::bot::domain
