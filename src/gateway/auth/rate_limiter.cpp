#include "gateway/auth/rate_limiter.hpp"

#include <algorithm>

namespace nebula::gateway {

RateLimiter::RateLimiter(const common::Clock& clock, int per_minute, std::size_t max_clients)
    : clock_(clock),
      limit_(static_cast<std::uint32_t>(std::max(1, per_minute))),
      max_clients_(max_clients),
      last_sweep_(second()) {}

std::int64_t RateLimiter::second() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.steady_now().time_since_epoch()).count();
}

void RateLimiter::advance(Window& window, std::int64_t now) {
    if (now <= window.newest) return;
    if (now - window.newest >= static_cast<std::int64_t>(kSlots)) {
        window.counts.fill(0);
        window.total = 0;
    } else {
        for (auto s = window.newest + 1; s <= now; ++s) {
            auto& slot = window.counts[static_cast<std::size_t>(s) % kSlots];
            window.total -= slot;
            slot = 0;
        }
    }
    window.newest = now;
}

std::chrono::seconds RateLimiter::wait(const Window& window, std::int64_t now) const {
    if (window.total < limit_) return std::chrono::seconds{0};
    // The oldest counts leave the window first: wait until enough of them have.
    const std::uint32_t excess = window.total - limit_ + 1;
    std::uint32_t freed = 0;
    for (std::int64_t s = now - static_cast<std::int64_t>(kSlots) + 1; s <= now; ++s) {
        freed += window.counts[static_cast<std::size_t>(s) % kSlots];
        if (freed >= excess) return std::chrono::seconds{s + static_cast<std::int64_t>(kSlots) - now};
    }
    return std::chrono::seconds{static_cast<std::int64_t>(kSlots)};
}

void RateLimiter::sweep(std::int64_t now) {
    std::erase_if(windows_, [&](const auto& entry) {
        return now - entry.second.newest >= static_cast<std::int64_t>(kSlots);
    });
    last_sweep_ = now;
}

RateLimiter::Window* RateLimiter::find(const std::string& client, std::int64_t now, bool create) {
    if (now - last_sweep_ >= static_cast<std::int64_t>(kSlots)) sweep(now);
    auto it = windows_.find(client);
    if (it == windows_.end()) {
        if (!create) return nullptr;
        if (windows_.size() >= max_clients_) sweep(now);
        if (windows_.size() >= max_clients_) return nullptr;
        it = windows_.try_emplace(client, Window{.newest = now}).first;
    }
    advance(it->second, now);
    return &it->second;
}

std::chrono::seconds RateLimiter::check(const std::string& client) {
    const auto now = second();
    if (const Window* window = find(client, now, false)) return wait(*window, now);
    // A new client: refused only when there is no room to track it.
    if (windows_.size() >= max_clients_) sweep(now);
    return windows_.size() >= max_clients_ ? std::chrono::seconds{static_cast<std::int64_t>(kSlots)}
                                           : std::chrono::seconds{0};
}

std::chrono::seconds RateLimiter::acquire(const std::string& client) {
    const auto now = second();
    Window* window = find(client, now, true);
    if (window == nullptr) return std::chrono::seconds{static_cast<std::int64_t>(kSlots)};
    if (auto w = wait(*window, now); w.count() > 0) return w;
    ++window->counts[static_cast<std::size_t>(now) % kSlots];
    ++window->total;
    return std::chrono::seconds{0};
}

}  // namespace nebula::gateway
