#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_set>

namespace nebula::gateway {

/// Remembers the nonces of accepted (correctly signed) requests so each can be used once.
///
/// Two generations of `window` seconds each: a nonce is remembered for at least `window`
/// seconds and at most twice that. The cache never evicts a live nonce to make room: when
/// `capacity` entries are held, new requests are refused (`full`) until a generation ages out.
/// Only requests whose signature verified may be offered, so an outsider cannot fill it.
/// Nonces are stored as 64-bit keyed hashes. Not thread-safe (one per server executor).
class ReplayCache {
  public:
    enum class Outcome { accepted, replayed, full };

    ReplayCache(std::int64_t window_seconds, std::size_t capacity);

    /// Records `nonce` seen at `now` (unix seconds) unless it was seen within the window.
    Outcome check_and_insert(std::string_view nonce, std::int64_t now);
    std::size_t size() const { return current_.size() + previous_.size(); }

  private:
    void rotate(std::int64_t now);
    std::uint64_t key(std::string_view nonce) const;

    std::int64_t window_;
    std::size_t capacity_;
    std::uint64_t seed_;
    std::int64_t current_started_ = 0;
    std::unordered_set<std::uint64_t> current_;
    std::unordered_set<std::uint64_t> previous_;
};

}  // namespace nebula::gateway
