#include "bot/db/executor.hpp"

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
    return std::unique_ptr<ConnectionPool>(new ConnectionPool(url.backend, std::move(connections)));
}

ConnectionPool::ConnectionPool(Backend backend, std::vector<std::unique_ptr<Connection>> connections)
    : backend_(backend), size_(connections.size()), idle_(std::move(connections)) {}

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
