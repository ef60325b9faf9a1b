#include "bot/db/migrations.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <stdexcept>

#include "common/crypto.hpp"

namespace nebula::bot::db {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " checksum TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";

struct Applied {
    std::string name;
    std::string checksum;
};

bool has_migrations_table(Connection& connection) {
    // PostgreSQL: to_regclass follows search_path, so a per-schema database sees only its own.
    const auto found =
        connection.backend() == Backend::postgres
            ? connection.scalar<std::int64_t>("SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL")
            : connection.scalar<std::int64_t>(
                  "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                  "'schema_migrations'");
    return found.has_value();
}

// Reads what has been applied without writing anything: a database never migrated has no
// schema_migrations table yet, which means nothing is applied.
std::map<std::int64_t, Applied> applied_versions(Connection& connection) {
    std::map<std::int64_t, Applied> applied;
    if (!has_migrations_table(connection)) return applied;
    auto rows = connection.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version");
    while (rows->step()) {
        applied[rows->get<std::int64_t>(0)] = Applied{rows->get<std::string>(1), rows->get<std::string>(2)};
    }
    return applied;
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::vector<Migration> migrations_for(Backend backend, std::span<const MigrationFile> files) {
    std::map<std::int64_t, Migration> by_version;
    for (const auto& file : files) {
        std::string_view name = file.file_name;
        if (!name.ends_with(".sql"))
            throw std::logic_error("migration file without .sql: " + std::string(name));
        name.remove_suffix(4);
        std::string_view only;
        for (std::string_view suffix : {".sqlite", ".postgres"}) {
            if (name.ends_with(suffix)) {
                only = suffix.substr(1);
                name.remove_suffix(suffix.size());
            }
        }
        if (!only.empty() && only != to_string(backend)) continue;
        std::int64_t version = 0;
        const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), version);
        if (error != std::errc() || end == name.data() || *end != '_' || version <= 0) {
            throw std::logic_error("migration file not named NNN_name.sql: " + std::string(file.file_name));
        }
        Migration migration{version, std::string(name), std::string(file.sql), common::sha256_hex(file.sql)};
        if (!by_version.emplace(version, std::move(migration)).second) {
            throw std::logic_error("migration version defined twice: " + std::string(file.file_name));
        }
    }
    std::vector<Migration> ordered;
    ordered.reserve(by_version.size());
    for (auto& [version, migration] : by_version) ordered.push_back(std::move(migration));
    return ordered;
}

common::Result<std::vector<std::string>, MigrationError> migrate(Connection& connection,
                                                                 std::optional<std::int64_t> up_to,
                                                                 std::span<const MigrationFile> files) {
    std::vector<std::string> done;
    const auto known = migrations_for(connection.backend(), files);
    connection.execute_script(kCreateTable);
    if (auto status = check_schema(connection, files);
        !status && status.error().code != MigrationErrorCode::pending) {
        return common::unexpected(status.error());
    }
    for (const auto& migration : known) {
        if (up_to && migration.version > *up_to) break;
        try {
            Transaction transaction(connection);
            // Serialise concurrent migrators; SQLite's BEGIN IMMEDIATE already did.
            if (connection.backend() == Backend::postgres) {
                connection.exec("SELECT pg_advisory_xact_lock(7301505)");
            }
            if (connection.scalar<std::int64_t>("SELECT version FROM schema_migrations WHERE version = ?",
                                                migration.version)) {
                continue;
            }
            connection.execute_script(migration.sql);
            connection.exec(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                migration.version, migration.name, migration.checksum, now_seconds());
            transaction.commit();
            done.push_back(migration.name);
        } catch (const DbError& error) {
            return common::unexpected(MigrationError{
                MigrationErrorCode::failed, "migration " + migration.name + " failed: " + error.what()});
        }
    }
    return done;
}

std::vector<std::string> pending_migrations(Connection& connection, std::span<const MigrationFile> files) {
    const auto applied = applied_versions(connection);
    std::vector<std::string> pending;
    for (const auto& migration : migrations_for(connection.backend(), files)) {
        if (!applied.contains(migration.version)) pending.push_back(migration.name);
    }
    return pending;
}

common::Status<MigrationError> check_schema(Connection& connection, std::span<const MigrationFile> files) {
    const auto applied = applied_versions(connection);
    const auto known = migrations_for(connection.backend(), files);
    std::vector<std::string> pending;
    for (const auto& migration : known) {
        const auto it = applied.find(migration.version);
        if (it == applied.end()) {
            pending.push_back(migration.name);
        } else if (it->second.checksum != migration.checksum) {
            return common::unexpected(
                MigrationError{MigrationErrorCode::checksum,
                               "migration " + migration.name +
                                   " was changed after it was applied; restore the original file"});
        }
    }
    for (const auto& [version, row] : applied) {
        const bool is_known = std::any_of(known.begin(), known.end(),
                                          [v = version](const Migration& m) { return m.version == v; });
        if (!is_known) {
            return common::unexpected(
                MigrationError{MigrationErrorCode::unknown_version,
                               "the database has migration " + row.name +
                                   ", which this nebula-bot does not know; run a newer release"});
        }
    }
    if (!pending.empty()) {
        std::string list;
        for (const auto& name : pending) list += (list.empty() ? "" : ", ") + name;
        return common::unexpected(MigrationError{
            MigrationErrorCode::pending, std::to_string(pending.size()) + " pending migration(s): " + list +
                                             "; run `nebula-bot migrate` first"});
    }
    return {};
}

}  // namespace nebula::bot::db
