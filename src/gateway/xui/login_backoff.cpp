#include "gateway/xui/login_backoff.hpp"

#include <algorithm>

namespace nebula::gateway::xui {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

LoginBackoff::LoginBackoff(const common::Clock& clock, LoginBackoffPolicy policy)
    : clock_(clock), policy_(policy) {}

std::optional<milliseconds> LoginBackoff::wait_before_attempt() const {
    if (failures_.empty()) return std::nullopt;
    const auto now = clock_.steady_now();
    steady_clock::time_point allowed = now;
    if (consecutive_ > 0) {
        milliseconds delay = policy_.first_delay;
        for (std::size_t i = 1; i < consecutive_ && delay < policy_.max_delay; ++i) delay *= 2;
        allowed = std::max(allowed, failures_.back() + std::min(delay, policy_.max_delay));
    }
    // Failures older than the window no longer count towards the panel's limit.
    std::size_t recent = 0;
    for (auto t : failures_) {
        if (t + policy_.window > now) ++recent;
    }
    if (recent >= policy_.max_failures_in_window) {
        // The attempt must wait until enough failures have left the window.
        auto oldest_needed = failures_[failures_.size() - policy_.max_failures_in_window];
        allowed = std::max(allowed, oldest_needed + policy_.window);
    }
    if (allowed <= now) return std::nullopt;
    return std::chrono::ceil<milliseconds>(allowed - now);
}

void LoginBackoff::record_failure() {
    failures_.push_back(clock_.steady_now());
    // Only the latest few failures can decide a wait.
    while (failures_.size() > policy_.max_failures_in_window) failures_.pop_front();
    ++consecutive_;
}

void LoginBackoff::record_success() { consecutive_ = 0; }

}  // namespace nebula::gateway::xui
