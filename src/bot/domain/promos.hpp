#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/db/connection.hpp"
#include "bot/domain/orders.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

/// A discount a customer can enter on an order before paying.
struct PromoCode {
    std::int64_t id = 0;
    std::string code;                    ///< upper-case; customers may type any case
    std::optional<int> percent_off;      ///< 1 to 100, or
    std::optional<Piasters> amount_off;  ///< a fixed amount off (never below zero to pay)
    std::vector<PlanId> plans;           ///< empty: every plan
    std::optional<int> max_uses;         ///< approved orders with the code, all customers together
    std::optional<int> per_customer;     ///< approved orders with the code, per customer
    std::optional<Timestamp> expires_at;
    int uses = 0;  ///< approved orders that used it
    bool enabled = true;
    std::string created_by;  ///< who made it, as the audit trail names them
    Timestamp created_at;
};

nlohmann::json to_json(const PromoCode& code);

struct PromoInput {
    std::string code;
    std::optional<int> percent_off;
    std::optional<Piasters> amount_off;
    std::vector<PlanId> plans;
    std::optional<int> max_uses;
    std::optional<int> per_customer;
    std::optional<Timestamp> expires_at;
};

/// Why a code does not apply to an order.
enum class PromoRefusal {
    unknown_code,    ///< no such code (or it was disabled)
    expired,         ///< past its expiry
    used_up,         ///< max_uses reached
    not_for_plan,    ///< the code is for other plans
    per_customer,    ///< this customer used it as often as allowed
    not_your_order,  ///< someone else's order (or no such order)
    too_late,        ///< the order is past paying (a receipt was sent) or is a trial
};

std::string_view to_string(PromoRefusal refusal);

namespace promos {

/// The code as stored: surrounding spaces removed, upper-case. Nothing when it is not 1 to 32
/// letters, digits, '-' or '_'.
std::optional<std::string> normalise(std::string_view typed);

/// The discount `code` gives on `price` (at most the price).
Piasters discount_on(const PromoCode& code, Piasters price);

/// /admin promo create: validation (a well-formed code not in use in any case, exactly one of
/// percent 1-100 / amount > 0, limits > 0, plans that exist, an expiry in the future); audited.
Outcome<PromoCode> create(db::Connection& connection, const Actor& actor, const PromoInput& input,
                          Timestamp now);
/// Every code, newest first.
std::vector<PromoCode> list(db::Connection& connection);
/// True when at least one code is enabled and not expired (the order channel offers the button).
bool any_enabled(db::Connection& connection, Timestamp now);
/// By id.
std::optional<PromoCode> get(db::Connection& connection, std::int64_t id);
/// By code, in any case.
std::optional<PromoCode> find(db::Connection& connection, std::string_view code);
/// /admin promo disable: no new order can use it (orders it was already applied to keep their
/// price); audited.
Outcome<PromoCode> disable(db::Connection& connection, const Actor& actor, std::string_view code,
                           Timestamp now);

/// The customer enters a code on their order before paying (awaiting_payment): the order keeps
/// its list price, the discount and the code, and `amount` becomes what is left to pay. A second
/// code replaces the first. Nothing is consumed yet. Audited ("order.promo_applied").
common::Result<Order, PromoRefusal> apply(db::Connection& connection, OrderService& orders, OrderId order,
                                          UserId user, std::string_view code, Timestamp now);

/// Takes one use of the order's code, inside the transaction that approves the order: refused
/// (conflict) when the code reached max_uses or the customer's per_customer limit meanwhile, so
/// concurrent approvals never exceed them. A code disabled or expired after the customer paid is
/// still honoured. Nothing to do for an order without a code.
Done consume(db::Connection& connection, const Order& order, Timestamp now);

}  // namespace promos
}  // namespace nebula::bot::domain
