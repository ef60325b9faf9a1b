#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <optional>
#include <thread>
#include <type_traits>

namespace nebula::testing {

/// An io_context running on its own thread for the lifetime of the object, so tests can drive
/// coroutines from the test thread with `run(...)`.
class IoThread {
  public:
    IoThread() : guard_(io_.get_executor()), thread_([this] { io_.run(); }) {}
    ~IoThread() {
        guard_.reset();
        io_.stop();
        thread_.join();
    }
    IoThread(const IoThread&) = delete;
    IoThread& operator=(const IoThread&) = delete;

    boost::asio::io_context& io() { return io_; }
    boost::asio::any_io_executor executor() { return io_.get_executor(); }

    /// Runs `awaitable` on the io thread and waits for its result (rethrowing its exception).
    template <typename T>
    T run(boost::asio::awaitable<T> awaitable) {
        if constexpr (std::is_void_v<T>) {
            boost::asio::co_spawn(io_, std::move(awaitable), boost::asio::use_future).get();
        } else {
            // use_future needs a default-constructible result; common::Result<T, E> is not.
            auto wrap = [](boost::asio::awaitable<T> inner) -> boost::asio::awaitable<std::optional<T>> {
                co_return co_await std::move(inner);
            };
            return std::move(
                *boost::asio::co_spawn(io_, wrap(std::move(awaitable)), boost::asio::use_future).get());
        }
    }

    /// Runs `fn` on the io thread and waits for it.
    template <typename F>
    auto call(F fn) -> decltype(fn()) {
        std::packaged_task<decltype(fn())()> task(std::move(fn));
        auto future = task.get_future();
        boost::asio::post(io_, [&task] { task(); });
        return future.get();
    }

  private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::thread thread_;
};

}  // namespace nebula::testing
