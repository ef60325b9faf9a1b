#include "gateway/auth/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace nebula::gateway {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, HundredInABurstThenTheHundredAndFirstIsRefused) {
    common::ManualClock clock;
    RateLimiter limiter(clock, 100);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter.acquire("10.0.0.1").count(), 0) << i;
    auto wait = limiter.acquire("10.0.0.1");
    EXPECT_GT(wait.count(), 59);  // the burst leaves the window only after a minute
    clock.advance(wait - 1s);
    EXPECT_GT(limiter.acquire("10.0.0.1").count(), 0);
    clock.advance(1s);
    EXPECT_EQ(limiter.acquire("10.0.0.1").count(), 0);
    // Other clients have their own window.
    EXPECT_EQ(limiter.acquire("10.0.0.2").count(), 0);
}

TEST(RateLimiter, NoSixtySecondWindowEverHoldsMoreThanTheLimit) {
    common::ManualClock clock;
    const int limit = 100;
    RateLimiter limiter(clock, limit);
    // A client that tries ten times every 250 ms for five minutes: record every acceptance.
    std::vector<std::chrono::milliseconds> accepted;
    for (auto t = 0ms; t < 5min; t += 250ms) {
        for (int i = 0; i < 10; ++i) {
            if (limiter.acquire("a").count() == 0) accepted.push_back(t);
        }
        clock.advance(250ms);
    }
    ASSERT_GT(accepted.size(), 400u);  // it is throttled, not shut out
    for (std::size_t first = 0; first < accepted.size(); ++first) {
        std::size_t in_window = 0;
        for (std::size_t j = first; j < accepted.size() && accepted[j] - accepted[first] < 60s; ++j)
            ++in_window;
        ASSERT_LE(in_window, static_cast<std::size_t>(limit))
            << "window starting at " << accepted[first].count();
    }
}

TEST(RateLimiter, CheckSpendsNothing) {
    common::ManualClock clock;
    RateLimiter limiter(clock, 2);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(limiter.check("a").count(), 0);
    EXPECT_EQ(limiter.acquire("a").count(), 0);
    EXPECT_EQ(limiter.acquire("a").count(), 0);
    EXPECT_GT(limiter.check("a").count(), 0);
    EXPECT_GT(limiter.acquire("a").count(), 0);
}

TEST(RateLimiter, IdleClientsAreForgottenAndTheTableIsBounded) {
    common::ManualClock clock;
    RateLimiter limiter(clock, 100, /*max_clients=*/50);
    for (int i = 0; i < 50; ++i) ASSERT_EQ(limiter.acquire("client-" + std::to_string(i)).count(), 0);
    EXPECT_EQ(limiter.tracked_clients(), 50u);
    // Full: a new client waits until a tracked one ages out, the tracked ones go on.
    EXPECT_GT(limiter.acquire("newcomer").count(), 0);
    EXPECT_GT(limiter.check("newcomer").count(), 0);
    EXPECT_EQ(limiter.acquire("client-0").count(), 0);
    clock.advance(2min);
    EXPECT_EQ(limiter.acquire("fresh").count(), 0);
    EXPECT_EQ(limiter.tracked_clients(), 1u);
}

}  // namespace
}  // namespace nebula::gateway
