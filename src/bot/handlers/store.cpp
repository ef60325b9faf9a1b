#include "bot/handlers/store.hpp"

namespace nebula::bot::handlers::store {

std::optional<std::string> get_setting(db::Connection& connection, std::string_view key) {
    return connection.scalar<std::string>("SELECT value FROM settings WHERE key = ?", key);
}

void set_setting(db::Connection& connection, std::string_view key, std::string_view value,
                 domain::Timestamp now) {
    connection.exec(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        key, value, now);
}

void delete_setting(db::Connection& connection, std::string_view key) {
    connection.exec("DELETE FROM settings WHERE key = ?", key);
}

std::vector<std::pair<std::string, std::string>> settings_with_prefix(db::Connection& connection,
                                                                      std::string_view prefix) {
    std::vector<std::pair<std::string, std::string>> out;
    auto statement = connection.query("SELECT key, value FROM settings ORDER BY key");
    while (statement->step()) {
        auto key = statement->get<std::string>(0);
        if (key.rfind(prefix, 0) == 0) out.emplace_back(std::move(key), statement->get<std::string>(1));
    }
    return out;
}

std::optional<domain::OrderId> order_for_channel(db::Connection& connection, std::string_view channel_id) {
    const auto id = connection.scalar<std::int64_t>(
        "SELECT id FROM orders WHERE channel_id = ? ORDER BY id DESC LIMIT 1", channel_id);
    if (!id) return std::nullopt;
    return domain::OrderId{*id};
}

}  // namespace nebula::bot::handlers::store
