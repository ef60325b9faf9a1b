#include "bot/domain/load_balancer.hpp"

namespace nebula::bot::domain {
namespace {

// Advisory lock key for server placement (the migrator uses 7301505).
constexpr std::int64_t kPlacementLock = 7301506;

}  // namespace

std::optional<ServerId> choose_server(const std::vector<ServerLoad>& servers) {
    const ServerLoad* best = nullptr;
    for (const auto& server : servers) {
        if (!server.enabled || server.health == ServerHealth::down || server.capacity <= 0) continue;
        if (server.used >= server.capacity) continue;
        if (best == nullptr) {
            best = &server;
            continue;
        }
        // Compare used/capacity exactly: a/b < c/d  ⇔  a·d < c·b (capacities are positive).
        const auto lhs = static_cast<std::int64_t>(server.used) * best->capacity;
        const auto rhs = static_cast<std::int64_t>(best->used) * server.capacity;
        if (lhs < rhs || (lhs == rhs && (server.weight > best->weight ||
                                         (server.weight == best->weight && server.id < best->id)))) {
            best = &server;
        }
    }
    if (best == nullptr) return std::nullopt;
    return best->id;
}

std::vector<ServerLoad> server_loads(db::Connection& connection) {
    auto rows = connection.query(
        "SELECT s.id, s.capacity, s.weight, s.enabled, s.health, "
        " (SELECT COUNT(*) FROM vpn_accounts a WHERE a.server_id = s.id AND a.status IN ('active', "
        "'disabled')) + "
        " (SELECT COUNT(*) FROM orders o WHERE o.server_id = s.id AND o.status = 'approved' AND o.kind = "
        "'new') "
        "FROM servers s ORDER BY s.id");
    std::vector<ServerLoad> loads;
    while (rows->step()) {
        ServerLoad load;
        load.id = rows->get<ServerId>(0);
        load.capacity = rows->get<int>(1);
        load.weight = rows->get<int>(2);
        load.enabled = rows->get<bool>(3);
        load.health = parse_server_health(rows->get<std::string>(4));
        load.used = rows->get<std::int64_t>(5);
        loads.push_back(load);
    }
    return loads;
}

Outcome<ServerId> pick_server(db::Connection& connection) {
    // Two approvals at once could otherwise both see a server's last free slot and both take
    // it. Under READ COMMITTED the count below runs after the lock is granted, so it sees the
    // approval the previous holder committed.
    if (connection.backend() == db::Backend::postgres && connection.in_transaction()) {
        connection.exec("SELECT pg_advisory_xact_lock(?)", kPlacementLock);
    }
    auto chosen = choose_server(server_loads(connection));
    if (!chosen) {
        return fail(
            ErrorCode::no_capacity,
            "no VPN server has room right now (all are full, disabled or down); admins have been told");
    }
    return *chosen;
}

}  // namespace nebula::bot::domain
