#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "bot/db/executor.hpp"
#include "bot/domain/types.hpp"
#include "bot/ui/time_zone.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/sleeper.hpp"
#include "common/task_group.hpp"

namespace nebula::bot::jobs {

/// When a job runs: every `interval` (optionally once right at start-up), or once a day at a
/// wall-clock time of the shop's time zone.
struct Schedule {
    enum class Kind { interval, daily };
    Kind kind = Kind::interval;
    std::chrono::seconds interval{std::chrono::hours(1)};
    std::chrono::minutes time_of_day{0};  ///< daily: minutes after local midnight
    bool at_start = false;                ///< interval: also run as soon as the scheduler starts

    static Schedule every(std::chrono::seconds interval, bool at_start = false) {
        return Schedule{Kind::interval, interval, std::chrono::minutes(0), at_start};
    }
    static Schedule daily(std::chrono::minutes time_of_day) {
        return Schedule{Kind::daily, std::chrono::hours(24), time_of_day, false};
    }

    /// The first due time strictly after `after` (daily: the next local `time_of_day` in `zone`).
    domain::Timestamp next_after(domain::Timestamp after, const ui::TimeZone& zone) const;
};

/// What one run did: a one-line summary for the log, or why it failed. A job may also throw;
/// the scheduler counts that as a failure.
using JobResult = common::Result<std::string, std::string>;
using JobFn = std::function<boost::asio::awaitable<JobResult>()>;

/// One job's record, for logs, `nebula-bot jobs list` and the metrics exporter.
struct JobStats {
    std::string name;
    Schedule schedule;
    std::uint64_t runs = 0;      ///< finished runs in this process (ok or failed)
    std::uint64_t failures = 0;  ///< runs that failed or threw
    std::uint64_t skipped = 0;   ///< due runs refused because the job was already running
    bool running = false;
    std::optional<domain::Timestamp> last_started;
    std::optional<bool> last_ok;
    std::string last_message;  ///< the last summary or error
    std::chrono::milliseconds last_duration{0};
    std::chrono::milliseconds total_duration{0};
    domain::Timestamp next_due;
};

enum class RunRefusal {
    unknown_job,      ///< no job of that name
    already_running,  ///< running here, or its lease is held by another process
};

std::string_view to_string(RunRefusal refusal);

struct SchedulerOptions {
    /// How long a run holds its lease in job_runs. A process that dies mid-run blocks the job
    /// on other machines until the lease lapses, so keep it above the longest expected run; on
    /// the same machine the next process takes over a stopped process's lease at once.
    std::chrono::seconds lease{std::chrono::minutes(30)};
    /// Names this process in job_runs.holder (followed by lease_holder_suffix() and a random id).
    std::string holder = "nebula-bot";
};

/// `@<machine>#<pid>` for a process on this machine: the machine is the boot and the PID
/// namespace, so a process id there names one process. Empty when /proc does not tell.
std::string lease_holder_suffix(long pid);
/// Whether the lease holder `holder` is a process of this machine that no longer runs.
bool lease_holder_stopped(std::string_view holder);

/// Runs the background jobs. Each job runs at most once at a time: in this process (a flag)
/// and across processes (a lease row in job_runs, taken with a guarded UPDATE), so
/// `nebula-bot jobs run NAME` beside the running bot cannot double a run. A run that fails or
/// throws is logged and counted; the job simply runs again when next due. Each run's outcome
/// and duration are kept (stats()) and written to job_runs.
///
/// Time comes from the injected Clock and waiting from a common::Sleeper, so tests drive it
/// with a ManualClock and never sleep. Use from one executor; not thread-safe.
class Scheduler {
  public:
    Scheduler(db::DbExecutor& db, const common::Clock& clock, const ui::TimeZone& zone,
              SchedulerOptions options = {});
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    /// Adds a job before start(). A name used twice is a bug (std::logic_error).
    void add(std::string name, Schedule schedule, JobFn fn);

    /// Loads each job's last start from job_runs (so a restart does not repeat a daily job or
    /// run an hourly one early; a job that never ran runs one interval after start, or at once
    /// when its schedule says at_start) and spawns one loop per job into `tasks`; cancelling the group
    /// stops them at their next wait (a run in progress finishes its current step first).
    boost::asio::awaitable<void> start(common::TaskGroup& tasks, common::Sleeper& sleeper);

    /// Runs `name` now, whatever its schedule. The job's own result, or why it did not run.
    boost::asio::awaitable<common::Result<JobResult, RunRefusal>> run_now(std::string_view name);

    /// Runs, one after another, every job whose next due time has come at clock.now() and
    /// returns how many ran (what the loops do, for tests that move a ManualClock by hand).
    boost::asio::awaitable<int> run_due();

    std::vector<JobStats> stats() const;
    std::vector<std::string> names() const;

  private:
    struct Job;
    Job* find(std::string_view name);
    boost::asio::awaitable<void> loop(Job& job, common::Sleeper& sleeper);
    boost::asio::awaitable<common::Result<JobResult, RunRefusal>> execute(Job& job);

    db::DbExecutor& db_;
    const common::Clock& clock_;
    const ui::TimeZone& zone_;
    SchedulerOptions options_;
    std::vector<std::unique_ptr<Job>> jobs_;
};

}  // namespace nebula::bot::jobs
