#pragma once

#include <boost/asio/awaitable.hpp>

#include "bot/core/context.hpp"

namespace nebula::bot::notify {

struct ReferralSweep {
    int queued = 0;   ///< rewards newly owed
    int granted = 0;  ///< accounts extended now
    int told = 0;     ///< referrers told by DM (or their private notice channel)
};

/// Referral rewards, end to end (the reconciler runs it): owed rewards are written for customers
/// whose first paid order is fulfilled, granted on the referrer's account (domain::referrals::
/// grant_rewards) and each referrer told once. Nothing when REFERRAL_BONUS_DAYS is 0.
boost::asio::awaitable<ReferralSweep> grant_referral_rewards(core::BotContext& ctx);

}  // namespace nebula::bot::notify
