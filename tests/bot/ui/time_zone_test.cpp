#include "bot/ui/time_zone.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace nebula::bot::ui {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::sys_seconds;
using namespace std::chrono_literals;

sys_seconds utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
    const std::chrono::year_month_day day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
    return sys_seconds{sys_days{day}} + hours{hh} + std::chrono::minutes{mm};
}

TimeZone load(std::string_view name) {
    auto zone = TimeZone::load(name);
    if (!zone) throw std::runtime_error(zone.error());
    return std::move(zone).value();
}

// glibc's answer for `name` at `t`. Setting TZ is fine here: this test binary runs one thread.
long glibc_offset(const char* name, sys_seconds t) {
    ::setenv("TZ", name, 1);
    ::tzset();
    const std::time_t time = t.time_since_epoch().count();
    std::tm tm{};
    ::localtime_r(&time, &tm);
    return tm.tm_gmtoff;
}

TEST(UiTimeZone, CairoOffsetsInWinterAndSummer) {
    const TimeZone cairo = load("Africa/Cairo");
    EXPECT_EQ(cairo.name(), "Africa/Cairo");
    EXPECT_EQ(cairo.offset_at(utc(2025, 1, 15, 12)), 2h);
    EXPECT_FALSE(cairo.is_dst_at(utc(2025, 1, 15, 12)));
    EXPECT_EQ(cairo.offset_at(utc(2025, 7, 15, 12)), 3h);  // summer time since 2023
    EXPECT_TRUE(cairo.is_dst_at(utc(2025, 7, 15, 12)));
    // The last year Debian's zone files list (see the class comment).
    EXPECT_EQ(cairo.offset_at(utc(2037, 7, 15, 12)), 3h);
    EXPECT_EQ(cairo.offset_at(utc(2037, 12, 15, 12)), 2h);
    EXPECT_EQ(cairo.to_local(utc(2025, 7, 31, 21, 30)).time_since_epoch(),
              (utc(2025, 8, 1, 0, 30)).time_since_epoch());
}

// Every zone below, at a few thousand instants from 1971 to 2037 (the years the zone files list)
// and a second either side of each summer-time change, must agree with glibc reading the same files.
TEST(UiTimeZone, AgreesWithGlibcAcrossCenturies) {
    for (const char* name :
         {"Africa/Cairo", "Europe/London", "America/New_York", "Australia/Sydney", "Asia/Tehran",
          "America/Sao_Paulo", "Asia/Kathmandu", "Pacific/Chatham", "UTC"}) {
        SCOPED_TRACE(name);
        const TimeZone zone = load(name);
        int mismatches = 0;
        long previous = glibc_offset(name, utc(1971, 1, 1));
        for (sys_seconds t = utc(1971, 1, 1); t < utc(2037, 12, 1); t += hours{24 * 3 + 7}) {
            const long expected = glibc_offset(name, t);
            if (zone.offset_at(t).count() != expected && ++mismatches < 5) {
                ADD_FAILURE() << "at " << t.time_since_epoch().count() << ": " << zone.offset_at(t).count()
                              << " s, glibc " << expected << " s";
            }
            if (expected != previous) {
                // Narrow down to the second of the change and check both sides of it.
                sys_seconds lo = t - hours{24 * 3 + 7};
                sys_seconds hi = t;
                while (hi - lo > 1s) {
                    const sys_seconds mid = lo + (hi - lo) / 2;
                    (glibc_offset(name, mid) == previous ? lo : hi) = mid;
                }
                EXPECT_EQ(zone.offset_at(lo).count(), previous)
                    << "just before " << hi.time_since_epoch().count();
                EXPECT_EQ(zone.offset_at(hi).count(), expected) << "at " << hi.time_since_epoch().count();
                previous = expected;
            }
        }
        EXPECT_EQ(mismatches, 0);
    }
    ::unsetenv("TZ");
    ::tzset();
}

// Cairo's summer time runs from the last Friday of April, 00:00 (clocks go to 01:00), to the last
// Thursday of October, 24:00 (clocks go back to 23:00). Dates shown to people follow it exactly.
TEST(UiTimeZone, CairoDaylightSavingBoundaries) {
    const TimeZone cairo = load("Africa/Cairo");
    struct Change {
        sys_seconds at;  // the first second of the new offset, UTC
        std::chrono::seconds before;
        std::chrono::seconds after;
    };
    for (const Change& change :
         {Change{utc(2023, 4, 27, 22), 2h, 3h}, Change{utc(2023, 10, 26, 21), 3h, 2h},
          Change{utc(2024, 4, 25, 22), 2h, 3h}, Change{utc(2024, 10, 31, 21), 3h, 2h},
          Change{utc(2025, 4, 24, 22), 2h, 3h}, Change{utc(2025, 10, 30, 21), 3h, 2h},
          Change{utc(2026, 4, 23, 22), 2h, 3h}, Change{utc(2026, 10, 29, 21), 3h, 2h}}) {
        SCOPED_TRACE(change.at.time_since_epoch().count());
        EXPECT_EQ(cairo.offset_at(change.at - 1s), change.before);
        EXPECT_EQ(cairo.offset_at(change.at), change.after);
        EXPECT_EQ(cairo.is_dst_at(change.at), change.after == 3h);
    }
    // Spring forward: 23:59:59 on Thursday is followed by 01:00:00 on Friday.
    EXPECT_EQ(cairo.to_local(utc(2025, 4, 24, 21, 59) + 59s).time_since_epoch(),
              (utc(2025, 4, 24, 23, 59) + 59s).time_since_epoch());
    EXPECT_EQ(cairo.to_local(utc(2025, 4, 24, 22)).time_since_epoch(),
              utc(2025, 4, 25, 1).time_since_epoch());
    // Fall back: the hour from 23:00 to midnight on Thursday happens twice.
    EXPECT_EQ(cairo.to_local(utc(2025, 10, 30, 20)).time_since_epoch(),
              utc(2025, 10, 30, 23).time_since_epoch());
    EXPECT_EQ(cairo.to_local(utc(2025, 10, 30, 21)).time_since_epoch(),
              utc(2025, 10, 30, 23).time_since_epoch());
    // Egypt had no summer time from 2015 to 2022.
    EXPECT_EQ(cairo.offset_at(utc(2019, 7, 15, 12)), 2h);
}

TEST(UiTimeZone, UtcHasNoOffset) {
    const TimeZone zone = TimeZone::utc();
    EXPECT_EQ(zone.name(), "UTC");
    EXPECT_EQ(zone.offset_at(utc(2025, 6, 1)), 0s);
}

TEST(UiTimeZone, RejectsNamesThatAreNotZones) {
    for (std::string_view name : {"", "../../etc/passwd", "/etc/localtime", "Africa/../Africa/Cairo",
                                  "Africa//Cairo", "Africa/Cairo ", "Africa\\Cairo", "Mars/Olympus_Mons"}) {
        const auto zone = TimeZone::load(name);
        EXPECT_FALSE(zone.has_value()) << name;
    }
    const auto missing = TimeZone::load("Mars/Olympus_Mons");
    EXPECT_NE(missing.error().find("unknown time zone"), std::string::npos) << missing.error();
}

}  // namespace
}  // namespace nebula::bot::ui
