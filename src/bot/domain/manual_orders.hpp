#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bot/db/connection.hpp"
#include "bot/domain/orders.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

/// An account an admin gives without a payment (gift, compensation, staff).
struct GiftRequest {
    UserId user;
    PlanId plan;                     ///< its device limit and traffic; any plan, on sale or not
    std::optional<ServerId> server;  ///< nothing: the load balancer picks, as for a paid order
    std::optional<int> days;         ///< nothing: the plan's duration
    std::string reason;              ///< kept on the order and in the audit log
};

namespace gifts {

inline constexpr std::size_t kMaxReasonLength = 500;

/// /admin account create: in one transaction the guards (a known, not banned customer without an
/// open order; the plan; 1 to 3650 days; a reason; the server named, enabled, or one with room)
/// and an order of amount 0 created approved with the reason, the admin as reviewer and the
/// server, client identity, expiry and traffic written on it, as an approval writes them.
/// Provisioner::fulfil() then provisions it exactly once and records its delivery like a paid
/// order (the reconciler finishes it when the gateway fails). Audited ("order.gifted").
/// Errors: validation, not_found, forbidden (banned), conflict (an open order; the message names
/// it), no_capacity.
Outcome<Order> create(db::Connection& connection, OrderService& orders, const DiscordId& admin,
                      const GiftRequest& request, Timestamp now);

}  // namespace gifts

namespace refunds {

inline constexpr std::size_t kMaxReasonLength = 500;

/// /admin order refund: marks a fulfilled, paid order refunded (refunded_at/by, the reason); the
/// status stays fulfilled and revenue leaves it out. Audited ("order.refunded"). Errors:
/// validation (no reason, nothing was paid), not_found, invalid_transition (not fulfilled),
/// conflict (refunded before; the message says when).
Outcome<Order> refund(db::Connection& connection, OrderService& orders, const DiscordId& admin, OrderId id,
                      std::string_view reason, Timestamp now);

}  // namespace refunds
}  // namespace nebula::bot::domain
