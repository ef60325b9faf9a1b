#include "gateway/auth/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace nebula::gateway {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, HundredPerMinuteThenRefusedWithRetryAfter) {
    common::ManualClock clock;
    RateLimiter limiter(clock, 100);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter.acquire("10.0.0.1").count(), 0) << i;
    auto wait = limiter.acquire("10.0.0.1");
    EXPECT_GE(wait.count(), 1);
    EXPECT_LE(wait.count(), 1);  // one token refills in 0.6 s, rounded up to whole seconds
    // Other clients have their own bucket.
    EXPECT_EQ(limiter.acquire("10.0.0.2").count(), 0);
}

TEST(RateLimiter, RefillsAtTheConfiguredRate) {
    common::ManualClock clock;
    RateLimiter limiter(clock, 60);  // one a second
    for (int i = 0; i < 60; ++i) ASSERT_EQ(limiter.acquire("a").count(), 0);
    EXPECT_GT(limiter.acquire("a").count(), 0);
    clock.advance(500ms);
    EXPECT_GT(limiter.acquire("a").count(), 0);
    clock.advance(500ms);
    EXPECT_EQ(limiter.acquire("a").count(), 0);
    EXPECT_GT(limiter.acquire("a").count(), 0);
    clock.advance(10min);  // never more than a full bucket
    for (int i = 0; i < 60; ++i) ASSERT_EQ(limiter.acquire("a").count(), 0);
    EXPECT_GT(limiter.acquire("a").count(), 0);
}

TEST(RateLimiter, SlowRatesGiveLongerRetryAfter) {
    common::ManualClock clock;
    RateLimiter limiter(clock, 2);  // one every 30 s
    EXPECT_EQ(limiter.acquire("a").count(), 0);
    EXPECT_EQ(limiter.acquire("a").count(), 0);
    EXPECT_EQ(limiter.acquire("a").count(), 30);
}

TEST(RateLimiter, IdleClientsAreForgotten) {
    common::ManualClock clock;
    RateLimiter limiter(clock, 100);
    for (int i = 0; i < 50; ++i) (void)limiter.acquire("client-" + std::to_string(i));
    EXPECT_EQ(limiter.tracked_clients(), 50u);
    clock.advance(2min);
    (void)limiter.acquire("fresh");
    EXPECT_EQ(limiter.tracked_clients(), 1u);
}

}  // namespace
}  // namespace nebula::gateway
