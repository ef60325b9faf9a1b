#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

struct RevenueRow {
    std::string key;  ///< day (YYYY-MM-DD), payment method code or plan name
    Piasters revenue;
    std::int64_t orders = 0;
};

struct Summary {
    Piasters revenue;
    std::int64_t orders_created = 0;
    std::int64_t orders_fulfilled = 0;
    double conversion = 0;      ///< fulfilled / created among orders created in the range (0 when none)
    Piasters revenue_per_user;  ///< revenue / distinct paying customers (0 when none)
    std::int64_t new_users = 0;
    std::int64_t active_accounts = 0;  ///< active and unexpired at `now`
};

/// Revenue and growth figures. Revenue counts fulfilled orders at their fulfilment time; ranges
/// are [from, to). Days are calendar days at a fixed UTC offset (the configured zone's offset,
/// e.g. +2 h for Africa/Cairo in winter). Read-only except snapshot_day().
class Analytics {
  public:
    explicit Analytics(std::chrono::seconds utc_offset = std::chrono::hours(2)) : offset_(utc_offset) {}

    std::vector<RevenueRow> revenue_by_day(db::Connection& connection, Timestamp from, Timestamp to) const;
    std::vector<RevenueRow> revenue_by_method(db::Connection& connection, Timestamp from, Timestamp to) const;
    std::vector<RevenueRow> revenue_by_plan(db::Connection& connection, Timestamp from, Timestamp to) const;
    Summary summary(db::Connection& connection, Timestamp from, Timestamp to, Timestamp now) const;

    /// Writes (or rewrites) the revenue_snapshots row of the day containing `day`.
    void snapshot_day(db::Connection& connection, Timestamp day, Timestamp now) const;

    /// The calendar day of `t` at the configured offset, as YYYY-MM-DD.
    std::string day_of(Timestamp t) const;
    /// The first second of the day containing `t`.
    Timestamp start_of_day(Timestamp t) const;

  private:
    std::chrono::seconds offset_;
};

}  // namespace nebula::bot::domain
