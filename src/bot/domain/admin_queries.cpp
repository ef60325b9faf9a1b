#include "bot/domain/admin_queries.hpp"

#include <cctype>

namespace nebula::bot::domain::admin {
namespace {

// LIKE pattern that matches `text` anywhere, with the wildcard characters in it escaped.
std::string like_pattern(std::string_view text) {
    std::string pattern = "%";
    for (char c : text) {
        if (c == '%' || c == '_' || c == '\\') pattern += '\\';
        pattern += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    pattern += '%';
    return pattern;
}

}  // namespace

std::vector<domain::AuditRecord> audit_involving(db::Connection& connection,
                                                 const domain::DiscordId& discord_id,
                                                 std::optional<domain::UserId> user, int limit) {
    // A customer's own actions are recorded as "user:<internal id>"; admin actions by Discord id.
    const std::string as_customer = user ? "user:" + std::to_string(user->value) : std::string("-");
    const std::string user_target = user ? std::to_string(user->value) : std::string("-");
    auto rows = connection.query(
        "SELECT id, actor, action, target_type, target_id, at FROM audit_logs "
        "WHERE actor = ? OR actor = ? OR (target_type = 'user' AND target_id = ?) "
        "OR (target_type = 'order' AND target_id IN (SELECT CAST(id AS TEXT) FROM orders WHERE user_id = ?)) "
        "OR (target_type = 'account' AND target_id IN (SELECT CAST(id AS TEXT) FROM vpn_accounts WHERE "
        "user_id = ?)) "
        "ORDER BY id DESC LIMIT ?",
        discord_id, as_customer, user_target, user ? user->value : std::int64_t{-1},
        user ? user->value : std::int64_t{-1}, limit);
    std::vector<domain::AuditRecord> records;
    while (rows->step()) {
        domain::AuditRecord record;
        record.id = rows->get<std::int64_t>(0);
        record.entry.actor = rows->get<std::string>(1);
        record.entry.action = rows->get<std::string>(2);
        record.entry.target_type = rows->get<std::string>(3);
        record.entry.target_id = rows->get<std::string>(4);
        record.at = rows->get<domain::Timestamp>(5);
        records.push_back(std::move(record));
    }
    return records;
}

std::vector<AccountHit> search_accounts(db::Connection& connection, std::string_view text, int limit) {
    auto rows = connection.query(
        "SELECT a.id, a.client_email, u.username, s.name, a.status, a.expires_at "
        "FROM vpn_accounts a JOIN users u ON u.id = a.user_id JOIN servers s ON s.id = a.server_id "
        "WHERE a.status <> 'deleted' AND (CAST(a.id AS TEXT) = ? OR LOWER(a.client_email) LIKE ? ESCAPE '\\' "
        "OR LOWER(u.username) LIKE ? ESCAPE '\\' OR u.discord_id = ?) "
        "ORDER BY a.id DESC LIMIT ?",
        std::string(text.starts_with('#') ? text.substr(1) : text), like_pattern(text), like_pattern(text),
        std::string(text), limit);
    std::vector<AccountHit> hits;
    while (rows->step()) {
        AccountHit hit;
        hit.id = rows->get<domain::AccountId>(0);
        hit.client_email = rows->get<std::string>(1);
        hit.username = rows->get<std::string>(2);
        hit.server_name = rows->get<std::string>(3);
        hit.status = domain::parse_account_status(rows->get<std::string>(4));
        hit.expires_at = rows->get<domain::Timestamp>(5);
        hits.push_back(std::move(hit));
    }
    return hits;
}

std::vector<OrderHit> search_orders(db::Connection& connection, std::string_view text, int limit) {
    auto rows = connection.query(
        "SELECT o.id, o.reference, u.username, o.status FROM orders o JOIN users u ON u.id = o.user_id "
        "WHERE LOWER(o.reference) LIKE ? ESCAPE '\\' OR LOWER(u.username) LIKE ? ESCAPE '\\' "
        "ORDER BY CASE WHEN o.status = 'under_review' THEN 0 WHEN o.status = 'approved' THEN 1 ELSE 2 END, "
        "o.id DESC LIMIT ?",
        like_pattern(text), like_pattern(text), limit);
    std::vector<OrderHit> hits;
    while (rows->step()) {
        OrderHit hit;
        hit.id = rows->get<domain::OrderId>(0);
        hit.reference = rows->get<std::string>(1);
        hit.username = rows->get<std::string>(2);
        hit.status = domain::parse_order_status(rows->get<std::string>(3));
        hits.push_back(std::move(hit));
    }
    return hits;
}

std::int64_t server_references(db::Connection& connection, domain::ServerId id) {
    // Approval writes server_id on the order; a fulfilled order's account is counted instead, so
    // only orders still being provisioned there are added.
    const auto accounts =
        connection.scalar<std::int64_t>("SELECT COUNT(*) FROM vpn_accounts WHERE server_id = ?", id);
    const auto provisioning = connection.scalar<std::int64_t>(
        "SELECT COUNT(*) FROM orders WHERE server_id = ? AND status = 'approved'", id);
    return accounts.value_or(0) + provisioning.value_or(0);
}

domain::Outcome<domain::Server> remove_server(db::Connection& connection, domain::CatalogService& catalog,
                                              const domain::Actor& actor, domain::ServerId id,
                                              domain::Timestamp now) {
    return db::in_transaction(connection, [&](db::Connection& c) -> domain::Outcome<domain::Server> {
        auto server = catalog.server(c, id);
        if (!server) return domain::fail(domain::ErrorCode::not_found, "no such server");
        if (const auto count = server_references(c, id); count > 0) {
            return domain::fail(domain::ErrorCode::conflict, std::to_string(count));
        }
        c.exec("DELETE FROM servers WHERE id = ?", id);
        domain::record_audit(c,
                             {actor.text(), "server.removed", "server", std::to_string(id.value),
                              domain::to_json(*server), std::nullopt},
                             now);
        return *server;
    });
}

}  // namespace nebula::bot::domain::admin
