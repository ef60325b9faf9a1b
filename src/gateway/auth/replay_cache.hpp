#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace nebula::gateway {

/// Remembers the nonces of accepted (correctly signed) requests so each can be used once.
///
/// Two generations of `window` seconds each: a nonce is remembered for at least `window`
/// seconds and at most twice that. The cache never evicts a live nonce to make room: when
/// `capacity` entries are held, new requests are refused (`full`) until a generation ages out.
/// Only requests whose signature verified may be offered, so an outsider cannot fill it.
/// Nonces are stored as 54-bit keyed fingerprints: 6 bits pick one of 64 open-addressing
/// segments, 48 bits are stored (6 bytes a slot, 8–16 bytes a nonce). Segments grow one at a
/// time, so growing never holds two copies of the whole table. Two different nonces share a
/// fingerprint with probability n / 2^54 (about 1 in 30 billion with a million held), which
/// would refuse the newer one as a replay. Not thread-safe (one per server executor).
class ReplayCache {
  public:
    enum class Outcome { accepted, replayed, full };

    ReplayCache(std::int64_t window_seconds, std::size_t capacity);

    /// Records `nonce` seen at `now` (seconds of a monotonic clock: the steady clock, never the
    /// wall clock, which may step) unless it was seen within the window.
    Outcome check_and_insert(std::string_view nonce, std::int64_t now);
    std::size_t size() const { return current_.size() + previous_.size(); }
    /// Bytes of slot storage held (both generations).
    std::size_t storage_bytes() const { return current_.storage_bytes() + previous_.storage_bytes(); }

  private:
    /// A set of non-zero 54-bit fingerprints in 64 segments of 6-byte slots, each segment with
    /// linear probing and doubled when three quarters full.
    class FingerprintSet {
      public:
        bool contains(std::uint64_t fingerprint) const;
        void insert(std::uint64_t fingerprint);
        std::size_t size() const { return count_; }
        std::size_t storage_bytes() const;
        void clear();
        void swap(FingerprintSet& other) noexcept {
            segments_.swap(other.segments_);
            std::swap(count_, other.count_);
        }

      private:
        struct Segment {
            std::vector<unsigned char> slots;  // 6 bytes each; all zero marks an empty slot
            std::size_t count = 0;
            std::size_t capacity() const { return slots.size() / 6; }
        };
        static void put(Segment& segment, std::uint64_t stored);
        std::array<Segment, 64> segments_;
        std::size_t count_ = 0;
    };

    std::uint64_t fingerprint(std::string_view nonce) const;

    void rotate(std::int64_t now);

    std::int64_t window_;
    std::size_t capacity_;
    std::uint64_t seed_ = 0;
    std::int64_t current_started_ = 0;
    FingerprintSet current_;
    FingerprintSet previous_;
};

}  // namespace nebula::gateway
