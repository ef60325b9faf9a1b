#include "bot/domain/audit.hpp"

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
    connection.exec(
        "INSERT INTO audit_logs (actor, action, target_type, target_id, before_json, after_json, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        entry.actor, entry.action, entry.target_type, entry.target_id, dump(entry.before), dump(entry.after),
        at);
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
