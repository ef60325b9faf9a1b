#include "gateway/xui/login_backoff.hpp"

#include <gtest/gtest.h>

namespace nebula::gateway::xui {
namespace {

using namespace std::chrono_literals;

TEST(LoginBackoff, FreeUntilTheFirstFailure) {
    common::ManualClock clock;
    LoginBackoff backoff(clock);
    EXPECT_FALSE(backoff.wait_before_attempt());
    backoff.record_success();
    EXPECT_FALSE(backoff.wait_before_attempt());
}

TEST(LoginBackoff, DelayDoublesAfterEachFailure) {
    common::ManualClock clock;
    LoginBackoff backoff(
        clock, LoginBackoffPolicy{
                   .first_delay = 2s, .max_delay = 300s, .window = 300s, .max_failures_in_window = 10});
    backoff.record_failure();
    EXPECT_EQ(backoff.wait_before_attempt(), 2000ms);
    clock.advance(1500ms);
    EXPECT_EQ(backoff.wait_before_attempt(), 500ms);
    clock.advance(500ms);
    EXPECT_FALSE(backoff.wait_before_attempt());

    backoff.record_failure();
    EXPECT_EQ(backoff.wait_before_attempt(), 4000ms);
    clock.advance(4s);
    backoff.record_failure();
    EXPECT_EQ(backoff.wait_before_attempt(), 8000ms);
    EXPECT_EQ(backoff.consecutive_failures(), 3u);
}

TEST(LoginBackoff, DelayIsCapped) {
    common::ManualClock clock;
    LoginBackoff backoff(
        clock,
        LoginBackoffPolicy{.first_delay = 1s, .max_delay = 5s, .window = 1s, .max_failures_in_window = 100});
    for (int i = 0; i < 40; ++i) {
        backoff.record_failure();
        clock.advance(10s);
    }
    clock.advance(-10s);
    EXPECT_EQ(backoff.wait_before_attempt(), 5000ms);
}

TEST(LoginBackoff, NeverMoreThanThreeFailuresInFiveMinutes) {
    common::ManualClock clock;
    LoginBackoff backoff(clock);  // 2 s, doubling; at most 3 failures per 300 s
    backoff.record_failure();     // t = 0
    clock.advance(2s);
    ASSERT_FALSE(backoff.wait_before_attempt());
    backoff.record_failure();  // t = 2
    clock.advance(4s);
    ASSERT_FALSE(backoff.wait_before_attempt());
    backoff.record_failure();  // t = 6: the third failure in the window
    // The exponential delay alone would allow t = 14; the window holds until the first failure
    // is 300 s old.
    EXPECT_EQ(backoff.wait_before_attempt(), 294s);
    clock.advance(293s);
    EXPECT_EQ(backoff.wait_before_attempt(), 1s);
    clock.advance(1s);
    EXPECT_FALSE(backoff.wait_before_attempt());
    backoff.record_failure();  // t = 300, the fourth in a row: 16 s, and the window (2, 6, 300) holds to 302
    EXPECT_EQ(backoff.wait_before_attempt(), 16s);
}

TEST(LoginBackoff, SuccessResetsTheDelayButNotTheWindow) {
    common::ManualClock clock;
    LoginBackoff backoff(clock);
    backoff.record_failure();
    clock.advance(2s);
    backoff.record_failure();
    clock.advance(4s);
    backoff.record_success();
    EXPECT_EQ(backoff.consecutive_failures(), 0u);
    EXPECT_FALSE(backoff.wait_before_attempt());
    backoff.record_failure();  // third in the window: wait for the first to age out
    EXPECT_EQ(backoff.wait_before_attempt(), 294s);
}

}  // namespace
}  // namespace nebula::gateway::xui
