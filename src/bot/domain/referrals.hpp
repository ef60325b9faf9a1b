#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "bot/db/connection.hpp"
#include "bot/db/executor.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/gateway_client.hpp"
#include "bot/domain/types.hpp"
#include "common/clock.hpp"

namespace nebula::bot::domain {

/// Why a referral code is refused.
enum class ReferralRefusal {
    unknown_code,      ///< no customer has that code
    self,              ///< the customer's own code
    already_referred,  ///< a code was entered before
    not_new,           ///< the customer already has a paid order fulfilled
    loop,              ///< the code's owner was referred (directly or further up) by this customer
};

std::string_view to_string(ReferralRefusal refusal);

/// What a referrer is owed for one referred customer.
struct ReferralReward {
    UserId referred;
    UserId referrer;
    OrderId order;  ///< the referred customer's first paid order
    int days = 0;
    std::optional<AccountId> account;  ///< the referrer's account extended (chosen once)
    std::optional<Timestamp> target_expires_at;
    std::optional<Timestamp> granted_at;
    std::optional<Timestamp> told_at;
};

struct ReferralStats {
    std::int64_t referred = 0;  ///< customers who entered a code, first seen in the range
    std::int64_t rewarded = 0;  ///< rewards granted in the range
};

namespace referrals {

/// The customer's referral code: "R" and their customer number.
std::string code_for(UserId user);
/// The customer a code names ("r12" works too); nothing when malformed.
std::optional<UserId> parse_code(std::string_view code);

/// A customer enters the code of the one who referred them; returns the referrer. Refused for
/// their own code, a second code, a customer with a fulfilled paid order, and a loop. Audited.
common::Result<UserId, ReferralRefusal> attach(db::Connection& connection, UserId user, std::string_view code,
                                               Timestamp now);

/// Writes the reward (`days`) of every referred customer whose first paid order is fulfilled and
/// who has none yet; returns how many. At most one reward per referred customer, ever.
int queue_rewards(db::Connection& connection, int days, Timestamp now);
std::vector<ReferralReward> ungranted(db::Connection& connection);
/// Granted rewards whose referrer was not told yet.
std::vector<ReferralReward> untold(db::Connection& connection);
void mark_told(db::Connection& connection, UserId referred, Timestamp now);

ReferralStats stats(db::Connection& connection, Timestamp from, Timestamp to);

/// Grants the queued rewards: each extends the referrer's latest account (not deleted) by its
/// days from max(now, expiry), on the panel first and then in the database (audited
/// "referral.rewarded"). The target expiry is written before the panel is called, so a retry
/// after a failure sets the same expiry. A referrer without an account keeps the reward until
/// they have one. Returns how many were granted now.
boost::asio::awaitable<int> grant_rewards(db::DbExecutor& db, GatewayDirectory& gateways,
                                          CatalogService& catalog, const common::Clock& clock);

}  // namespace referrals
}  // namespace nebula::bot::domain
