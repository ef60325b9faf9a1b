#pragma once

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "bot/core/context.hpp"
#include "bot/db/connection.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/orders.hpp"
#include "discord/builders.hpp"

// The review card: the message in the review channel that shows a submitted receipt to the admins,
// with Claim / Approve / Decline while the order is under review.

namespace nebula::bot::notify {

/// The review card of `order` as it stands, with `status_line` (who did what); buttons only while
/// it is under review. Reads on `connection` (run inside ctx.db.run()).
discord::MessagePayload review_card_for(core::BotContext& ctx, db::Connection& connection,
                                        const domain::Order& order, const std::string& status_line);

/// A payment method's name in `locale` ("-" for none).
std::string payment_method_label(ui::Locale locale, const std::optional<domain::PaymentMethod>& method);

/// Re-draws the order's review card (if one was posted) with `status_line`.
boost::asio::awaitable<void> update_review_card(core::BotContext& ctx, domain::OrderId order,
                                                std::string status_line);

/// Posts the review card of a submitted receipt in the review channel (image re-attached,
/// re-used screenshot warning, Claim / Approve / Decline) and remembers its message id.
boost::asio::awaitable<void> post_review_card(core::BotContext& ctx,
                                              const domain::SubmittedReceipt& submitted, std::string image,
                                              std::string content_type);

}  // namespace nebula::bot::notify
