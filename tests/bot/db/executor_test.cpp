#include "bot/db/executor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "bot/support/test_database.hpp"

namespace nebula::bot::db {
namespace {

namespace asio = boost::asio;
using testing::BackendTest;

class DbExecutorTest : public BackendTest {};

TEST_P(DbExecutorTest, RunsOffTheCallerThreadAndResumesOnIt) {
    auto executor = DbExecutor::open(db().url(), 2);
    ASSERT_TRUE(executor.has_value()) << executor.error();
    asio::io_context io;
    const auto io_thread = std::this_thread::get_id();
    std::thread::id worker_thread;
    std::thread::id resumed_thread;
    std::int64_t answer = 0;
    bool threw = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            answer = co_await (*executor)->run([&](Connection& c) {
                worker_thread = std::this_thread::get_id();
                return *c.scalar<std::int64_t>("SELECT 6 * 7");
            });
            resumed_thread = std::this_thread::get_id();
            co_await (*executor)->run([](Connection& c) { c.execute_script("CREATE TABLE t (v BIGINT)"); });
            try {
                co_await (*executor)->run([](Connection& c) -> int {
                    c.exec("INSERT INTO missing_table VALUES (1)");
                    return 1;
                });
            } catch (const DbError&) {
                threw = true;
            }
        },
        asio::detached);
    io.run();
    EXPECT_EQ(answer, 42);
    EXPECT_NE(worker_thread, io_thread);
    EXPECT_EQ(resumed_thread, io_thread);
    EXPECT_TRUE(threw);
}

TEST_P(DbExecutorTest, ManyConcurrentCallersEachGetTheirResult) {
    auto executor = DbExecutor::open(db().url(), 3);
    ASSERT_TRUE(executor.has_value()) << executor.error();
    conn().execute_script("CREATE TABLE counter (v BIGINT NOT NULL)");
    asio::io_context io;
    std::atomic<int> correct = 0;
    for (int i = 0; i < 50; ++i) {
        asio::co_spawn(
            io,
            [&, i]() -> asio::awaitable<void> {
                const auto echoed = co_await (*executor)->run([i](Connection& c) {
                    c.exec("INSERT INTO counter (v) VALUES (?)", i);
                    return *c.scalar<std::int64_t>("SELECT ? + 0", i);
                });
                if (echoed == i) ++correct;
            },
            asio::detached);
    }
    io.run();
    EXPECT_EQ(correct, 50);
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT COUNT(*) FROM counter"), 50);
}

// Every write transaction is counted, reads are not (on both backends); and no commit checkpoints the WAL
// (with its fsync) itself: once a commit leaves the WAL past SQLite's 1,000 pages, the pool's own thread does
// it.
TEST_P(DbExecutorTest, WritesAreCountedAndTheWalIsCheckpointedOffTheCommittingThread) {
    auto executor = DbExecutor::open(db().url(), 2);
    ASSERT_TRUE(executor.has_value()) << executor.error();
    auto& pool = (*executor)->pool();
    conn().execute_script("CREATE TABLE blobs (v TEXT NOT NULL)");
    asio::io_context io;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await (*executor)->run(
                [](Connection& c) { return c.scalar<std::int64_t>("SELECT COUNT(*) FROM blobs"); });
            // 40 × 120 KB: about 1,200 pages of 4 KiB.
            for (int i = 0; i < 40; ++i) {
                co_await (*executor)->run([](Connection& c) {
                    return c.exec("INSERT INTO blobs (v) VALUES (?)", std::string(120'000, 'x'));
                });
            }
        },
        asio::detached);
    io.run();
    EXPECT_EQ(pool.write_transactions(), 40U);
    if (GetParam() != Backend::sqlite) {
        EXPECT_EQ(pool.checkpoints(), 0U);  // PostgreSQL checkpoints by itself
        return;
    }
    // The checkpoint thread is woken by the commit that crossed the threshold; a generous
    // deadline is only a safety net.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (pool.checkpoints() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    EXPECT_GE(pool.checkpoints(), 1U);
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT COUNT(*) FROM blobs"), 40);
}

NEBULA_INSTANTIATE_FOR_BACKENDS(DbExecutorTest);

}  // namespace
}  // namespace nebula::bot::db
