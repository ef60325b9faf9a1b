#pragma once

#include <boost/asio/awaitable.hpp>

#include "bot/domain/provisioning.hpp"
#include "bot/handlers/context.hpp"
#include "bot/handlers/router.hpp"

namespace nebula::bot::handlers {

/// The main panel (`/admin setup` and its buttons Buy Access, My Account, Renew, Help, language),
/// the order channel (plan, payment method, instructions, Cancel), payment screenshots posted in
/// it (MESSAGE_CREATE), My Account (Show config, Renew) and renewal, and CHANNEL_DELETE of an
/// order channel.
void register_customer_handlers(Router& router, BotContext& ctx);

/// The review card's buttons (Claim, Approve, Decline and its reason modal); an approval hands
/// over to notify::deliver_order().
void register_review_handlers(Router& router, BotContext& ctx);

/// notify::deliver_order() after `call`'s admin approved `fulfilment`: names them on the billing
/// line and tells them, privately, when the customer has left the server.
boost::asio::awaitable<void> deliver_approved(Call& call, const domain::Fulfilment& fulfilment);

/// The main panel message, in the shop's default language; with the Free trial button while a
/// trial is offered.
discord::MessagePayload main_panel(const BotContext& ctx, bool trial_offered = false);

/// Posts the main panel in MAIN_PANEL_CHANNEL_ID, or edits the one posted before (its id is kept
/// in settings), so it is never duplicated. Returns true when an existing message was refreshed.
/// Throws std::runtime_error when Discord refuses both.
boost::asio::awaitable<bool> post_or_refresh_main_panel(BotContext& ctx);
/// Edits the main panel posted before (after the trial offer changed); nothing when none was
/// posted yet or Discord refuses (logged: `/admin setup` posts it again).
boost::asio::awaitable<void> refresh_main_panel(BotContext& ctx);

}  // namespace nebula::bot::handlers
