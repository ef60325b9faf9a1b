#pragma once

#include <chrono>
#include <optional>

#include <boost/asio/awaitable.hpp>

#include "bot/core/context.hpp"
#include "bot/domain/orders.hpp"
#include "discord/builders.hpp"

// The private channel of an order: made when the customer picks a plan, carrying the order's
// summary (payment method select, Cancel) until the order ends.

namespace nebula::bot::notify {

/// The order's summary embed (plan, amount, duration, limits, reference) in `locale`.
discord::Embed order_embed(ui::Locale locale, const domain::Order& order, const domain::Plan& plan,
                           const domain::User& user, std::chrono::seconds unpaid_timeout);

/// What became of an order channel step.
struct ChannelStep {
    std::optional<discord::Snowflake> channel;  ///< the order's channel, when it has one
    bool complete = false;                      ///< channel stored and summary posted just now
};

/// A channel step younger than this is left to whoever is doing it.
inline constexpr std::chrono::seconds kChannelSettle = std::chrono::minutes(2);

/// The order channel of an awaiting_payment order: created (topic = the order reference), stored
/// on the order, then its summary posted (payment method select, Cancel), and the order marked
/// channel-ready. Each part already done is skipped. With `lease`, the attempt first takes the
/// order's channel lease (an attempt younger than it is left alone) and a channel a stopped bot
/// created but never stored is found by its topic instead of making a second one. `locale`:
/// the clicking customer's; otherwise the customer's saved one.
boost::asio::awaitable<ChannelStep> complete_order_channel(core::BotContext& ctx, domain::OrderId order,
                                                           std::optional<ui::Locale> locale,
                                                           std::optional<std::chrono::seconds> lease);

struct ChannelRepairReport {
    int finished = 0;         ///< unpaid orders whose channel step was completed
    int orphans_deleted = 0;  ///< channels of ended orders that nobody had stored, deleted
    int failed = 0;           ///< left for the next run (Discord refused)
};

/// The reconciler's pass over orders whose channel step did not complete (a crash or a Discord
/// failure between creating the channel, storing it and posting its summary): unpaid ones get
/// their channel completed; ended ones get any channel left behind deleted.
boost::asio::awaitable<ChannelRepairReport> repair_order_channels(core::BotContext& ctx);

}  // namespace nebula::bot::notify
