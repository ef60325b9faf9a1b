#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"

namespace nebula::gateway {

/// A token bucket per client address: `per_minute` requests a minute on average, bursts up to
/// `per_minute`. Idle buckets are forgotten so the table stays small. Not thread-safe.
class RateLimiter {
  public:
    RateLimiter(const common::Clock& clock, int per_minute, std::size_t max_clients = 100'000);

    /// Takes one token for `client`. Returns zero when allowed, otherwise how long to wait.
    std::chrono::seconds acquire(const std::string& client);
    std::size_t tracked_clients() const { return buckets_.size(); }

  private:
    struct Bucket {
        double tokens;
        std::chrono::steady_clock::time_point updated;
    };
    void sweep(std::chrono::steady_clock::time_point now);

    const common::Clock& clock_;
    double capacity_;
    double per_second_;
    std::size_t max_clients_;
    std::chrono::steady_clock::time_point last_sweep_;
    std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace nebula::gateway
