#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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
/// On SQLite the pool also owns one more connection and a thread that checkpoints the WAL when a
/// commit has grown it past SQLite's threshold, so no caller's commit waits for that fsync.
class ConnectionPool {
  public:
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool&) = delete;
    ConnectionPool& operator=(const ConnectionPool&) = delete;

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
    /// Write transactions committed on the pool's connections (Connection::write_transactions).
    std::uint64_t write_transactions() const;
    /// WAL checkpoints the pool's own thread has run (SQLite).
    std::uint64_t checkpoints() const { return checkpoints_.load(std::memory_order_relaxed); }

  private:
    ConnectionPool(Backend backend, std::vector<std::unique_ptr<Connection>> connections,
                   std::unique_ptr<Connection> checkpointer);
    void release(std::unique_ptr<Connection> connection);
    void run_checkpoints();

    Backend backend_;
    std::size_t size_;
    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<Connection>> idle_;
    std::vector<const Connection*> all_;  // every connection, leased or idle, for the counters

    std::unique_ptr<Connection> checkpointer_;  // SQLite only
    std::mutex checkpoint_mutex_;
    std::condition_variable checkpoint_wanted_;
    bool checkpoint_due_ = false;
    bool stopping_ = false;
    std::atomic<std::uint64_t> checkpoints_{0};
    std::thread checkpoint_thread_;
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
    /// Tasks handed to run() since start-up: each one a hop from the caller's thread to a database
    /// thread and back (a customer's click makes at most one).
    std::uint64_t tasks() const { return tasks_.load(std::memory_order_relaxed); }

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
        tasks_.fetch_add(1, std::memory_order_relaxed);
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
    std::atomic<std::uint64_t> tasks_{0};
    boost::asio::thread_pool threads_;
};

}  // namespace nebula::bot::db
