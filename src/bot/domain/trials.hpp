#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "bot/db/connection.hpp"
#include "bot/domain/orders.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

/// The one free trial a shop offers: a plan of the catalogue (its device limit and name) for
/// `duration_days` with `traffic_bytes` (0 = unlimited).
struct TrialOffer {
    PlanId plan_id;
    int duration_days = 1;
    std::int64_t traffic_bytes = 0;
    bool enabled = true;
    Timestamp updated_at;
};

nlohmann::json to_json(const TrialOffer& offer);

/// Why a customer gets no trial.
enum class TrialRefusal {
    not_offered,      ///< no trial is offered now
    banned,           ///< the customer is banned
    already_used,     ///< one trial per Discord account, ever
    account_too_new,  ///< the Discord account is younger than the shop requires
    open_order,       ///< an order of theirs is still open; finish or cancel it first
    no_capacity,      ///< no server has room now
};

std::string_view to_string(TrialRefusal refusal);

/// Trials and conversions among customers whose trial started in a range.
struct TrialStats {
    std::int64_t started = 0;
    /// Of those, customers with a paid order fulfilled after their trial started.
    std::int64_t converted = 0;
};

namespace trials {

/// The trial as last set (offered or disabled); nothing when never set.
std::optional<TrialOffer> current(db::Connection& connection);
/// The trial customers can take now: set, enabled, its plan still in the catalogue.
std::optional<TrialOffer> offered(db::Connection& connection);

/// /admin trial set: offers (or changes) the trial; audited. Validation: the plan exists,
/// 1 to 365 days, traffic not negative.
Outcome<TrialOffer> set(db::Connection& connection, const Actor& actor, PlanId plan, int days,
                        std::int64_t traffic_bytes, Timestamp now);
/// /admin trial disable: stops offering it (not_found when none is offered); audited.
Outcome<TrialOffer> disable(db::Connection& connection, const Actor& actor, Timestamp now);

/// What start() needs to know of the customer beyond the database.
struct TrialRequest {
    UserId user;
    /// When the customer's Discord account was made (from their id).
    Timestamp discord_created_at;
    /// TRIAL_MIN_ACCOUNT_AGE_DAYS: younger Discord accounts are refused (0 = no limit).
    std::chrono::days min_account_age{0};
};

/// A customer takes the trial: in one transaction the guards (offered, not banned, no trial
/// before, old enough, no open order, a server with room) and a trial order created approved,
/// with the server, client identity, expiry and traffic written on it, as an approval writes
/// them. Provisioner::fulfil() then provisions and records the delivery exactly as for a paid
/// order (the reconciler finishes it if the gateway fails). The database refuses a second trial
/// of the same customer even from concurrent clicks. Audited ("trial.started").
common::Result<Order, TrialRefusal> start(db::Connection& connection, OrderService& orders,
                                          const TrialRequest& request, Timestamp now);

/// True when the account was made by a trial order.
bool is_trial_account(db::Connection& connection, AccountId account);

/// Trials started in [from, to) and how many of those customers later paid.
TrialStats stats(db::Connection& connection, Timestamp from, Timestamp to);

}  // namespace trials
}  // namespace nebula::bot::domain
