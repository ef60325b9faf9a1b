#include "bot/db/job_runs.hpp"

namespace nebula::bot::db::job_runs {

std::optional<Time> last_started(Connection& connection, const std::string& name) {
    return connection.scalar<Time>("SELECT last_started_at FROM job_runs WHERE name = ?", name);
}

bool take_lease(Connection& connection, const std::string& name, const std::string& holder, Time until,
                Time started) {
    connection.exec("INSERT INTO job_runs (name) VALUES (?) ON CONFLICT (name) DO NOTHING", name);
    return connection.exec(
               "UPDATE job_runs SET holder = ?, locked_until = ?, last_started_at = ? "
               "WHERE name = ? AND (locked_until IS NULL OR locked_until <= ?)",
               holder, until, started, name, started) == 1;
}

std::optional<std::string> lease_holder(Connection& connection, const std::string& name, Time now) {
    return connection.scalar<std::string>(
        "SELECT holder FROM job_runs WHERE name = ? AND holder IS NOT NULL AND locked_until > ?", name, now);
}

bool take_over(Connection& connection, const std::string& name, const std::string& from,
               const std::string& holder, Time until, Time started) {
    return connection.exec(
               "UPDATE job_runs SET holder = ?, locked_until = ?, last_started_at = ? "
               "WHERE name = ? AND holder = ?",
               holder, until, started, name, from) == 1;
}

void finish(Connection& connection, const std::string& name, const std::string& holder, Time finished,
            bool ok, const std::optional<std::string>& error, std::chrono::milliseconds duration) {
    connection.exec(
        "UPDATE job_runs SET holder = NULL, locked_until = NULL, last_finished_at = ?, last_ok = ?, "
        "last_error = ?, last_duration_ms = ?, runs = runs + 1, failures = failures + ? "
        "WHERE name = ? AND holder = ?",
        finished, ok, error, static_cast<std::int64_t>(duration.count()), ok ? 0 : 1, name, holder);
}

}  // namespace nebula::bot::db::job_runs
