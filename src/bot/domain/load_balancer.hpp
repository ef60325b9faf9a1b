#pragma once

#include <optional>
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
    /// provisioned there.
    std::int64_t used = 0;
};

/// Picks the server for a new account: among enabled servers that are not down and not full,
/// the lowest used/capacity ratio; ties go to the higher weight, then the lower id. Nothing when
/// no server qualifies. A server whose health is still unknown (never checked) qualifies.
/// Pure function.
std::optional<ServerId> choose_server(const std::vector<ServerLoad>& servers);

/// Reads every server's load from the database.
std::vector<ServerLoad> server_loads(db::Connection& connection);

/// choose_server(server_loads()) with a clear no_capacity error for the customer and admins.
/// Call it inside the transaction that records the choice (the approved order holding the
/// slot): it first takes the placement lock, so concurrent placements run one after the other
/// and each counts the slots the others took. PostgreSQL: a transaction-scoped advisory lock;
/// SQLite: the transaction's write lock (BEGIN IMMEDIATE) already serialises them. Outside a
/// transaction it only reads.
Outcome<ServerId> pick_server(db::Connection& connection);

}  // namespace nebula::bot::domain
