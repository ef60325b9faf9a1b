#pragma once

// Helpers shared by the customer and review handlers (not a public interface).

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "bot/domain/accounts.hpp"
#include "bot/domain/orders.hpp"
#include "bot/domain/provisioning.hpp"
#include "bot/domain/users.hpp"
#include "bot/handlers/context.hpp"

namespace nebula::bot::handlers::flow {

/// The language to write to a customer in outside an answer to their own click (order channel
/// posts, DMs, notices): their explicit choice, else the Discord language of their latest
/// interaction, else the shop's default.
ui::Locale customer_locale(const BotContext& ctx, const domain::User& user);

/// "<@123>" for a Discord id kept as text.
std::string mention(std::string_view discord_id);
std::optional<discord::Snowflake> snowflake(const std::optional<std::string>& text);

/// Plan summary values.
std::string plan_duration(ui::Locale locale, const domain::Plan& plan);
/// The plan's name in `locale`: its Arabic name for Arabic when it has one, else its name.
std::string plan_name(ui::Locale locale, const domain::Plan& plan);

/// `text` addressed to `discord_id`: the mention first; in Arabic isolated and on its own line,
/// so the mention cannot pull the Arabic text after it into its direction.
std::string with_mention(ui::Locale locale, std::string_view discord_id, const std::string& text);

/// The customer's Cancel button for an order (any state before approval).
discord::ActionRow cancel_row(ui::Locale locale, domain::OrderId order);

/// Stores the closing schedule of schedule_channel_close() on `connection`, so it can join the
/// transaction that ends the order; a restart (or the reconciler) runs it.
void record_channel_close(const BotContext& ctx, db::Connection& connection, discord::Snowflake channel,
                          discord::Snowflake customer, std::chrono::seconds archive_after);

/// Re-draws the order's review card (if one was posted) with `status_line`.
boost::asio::awaitable<void> update_review_card(BotContext& ctx, domain::OrderId order,
                                                std::string status_line);

/// Archives the channel (read-only for the customer) after `archive_after`, deletes it after
/// the shop's delete delay; the schedule is stored so a restart picks it up.
boost::asio::awaitable<void> schedule_channel_close(BotContext& ctx, discord::Snowflake channel,
                                                    discord::Snowflake customer,
                                                    std::chrono::seconds archive_after);

/// Sends `payload` to the customer's order channel; when that channel is gone, by DM instead.
boost::asio::awaitable<void> tell_customer(BotContext& ctx, const domain::Order& order,
                                           const domain::User& user, discord::MessagePayload payload);

/// How a delivery attempt ended.
struct DeliveryOutcome {
    bool customer_left = false;  ///< not in the server any more: nothing reached them
    bool complete = false;       ///< every part confirmed (now or before)
};

/// Hands the customer their account after an approval, from the order's pending delivery (the
/// order_deliveries outbox written when it was fulfilled): the review card, link, QR code and
/// subscription URL in the order channel and by DM, the Subscriber role, the billing line (naming
/// `approver_label`, else the approving admin, else the automatic retry) and the channel closing.
/// Parts confirmed before are not sent again; what fails is retried later with backoff. `links`
/// saves asking the gateway when the caller has them; `told_by_caller`: whoever called tells
/// the admin when the customer has left (otherwise a report goes to the review channel). A
/// second call for an order this process is delivering right now returns at once.
boost::asio::awaitable<DeliveryOutcome> deliver_order(BotContext& ctx, domain::OrderId id,
                                                      std::optional<std::string> approver_label,
                                                      std::optional<domain::ClientLinks> links,
                                                      bool told_by_caller);

struct DeliverySweep {
    int completed = 0;
    int pending = 0;
};
/// Delivers every pending delivery whose next attempt is due (`everything`: all pending ones, as
/// at start-up).
boost::asio::awaitable<DeliverySweep> deliver_pending(BotContext& ctx, bool everything);

/// deliver_order() for a fulfilment (the billing line names `approver`).
boost::asio::awaitable<DeliveryOutcome> deliver(BotContext& ctx, const domain::Fulfilment& fulfilment,
                                                std::string approver);
/// deliver() for an admin's approval (`call`): names them on the billing line and tells them,
/// privately, when the customer has left the server.
boost::asio::awaitable<void> deliver(Call& call, const domain::Fulfilment& fulfilment);

/// The review card of `order` as it stands, with `status_line`.
discord::MessagePayload review_card_for(BotContext& ctx, db::Connection& connection,
                                        const domain::Order& order, const std::string& status_line);
/// A payment method's name in `locale` ("-" for none).
std::string payment_method_label(ui::Locale locale, const std::optional<domain::PaymentMethod>& method);

/// Posts the review card of a submitted receipt in the review channel (image re-attached,
/// re-used screenshot warning, Claim / Approve / Decline) and remembers its message id.
boost::asio::awaitable<void> post_review_card(BotContext& ctx, const domain::SubmittedReceipt& submitted,
                                              std::string image, std::string content_type);

}  // namespace nebula::bot::handlers::flow
