#include "bot/domain/accounts.hpp"

#include <algorithm>

namespace nebula::bot::domain {

nlohmann::json to_json(const Account& a) {
    return {{"id", a.id.value},
            {"user_id", a.user_id.value},
            {"server_id", a.server_id.value},
            {"order_id", a.order_id.value},
            {"client_email", a.client_email},
            {"traffic_limit_bytes", a.traffic_limit_bytes},
            {"device_limit", a.device_limit},
            {"used_up_bytes", a.used_up_bytes},
            {"used_down_bytes", a.used_down_bytes},
            {"expires_at", epoch_seconds(a.expires_at)},
            {"status", to_string(a.status)}};
}

namespace accounts {
namespace {

constexpr std::string_view kSelect =
    "SELECT id, user_id, server_id, order_id, plan_id, client_email, client_uuid, sub_id, inbound_id, "
    "traffic_limit_bytes, device_limit, used_up_bytes, used_down_bytes, expires_at, status, "
    "traffic_alert_level, "
    "expiry_alert_level, created_at, traffic_synced_at FROM vpn_accounts ";

std::vector<Account> read(db::Statement& rows) {
    std::vector<Account> list;
    while (rows.step()) {
        Account a;
        int i = 0;
        a.id = rows.get<AccountId>(i++);
        a.user_id = rows.get<UserId>(i++);
        a.server_id = rows.get<ServerId>(i++);
        a.order_id = rows.get<OrderId>(i++);
        a.plan_id = rows.get<std::optional<PlanId>>(i++);
        a.client_email = rows.get<std::string>(i++);
        a.client_uuid = rows.get<std::string>(i++);
        a.sub_id = rows.get<std::string>(i++);
        a.inbound_id = rows.get<int>(i++);
        a.traffic_limit_bytes = rows.get<std::int64_t>(i++);
        a.device_limit = rows.get<int>(i++);
        a.used_up_bytes = rows.get<std::int64_t>(i++);
        a.used_down_bytes = rows.get<std::int64_t>(i++);
        a.expires_at = rows.get<Timestamp>(i++);
        a.status = parse_account_status(rows.get<std::string>(i++));
        a.traffic_alert_level = rows.get<int>(i++);
        a.expiry_alert_level = rows.get<int>(i++);
        a.created_at = rows.get<Timestamp>(i++);
        a.traffic_synced_at = rows.get<std::optional<Timestamp>>(i++);
        list.push_back(std::move(a));
    }
    return list;
}

std::optional<Account> first(std::vector<Account> list) {
    if (list.empty()) return std::nullopt;
    return std::move(list.front());
}

}  // namespace

std::optional<Account> get(db::Connection& connection, AccountId id) {
    return first(read(*connection.query(std::string(kSelect) + "WHERE id = ?", id)));
}

std::optional<Account> by_email(db::Connection& connection, std::string_view client_email) {
    return first(read(*connection.query(std::string(kSelect) + "WHERE client_email = ?", client_email)));
}

std::optional<Account> by_order(db::Connection& connection, OrderId order) {
    return first(read(*connection.query(std::string(kSelect) + "WHERE order_id = ?", order)));
}

std::vector<Account> for_user(db::Connection& connection, UserId user) {
    return read(*connection.query(
        std::string(kSelect) + "WHERE user_id = ? AND status <> 'deleted' ORDER BY id", user));
}

std::vector<Account> expiring_between(db::Connection& connection, Timestamp from, Timestamp to) {
    return read(*connection.query(
        std::string(kSelect) +
            "WHERE status = 'active' AND expires_at >= ? AND expires_at < ? ORDER BY expires_at",
        from, to));
}

std::vector<Account> expired_but_active(db::Connection& connection, Timestamp now, int limit) {
    return read(*connection.query(
        std::string(kSelect) + "WHERE status = 'active' AND expires_at < ? ORDER BY expires_at LIMIT ?", now,
        limit));
}

void record_usage(db::Connection& connection, AccountId id, std::int64_t up, std::int64_t down,
                  Timestamp at) {
    connection.exec(
        "UPDATE vpn_accounts SET used_up_bytes = ?, used_down_bytes = ?, traffic_synced_at = ?, updated_at = "
        "? "
        "WHERE id = ?",
        up, down, at, at, id);
}

void set_alert_levels(db::Connection& connection, AccountId id, int traffic_level, int expiry_level) {
    connection.exec("UPDATE vpn_accounts SET traffic_alert_level = ?, expiry_alert_level = ? WHERE id = ?",
                    traffic_level, expiry_level, id);
}

Timestamp renewed_expiry(Timestamp now, Timestamp current_expiry, int days) {
    return std::max(now, current_expiry) + std::chrono::days(days);
}

}  // namespace accounts
}  // namespace nebula::bot::domain
