#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "bot/core/context.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/orders.hpp"
#include "bot/domain/users.hpp"
#include "discord/builders.hpp"

// Telling customers things on Discord outside an answer to their own click: the words shared by
// the handlers, the deliveries and the jobs, and the two ways of reaching a customer. Everything
// runs on ctx.executor.

namespace nebula::bot::notify {

/// The language to write to a customer in outside an answer to their own click (order channel
/// posts, DMs, notices): their explicit choice, else the Discord language of their latest
/// interaction, else the shop's default.
ui::Locale customer_locale(const core::BotContext& ctx, const domain::User& user);

/// "<@123>": a mention of a Discord user.
std::string mention(discord::Snowflake user);

/// Plan summary values.
std::string plan_duration(ui::Locale locale, const domain::Plan& plan);
/// The plan's name in `locale`: its Arabic name for Arabic when it has one, else its name.
std::string plan_name(ui::Locale locale, const domain::Plan& plan);
/// A payment method's name for customers in `locale`.
std::string payment_method_name(ui::Locale locale, const domain::PaymentMethod& method);

/// `text` addressed to `discord_id`: the mention first; in Arabic isolated and on its own line,
/// so the mention cannot pull the Arabic text after it into its direction.
std::string with_mention(ui::Locale locale, discord::Snowflake discord_id, const std::string& text);

/// The customer's Cancel button for an order (any state before approval).
discord::ActionRow cancel_row(ui::Locale locale, domain::OrderId order);

/// Sends `payload` to the customer's order channel; when that channel is gone, by DM instead.
boost::asio::awaitable<void> tell_customer(core::BotContext& ctx, const domain::Order& order,
                                           const domain::User& user, discord::MessagePayload payload);

/// By DM; when that fails, where only the customer and the admins can read: the channel of their
/// newest order while it exists, else their private notices channel (made on first need in the
/// orders category; `pointer_channel`, else the main panel channel, then carries only a mention
/// pointing at it). Never the text in public. The error of the last attempt when nothing worked.
boost::asio::awaitable<std::optional<std::string>> tell_privately(
    core::BotContext& ctx, std::optional<discord::Snowflake> pointer_channel, const domain::User& user,
    discord::Snowflake customer, discord::MessagePayload payload);

}  // namespace nebula::bot::notify
