#pragma once

#include <chrono>

namespace nebula::common {

/// The source of time for anything that checks windows, limits or expiry, so tests can
/// substitute a fake clock. Implementations must be thread-safe.
class Clock {
  public:
    virtual ~Clock() = default;
    /// Wall-clock time (Unix epoch).
    virtual std::chrono::system_clock::time_point now() const = 0;
    /// Monotonic time for intervals.
    virtual std::chrono::steady_clock::time_point steady_now() const = 0;

    std::int64_t unix_seconds() const {
        return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
    }
};

class SystemClock final : public Clock {
  public:
    std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
    std::chrono::steady_clock::time_point steady_now() const override {
        return std::chrono::steady_clock::now();
    }
};

/// A clock that moves only when told to. Not thread-safe: advance it from the test thread
/// while the code under test is idle.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(std::chrono::system_clock::time_point start =
                             std::chrono::system_clock::time_point{std::chrono::seconds{1'800'000'000}})
        : now_(start) {}
    std::chrono::system_clock::time_point now() const override { return now_; }
    std::chrono::steady_clock::time_point steady_now() const override {
        return std::chrono::steady_clock::time_point{now_.time_since_epoch()};
    }
    void advance(std::chrono::nanoseconds by) {
        now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
    }
    void set(std::chrono::system_clock::time_point to) { now_ = to; }

  private:
    std::chrono::system_clock::time_point now_;
};

}  // namespace nebula::common
