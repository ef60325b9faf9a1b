#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace date {
class time_zone;
}

namespace nebula::bot::ui {

/// A time zone from the system tz database (/usr/share/zoneinfo, Debian's tzdata), looked up
/// through Howard Hinnant's date/tz library, the reference implementation of C++20's
/// std::chrono time zones (libstdc++ 12 has no std::chrono::locate_zone yet).
///
/// Range: date/tz reads the transitions listed in the zone file and not the rule footer after
/// them. Debian ships "fat" files that list every transition up to 2037, so offsets are exact
/// until the end of 2037; after that the last listed offset stays (Cairo would stay on winter
/// time in summer from 2038 on).
///
/// Thread safety: the zone data is shared, immutable once loaded (date/tz loads a zone once
/// under its own lock), so any thread can use a TimeZone at once.
class TimeZone {
  public:
    /// The zone with no offset, named "UTC"; needs no tz database.
    static TimeZone utc();

    /// The IANA zone `name` ("Africa/Cairo", "UTC", "Etc/GMT-2"). Errors (as text for a
    /// configuration message): a name the tz database does not list, or no tz database.
    static common::Result<TimeZone, std::string> load(std::string_view name);

    const std::string& name() const { return name_; }

    /// Offset from UTC in effect at `t` (e.g. +2 h or +3 h for Cairo).
    std::chrono::seconds offset_at(std::chrono::sys_seconds t) const;
    /// Whether `t` falls in summer (daylight saving) time.
    bool is_dst_at(std::chrono::sys_seconds t) const;
    /// The wall-clock time in this zone at `t`.
    std::chrono::local_seconds to_local(std::chrono::sys_seconds t) const {
        return std::chrono::local_seconds{t.time_since_epoch() + offset_at(t)};
    }

  private:
    std::string name_;
    const date::time_zone* zone_ = nullptr;  ///< owned by date/tz for the whole run; null for utc()
};

}  // namespace nebula::bot::ui
