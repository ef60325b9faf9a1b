#include "bot/jobs/scheduler.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <fstream>

#include "bot/db/job_runs.hpp"
#include "bot/db/migrations.hpp"
#include "bot/support/test_database.hpp"
#include "discord/test_support.hpp"

namespace nebula::bot::testing {
namespace {

namespace asio = boost::asio;
using jobs::JobResult;
using jobs::Schedule;
using jobs::Scheduler;
using namespace std::chrono_literals;

class SchedulerTest : public MigratedBackendTest {
  protected:
    void SetUp() override {
        MigratedBackendTest::SetUp();
        auto executor = db::DbExecutor::open(db().url(), 2);
        ASSERT_TRUE(executor) << executor.error();
        executor_ = std::move(*executor);
    }
    void TearDown() override {
        executor_.reset();
        MigratedBackendTest::TearDown();
    }
    void run(std::function<asio::awaitable<void>()> body) { nebula::discord::testing::run(io_, body); }

    asio::io_context io_;
    common::ManualClock clock_;
    ui::TimeZone zone_ = ui::TimeZone::utc();
    std::unique_ptr<db::DbExecutor> executor_;
};

TEST_P(SchedulerTest, RunsDueJobsAndAFailingJobAgainNextTime) {
    Scheduler scheduler(*executor_, clock_, zone_);
    int ok_runs = 0, failing_runs = 0;
    scheduler.add("ok", Schedule::every(10min), [&]() -> asio::awaitable<JobResult> {
        ++ok_runs;
        co_return std::string("fine");
    });
    scheduler.add("failing", Schedule::every(10min), [&]() -> asio::awaitable<JobResult> {
        ++failing_runs;
        if (failing_runs == 1) throw std::runtime_error("gateway down");
        co_return JobResult(common::unexpected(std::string("still down")));
    });
    run([&]() -> asio::awaitable<void> { EXPECT_EQ(co_await scheduler.run_due(), 2); });
    run([&]() -> asio::awaitable<void> { EXPECT_EQ(co_await scheduler.run_due(), 0); });
    clock_.advance(10min);
    run([&]() -> asio::awaitable<void> { EXPECT_EQ(co_await scheduler.run_due(), 2); });
    EXPECT_EQ(ok_runs, 2);
    EXPECT_EQ(failing_runs, 2);
    const auto stats = scheduler.stats();
    EXPECT_EQ(stats[0].runs, 2u);
    EXPECT_EQ(stats[0].failures, 0u);
    EXPECT_EQ(stats[1].failures, 2u);
    EXPECT_EQ(stats[1].last_message, "still down");
    EXPECT_EQ(stats[1].last_ok, false);
    auto failures = std::make_shared<std::int64_t>(0);
    run([&]() -> asio::awaitable<void> {
        *failures = co_await executor_->run([](db::Connection& c) {
            return *c.scalar<std::int64_t>("SELECT failures FROM job_runs WHERE name = 'failing'");
        });
    });
    EXPECT_EQ(*failures, 2);
}

TEST_P(SchedulerTest, AJobNeverRunsTwiceAtOnce) {
    Scheduler scheduler(*executor_, clock_, zone_);
    Scheduler other_process(*executor_, clock_, zone_);
    asio::steady_timer gate(io_, asio::steady_timer::time_point::max());
    int runs = 0;
    auto slow = [&]() -> asio::awaitable<JobResult> {
        ++runs;
        co_await gate.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return std::string("done");
    };
    scheduler.add("slow", Schedule::every(1h), slow);
    other_process.add("slow", Schedule::every(1h), slow);
    run([&]() -> asio::awaitable<void> {
        bool first_done = false;
        asio::co_spawn(
            io_,
            [&]() -> asio::awaitable<void> {
                auto result = co_await scheduler.run_now("slow");
                EXPECT_TRUE(result.has_value());
                first_done = true;
            },
            asio::detached);
        while (runs == 0) co_await asio::post(io_, asio::use_awaitable);
        auto same = co_await scheduler.run_now("slow");
        EXPECT_FALSE(same.has_value());
        if (!same) {
            EXPECT_EQ(same.error(), jobs::RunRefusal::already_running);
        }
        auto elsewhere = co_await other_process.run_now("slow");
        EXPECT_FALSE(elsewhere.has_value()) << "the lease in job_runs stops a second process";
        gate.expires_at(asio::steady_timer::time_point::min());  // this wait and every later one end at once
        while (!first_done) co_await asio::post(io_, asio::use_awaitable);
        auto after = co_await other_process.run_now("slow");
        EXPECT_TRUE(after.has_value()) << "the lease is released when the run ends";
    });
    EXPECT_EQ(runs, 2);
}

TEST_P(SchedulerTest, ALeaseLeftByAStoppedProcessOfThisMachineIsTakenOverAtOnce) {
    // What a SIGKILL mid-run leaves: the job's lease held for another half hour by a process
    // that is gone. A process id at pid_max never exists.
    long pid_max = 0;
    std::ifstream("/proc/sys/kernel/pid_max") >> pid_max;
    ASSERT_GT(pid_max, 0);
    const auto stopped = "nebula-bot" + jobs::lease_holder_suffix(pid_max) + ":killed";
    const auto alive = "nebula-bot" + jobs::lease_holder_suffix(::getppid()) + ":running";
    const auto elsewhere = "nebula-bot@another-machine/pid:[1]#" + std::to_string(pid_max) + ":running";
    ASSERT_TRUE(jobs::lease_holder_stopped(stopped));
    EXPECT_FALSE(jobs::lease_holder_stopped(alive));
    EXPECT_FALSE(jobs::lease_holder_stopped(elsewhere));
    EXPECT_FALSE(
        jobs::lease_holder_stopped("nebula-bot:0f1e2d3c"));  // written before holders named their machine

    Scheduler scheduler(*executor_, clock_, zone_);
    int runs = 0;
    scheduler.add("reconciler", Schedule::every(1min), [&]() -> asio::awaitable<JobResult> {
        ++runs;
        co_return std::string("done");
    });
    auto hold = [&](const std::string& holder) {
        auto& c = conn();
        c.exec("UPDATE job_runs SET holder = NULL, locked_until = NULL WHERE name = 'reconciler'");
        const auto now = std::chrono::time_point_cast<std::chrono::seconds>(clock_.now());
        ASSERT_TRUE(db::job_runs::take_lease(c, "reconciler", holder, now + 30min, now));
    };
    run([&]() -> asio::awaitable<void> {
        hold(alive);
        EXPECT_FALSE(co_await scheduler.run_now("reconciler")) << "a running process keeps its lease";
        hold(elsewhere);
        EXPECT_FALSE(co_await scheduler.run_now("reconciler"))
            << "another machine's process is not ours to judge";
        hold(stopped);
        EXPECT_TRUE(co_await scheduler.run_now("reconciler")) << "a stopped process's lease is taken over";
    });
    EXPECT_EQ(runs, 1);
    auto& c = conn();
    EXPECT_FALSE(db::job_runs::lease_holder(c, "reconciler",
                                            std::chrono::time_point_cast<std::chrono::seconds>(clock_.now())))
        << "and released when the run ends";
}

TEST_P(SchedulerTest, LoopsRunOnTheManualClockAndStopWhenCancelled) {
    Scheduler scheduler(*executor_, clock_, zone_);
    int runs = 0;
    common::TaskGroup tasks(io_.get_executor());
    scheduler.add("tick", Schedule::every(5min, true), [&]() -> asio::awaitable<JobResult> {
        if (++runs == 4) tasks.cancel();
        co_return std::string("tick");
    });
    auto sleeper = common::make_manual_sleeper(io_.get_executor(), clock_);
    const auto start = clock_.now();
    run([&]() -> asio::awaitable<void> {
        co_await scheduler.start(tasks, *sleeper);
        co_await tasks.join();
    });
    EXPECT_EQ(runs, 4);
    EXPECT_EQ(clock_.now() - start, 15min) << "runs at 0, 5, 10 and 15 minutes of virtual time";
}

NEBULA_INSTANTIATE_FOR_BACKENDS(SchedulerTest);

TEST(ScheduleTest, DailyRunsAtTheShopsLocalTime) {
    auto cairo = ui::TimeZone::load("Africa/Cairo");
    ASSERT_TRUE(cairo) << cairo.error();
    const auto daily = Schedule::daily(5min);
    // 2026-01-10 12:00 UTC (14:00 in Cairo, UTC+2): next 00:05 Cairo = 2026-01-10 22:05 UTC.
    const auto winter = domain::Timestamp{std::chrono::sys_days{std::chrono::year{2026} / 1 / 10}} + 12h;
    EXPECT_EQ(daily.next_after(winter, *cairo),
              domain::Timestamp{std::chrono::sys_days{std::chrono::year{2026} / 1 / 10}} + 22h + 5min);
    // In summer time (UTC+3) the same local time is an hour earlier in UTC.
    const auto summer = domain::Timestamp{std::chrono::sys_days{std::chrono::year{2026} / 7 / 10}} + 12h;
    EXPECT_EQ(daily.next_after(summer, *cairo),
              domain::Timestamp{std::chrono::sys_days{std::chrono::year{2026} / 7 / 10}} + 21h + 5min);
    // Exactly at the due time: the next one is tomorrow.
    const auto due = domain::Timestamp{std::chrono::sys_days{std::chrono::year{2026} / 1 / 10}} + 22h + 5min;
    EXPECT_EQ(daily.next_after(due, *cairo), due + 24h);
    EXPECT_EQ(Schedule::every(30min).next_after(due, *cairo), due + 30min);
}

}  // namespace
}  // namespace nebula::bot::testing
