#include "gateway/auth/replay_cache.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

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

TEST(ReplayCache, ManyNoncesAcrossGrowthAndSpans) {
    ReplayCache cache(600, 1'000'000);
    for (int i = 0; i < 50'000; ++i) {
        ASSERT_EQ(cache.check_and_insert("nonce-" + std::to_string(i), 1000), Outcome::accepted) << i;
    }
    EXPECT_EQ(cache.size(), 50'000u);
    for (int i = 0; i < 50'000; i += 997) {
        EXPECT_EQ(cache.check_and_insert("nonce-" + std::to_string(i), 1500), Outcome::replayed) << i;
    }
    // Nonces of later spans land in other buckets; the older bucket is still consulted.
    EXPECT_EQ(cache.check_and_insert("fresh", 1599), Outcome::accepted);
    EXPECT_EQ(cache.check_and_insert("nonce-123", 1600), Outcome::replayed);
    EXPECT_EQ(cache.size(), 50'001u);
    // At 1650 the first bucket's nonces are all more than 600 s old; the later one is kept.
    EXPECT_EQ(cache.check_and_insert("fresh", 1750), Outcome::replayed);
    EXPECT_EQ(cache.size(), 1u);
}

// A window of 600 s is cut into spans of 150 s: [900, 1050) is one. Its nonces are all more than
// 600 s old at 1650, and only then is the bucket released, for lookups and for the capacity alike.
TEST(ReplayCache, ABucketIsReleasedOnceItsNewestNonceLeftTheWindow) {
    ReplayCache cache(600, 2);
    EXPECT_EQ(cache.check_and_insert("early", 900), Outcome::accepted);
    EXPECT_EQ(cache.check_and_insert("late", 1049), Outcome::accepted);
    EXPECT_EQ(cache.check_and_insert("third", 1050), Outcome::full);
    EXPECT_EQ(cache.check_and_insert("third", 1649), Outcome::full);
    EXPECT_EQ(cache.check_and_insert("late", 1649), Outcome::replayed) << "600 s after it was accepted";
    EXPECT_EQ(cache.check_and_insert("early", 1649), Outcome::replayed) << "its bucket still holds late";
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.check_and_insert("third", 1650), Outcome::accepted);
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache.check_and_insert("late", 1650), Outcome::accepted);
}

// At one nonce a second for 40 minutes the cache holds the last window and at most one span
// more: between 601 and 750 nonces once the first window has passed, every second.
TEST(ReplayCache, HoldsTheWindowAndAtMostOneSpanMore) {
    ReplayCache cache(600, 1'000'000);
    std::size_t fewest = SIZE_MAX;
    std::size_t most = 0;
    for (std::int64_t t = 10'000; t < 12'400; ++t) {
        ASSERT_EQ(cache.check_and_insert("n" + std::to_string(t), t), Outcome::accepted) << t;
        if (t >= 10'600) {
            fewest = std::min(fewest, cache.size());
            most = std::max(most, cache.size());
        }
        // Every nonce of the last 600 s is still known.
        if (t % 97 == 0 && t >= 10'600) {
            ASSERT_EQ(cache.check_and_insert("n" + std::to_string(t - 600), t), Outcome::replayed) << t;
        }
    }
    EXPECT_EQ(fewest, 601u);
    EXPECT_EQ(most, 750u);
}

TEST(ReplayCache, AClockGoingBackCountsAsTheLatestTime) {
    ReplayCache cache(600, 1000);
    EXPECT_EQ(cache.check_and_insert("a", 5000), Outcome::accepted);
    EXPECT_EQ(cache.check_and_insert("a", 100), Outcome::replayed);
    EXPECT_EQ(cache.check_and_insert("b", 100), Outcome::accepted);
    EXPECT_EQ(cache.check_and_insert("b", 5600), Outcome::replayed);
    EXPECT_EQ(cache.check_and_insert("a", 5750), Outcome::accepted);
}

// The configured capacity bounds what is held: the nonce after the last one that fits is refused,
// and the slots of a full cache take 5 bytes a nonce at 9/10 full, 8 at most (tables grow by a
// block of 816 slots or an eighth), never two copies: no insert grows more than one segment.
TEST(ReplayCache, StorageIsBoundedByTheCapacityAndGrowsOneSegmentAtATime) {
    constexpr std::size_t kCapacity = 300'000;
    ReplayCache cache(600, kCapacity);
    std::size_t largest_step = 0;
    std::size_t before = cache.storage_bytes();
    for (std::size_t i = 0; i < kCapacity; ++i) {
        ASSERT_EQ(cache.check_and_insert("n" + std::to_string(i), 1000), Outcome::accepted) << i;
        const auto now = cache.storage_bytes();
        largest_step = std::max(largest_step, now - before);
        before = now;
    }
    EXPECT_EQ(cache.check_and_insert("one more", 1000), Outcome::full);
    EXPECT_EQ(cache.size(), kCapacity);
    EXPECT_LE(cache.storage_bytes(), kCapacity * 8);
    EXPECT_GE(cache.storage_bytes(), kCapacity * 5 * 10 / 9);
    EXPECT_LE(largest_step, cache.storage_bytes() / 32) << "one segment at a time";
    for (std::size_t i = 0; i < kCapacity; i += 1009) {
        EXPECT_EQ(cache.check_and_insert("n" + std::to_string(i), 1001), Outcome::replayed) << i;
    }
    // Once the window has passed, the storage is given back.
    EXPECT_EQ(cache.check_and_insert("later", 1000 + 750), Outcome::accepted);
    EXPECT_LT(cache.storage_bytes(), 1024u);
}

}  // namespace
}  // namespace nebula::gateway
