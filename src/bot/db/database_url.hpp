#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace nebula::bot::db {

enum class Backend { sqlite, postgres };

std::string_view to_string(Backend backend);

/// Where the bot's data lives, parsed from DATABASE_URL.
struct DatabaseUrl {
    Backend backend = Backend::sqlite;
    /// SQLite: the database file (":memory:" for a private in-memory database).
    std::string sqlite_path;
    /// PostgreSQL: the URL as given, handed to libpq unchanged.
    std::string postgres_url;

    /// The URL with any password replaced by "***", safe to log.
    std::string redacted() const;
};

inline constexpr std::string_view kDefaultDatabaseUrl = "sqlite:./data/bot.db";

/// Accepts `sqlite:<path>` (also `sqlite://<path>`), `postgres://user:pass@host:port/db` and
/// `postgresql://…` (query parameters are passed to libpq). Pure function, thread-safe.
/// Errors are human-readable and never contain the password.
common::Result<DatabaseUrl, std::string> parse_database_url(std::string_view text);

}  // namespace nebula::bot::db
