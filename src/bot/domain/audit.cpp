#include "bot/domain/audit.hpp"

#include <algorithm>

namespace nebula::bot::domain {
namespace {

constexpr std::string_view kColumns =
    "id, actor, action, target_type, target_id, before_json, after_json, at";

std::optional<std::string> dump(const std::optional<nlohmann::json>& value) {
    if (!value) return std::nullopt;
    return value->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<nlohmann::json> load(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    return nlohmann::json::parse(*text, nullptr, false);
}

std::vector<AuditRecord> read(db::Statement& rows) {
    std::vector<AuditRecord> records;
    while (rows.step()) {
        AuditRecord record;
        record.id = rows.get<std::int64_t>(0);
        record.entry.actor = rows.get<std::string>(1);
        record.entry.action = rows.get<std::string>(2);
        record.entry.target_type = rows.get<std::string>(3);
        record.entry.target_id = rows.get<std::string>(4);
        record.entry.before = load(rows.get<std::optional<std::string>>(5));
        record.entry.after = load(rows.get<std::optional<std::string>>(6));
        record.at = rows.get<Timestamp>(7);
        records.push_back(std::move(record));
    }
    return records;
}

}  // namespace

void record_audit(db::Connection& connection, const AuditEntry& entry, Timestamp at) {
    const auto id = connection.scalar<std::int64_t>(
        "INSERT INTO audit_logs (actor, action, target_type, target_id, before_json, after_json, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        entry.actor, entry.action, entry.target_type, entry.target_id, dump(entry.before), dump(entry.after),
        at);
    if (!id) throw db::DbError(db::DbErrorCode::other, "the audit entry was not written");
    // Queued only while an audit channel is set; the same transaction as the entry, so an entry
    // is in the outbox exactly when it exists.
    connection.exec(
        "INSERT INTO audit_outbox (audit_id) SELECT CAST(? AS BIGINT) FROM settings WHERE key = ?", *id,
        kAuditChannelSetting);
}

void set_audit_channel(db::Connection& connection, const std::optional<DiscordId>& channel, Timestamp now) {
    db::in_transaction(connection, [&](db::Connection& t) {
        if (channel) {
            t.exec(
                "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                kAuditChannelSetting, *channel, now);
        } else {
            t.exec("DELETE FROM settings WHERE key = ?", kAuditChannelSetting);
            t.exec("DELETE FROM audit_outbox");
        }
    });
}

void queue_for_audit_channel(db::Connection& connection, const std::vector<std::int64_t>& audit_ids) {
    constexpr std::size_t kIdsPerStatement = 500;
    for (std::size_t start = 0; start < audit_ids.size(); start += kIdsPerStatement) {
        const auto end = std::min(audit_ids.size(), start + kIdsPerStatement);
        std::string marks;
        for (auto i = start; i < end; ++i) marks += i == start ? "?" : ", ?";
        auto insert =
            connection.prepare("INSERT INTO audit_outbox (audit_id) SELECT id FROM audit_logs WHERE id IN (" +
                               marks + ") AND EXISTS (SELECT 1 FROM settings WHERE key = ?)");
        int index = 0;
        for (auto i = start; i < end; ++i) insert->bind(++index, audit_ids[i]);
        insert->bind(++index, kAuditChannelSetting);
        while (insert->step()) {
        }
    }
}

std::optional<DiscordId> audit_channel(db::Connection& connection) {
    return connection.scalar<DiscordId>("SELECT value FROM settings WHERE key = ?", kAuditChannelSetting);
}

std::vector<AuditRecord> audit_outbox(db::Connection& connection, int limit) {
    auto rows = connection.query(
        "SELECT a.id, a.actor, a.action, a.target_type, a.target_id, a.before_json, a.after_json, a.at "
        "FROM audit_outbox o JOIN audit_logs a ON a.id = o.audit_id ORDER BY o.audit_id LIMIT ?",
        limit);
    return read(*rows);
}

std::int64_t audit_outbox_size(db::Connection& connection) {
    return connection.scalar<std::int64_t>("SELECT COUNT(*) FROM audit_outbox").value_or(0);
}

void audit_posted(db::Connection& connection, std::int64_t audit_id) {
    connection.exec("DELETE FROM audit_outbox WHERE audit_id = ?", audit_id);
}

std::vector<AuditRecord> audit_for(db::Connection& connection, std::string_view target_type,
                                   std::string_view target_id) {
    auto rows = connection.query(std::string("SELECT ") + std::string(kColumns) +
                                     " FROM audit_logs WHERE target_type = ? AND target_id = ? ORDER BY id",
                                 target_type, target_id);
    return read(*rows);
}

std::vector<AuditRecord> recent_audit(db::Connection& connection, int limit) {
    auto rows = connection.query(
        std::string("SELECT ") + std::string(kColumns) + " FROM audit_logs ORDER BY id DESC LIMIT ?", limit);
    return read(*rows);
}

}  // namespace nebula::bot::domain
