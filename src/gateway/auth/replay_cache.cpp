#include "gateway/auth/replay_cache.hpp"

#include <algorithm>
#include <limits>

namespace nebula::gateway {

namespace {

constexpr std::size_t kSlotBytes = 5;
constexpr int kStoredBits = 40;
constexpr std::uint64_t kStoredMask = (1ULL << kStoredBits) - 1;
// 4,080 bytes: with the allocator's header a block takes one 4 KiB chunk, and the chunks a grown
// segment gives back fit the next segment that grows.
constexpr std::size_t kBlockSlots = 816;
constexpr std::size_t kFirstSlots = 16;

std::uint64_t load(const unsigned char* slot) {
    std::uint64_t value = 0;
    for (std::size_t b = 0; b < kSlotBytes; ++b) value |= static_cast<std::uint64_t>(slot[b]) << (8 * b);
    return value;
}

void store(unsigned char* slot, std::uint64_t value) {
    for (std::size_t b = 0; b < kSlotBytes; ++b) slot[b] = static_cast<unsigned char>(value >> (8 * b));
}

std::size_t segment_of(std::uint64_t fingerprint) { return static_cast<std::size_t>(fingerprint >> 58); }

std::uint64_t stored_of(std::uint64_t fingerprint) {
    const auto stored = fingerprint & kStoredMask;
    return stored == 0 ? 1 : stored;  // all zero marks an empty slot
}

// The home slot scales the stored value onto the table (no power-of-two sizes needed), so it can
// be found again from the stored bits alone when the table grows.
std::size_t home_of(std::uint64_t stored, std::size_t slots) {
    return static_cast<std::size_t>(((stored >> (kStoredBits - 32)) * slots) >> 32);
}

}  // namespace

unsigned char* ReplayCache::FingerprintSet::Segment::slot(std::size_t i) {
    return blocks[i / kBlockSlots].data() + (i % kBlockSlots) * kSlotBytes;
}

const unsigned char* ReplayCache::FingerprintSet::Segment::slot(std::size_t i) const {
    return blocks[i / kBlockSlots].data() + (i % kBlockSlots) * kSlotBytes;
}

bool ReplayCache::FingerprintSet::contains(std::uint64_t fingerprint) const {
    const auto& segment = segments_[segment_of(fingerprint)];
    if (segment.slots == 0) return false;
    const std::uint64_t stored = stored_of(fingerprint);
    for (std::size_t i = home_of(stored, segment.slots);;) {
        const auto value = load(segment.slot(i));
        if (value == stored) return true;
        if (value == 0) return false;
        if (++i == segment.slots) i = 0;
    }
}

void ReplayCache::FingerprintSet::put(Segment& segment, std::uint64_t stored) {
    std::size_t i = home_of(stored, segment.slots);
    while (load(segment.slot(i)) != 0) {
        if (++i == segment.slots) i = 0;
    }
    store(segment.slot(i), stored);
    ++segment.count;
}

void ReplayCache::FingerprintSet::grow(Segment& segment) {
    // Small tables double up to one block; then they grow by a whole block, or by an eighth
    // once that is more.
    std::size_t slots = std::min(std::max(kFirstSlots, segment.slots * 2), kBlockSlots);
    if (segment.slots >= kBlockSlots) {
        const std::size_t blocks = segment.slots / kBlockSlots;
        slots = (blocks + std::max<std::size_t>(1, blocks / 8)) * kBlockSlots;
    }
    Segment grown;
    grown.slots = slots;
    for (std::size_t left = slots; left > 0;) {
        const std::size_t n = std::min(left, kBlockSlots);
        grown.blocks.emplace_back(n * kSlotBytes);  // zeroed
        left -= n;
    }
    for (std::size_t i = 0; i < segment.slots; ++i) {
        if (const auto value = load(segment.slot(i)); value != 0) put(grown, value);
    }
    segment = std::move(grown);
}

void ReplayCache::FingerprintSet::insert(std::uint64_t fingerprint) {
    auto& segment = segments_[segment_of(fingerprint)];
    // At most 9/10 full (a lookup of an absent fingerprint reads about 50 slots, 250 bytes), and
    // a table grown by an eighth is still 4/5 full.
    if ((segment.count + 1) * 10 > segment.slots * 9) grow(segment);
    put(segment, stored_of(fingerprint));
    ++count_;
}

std::size_t ReplayCache::FingerprintSet::storage_bytes() const {
    std::size_t bytes = 0;
    for (const auto& segment : segments_) bytes += segment.slots * kSlotBytes;
    return bytes;
}

void ReplayCache::FingerprintSet::clear() {
    for (auto& segment : segments_) segment = Segment{};
    count_ = 0;
}

ReplayCache::ReplayCache(std::int64_t window_seconds, std::size_t capacity)
    : window_(std::max<std::int64_t>(window_seconds, 1)),
      span_seconds_((window_ + kSpansPerWindow - 1) / kSpansPerWindow),
      capacity_(capacity),
      hash_(common::random_bytes(16)),
      latest_(std::numeric_limits<std::int64_t>::min()) {}

std::int64_t ReplayCache::span_of(std::int64_t now) const {
    const auto q = now / span_seconds_;
    return now % span_seconds_ < 0 ? q - 1 : q;
}

void ReplayCache::expire(std::int64_t now) {
    // A bucket holds nonces accepted before the end of its span: all of them are more than
    // `window` seconds old once the end of the span is.
    for (auto& bucket : buckets_) {
        if (bucket.used && (bucket.span + 1) * span_seconds_ + window_ <= now) {
            bucket.set.clear();
            bucket.used = false;
        }
    }
}

std::size_t ReplayCache::size() const {
    std::size_t n = 0;
    for (const auto& bucket : buckets_) n += bucket.set.size();
    return n;
}

std::size_t ReplayCache::storage_bytes() const {
    std::size_t bytes = 0;
    for (const auto& bucket : buckets_) bytes += bucket.set.storage_bytes();
    return bytes;
}

ReplayCache::Outcome ReplayCache::check_and_insert(std::string_view nonce, std::int64_t now) {
    now = std::max(now, latest_);
    latest_ = now;
    expire(now);
    const auto fingerprint = hash_(nonce);
    for (const auto& bucket : buckets_) {
        if (bucket.used && bucket.set.contains(fingerprint)) return Outcome::replayed;
    }
    if (size() >= capacity_) return Outcome::full;
    // The five buckets go round: the one this span reuses held a span at least five spans ago,
    // which expire() has released.
    const auto span = span_of(now);
    const auto count = static_cast<std::int64_t>(buckets_.size());
    auto& bucket = buckets_[static_cast<std::size_t>(((span % count) + count) % count)];
    if (!bucket.used) {
        bucket.used = true;
        bucket.span = span;
    }
    bucket.set.insert(fingerprint);
    return Outcome::accepted;
}

}  // namespace nebula::gateway
