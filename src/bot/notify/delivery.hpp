#pragma once

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "bot/core/context.hpp"
#include "bot/domain/provisioning.hpp"

namespace nebula::bot::notify {

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
boost::asio::awaitable<DeliveryOutcome> deliver_order(core::BotContext& ctx, domain::OrderId id,
                                                      std::optional<std::string> approver_label,
                                                      std::optional<domain::ClientLinks> links,
                                                      bool told_by_caller);

struct DeliverySweep {
    int completed = 0;
    int pending = 0;
};
/// Delivers every pending delivery whose next attempt is due (`everything`: all pending ones, as
/// at start-up).
boost::asio::awaitable<DeliverySweep> deliver_pending(core::BotContext& ctx, bool everything);

/// deliver_order() for a fulfilment (the billing line names `approver`).
boost::asio::awaitable<DeliveryOutcome> deliver(core::BotContext& ctx, const domain::Fulfilment& fulfilment,
                                                std::string approver);

/// Finishes, in the background, every delivery a previous process left pending (called at
/// start-up; the reconciler retries the due ones on each run).
void resume_deliveries(core::BotContext& ctx);

}  // namespace nebula::bot::notify
