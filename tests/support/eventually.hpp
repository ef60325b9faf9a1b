#pragma once

#include <chrono>
#include <functional>
#include <stdexcept>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace nebula::testing {

/// Waits on the calling coroutine's executor until `condition` holds, re-checking it every 5 ms,
/// for state that does not signal a change (handler counters, what a fake recorded). Returns
/// false once `limit` has passed: a safety net on a loaded machine, not a timing requirement.
inline boost::asio::awaitable<bool> eventually(std::function<bool()> condition,
                                               std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) co_return false;
        timer.expires_after(std::chrono::milliseconds(5));
        co_await timer.async_wait(boost::asio::use_awaitable);
    }
    co_return true;
}

/// eventually(), for steps a test cannot go on without: throws when `limit` passes, which ends
/// the test coroutine and fails the test.
inline boost::asio::awaitable<void> until(std::function<bool()> condition,
                                          std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    const bool reached = co_await eventually(std::move(condition), limit);
    if (!reached) throw std::runtime_error("condition not reached");
    co_return;  // explicit: g++ 12 with UBSan traps when this coroutine's body just ends
}

}  // namespace nebula::testing
