#include "common/task_group.hpp"

#include <chrono>
#include <memory>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace nebula::common {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<void> wait_long(asio::any_io_executor ex, bool& finished) {
    asio::steady_timer timer(ex, 1h);
    co_await timer.async_wait(asio::use_awaitable);
    finished = true;
}

asio::awaitable<void> hop(asio::any_io_executor ex, int times, int& hops) {
    for (int i = 0; i < times; ++i) {
        co_await asio::post(ex, asio::use_awaitable);
        ++hops;
    }
}

/// Spawns a coroutine that joins `group`, then sets `joined`.
void join_later(asio::io_context& io, TaskGroup& group, bool& joined) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await group.join();
            joined = true;
        },
        asio::detached);
}

TEST(TaskGroup, JoinWaitsForEveryTaskToFinish) {
    asio::io_context io;
    TaskGroup group(io.get_executor());
    int hops_a = 0, hops_b = 0;
    group.spawn("a", hop(io.get_executor(), 3, hops_a));
    group.spawn("b", hop(io.get_executor(), 7, hops_b));
    EXPECT_EQ(group.size(), 2u);
    bool joined = false;
    join_later(io, group, joined);
    io.run();
    EXPECT_TRUE(joined);
    EXPECT_EQ(hops_a, 3);
    EXPECT_EQ(hops_b, 7);
    EXPECT_EQ(group.size(), 0u);
}

TEST(TaskGroup, CancelEndsPendingWaitsAndRefusesNewTasks) {
    asio::io_context io;
    TaskGroup group(io.get_executor());
    bool finished = false;
    group.spawn("long wait", wait_long(io.get_executor(), finished));
    bool joined = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await asio::post(io.get_executor(), asio::use_awaitable);
            group.cancel();
            int hops = 0;
            group.spawn("too late", hop(io.get_executor(), 1, hops));
            EXPECT_EQ(group.size(), 1u);
            co_await group.join();
            joined = true;
        },
        asio::detached);
    const auto started = std::chrono::steady_clock::now();
    io.run_for(30s);
    EXPECT_TRUE(joined);
    EXPECT_FALSE(finished);  // the one-hour wait was cancelled, not completed
    EXPECT_LT(std::chrono::steady_clock::now() - started, 25s);
    EXPECT_TRUE(group.cancelled());
}

// cancel() called from outside the executor (a test's tear-down, another thread's shutdown) while
// a task is about to finish on its own: the task's own resumption is queued before the
// cancellation, each step runs in its own run_one() (so Asio frees its per-call memory cache in
// between), and nothing may touch the finished task's cancellation state afterwards (ASan).
TEST(TaskGroup, CancelFromOutsideTheExecutorIsSafeWhenATaskFinishesFirst) {
    asio::io_context io;
    TaskGroup group(io.get_executor());
    int hops = 0;
    group.spawn("one hop", hop(io.get_executor(), 1, hops));
    ASSERT_EQ(io.run_one(), 1u);  // the task starts and queues its own resumption
    group.cancel();               // not on the executor's thread
    bool joined = false;
    join_later(io, group, joined);
    for (int i = 0; i < 100 && io.run_one() > 0; ++i) {
    }
    EXPECT_TRUE(joined);
    EXPECT_EQ(group.size(), 0u);
}

TEST(TaskGroup, ATaskThatThrowsIsRemovedAndOthersGoOn) {
    asio::io_context io;
    TaskGroup group(io.get_executor());
    int hops = 0;
    group.spawn("throws", []() -> asio::awaitable<void> {
        throw std::runtime_error("boom");
        co_return;
    }());
    group.spawn("hops", hop(io.get_executor(), 2, hops));
    io.run();
    EXPECT_EQ(group.size(), 0u);
    EXPECT_EQ(hops, 2);
}

TEST(TaskGroup, JoinOnAnEmptyGroupCompletesAtOnce) {
    asio::io_context io;
    TaskGroup group(io.get_executor());
    bool joined = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await group.join();
            co_await group.join();
            joined = true;
        },
        asio::detached);
    io.run();
    EXPECT_TRUE(joined);
}

}  // namespace
}  // namespace nebula::common
