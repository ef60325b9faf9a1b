#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"

namespace nebula::gateway {

/// At most `per_minute` accepted requests per client address in any 60-second window.
///
/// A sliding window of 61 one-second counters per client (256 bytes, whatever the limit): a
/// request is accepted when fewer than `per_minute` were accepted in the current second and the
/// 60 before it, so no 60-second window, however placed, ever holds more; a refused client may
/// wait up to a second longer than an exact log would make it. Clients whose window is empty
/// are forgotten; at most `max_clients` are tracked, and a new client beyond that is refused
/// until one ages out. Not thread-safe.
class RateLimiter {
  public:
    RateLimiter(const common::Clock& clock, int per_minute, std::size_t max_clients = 10'000);

    /// How long `client` must wait before a request could be accepted: zero when one could be
    /// now. Spends nothing, so a request that is refused later (a bad signature) costs nothing.
    std::chrono::seconds check(const std::string& client);
    /// Counts one accepted request for `client` and returns zero, or, when that would exceed the
    /// limit, counts nothing and returns how long to wait.
    std::chrono::seconds acquire(const std::string& client);
    std::size_t tracked_clients() const { return windows_.size(); }

  private:
    static constexpr std::size_t kSlots = 61;
    struct Window {
        std::int64_t newest = 0;  ///< the second the last count went to
        std::uint32_t total = 0;  ///< the sum of `counts`
        std::array<std::uint32_t, kSlots> counts{};
    };
    std::int64_t second() const;
    static void advance(Window& window, std::int64_t now);
    std::chrono::seconds wait(const Window& window, std::int64_t now) const;
    /// The client's window, advanced to `now`; null when the table is full and `client` is new.
    Window* find(const std::string& client, std::int64_t now, bool create);
    void sweep(std::int64_t now);

    const common::Clock& clock_;
    std::uint32_t limit_;
    std::size_t max_clients_;
    std::int64_t last_sweep_;
    std::unordered_map<std::string, Window> windows_;
};

}  // namespace nebula::gateway
