#include "gateway/auth/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace nebula::gateway {

RateLimiter::RateLimiter(const common::Clock& clock, int per_minute, std::size_t max_clients)
    : clock_(clock),
      capacity_(per_minute),
      per_second_(per_minute / 60.0),
      max_clients_(max_clients),
      last_sweep_(clock.steady_now()) {}

void RateLimiter::sweep(std::chrono::steady_clock::time_point now) {
    // A bucket that has refilled completely carries no information and can be dropped.
    std::erase_if(buckets_, [&](const auto& entry) {
        double elapsed = std::chrono::duration<double>(now - entry.second.updated).count();
        return entry.second.tokens + elapsed * per_second_ >= capacity_;
    });
    last_sweep_ = now;
}

std::chrono::seconds RateLimiter::acquire(const std::string& client) {
    const auto now = clock_.steady_now();
    if (now - last_sweep_ > std::chrono::minutes(1) || buckets_.size() >= max_clients_) sweep(now);
    auto [it, inserted] = buckets_.try_emplace(client, Bucket{capacity_, now});
    Bucket& bucket = it->second;
    if (!inserted) {
        double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
        bucket.tokens = std::min(capacity_, bucket.tokens + elapsed * per_second_);
        bucket.updated = now;
    }
    if (bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        return std::chrono::seconds{0};
    }
    double wait = (1.0 - bucket.tokens) / per_second_;
    return std::chrono::seconds{std::max<long long>(1, static_cast<long long>(std::ceil(wait)))};
}

}  // namespace nebula::gateway
