#include "gateway/auth/refusal_log.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "support/captured_log.hpp"

namespace nebula::gateway {
namespace {

using nebula::testing::CapturedLog;

using namespace std::chrono_literals;

TEST(RefusalLog, AFloodBecomesOneLineAndOneCountPerReasonAndSource) {
    CapturedLog log{"%v"};
    common::ManualClock clock;
    {
        RefusalLog refusals(clock, 10s);
        for (int i = 0; i < 5000; ++i)
            refusals.note("forbidden", "198.51.100.9", "198.51.100.9 is not allowed");
        refusals.note("forbidden", "203.0.113.1", "203.0.113.1 is not allowed");
        refusals.note("unauthorized (bad_signature)", "127.0.0.1", "POST /api/clients from 127.0.0.1");
        EXPECT_EQ(log.lines().size(), 3u);
        clock.advance(10s);
        refusals.flush_due();
        const auto lines = log.lines();
        ASSERT_EQ(lines.size(), 4u);
        EXPECT_EQ(lines[0], "forbidden: 198.51.100.9 is not allowed");
        EXPECT_EQ(lines[3], "forbidden: 4999 more from 198.51.100.9 in the last 10 s");
        // A new interval starts afresh.
        refusals.note("forbidden", "198.51.100.9", "198.51.100.9 is not allowed again");
        refusals.note("forbidden", "198.51.100.9", "198.51.100.9 is not allowed again");
        EXPECT_EQ(log.lines().size(), 5u);
    }
    // What is pending is written when the log goes away.
    EXPECT_EQ(log.lines().back(), "forbidden: 1 more from 198.51.100.9 in the last 0 s");
}

TEST(RefusalLog, ManySourcesShareOneLineBeyondTheBound) {
    CapturedLog log{"%v"};
    common::ManualClock clock;
    RefusalLog refusals(clock, 10s, /*max_sources=*/4);
    for (int i = 0; i < 1000; ++i) {
        const auto source = "2001:db8::" + std::to_string(i);
        refusals.note("forbidden", source, source + " is not allowed");
    }
    clock.advance(10s);
    refusals.flush_due();
    const auto lines = log.lines();
    ASSERT_EQ(lines.size(), 6u);  // four sources, the first of the rest, and their count
    EXPECT_EQ(lines.back(), "forbidden: 995 more from other addresses in the last 10 s");
}

}  // namespace
}  // namespace nebula::gateway
