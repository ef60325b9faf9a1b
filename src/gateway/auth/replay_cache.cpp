#include "gateway/auth/replay_cache.hpp"

#include <cstring>
#include <functional>

#include "common/crypto.hpp"

namespace nebula::gateway {

ReplayCache::ReplayCache(std::int64_t window_seconds, std::size_t capacity)
    : window_(window_seconds), capacity_(capacity) {
    auto bytes = common::random_bytes(sizeof(seed_));
    std::memcpy(&seed_, bytes.data(), sizeof(seed_));
}

std::uint64_t ReplayCache::key(std::string_view nonce) const {
    // A per-process seed keeps the stored hashes unpredictable across restarts.
    std::uint64_t h = std::hash<std::string_view>{}(nonce) ^ seed_;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

void ReplayCache::rotate(std::int64_t now) {
    if (now - current_started_ < window_) return;
    if (now - current_started_ >= 2 * window_) {
        previous_.clear();
    } else {
        previous_.swap(current_);
    }
    current_.clear();
    current_started_ = now;
}

ReplayCache::Outcome ReplayCache::check_and_insert(std::string_view nonce, std::int64_t now) {
    rotate(now);
    const auto k = key(nonce);
    if (current_.contains(k) || previous_.contains(k)) return Outcome::replayed;
    if (size() >= capacity_) return Outcome::full;
    current_.insert(k);
    return Outcome::accepted;
}

}  // namespace nebula::gateway
