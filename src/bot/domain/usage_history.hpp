#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain::usage_history {

/// An account's traffic counter (up + down bytes) as its panel reported it.
struct Reading {
    AccountId account;
    std::int64_t counter = 0;
};

/// Adds readings taken on `day` (YYYY-MM-DD in the shop's time zone) to the daily usage history:
/// each account's day gains the difference from its previous reading (of any earlier day or of
/// the same day). A counter below the previous one was reset on the panel (a renewal, an admin's
/// traffic reset), so the whole counter counts as used since; an account's first reading counts
/// its whole counter. Days without a reading simply have no row (no traffic read, charted as 0);
/// traffic used over missed days lands on the day of the next reading. Run inside the
/// transaction that stores the readings on the accounts.
void record(db::Connection& connection, const std::vector<Reading>& readings, std::string_view day);

struct Day {
    std::string day;  ///< YYYY-MM-DD
    std::int64_t used_bytes = 0;
};

/// The account's days from `from_day` to `to_day` (both included) that have a row, oldest first.
std::vector<Day> days(db::Connection& connection, AccountId account, std::string_view from_day,
                      std::string_view to_day);

/// Deletes the rows of days before `before_day`; how many.
std::int64_t prune(db::Connection& connection, std::string_view before_day);

/// How long the daily history is kept.
inline constexpr int kKeepDays = 90;

}  // namespace nebula::bot::domain::usage_history
