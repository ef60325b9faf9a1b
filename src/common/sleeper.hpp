#pragma once

#include <chrono>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/clock.hpp"

namespace nebula::common {

/// Waits until a point of a Clock's steady time. The seam that lets rate-limit, scheduler and channel-closing
/// tests run on a ManualClock without sleeping for real.
class Sleeper {
  public:
    virtual ~Sleeper() = default;
    /// Returns at or after `when` (immediately when it has passed).
    virtual boost::asio::awaitable<void> sleep_until(std::chrono::steady_clock::time_point when) = 0;
};

/// Sleeps on an Asio timer for (when - clock.steady_now()).
std::unique_ptr<Sleeper> make_asio_sleeper(boost::asio::any_io_executor executor, const Clock& clock);

/// Virtual time for tests: moves the ManualClock forward to `when` and returns at once (after
/// yielding to the executor, so other work interleaves as it would). Use from one thread.
std::unique_ptr<Sleeper> make_manual_sleeper(boost::asio::any_io_executor executor, ManualClock& clock);

}  // namespace nebula::common
