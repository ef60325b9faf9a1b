#pragma once

#include <cstdint>

namespace nebula::bot::testing::shop {

/// The shop's Discord server as every bot test sets it up: one guild, its roles and channels, and
/// the two people who use it. The fake Discord accepts any ids; these are the ones the bot is
/// configured with (BotConfig / ShopSettings).
inline constexpr std::uint64_t kGuild = 800000000000000001ULL;
inline constexpr std::uint64_t kAdminRole = 810000000000000001ULL;
inline constexpr std::uint64_t kSubscriberRole = 810000000000000002ULL;
inline constexpr std::uint64_t kReviewChannel = 820000000000000001ULL;
inline constexpr std::uint64_t kBillingChannel = 820000000000000002ULL;
inline constexpr std::uint64_t kPanelChannel = 820000000000000003ULL;
inline constexpr std::uint64_t kOrdersCategory = 820000000000000004ULL;
inline constexpr std::uint64_t kCustomer = 830000000000000001ULL;
inline constexpr std::uint64_t kAdmin = 830000000000000002ULL;

}  // namespace nebula::bot::testing::shop
