#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace nebula::discord::testing {

/// Runs `body` as a coroutine on `io` until it finishes; fails the test when it throws or does
/// not finish within `limit` (a watchdog for hangs, not a wait for an event).
inline void run(boost::asio::io_context& io, std::function<boost::asio::awaitable<void>()> body,
                std::chrono::seconds limit = std::chrono::seconds(60)) {
    bool done = false;
    std::exception_ptr error;
    boost::asio::co_spawn(io, body(), [&](std::exception_ptr e) {
        error = e;
        done = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_one_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(done) << "test coroutine did not finish within " << limit.count() << " s";
    if (error) std::rethrow_exception(error);
}

/// Runs `io` until `flag` becomes true or `limit` passes.
inline void drain_until(boost::asio::io_context& io, const bool& flag,
                        std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!flag && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_one_for(std::chrono::milliseconds(50));
    }
}

}  // namespace nebula::discord::testing
