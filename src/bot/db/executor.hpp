#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/db/connection.hpp"

namespace nebula::bot::db {

/// A fixed set of open connections. acquire() blocks until one is free. Thread-safe.
class ConnectionPool {
  public:
    /// Opens `size` connections up front, so a bad URL or an unreachable server fails start-up.
    static common::Result<std::unique_ptr<ConnectionPool>, std::string> open(const DatabaseUrl& url,
                                                                             std::size_t size);

    /// A borrowed connection, returned to the pool when the lease is destroyed.
    class Lease {
      public:
        Lease(ConnectionPool& pool, std::unique_ptr<Connection> connection)
            : pool_(&pool), connection_(std::move(connection)) {}
        Lease(Lease&&) = default;
        Lease& operator=(Lease&&) = delete;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() {
            if (connection_) pool_->release(std::move(connection_));
        }
        Connection& operator*() const { return *connection_; }
        Connection* operator->() const { return connection_.get(); }

      private:
        ConnectionPool* pool_;
        std::unique_ptr<Connection> connection_;
    };

    Lease acquire();
    Backend backend() const { return backend_; }
    std::size_t size() const { return size_; }

  private:
    ConnectionPool(Backend backend, std::vector<std::unique_ptr<Connection>> connections);
    void release(std::unique_ptr<Connection> connection);

    Backend backend_;
    std::size_t size_;
    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<Connection>> idle_;
};

/// Runs blocking database work on its own threads so network threads never wait on SQLite or
/// libpq. `co_await executor.run(fn)` calls fn(Connection&) on a pool thread with a leased
/// connection, then resumes the awaiting coroutine on its own executor with fn's result (or
/// rethrows fn's exception there). Thread-safe. Destroying the executor waits for queued work.
class DbExecutor {
  public:
    /// `threads` worker threads sharing as many connections.
    static common::Result<std::unique_ptr<DbExecutor>, std::string> open(const DatabaseUrl& url,
                                                                         std::size_t threads);
    ~DbExecutor();
    DbExecutor(const DbExecutor&) = delete;
    DbExecutor& operator=(const DbExecutor&) = delete;

    Backend backend() const { return pool_->backend(); }
    ConnectionPool& pool() { return *pool_; }

    template <typename F>
    auto run(F fn) -> boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> {
        using R = std::invoke_result_t<F&, Connection&>;
        if constexpr (std::is_void_v<R>) {
            co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                 void(std::exception_ptr)>(
                [this, fn = std::move(fn)](auto handler) mutable {
                    dispatch_work(std::move(fn), std::move(handler));
                },
                boost::asio::use_awaitable);
        } else {
            auto result = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                               void(std::exception_ptr, std::optional<R>)>(
                [this, fn = std::move(fn)](auto handler) mutable {
                    dispatch_work(std::move(fn), std::move(handler));
                },
                boost::asio::use_awaitable);
            co_return std::move(*result);
        }
    }

  private:
    explicit DbExecutor(std::unique_ptr<ConnectionPool> pool, std::size_t threads);

    template <typename F, typename Handler>
    void dispatch_work(F fn, Handler handler) {
        auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
        boost::asio::post(threads_, [this, fn = std::move(fn), handler = std::move(handler),
                                     work = std::move(work)]() mutable {
            using R = std::invoke_result_t<F&, Connection&>;
            std::exception_ptr error;
            if constexpr (std::is_void_v<R>) {
                try {
                    auto lease = pool_->acquire();
                    fn(*lease);
                } catch (...) {
                    error = std::current_exception();
                }
                auto target = work.get_executor();
                boost::asio::dispatch(
                    target, [handler = std::move(handler), error]() mutable { std::move(handler)(error); });
            } else {
                std::optional<R> result;
                try {
                    auto lease = pool_->acquire();
                    result.emplace(fn(*lease));
                } catch (...) {
                    error = std::current_exception();
                }
                auto target = work.get_executor();
                boost::asio::dispatch(
                    target, [handler = std::move(handler), error, result = std::move(result)]() mutable {
                        std::move(handler)(error, std::move(result));
                    });
            }
            work.reset();
        });
    }

    std::unique_ptr<ConnectionPool> pool_;
    boost::asio::thread_pool threads_;
};

}  // namespace nebula::bot::db
