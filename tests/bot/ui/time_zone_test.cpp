#include "bot/ui/time_zone.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

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
    // Beyond the file's transition list the footer rule takes over.
    EXPECT_EQ(cairo.offset_at(utc(2060, 7, 15, 12)), 3h);
    EXPECT_EQ(cairo.offset_at(utc(2060, 12, 15, 12)), 2h);
    EXPECT_EQ(cairo.to_local(utc(2025, 7, 31, 21, 30)).time_since_epoch(),
              (utc(2025, 8, 1, 0, 30)).time_since_epoch());
}

// Every zone below, at a few thousand instants from 1971 to 2099 and a second either side of
// each summer-time change, must agree with glibc reading the same files.
TEST(UiTimeZone, AgreesWithGlibcAcrossCenturies) {
    for (const char* name :
         {"Africa/Cairo", "Europe/London", "America/New_York", "Australia/Sydney", "Asia/Tehran",
          "America/Sao_Paulo", "Asia/Kathmandu", "Pacific/Chatham", "UTC"}) {
        SCOPED_TRACE(name);
        const TimeZone zone = load(name);
        int mismatches = 0;
        long previous = glibc_offset(name, utc(1971, 1, 1));
        for (sys_seconds t = utc(1971, 1, 1); t < utc(2099, 12, 1); t += hours{24 * 3 + 7}) {
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

TEST(UiTimeZone, RejectsMalformedTzif) {
    std::ifstream file("/usr/share/zoneinfo/Africa/Cairo", std::ios::binary);
    std::stringstream buffer;
    buffer << file.rdbuf();
    const std::string cairo = buffer.str();
    ASSERT_GT(cairo.size(), 100u);
    ASSERT_TRUE(TimeZone::from_tzif("Africa/Cairo", cairo).has_value());

    EXPECT_FALSE(TimeZone::from_tzif("x", "").has_value());
    EXPECT_FALSE(
        TimeZone::from_tzif("x", "not a tzif file at all, just some words to fill it up...").has_value());
    // Every truncation fails cleanly, without reading past the end.
    for (std::size_t size = 0; size + 1 < cairo.size(); size += 7) {
        EXPECT_FALSE(TimeZone::from_tzif("x", std::string_view(cairo).substr(0, size)).has_value()) << size;
    }
    // A corrupted footer rule is reported.
    std::string bad_footer = cairo;
    const std::size_t footer = bad_footer.rfind("EET-2");
    ASSERT_NE(footer, std::string::npos);
    bad_footer[footer + 3] = '?';
    EXPECT_FALSE(TimeZone::from_tzif("x", bad_footer).has_value());
}

TEST(UiTimeZone, ParsesPosixRules) {
    const auto cairo = TimeZone::parse_rule("EET-2EEST,M4.5.5/0,M10.5.4/24");
    ASSERT_TRUE(cairo.has_value());
    EXPECT_EQ(cairo->standard.offset, 7200);
    ASSERT_TRUE(cairo->daylight.has_value());
    EXPECT_EQ(cairo->daylight->offset, 10800);
    EXPECT_EQ(cairo->start.month, 4);
    EXPECT_EQ(cairo->start.week, 5);
    EXPECT_EQ(cairo->start.day, 5);
    EXPECT_EQ(cairo->start.time, 0s);
    EXPECT_EQ(cairo->end.time, 24h);

    const auto tehran = TimeZone::parse_rule("<+0330>-3:30");
    ASSERT_TRUE(tehran.has_value());
    EXPECT_EQ(tehran->standard.offset, 3 * 3600 + 1800);
    EXPECT_FALSE(tehran->daylight.has_value());

    const auto julian = TimeZone::parse_rule("XXX3YYY,J60/-1,300/167");
    ASSERT_TRUE(julian.has_value());
    EXPECT_EQ(julian->standard.offset, -3 * 3600);
    EXPECT_EQ(julian->daylight->offset, -2 * 3600);
    EXPECT_EQ(julian->start.kind, TimeZone::RuleDate::Kind::julian_no_leap);
    EXPECT_EQ(julian->start.time, -1h);
    EXPECT_EQ(julian->end.kind, TimeZone::RuleDate::Kind::zero_based);
    EXPECT_EQ(julian->end.time, 167h);

    for (std::string_view bad : {"", "EE-2", "EET", "EET-2EEST", "EET-2EEST,M13.1.0,M10.5.0",
                                 "EET-2EEST,M4.6.0,M10.5.0", "EET-2EEST,M4.5.7,M10.5.0", "EET-2EEST,M4.5.5/0",
                                 "EET-2EEST,J0,J10", "<+03-3", "EET-25", "EET-2EEST,M4.5.5/168,M10.5.4"}) {
        EXPECT_FALSE(TimeZone::parse_rule(bad).has_value()) << bad;
    }
}

}  // namespace
}  // namespace nebula::bot::ui
