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

namespace {

constexpr std::size_t kSlotBytes = 6;
constexpr std::size_t kFirstSegmentSlots = 256;
constexpr std::uint64_t kStoredMask = (1ULL << 48) - 1;

std::uint64_t load(const unsigned char* slot) {
    std::uint64_t value = 0;
    for (std::size_t b = 0; b < kSlotBytes; ++b) value |= static_cast<std::uint64_t>(slot[b]) << (8 * b);
    return value;
}

void store(unsigned char* slot, std::uint64_t value) {
    for (std::size_t b = 0; b < kSlotBytes; ++b) slot[b] = static_cast<unsigned char>(value >> (8 * b));
}

std::size_t segment_of(std::uint64_t fingerprint) { return static_cast<std::size_t>(fingerprint >> 48); }

}  // namespace

std::uint64_t ReplayCache::fingerprint(std::string_view nonce) const {
    // A per-process seed keeps the stored values unpredictable across restarts.
    std::uint64_t h = std::hash<std::string_view>{}(nonce) ^ seed_;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h >>= 10;                            // 54 bits: 6 choose the segment, 48 are stored
    if ((h & kStoredMask) == 0) h |= 1;  // all zero marks an empty slot
    return h;
}

bool ReplayCache::FingerprintSet::contains(std::uint64_t fingerprint) const {
    const auto& segment = segments_[segment_of(fingerprint)];
    const std::size_t slots = segment.capacity();
    if (slots == 0) return false;
    const std::uint64_t stored = fingerprint & kStoredMask;
    const std::size_t mask = slots - 1;
    for (std::size_t i = stored & mask;; i = (i + 1) & mask) {
        const auto value = load(&segment.slots[i * kSlotBytes]);
        if (value == stored) return true;
        if (value == 0) return false;
    }
}

void ReplayCache::FingerprintSet::put(Segment& segment, std::uint64_t stored) {
    const std::size_t mask = segment.capacity() - 1;
    std::size_t i = stored & mask;
    for (;; i = (i + 1) & mask) {
        const auto value = load(&segment.slots[i * kSlotBytes]);
        if (value == stored) return;
        if (value == 0) break;
    }
    store(&segment.slots[i * kSlotBytes], stored);
    ++segment.count;
}

void ReplayCache::FingerprintSet::insert(std::uint64_t fingerprint) {
    auto& segment = segments_[segment_of(fingerprint)];
    // Grown at three quarters full: linear probing stays short and the segment stays small.
    if ((segment.count + 1) * 4 > segment.capacity() * 3) {
        Segment grown;
        grown.slots.assign(std::max(kFirstSegmentSlots, segment.capacity() * 2) * kSlotBytes, 0);
        for (std::size_t i = 0; i < segment.capacity(); ++i) {
            const auto value = load(&segment.slots[i * kSlotBytes]);
            if (value != 0) put(grown, value);
        }
        segment = std::move(grown);
    }
    const auto before = segment.count;
    put(segment, fingerprint & kStoredMask);
    count_ += segment.count - before;
}

std::size_t ReplayCache::FingerprintSet::storage_bytes() const {
    std::size_t bytes = 0;
    for (const auto& segment : segments_) bytes += segment.slots.size();
    return bytes;
}

void ReplayCache::FingerprintSet::clear() {
    for (auto& segment : segments_) {
        segment.slots.clear();
        segment.slots.shrink_to_fit();
        segment.count = 0;
    }
    count_ = 0;
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
    const auto f = fingerprint(nonce);
    if (current_.contains(f) || previous_.contains(f)) return Outcome::replayed;
    if (size() >= capacity_) return Outcome::full;
    current_.insert(f);
    return Outcome::accepted;
}

}  // namespace nebula::gateway
