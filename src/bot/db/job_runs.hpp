#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "bot/db/connection.hpp"

namespace nebula::bot::db {

/// The job_runs table: one row per background job, its lease (so a job never runs twice at once,
/// also across processes) and its last outcome. Times are Unix epoch seconds. Functions run on
/// the connection given.
namespace job_runs {

using Time = std::chrono::sys_seconds;

/// When the job last started, if ever.
std::optional<Time> last_started(Connection& connection, const std::string& name);
/// Takes the job's lease for `holder` until `until` unless an unexpired one is held; records the
/// start. True when taken.
bool take_lease(Connection& connection, const std::string& name, const std::string& holder, Time until,
                Time started);
/// The holder of the job's lease when one is held beyond `now`.
std::optional<std::string> lease_holder(Connection& connection, const std::string& name, Time now);
/// Takes the job's lease from `from` (a holder known to have stopped) for `holder`. True when taken.
bool take_over(Connection& connection, const std::string& name, const std::string& from,
               const std::string& holder, Time until, Time started);
/// Releases `holder`'s lease and records the run's outcome.
void finish(Connection& connection, const std::string& name, const std::string& holder, Time finished,
            bool ok, const std::optional<std::string>& error, std::chrono::milliseconds duration);

}  // namespace job_runs
}  // namespace nebula::bot::db
