#include "gateway/auth/replay_cache.hpp"

#include <algorithm>
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
    return h == 0 ? 1 : h;  // 0 marks an empty slot
}

bool ReplayCache::FlatSet::contains(std::uint64_t key) const {
    if (slots_.empty()) return false;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = key & mask;; i = (i + 1) & mask) {
        if (slots_[i] == key) return true;
        if (slots_[i] == 0) return false;
    }
}

void ReplayCache::FlatSet::insert(std::uint64_t key) {
    // Grown at three quarters full: linear probing stays short and the table stays small.
    if ((count_ + 1) * 4 > slots_.size() * 3) {
        std::vector<std::uint64_t> old(std::max<std::size_t>(1024, slots_.size() * 2), 0);
        old.swap(slots_);
        count_ = 0;
        for (auto k : old) {
            if (k != 0) insert(k);
        }
    }
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = key & mask;
    while (slots_[i] != 0 && slots_[i] != key) i = (i + 1) & mask;
    if (slots_[i] == 0) {
        slots_[i] = key;
        ++count_;
    }
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
