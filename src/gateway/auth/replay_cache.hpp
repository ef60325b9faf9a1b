#pragma once

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
/// Nonces are stored as 64-bit keyed hashes in flat open-addressing tables (11–22 bytes per
/// nonce). Not thread-safe (one per server executor).
class ReplayCache {
  public:
    enum class Outcome { accepted, replayed, full };

    ReplayCache(std::int64_t window_seconds, std::size_t capacity);

    /// Records `nonce` seen at `now` (unix seconds) unless it was seen within the window.
    Outcome check_and_insert(std::string_view nonce, std::int64_t now);
    std::size_t size() const { return current_.size() + previous_.size(); }

  private:
    /// A set of non-zero 64-bit keys: linear probing, doubled when three quarters full.
    class FlatSet {
      public:
        bool contains(std::uint64_t key) const;
        void insert(std::uint64_t key);
        std::size_t size() const { return count_; }
        void clear() {
            slots_.clear();
            slots_.shrink_to_fit();
            count_ = 0;
        }
        void swap(FlatSet& other) noexcept {
            slots_.swap(other.slots_);
            std::swap(count_, other.count_);
        }

      private:
        std::vector<std::uint64_t> slots_;  // 0 marks an empty slot
        std::size_t count_ = 0;
    };

    void rotate(std::int64_t now);
    std::uint64_t key(std::string_view nonce) const;

    std::int64_t window_;
    std::size_t capacity_;
    std::uint64_t seed_;
    std::int64_t current_started_ = 0;
    FlatSet current_;
    FlatSet previous_;
};

}  // namespace nebula::gateway
