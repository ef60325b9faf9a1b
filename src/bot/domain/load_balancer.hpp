#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

/// One server's load as the balancer sees it.
struct ServerLoad {
    ServerId id;
    int capacity = 0;
    int weight = 1;
    bool enabled = true;
    ServerHealth health = ServerHealth::unknown;
    /// Accounts that occupy a panel client (active or disabled) plus approved orders being
    /// provisioned there, plus accounts being moved there.
    std::int64_t used = 0;
    std::string location;

    /// Enabled, not down and not full: a new account may go here.
    bool has_room() const;
};

/// Picks the server for a new account: among enabled servers that are not down and not full,
/// the lowest used/capacity ratio; ties go to the higher weight, then the lower id. Nothing when
/// no server qualifies. A server whose health is still unknown (never checked) qualifies.
/// Pure function.
std::optional<ServerId> choose_server(const std::vector<ServerLoad>& servers);
/// choose_server() among the servers of one location (exact name); any location when none.
std::optional<ServerId> choose_server(const std::vector<ServerLoad>& servers,
                                      const std::optional<std::string>& location);

/// The locations that have at least one server with room, sorted by name, each once (a server
/// without a location is never offered by name). A customer is offered a choice when there are
/// two or more.
std::vector<std::string> locations_with_room(const std::vector<ServerLoad>& servers);

/// Reads every server's load from the database.
std::vector<ServerLoad> server_loads(db::Connection& connection);

/// choose_server(server_loads()) with a clear no_capacity error for the customer and admins.
/// Call it inside the transaction that records the choice (the approved order holding the
/// slot): it first takes the placement lock, so concurrent placements run one after the other
/// and each counts the slots the others took. PostgreSQL: a transaction-scoped advisory lock;
/// SQLite: the transaction's write lock (BEGIN IMMEDIATE) already serialises them. Outside a
/// transaction it only reads.
Outcome<ServerId> pick_server(db::Connection& connection);

/// Takes the placement lock that pick_server() takes, for a placement decided elsewhere (an
/// account moved to a server an admin chose). PostgreSQL inside a transaction only.
void take_placement_lock(db::Connection& connection);

/// Where a new account goes, and whether that is where the customer asked.
struct Placement {
    ServerId server;
    /// The customer picked a location that has no room now: the server is elsewhere.
    bool fell_back = false;
};

/// pick_server() in `location` (any location when none); when that location has no room left,
/// the least loaded server with room elsewhere, with fell_back set. Never a full server.
Outcome<Placement> pick_server_in(db::Connection& connection, const std::optional<std::string>& location);

}  // namespace nebula::bot::domain
