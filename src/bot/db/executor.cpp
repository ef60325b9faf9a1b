#include "bot/db/executor.hpp"

#include <spdlog/spdlog.h>

namespace nebula::bot::db {

common::Result<std::unique_ptr<ConnectionPool>, std::string> ConnectionPool::open(const DatabaseUrl& url,
                                                                                  std::size_t size) {
    if (size == 0) size = 1;
    std::vector<std::unique_ptr<Connection>> connections;
    for (std::size_t i = 0; i < size; ++i) {
        auto connection = open_connection(url);
        if (!connection) return common::unexpected(connection.error());
        connections.push_back(std::move(connection).value());
    }
    std::unique_ptr<Connection> checkpointer;
    if (url.backend == Backend::sqlite) {
        auto connection = open_connection(url);
        if (!connection) return common::unexpected(connection.error());
        checkpointer = std::move(connection).value();
    }
    return std::unique_ptr<ConnectionPool>(
        new ConnectionPool(url.backend, std::move(connections), std::move(checkpointer)));
}

ConnectionPool::ConnectionPool(Backend backend, std::vector<std::unique_ptr<Connection>> connections,
                               std::unique_ptr<Connection> checkpointer)
    : backend_(backend),
      size_(connections.size()),
      idle_(std::move(connections)),
      checkpointer_(std::move(checkpointer)) {
    for (const auto& connection : idle_) all_.push_back(connection.get());
    if (!checkpointer_) return;
    for (const auto& connection : idle_) {
        connection->hand_off_checkpoints([this] {
            {
                std::lock_guard lock(checkpoint_mutex_);
                checkpoint_due_ = true;
            }
            checkpoint_wanted_.notify_one();
        });
    }
    checkpoint_thread_ = std::thread([this] { run_checkpoints(); });
}

ConnectionPool::~ConnectionPool() {
    if (!checkpoint_thread_.joinable()) return;
    {
        std::lock_guard lock(checkpoint_mutex_);
        stopping_ = true;
    }
    checkpoint_wanted_.notify_one();
    checkpoint_thread_.join();
}

void ConnectionPool::run_checkpoints() {
    std::unique_lock lock(checkpoint_mutex_);
    while (true) {
        checkpoint_wanted_.wait(lock, [this] { return checkpoint_due_ || stopping_; });
        if (stopping_) return;
        checkpoint_due_ = false;
        lock.unlock();
        try {
            checkpointer_->checkpoint();
            checkpoints_.fetch_add(1, std::memory_order_relaxed);
        } catch (const std::exception& e) {
            spdlog::warn("database: WAL checkpoint failed: {}", e.what());
        }
        lock.lock();
    }
}

std::uint64_t ConnectionPool::write_transactions() const {
    std::uint64_t total = 0;
    for (const auto* connection : all_) total += connection->write_transactions();
    return total;
}

ConnectionPool::Lease ConnectionPool::acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [this] { return !idle_.empty(); });
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(connection));
}

void ConnectionPool::release(std::unique_ptr<Connection> connection) {
    {
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(connection));
    }
    available_.notify_one();
}

common::Result<std::unique_ptr<DbExecutor>, std::string> DbExecutor::open(const DatabaseUrl& url,
                                                                          std::size_t threads) {
    if (threads == 0) threads = 1;
    auto pool = ConnectionPool::open(url, threads);
    if (!pool) return common::unexpected(pool.error());
    return std::unique_ptr<DbExecutor>(new DbExecutor(std::move(pool).value(), threads));
}

DbExecutor::DbExecutor(std::unique_ptr<ConnectionPool> pool, std::size_t threads)
    : pool_(std::move(pool)), threads_(threads) {}

DbExecutor::~DbExecutor() { threads_.join(); }

}  // namespace nebula::bot::db
