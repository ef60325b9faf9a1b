#pragma once

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
