#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace nebula::bot::ui {

/// A time zone from the system tz database: the TZif file (RFC 8536) named by an IANA zone
/// such as "Africa/Cairo", with its POSIX TZ footer rule for instants after the last recorded
/// transition (Cairo's summer time, for example, is a rule, not a list, from 2037 on).
///
/// Why not the alternatives: libstdc++ 12 has no std::chrono::locate_zone/zoned_time, and
/// localtime_r reads the zone from the process-wide TZ variable, which would have to be set
/// with setenv, racing every other thread that reads the environment or calls localtime.
/// This class keeps its own immutable copy of the zone, so any thread can use it at once.
class TimeZone {
  public:
    /// The zone with no offset, named "UTC".
    static TimeZone utc();

    /// Reads `<zoneinfo_dir>/<name>`. The name must look like an IANA zone ("Africa/Cairo",
    /// "UTC", "Etc/GMT-2"): letters, digits, '_', '-', '+', separated by '/', no "." or ".."
    /// parts. Errors (as text for a configuration message): bad name, missing or unreadable
    /// file, malformed TZif data.
    static common::Result<TimeZone, std::string> load(
        std::string_view name, const std::filesystem::path& zoneinfo_dir = "/usr/share/zoneinfo");

    /// Parses TZif bytes (versions 1 to 4) read elsewhere; `name` is only remembered.
    static common::Result<TimeZone, std::string> from_tzif(std::string name, std::string_view bytes);

    const std::string& name() const { return name_; }

    /// Offset from UTC in effect at `t` (e.g. +2 h or +3 h for Cairo).
    std::chrono::seconds offset_at(std::chrono::sys_seconds t) const;
    /// Whether `t` falls in summer (daylight saving) time.
    bool is_dst_at(std::chrono::sys_seconds t) const;
    /// The wall-clock time in this zone at `t`.
    std::chrono::local_seconds to_local(std::chrono::sys_seconds t) const {
        return std::chrono::local_seconds{t.time_since_epoch() + offset_at(t)};
    }

    /// A POSIX TZ rule date: Jn (1..365, February 29 never counted), n (0..365) or Mm.w.d.
    struct RuleDate {
        enum class Kind { julian_no_leap, zero_based, month_week_day } kind = Kind::month_week_day;
        int day = 0;  ///< Jn / n day, or the weekday (0 = Sunday) for Mm.w.d
        int month = 0;
        int week = 0;                     ///< 1..5, 5 = the last such weekday of the month
        std::chrono::seconds time{7200};  ///< local time of day; may be negative or beyond 24 h
    };
    struct LocalType {
        std::int32_t offset = 0;  ///< seconds east of UTC
        bool dst = false;
    };
    /// A parsed POSIX TZ string ("EET-2EEST,M4.5.5/0,M10.5.4/24").
    struct Rule {
        LocalType standard;
        std::optional<LocalType> daylight;
        RuleDate start;
        RuleDate end;
    };
    /// Parses a POSIX TZ string as found in TZif footers; nothing when malformed.
    static std::optional<Rule> parse_rule(std::string_view text);

  private:
    LocalType type_at(std::chrono::sys_seconds t) const;

    std::string name_;
    std::vector<std::int64_t> transitions_;  ///< UTC seconds, ascending
    std::vector<std::uint8_t> transition_types_;
    std::vector<LocalType> types_;
    std::optional<Rule> rule_;
};

}  // namespace nebula::bot::ui
