#include "bot/domain/settings.hpp"

namespace nebula::bot::domain::settings {

std::optional<std::string> get(db::Connection& connection, std::string_view key) {
    return connection.scalar<std::string>("SELECT value FROM settings WHERE key = ?", key);
}

void set(db::Connection& connection, std::string_view key, std::string_view value, Timestamp now) {
    connection.exec(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        key, value, now);
}

}  // namespace nebula::bot::domain::settings
