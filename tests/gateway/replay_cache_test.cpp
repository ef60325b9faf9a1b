#include "gateway/auth/replay_cache.hpp"

#include <algorithm>

#include <gtest/gtest.h>

namespace nebula::gateway {
namespace {

using Outcome = ReplayCache::Outcome;

TEST(ReplayCache, SecondUseOfANonceIsAReplay) {
    ReplayCache cache(600, 1000);
    EXPECT_EQ(cache.check_and_insert("aa", 1000), Outcome::accepted);
    EXPECT_EQ(cache.check_and_insert("aa", 1001), Outcome::replayed);
    EXPECT_EQ(cache.check_and_insert("bb", 1001), Outcome::accepted);
}

TEST(ReplayCache, RemembersForAtLeastTheWindow) {
    ReplayCache cache(600, 1000);
    const std::int64_t t0 = 1'000'000;
    EXPECT_EQ(cache.check_and_insert("n1", t0), Outcome::accepted);
    EXPECT_EQ(cache.check_and_insert("n2", t0 + 599), Outcome::accepted);
    // Every point up to 600 s after acceptance still sees the nonce, across generation changes.
    for (std::int64_t dt : {1, 300, 599, 600}) {
        EXPECT_EQ(cache.check_and_insert("n1", t0 + dt), Outcome::replayed) << dt;
    }
    for (std::int64_t dt : {1, 300, 600}) {
        EXPECT_EQ(cache.check_and_insert("n2", t0 + 599 + dt), Outcome::replayed) << dt;
    }
    // Long after, the memory is released.
    EXPECT_EQ(cache.check_and_insert("n1", t0 + 5000), Outcome::accepted);
}

TEST(ReplayCache, FullCacheRefusesRatherThanForgetting) {
    ReplayCache cache(600, 3);
    EXPECT_EQ(cache.check_and_insert("a", 100), Outcome::accepted);
    EXPECT_EQ(cache.check_and_insert("b", 100), Outcome::accepted);
    EXPECT_EQ(cache.check_and_insert("c", 100), Outcome::accepted);
    EXPECT_EQ(cache.check_and_insert("d", 101), Outcome::full);
    // The live nonces are all still known.
    EXPECT_EQ(cache.check_and_insert("a", 102), Outcome::replayed);
    EXPECT_EQ(cache.check_and_insert("c", 102), Outcome::replayed);
    // Once they age out there is room again.
    EXPECT_EQ(cache.check_and_insert("d", 100 + 1300), Outcome::accepted);
}

TEST(ReplayCache, ManyNoncesAcrossGrowthAndRotation) {
    ReplayCache cache(600, 1'000'000);
    for (int i = 0; i < 50'000; ++i) {
        ASSERT_EQ(cache.check_and_insert("nonce-" + std::to_string(i), 1000), Outcome::accepted) << i;
    }
    EXPECT_EQ(cache.size(), 50'000u);
    for (int i = 0; i < 50'000; i += 997) {
        EXPECT_EQ(cache.check_and_insert("nonce-" + std::to_string(i), 1500), Outcome::replayed) << i;
    }
    // After a rotation the old generation is still consulted.
    EXPECT_EQ(cache.check_and_insert("fresh", 1700), Outcome::accepted);
    EXPECT_EQ(cache.check_and_insert("nonce-123", 1700), Outcome::replayed);
    EXPECT_EQ(cache.check_and_insert("fresh", 1750), Outcome::replayed);
}

// 6 bytes a slot at most three quarters full once grown: at most 16 bytes a nonce, and no
// insert ever grows more than one of the 64 segments (no moment with two whole tables).
TEST(ReplayCache, StorageStaysSmallAndGrowsOneSegmentAtATime) {
    ReplayCache cache(600, 10'000'000);
    std::size_t largest_step = 0;
    std::size_t before = cache.storage_bytes();
    for (int i = 0; i < 300'000; ++i) {
        ASSERT_EQ(cache.check_and_insert("n" + std::to_string(i), 1000), Outcome::accepted) << i;
        const auto now = cache.storage_bytes();
        largest_step = std::max(largest_step, now - before);
        before = now;
    }
    EXPECT_LE(cache.storage_bytes(), 300'000u * 16);
    EXPECT_GE(cache.storage_bytes(), 300'000u * 6);
    EXPECT_LE(largest_step, cache.storage_bytes() / 16) << "one segment at a time";
    for (int i = 0; i < 300'000; i += 1009) {
        EXPECT_EQ(cache.check_and_insert("n" + std::to_string(i), 1001), Outcome::replayed) << i;
    }
}

}  // namespace
}  // namespace nebula::gateway
