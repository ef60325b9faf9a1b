#pragma once

#include <chrono>
#include <optional>

#include <boost/asio/awaitable.hpp>

#include "bot/handlers/context.hpp"
#include "bot/handlers/router.hpp"

namespace nebula::bot::handlers {

/// The main panel (`/admin setup` and its buttons Buy Access, My Account, Renew, Help, language),
/// the order channel (plan, payment method, instructions, Cancel), payment screenshots posted in
/// it (MESSAGE_CREATE), My Account (Show config, Renew) and renewal, and CHANNEL_DELETE of an
/// order channel.
void register_customer_handlers(Router& router, BotContext& ctx);

/// The review card's buttons (Claim, Approve, Decline and its reason modal), delivery of the
/// account to the customer, the billing line and the Subscriber role.
void register_review_handlers(Router& router, BotContext& ctx);

/// What became of an order channel step.
struct ChannelStep {
    std::optional<discord::Snowflake> channel;  ///< the order's channel, when it has one
    bool complete = false;                      ///< channel stored and summary posted just now
};

/// The order channel of an awaiting_payment order: created (topic = the order reference), stored
/// on the order, then its summary posted (payment method select, Cancel), and the order marked
/// channel-ready. Each part already done is skipped. With `lease`, the attempt first takes the
/// order's channel lease (an attempt younger than it is left alone) and a channel a stopped bot
/// created but never stored is found by its topic instead of making a second one. `locale`:
/// the clicking customer's; otherwise the customer's saved one.
boost::asio::awaitable<ChannelStep> complete_order_channel(BotContext& ctx, domain::OrderId order,
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
boost::asio::awaitable<ChannelRepairReport> repair_order_channels(BotContext& ctx);

/// The main panel message, in the shop's default language.
discord::MessagePayload main_panel(const BotContext& ctx);

/// Posts the main panel in MAIN_PANEL_CHANNEL_ID, or edits the one posted before (its id is kept
/// in settings), so it is never duplicated. Returns true when an existing message was refreshed.
/// Throws std::runtime_error when Discord refuses both.
boost::asio::awaitable<bool> post_or_refresh_main_panel(BotContext& ctx);

/// Restarts the archive/delete timers of finished order channels (their schedule is stored in
/// settings, so a restart does not forget them). Called at start-up and by the reconciler, which
/// picks up schedules another process (`nebula-bot jobs run`) stored; a channel whose timer is
/// already running here is left alone.
void resume_channel_closers(BotContext& ctx);

/// Finishes, in the background, every delivery a previous process left pending (called at
/// start-up; the reconciler retries the due ones on each run).
void resume_deliveries(BotContext& ctx);

}  // namespace nebula::bot::handlers
