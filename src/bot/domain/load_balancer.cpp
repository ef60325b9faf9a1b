#include "bot/domain/load_balancer.hpp"

#include <algorithm>

namespace nebula::bot::domain {
namespace {

// Advisory lock key for server placement (the migrator uses 7301505).
constexpr std::int64_t kPlacementLock = 7301506;

Outcome<ServerId> no_room() {
    return fail(ErrorCode::no_capacity,
                "no VPN server has room right now (all are full, disabled or down); admins have been told");
}

}  // namespace

bool ServerLoad::has_room() const {
    return enabled && health != ServerHealth::down && capacity > 0 && used < capacity;
}

std::optional<ServerId> choose_server(const std::vector<ServerLoad>& servers) {
    return choose_server(servers, std::nullopt);
}

std::vector<std::string> locations_with_room(const std::vector<ServerLoad>& servers) {
    std::vector<std::string> locations;
    for (const auto& server : servers) {
        if (server.has_room() && !server.location.empty()) locations.push_back(server.location);
    }
    std::sort(locations.begin(), locations.end());
    locations.erase(std::unique(locations.begin(), locations.end()), locations.end());
    return locations;
}

std::optional<ServerId> choose_server(const std::vector<ServerLoad>& servers,
                                      const std::optional<std::string>& location) {
    const ServerLoad* best = nullptr;
    for (const auto& server : servers) {
        if (!server.has_room()) continue;
        if (location && server.location != *location) continue;
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
        "'new') + "
        " (SELECT COUNT(*) FROM account_moves m WHERE m.to_server_id = s.id AND m.state = 'creating'), "
        " s.location "
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
        load.location = rows->get<std::string>(6);
        loads.push_back(load);
    }
    return loads;
}

void take_placement_lock(db::Connection& connection) {
    if (connection.backend() == db::Backend::postgres && connection.in_transaction()) {
        connection.exec("SELECT pg_advisory_xact_lock(?)", kPlacementLock);
    }
}

Outcome<ServerId> pick_server(db::Connection& connection) {
    auto placed = pick_server_in(connection, std::nullopt);
    if (!placed) return common::unexpected(placed.error());
    return placed->server;
}

Outcome<Placement> pick_server_in(db::Connection& connection, const std::optional<std::string>& location) {
    // Two approvals at once could otherwise both see a server's last free slot and both take
    // it. Under READ COMMITTED the count below runs after the lock is granted, so it sees the
    // approval the previous holder committed.
    take_placement_lock(connection);
    const auto loads = server_loads(connection);
    if (location) {
        if (auto chosen = choose_server(loads, location)) return Placement{*chosen, false};
    }
    auto chosen = choose_server(loads);
    if (!chosen) return common::unexpected(no_room().error());
    return Placement{*chosen, location.has_value()};
}

}  // namespace nebula::bot::domain
