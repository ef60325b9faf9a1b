#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
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

/// Orders are paid orders: free trials are counted apart (trials::stats) and accounts given by
/// admins not at all. A refunded order leaves revenue (and the fulfilled count) for good; the
/// refunds made in the range are given apart.
struct Summary {
    Piasters revenue;
    Piasters discounts;  ///< promo code discounts on the fulfilled orders counted in `revenue`
    std::int64_t orders_created = 0;
    std::int64_t orders_fulfilled = 0;
    double conversion = 0;      ///< fulfilled / created among orders created in the range (0 when none)
    Piasters revenue_per_user;  ///< revenue / distinct paying customers (0 when none)
    std::int64_t new_users = 0;
    std::int64_t active_accounts = 0;  ///< active and unexpired at `now`
    Piasters refunds;                  ///< paid amounts refunded in the range (by refund time)
    std::int64_t orders_refunded = 0;
};

/// A day's stored revenue snapshot, as the revenue job posts it.
struct DaySnapshot {
    Piasters revenue;
    std::int64_t orders_fulfilled = 0;
    std::int64_t active_accounts = 0;
    std::optional<DiscordId> posted_message_id;  ///< set once it was posted in the billing channel
};

/// Revenue and growth figures. Revenue counts fulfilled orders at their fulfilment time; ranges
/// are [from, to). Days are calendar days in the shop's time zone, given as the zone's UTC offset
/// at each instant (so a day across a daylight-saving change is 23 or 25 hours long, as it is on
/// the shop's wall clock). Read-only except snapshot_day().
class Analytics {
  public:
    /// The zone's UTC offset at an instant (ui::TimeZone::offset_at in the app).
    using OffsetAt = std::function<std::chrono::seconds(Timestamp)>;

    /// A zone that keeps one offset all year.
    explicit Analytics(std::chrono::seconds utc_offset = std::chrono::hours(2))
        : offset_at_([utc_offset](Timestamp) { return utc_offset; }) {}
    explicit Analytics(OffsetAt offset_at) : offset_at_(std::move(offset_at)) {}

    std::vector<RevenueRow> revenue_by_day(db::Connection& connection, Timestamp from, Timestamp to) const;
    std::vector<RevenueRow> revenue_by_method(db::Connection& connection, Timestamp from, Timestamp to) const;
    std::vector<RevenueRow> revenue_by_plan(db::Connection& connection, Timestamp from, Timestamp to) const;
    Summary summary(db::Connection& connection, Timestamp from, Timestamp to, Timestamp now) const;

    /// Writes (or rewrites) the revenue_snapshots row of the day containing `day` (whether it
    /// was posted is kept).
    void snapshot_day(db::Connection& connection, Timestamp day, Timestamp now) const;
    /// The stored snapshot of `day` (YYYY-MM-DD), if one was written.
    std::optional<DaySnapshot> snapshot(db::Connection& connection, const std::string& day) const;
    /// Records that the snapshot of `day` was posted as Discord message `message_id`.
    void mark_posted(db::Connection& connection, const std::string& day, DiscordId message_id) const;
    /// When the first order was placed (nothing when there is none).
    std::optional<Timestamp> first_order_at(db::Connection& connection) const;
    /// How many orders are in each status now (status name -> count; absent = none).
    static std::map<std::string, std::int64_t> orders_by_status(db::Connection& connection);

    /// The calendar day of `t` at the configured offset, as YYYY-MM-DD.
    std::string day_of(Timestamp t) const;
    /// The first second of the day containing `t`.
    Timestamp start_of_day(Timestamp t) const;

  private:
    OffsetAt offset_at_;
};

}  // namespace nebula::bot::domain
