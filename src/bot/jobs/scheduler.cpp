#include "bot/jobs/scheduler.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include "bot/db/job_runs.hpp"
#include "common/crypto.hpp"

namespace nebula::bot::jobs {
namespace asio = boost::asio;
using domain::Timestamp;
using domain::to_timestamp;

Timestamp Schedule::next_after(Timestamp after, const ui::TimeZone& zone) const {
    if (kind == Kind::interval) return after + std::max(interval, std::chrono::seconds(1));
    auto day = std::chrono::floor<std::chrono::days>(zone.to_local(after));
    for (int i = 0; i < 3; ++i, day += std::chrono::days(1)) {
        const auto wanted = std::chrono::local_seconds{day} + time_of_day;
        // The offset of the wanted instant, not of `after`: the day may change to summer time.
        Timestamp guess{wanted.time_since_epoch() - zone.offset_at(after)};
        guess = Timestamp{wanted.time_since_epoch() - zone.offset_at(guess)};
        if (guess > after) return guess;
    }
    return after + std::chrono::days(1);
}

std::string_view to_string(RunRefusal refusal) {
    switch (refusal) {
        case RunRefusal::unknown_job:
            return "no such job";
        case RunRefusal::already_running:
            return "already running";
    }
    return "unknown";
}

struct Scheduler::Job {
    JobStats stats;
    JobFn fn;
};

namespace {

std::string first_line(const char* path) {
    std::ifstream file(path);
    std::string line;
    std::getline(file, line);
    return line;
}

/// The boot and the PID namespace of this process.
const std::string& machine_identity() {
    static const std::string identity = [] {
        const std::string boot = first_line("/proc/sys/kernel/random/boot_id");
        char ns[128] = {};
        const auto n = ::readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
        if (boot.empty() || n <= 0) return std::string();
        return boot + "/" + std::string(ns, static_cast<std::size_t>(n));
    }();
    return identity;
}

}  // namespace

std::string lease_holder_suffix(long pid) {
    if (machine_identity().empty()) return {};
    return "@" + machine_identity() + "#" + std::to_string(pid);
}

bool lease_holder_stopped(std::string_view holder) {
    const auto at = holder.find('@');
    const auto hash = holder.rfind('#');
    if (at == std::string_view::npos || hash == std::string_view::npos || hash < at) return false;
    if (machine_identity().empty() || holder.substr(at + 1, hash - at - 1) != machine_identity())
        return false;
    long pid = 0;
    const auto digits = holder.substr(hash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (ec != std::errc() || end == digits.data() || pid <= 0 || pid == ::getpid()) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH;
}

Scheduler::Scheduler(db::DbExecutor& db, const common::Clock& clock, const ui::TimeZone& zone,
                     SchedulerOptions options)
    : db_(db), clock_(clock), zone_(zone), options_(std::move(options)) {
    options_.holder += lease_holder_suffix(::getpid()) + ":" + common::uuid_v4();
}

Scheduler::~Scheduler() = default;

void Scheduler::add(std::string name, Schedule schedule, JobFn fn) {
    if (find(name) != nullptr) throw std::logic_error("job " + name + " added twice");
    auto job = std::make_unique<Job>();
    job->stats.name = std::move(name);
    job->stats.schedule = schedule;
    job->stats.next_due = to_timestamp(clock_.now());
    job->fn = std::move(fn);
    jobs_.push_back(std::move(job));
}

Scheduler::Job* Scheduler::find(std::string_view name) {
    for (auto& job : jobs_) {
        if (job->stats.name == name) return job.get();
    }
    return nullptr;
}

std::vector<JobStats> Scheduler::stats() const {
    std::vector<JobStats> out;
    for (const auto& job : jobs_) out.push_back(job->stats);
    return out;
}

std::vector<std::string> Scheduler::names() const {
    std::vector<std::string> out;
    for (const auto& job : jobs_) out.push_back(job->stats.name);
    return out;
}

asio::awaitable<void> Scheduler::start(common::TaskGroup& tasks, common::Sleeper& sleeper) {
    std::vector<std::string> names = this->names();
    auto last = co_await db_.run([&names](db::Connection& c) {
        std::vector<std::optional<Timestamp>> out;
        out.reserve(names.size());
        for (const auto& name : names) {
            out.push_back(db::job_runs::last_started(c, name));
        }
        return out;
    });
    const auto now = to_timestamp(clock_.now());
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
        auto& stats = jobs_[i]->stats;
        if (stats.schedule.kind == Schedule::Kind::daily) {
            stats.next_due = stats.schedule.next_after(last[i].value_or(now), zone_);
        } else if (stats.schedule.at_start) {
            stats.next_due = now;
        } else if (!last[i]) {
            stats.next_due = stats.schedule.next_after(now, zone_);  // first run one interval after start
        } else {
            stats.next_due = std::max(now, stats.schedule.next_after(*last[i], zone_));
        }
    }
    for (auto& job : jobs_) tasks.spawn("job " + job->stats.name, loop(*job, sleeper));
}

asio::awaitable<void> Scheduler::loop(Job& job, common::Sleeper& sleeper) {
    for (;;) {
        const auto now = clock_.now();
        if (job.stats.next_due > now) {
            co_await sleeper.sleep_until(clock_.steady_now() + (job.stats.next_due - now));
            continue;  // the wall clock may have moved differently from the steady one
        }
        co_await execute(job);
    }
}

asio::awaitable<int> Scheduler::run_due() {
    int ran = 0;
    for (auto& job : jobs_) {
        if (job->stats.next_due > to_timestamp(clock_.now())) continue;
        auto result = co_await execute(*job);
        if (result) ++ran;
    }
    co_return ran;
}

asio::awaitable<common::Result<JobResult, RunRefusal>> Scheduler::run_now(std::string_view name) {
    Job* job = find(name);
    if (job == nullptr) co_return common::unexpected(RunRefusal::unknown_job);
    co_return co_await execute(*job);
}

asio::awaitable<common::Result<JobResult, RunRefusal>> Scheduler::execute(Job& job) {
    auto& stats = job.stats;
    const auto started = to_timestamp(clock_.now());
    stats.next_due = stats.schedule.next_after(started, zone_);
    if (stats.running) {
        ++stats.skipped;
        co_return common::unexpected(RunRefusal::already_running);
    }
    stats.running = true;
    const std::string name = stats.name;
    const std::string holder = options_.holder;
    const Timestamp lease_until = started + options_.lease;
    bool leased = false;
    std::optional<std::string> taken_from;
    try {
        leased = co_await db_.run([&](db::Connection& c) {
            if (db::job_runs::take_lease(c, name, holder, lease_until, started)) return true;
            // A process of this machine that stopped mid-run (a crash, a kill) leaves its lease:
            // the job need not wait for it to lapse.
            auto current = db::job_runs::lease_holder(c, name, started);
            if (!current || !lease_holder_stopped(*current)) return false;
            if (!db::job_runs::take_over(c, name, *current, holder, lease_until, started)) return false;
            taken_from = std::move(current);
            return true;
        });
    } catch (const std::exception& e) {
        stats.running = false;
        ++stats.runs;
        ++stats.failures;
        stats.last_ok = false;
        stats.last_message = std::string("could not take the job's lease: ") + e.what();
        spdlog::error("job {}: {}", name, stats.last_message);
        co_return JobResult(common::unexpected(stats.last_message));
    }
    if (!leased) {
        stats.running = false;
        ++stats.skipped;
        spdlog::info("job {}: skipped, another process is running it", name);
        co_return common::unexpected(RunRefusal::already_running);
    }

    if (taken_from) spdlog::warn("job {}: took over the lease of a stopped process ({})", name, *taken_from);
    stats.last_started = started;
    const auto steady_start = clock_.steady_now();
    JobResult result = common::unexpected(std::string("not run"));
    std::exception_ptr failure;
    try {
        result = co_await job.fn();
    } catch (const std::exception& e) {
        failure = std::current_exception();
        result = common::unexpected(std::string(e.what()));
    } catch (...) {
        failure = std::current_exception();
        result = common::unexpected(std::string("unknown exception"));
    }
    const auto duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - steady_start);
    // A cancelled run (shutdown) still releases its lease, so the next start runs it at once.
    const auto cancel_state = co_await asio::this_coro::cancellation_state;
    const bool cancelled = cancel_state.cancelled() != asio::cancellation_type::none;
    if (cancelled) co_await asio::this_coro::throw_if_cancelled(false);

    stats.running = false;
    ++stats.runs;
    stats.last_duration = duration;
    stats.total_duration += duration;
    stats.last_ok = result.has_value();
    stats.last_message = result ? *result : result.error();
    if (result) {
        spdlog::info("job {}: done in {} ms: {}", name, duration.count(), *result);
    } else {
        ++stats.failures;
        spdlog::error("job {}: failed after {} ms: {} (runs again when next due)", name, duration.count(),
                      result.error());
    }
    const auto finished = to_timestamp(clock_.now());
    const bool ok = result.has_value();
    const std::string message = stats.last_message;
    try {
        const auto error = ok ? std::optional<std::string>() : std::optional<std::string>(message);
        co_await db_.run(
            [&](db::Connection& c) { db::job_runs::finish(c, name, holder, finished, ok, error, duration); });
    } catch (const std::exception& e) {
        spdlog::error("job {}: could not record the run: {}", name, e.what());
    }
    if (cancelled) {
        co_await asio::this_coro::throw_if_cancelled(true);
        if (failure) std::rethrow_exception(failure);
        throw boost::system::system_error(asio::error::operation_aborted);
    }
    co_return result;
}

}  // namespace nebula::bot::jobs
