#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

struct AuditEntry {
    std::string actor;
    std::string action;       ///< e.g. "order.approved", "plan.updated", "user.banned"
    std::string target_type;  ///< "order", "plan", "server", "user", "account", "payment_method"
    std::string target_id;
    std::optional<nlohmann::json> before;
    std::optional<nlohmann::json> after;
};

struct AuditRecord {
    std::int64_t id = 0;
    AuditEntry entry;
    Timestamp at;
};

/// Writes one audit row. Call inside the transaction that makes the change, so the change and
/// its record commit (or roll back) together. Throws db::DbError.
void record_audit(db::Connection& connection, const AuditEntry& entry, Timestamp at);

/// The audit trail of one target, oldest first.
std::vector<AuditRecord> audit_for(db::Connection& connection, std::string_view target_type,
                                   std::string_view target_id);

/// The newest `limit` records, newest first.
std::vector<AuditRecord> recent_audit(db::Connection& connection, int limit);

}  // namespace nebula::bot::domain
