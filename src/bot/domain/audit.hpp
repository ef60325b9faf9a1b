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
/// its record commit (or roll back) together. While an audit channel is set (set_audit_channel),
/// the entry is also queued in the audit outbox in the same transaction. Throws db::DbError.
void record_audit(db::Connection& connection, const AuditEntry& entry, Timestamp at);

/// The audit trail of one target, oldest first.
std::vector<AuditRecord> audit_for(db::Connection& connection, std::string_view target_type,
                                   std::string_view target_id);

/// The newest `limit` records, newest first.
std::vector<AuditRecord> recent_audit(db::Connection& connection, int limit);

// ---- the audit channel (AUDIT_CHANNEL_ID) ----

/// The settings key naming the channel every audit entry is posted to while it is set.
inline constexpr std::string_view kAuditChannelSetting = "audit_channel_id";

/// Sets the audit channel from the configuration at start-up: from now on record_audit() queues
/// each entry for it. Nothing (the key unset) stops the queueing and empties the outbox, so
/// entries are never posted long after the channel was turned off.
void set_audit_channel(db::Connection& connection, const std::optional<DiscordId>& channel, Timestamp now);
std::optional<DiscordId> audit_channel(db::Connection& connection);

/// Queues these audit entries (written in this transaction by a multi-row INSERT rather than
/// record_audit) for the audit channel, when one is set.
void queue_for_audit_channel(db::Connection& connection, const std::vector<std::int64_t>& audit_ids);

/// The oldest `limit` entries still to be posted, oldest (lowest id) first.
std::vector<AuditRecord> audit_outbox(db::Connection& connection, int limit);
/// How many entries wait in the outbox.
std::int64_t audit_outbox_size(db::Connection& connection);
/// The entry has reached the channel: its outbox row goes.
void audit_posted(db::Connection& connection, std::int64_t audit_id);

}  // namespace nebula::bot::domain
