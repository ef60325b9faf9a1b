#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/crypto.hpp"

namespace nebula::gateway {

/// Remembers the nonces of accepted (correctly signed) requests so each can be used once.
///
/// Time is cut into spans of a quarter of `window` seconds (rounded up); the nonces accepted in
/// one span form a bucket, dropped once even its newest nonce is more than `window` seconds old.
/// So a nonce is remembered for at least `window` seconds and at most one span longer, and at
/// most five buckets are held. The cache never evicts a live nonce to make room: when `capacity`
/// nonces are held, new requests are refused (`full`) until the oldest bucket ages out. Only
/// requests whose signature verified may be offered, so an outsider cannot fill it.
///
/// A nonce is stored as a 46-bit fingerprint of its SipHash-2-4 under a random per-process key:
/// 6 bits pick one of a bucket's 64 segments, 40 bits are kept in a 5-byte slot of the segment's
/// open-addressing table. Nobody without the key can choose nonces whose fingerprints collide. A
/// replayed nonce is always refused; a fresh one is refused as a replay only if its fingerprint
/// equals one of the n held, with probability at most n / 2^46 (3 in a billion with 200,000
/// held). A segment's table is made of blocks of at most 4 KiB and grows by a block or an eighth
/// when 9/10 full, one segment at a time: about 6 bytes a nonce, and never two copies of a bucket.
/// Not thread-safe (one per server executor).
class ReplayCache {
  public:
    enum class Outcome { accepted, replayed, full };

    /// Spans per window: buckets are dropped one span after their newest nonce leaves the window.
    static constexpr std::int64_t kSpansPerWindow = 4;

    ReplayCache(std::int64_t window_seconds, std::size_t capacity);

    /// Records `nonce` seen at `now` (seconds of a monotonic clock: the steady clock, never the
    /// wall clock, which may step) unless it was seen within the window. A `now` earlier than one
    /// already given counts as that one.
    Outcome check_and_insert(std::string_view nonce, std::int64_t now);
    /// Nonces held (those of buckets that have aged out are released on the next call).
    std::size_t size() const;
    /// Bytes of slot storage held by all buckets.
    std::size_t storage_bytes() const;

  private:
    /// A set of 46-bit fingerprints (never zero in their low 40 bits) in 64 segments, each a
    /// linear-probing table of 5-byte slots spread over blocks of at most 4 KiB.
    class FingerprintSet {
      public:
        bool contains(std::uint64_t fingerprint) const;
        /// Adds a fingerprint the set does not contain.
        void insert(std::uint64_t fingerprint);
        std::size_t size() const { return count_; }
        std::size_t storage_bytes() const;
        void clear();

      private:
        struct Segment {
            std::vector<std::vector<unsigned char>> blocks;  // all zero marks an empty slot
            std::size_t slots = 0;
            std::size_t count = 0;
            unsigned char* slot(std::size_t i);
            const unsigned char* slot(std::size_t i) const;
        };
        static void put(Segment& segment, std::uint64_t stored);
        static void grow(Segment& segment);
        std::array<Segment, 64> segments_;
        std::size_t count_ = 0;
    };

    struct Bucket {
        std::int64_t span = 0;
        bool used = false;
        FingerprintSet set;
    };

    std::int64_t span_of(std::int64_t now) const;
    void expire(std::int64_t now);

    std::int64_t window_;
    std::int64_t span_seconds_;
    std::size_t capacity_;
    common::SipHash64 hash_;
    std::int64_t latest_;
    std::array<Bucket, kSpansPerWindow + 1> buckets_;
};

}  // namespace nebula::gateway
