#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bot/db/connection.hpp"
#include "common/result.hpp"

namespace nebula::bot::db {

/// One file from src/bot/db/migrations, embedded in the binary at build time.
/// Named `NNN_name.sql` (both backends) or `NNN_name.sqlite.sql` / `NNN_name.postgres.sql`.
struct MigrationFile {
    std::string_view file_name;
    std::string_view sql;
};

/// Every embedded migration file, in file-name order (generated code).
std::span<const MigrationFile> embedded_migration_files();

/// One schema version as it applies to one backend.
struct Migration {
    std::int64_t version = 0;
    std::string name;  ///< e.g. "001_initial"
    std::string sql;
    std::string checksum;  ///< hex SHA-256 of sql, recorded so an edited applied file is noticed
};

/// The migrations for `backend` in version order, built from `files`. Throws std::logic_error
/// when a file is misnamed or a version is defined twice (a build bug).
std::vector<Migration> migrations_for(Backend backend,
                                      std::span<const MigrationFile> files = embedded_migration_files());

enum class MigrationErrorCode {
    pending,          ///< the schema is behind the binary: run `nebula-bot migrate`
    checksum,         ///< an applied migration's file changed after it was applied
    unknown_version,  ///< the database has versions this binary does not know (newer binary ran)
    failed,           ///< a migration's SQL failed; it was rolled back
};

struct MigrationError {
    MigrationErrorCode code;
    std::string message;
};

/// Creates schema_migrations when missing, then applies every pending migration (up to
/// `up_to` when given) in version order, each in its own transaction together with its
/// schema_migrations row. Safe to run twice at once: a version applied meanwhile by another
/// process is skipped. Returns the names applied (empty when already current).
common::Result<std::vector<std::string>, MigrationError> migrate(
    Connection& connection, std::optional<std::int64_t> up_to = std::nullopt,
    std::span<const MigrationFile> files = embedded_migration_files());

/// The names of migrations not yet applied. Read-only: never creates schema_migrations.
std::vector<std::string> pending_migrations(
    Connection& connection, std::span<const MigrationFile> files = embedded_migration_files());

/// For start-up: success when the schema is exactly current; otherwise an error naming what is
/// pending (and the command to run), a changed file or an unknown version. Read-only: a database
/// never migrated (no schema_migrations table) has every migration pending and stays untouched.
common::Status<MigrationError> check_schema(
    Connection& connection, std::span<const MigrationFile> files = embedded_migration_files());

}  // namespace nebula::bot::db
