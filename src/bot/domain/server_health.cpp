#include "bot/domain/server_health.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "bot/domain/audit.hpp"
#include "bot/domain/notices.hpp"

namespace nebula::bot::domain::server_health {
namespace {

std::string outage_prefix(ServerId server, std::int64_t incident) {
    return "outage:" + std::to_string(server.value) + ":" + std::to_string(incident) + ":";
}

/// Queues a "back up" notice for every customer who was told of the server's outage, once.
int queue_restored_notices(db::Connection& c, ServerId server, Timestamp now) {
    const auto incident = c.scalar<std::int64_t>(
        "SELECT outage_incident FROM servers WHERE id = ? AND outage_incident IS NOT NULL", server);
    if (!incident) return 0;
    const auto queued = c.exec(
        "INSERT INTO job_notices (notice_key, kind, user_id, account_id, level, created_at) "
        "SELECT 'restored:' || substr(notice_key, 8), 'server_restored', user_id, account_id, 0, ? "
        "FROM job_notices WHERE notice_key LIKE ? AND sent_at IS NOT NULL AND last_error IS NULL "
        "ON CONFLICT (notice_key) DO NOTHING",
        now, outage_prefix(server, *incident) + "%");
    c.exec("UPDATE servers SET outage_incident = NULL WHERE id = ?", server);
    return static_cast<int>(queued);
}

}  // namespace

HealthCheck record_check(db::Connection& connection, CatalogService& catalog, ServerId server,
                         ServerHealth health, Timestamp now) {
    db::Transaction transaction(connection);
    auto set = catalog.set_server_health(connection, server, health);
    if (!set) throw std::runtime_error(set.error().message);
    HealthCheck out;
    auto row = connection.query("SELECT health_alerted, health_failures FROM servers WHERE id = ?", server);
    if (row->step()) {
        out.alerted = row->get<std::string>(0) == "down" ? ServerHealth::down : ServerHealth::up;
        out.failures = std::max(0, row->get<int>(1));
    }
    row.reset();
    if (health == ServerHealth::down) {
        ++out.failures;
    } else {
        out.failures = 0;
        out.restored = queue_restored_notices(connection, server, now);
    }
    connection.exec("UPDATE servers SET health_failures = ? WHERE id = ?", out.failures, server);
    transaction.commit();
    return out;
}

void record_alert(db::Connection& connection, ServerId server, ServerHealth state) {
    connection.exec("UPDATE servers SET health_alerted = ? WHERE id = ?", to_string(state), server);
}

std::optional<int> queue_outage_notices(db::Connection& connection, CatalogService& catalog, ServerId server,
                                        std::int64_t incident, const Actor& actor, Timestamp now) {
    db::Transaction transaction(connection);
    const auto found = catalog.server(connection, server);
    if (!found || found->health != ServerHealth::down) return std::nullopt;
    const std::string prefix = outage_prefix(server, incident);
    std::vector<Notice> notices;
    {
        auto rows = connection.query(
            "SELECT user_id, MIN(id) FROM vpn_accounts WHERE server_id = ? AND status = 'active' "
            "GROUP BY user_id ORDER BY user_id",
            server);
        while (rows->step()) {
            const auto user = rows->get<UserId>(0);
            notices.push_back({prefix + std::to_string(user.value), NoticeKind::server_outage, user,
                               rows->get<AccountId>(1), std::nullopt, 0, 0});
        }
    }
    queue_notices(connection, notices, now);
    connection.exec("UPDATE servers SET outage_incident = ? WHERE id = ?", incident, server);
    record_audit(connection,
                 {actor.text(), "server.outage_notified", "server", std::to_string(server.value),
                  std::nullopt, nlohmann::json{{"incident", incident}, {"customers", notices.size()}}},
                 now);
    transaction.commit();
    return static_cast<int>(notices.size());
}

}  // namespace nebula::bot::domain::server_health
