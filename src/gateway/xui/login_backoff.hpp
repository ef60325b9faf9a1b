#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>

#include "common/clock.hpp"

namespace nebula::gateway::xui {

struct LoginBackoffPolicy {
    std::chrono::milliseconds first_delay{2'000};  ///< wait after the first failure; doubles after each
    std::chrono::milliseconds max_delay{300'000};
    std::chrono::milliseconds window{300'000};  ///< the panel's lock-out window
    std::size_t max_failures_in_window = 3;     ///< the panel locks an address out at 5
};

/// Decides when the next panel login may be tried after failed ones, so a wrong password never
/// gets the gateway's address locked out (3x-ui blocks an IP and user for 15 minutes after 5
/// failures within 5 minutes). After a failure the next attempt waits an exponentially growing
/// delay; and at most `max_failures_in_window` failures fall in any window. Time comes from the
/// injected Clock's steady time. Not thread-safe.
class LoginBackoff {
  public:
    explicit LoginBackoff(const common::Clock& clock, LoginBackoffPolicy policy = {});

    /// How long to wait before a login may be tried; nullopt when it may be tried now.
    std::optional<std::chrono::milliseconds> wait_before_attempt() const;
    /// The panel refused the credentials.
    void record_failure();
    /// The panel accepted them: the delay starts again from `first_delay` (failures stay counted
    /// in the window, which the panel keeps too).
    void record_success();
    std::size_t consecutive_failures() const { return consecutive_; }

  private:
    const common::Clock& clock_;
    LoginBackoffPolicy policy_;
    std::deque<std::chrono::steady_clock::time_point> failures_;  // within the last window
    std::size_t consecutive_ = 0;
};

}  // namespace nebula::gateway::xui
