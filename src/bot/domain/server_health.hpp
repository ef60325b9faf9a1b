#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "bot/db/connection.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

/// What the health job needs to decide about one server after a check.
struct HealthCheck {
    ServerHealth alerted = ServerHealth::up;  ///< what admins were last told (up or down)
    int failures = 0;                         ///< failed checks in a row, this one included
    int restored = 0;                         ///< "back up" notices queued by this check
};

/// A server's health as the health job and the admins' outage button keep it: the health itself
/// (CatalogService), failed checks in a row, the last alert posted and the outage incident whose
/// customers were told. Functions run on the connection given (callers use the DbExecutor).
namespace server_health {

/// Records one check in one transaction: the server's health, its failed checks in a row (reset
/// when up) and, when it is up again, a "back up" notice for every customer told of its outage.
/// Throws std::runtime_error when the server does not exist.
HealthCheck record_check(db::Connection& connection, CatalogService& catalog, ServerId server,
                         ServerHealth health, Timestamp now);

/// Admins were told that the server is `state` (up or down).
void record_alert(db::Connection& connection, ServerId server, ServerHealth state);

/// Queues an outage notice for every customer with an active account on `server`, once per
/// customer and incident, and remembers the incident so the next "up" check tells the same
/// customers it is back; audited as `actor`'s. How many customers, or nothing when the server is
/// not down (any more). One transaction.
std::optional<int> queue_outage_notices(db::Connection& connection, CatalogService& catalog, ServerId server,
                                        std::int64_t incident, const Actor& actor, Timestamp now);

}  // namespace server_health
}  // namespace nebula::bot::domain
