#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <vector>

namespace nebula::testing {

/// Runs all `tasks` concurrently on the caller's executor and returns when every one has finished.
inline boost::asio::awaitable<void> all(std::vector<std::function<boost::asio::awaitable<void>()>> tasks) {
    namespace asio = boost::asio;
    auto executor = co_await asio::this_coro::executor;
    auto remaining = std::make_shared<std::size_t>(tasks.size());
    auto timer = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
    for (auto& task : tasks) {
        asio::co_spawn(executor, task(), [remaining, timer](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
            if (--*remaining == 0) timer->cancel();
        });
    }
    if (*remaining > 0) co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace nebula::testing
