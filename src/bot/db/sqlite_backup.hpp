#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/result.hpp"

namespace nebula::bot::db {

/// Copies the SQLite database at `source` into `target` with SQLite's online backup API
/// (readers and writers of `source` carry on meanwhile; small steps, so they are never blocked
/// for long). Blocking: run it on a database thread. Errors as text.
common::Status<std::string> backup_sqlite(const std::string& source, const std::filesystem::path& target);

/// What a database file restored from a backup holds.
struct RestoredSqlite {
    std::int64_t users = 0;
    std::int64_t orders = 0;
    std::int64_t accounts = 0;
    bool schema_current = false;  ///< false: `nebula-bot migrate` must run before the bot uses it
};

/// Opens the SQLite file `path` read-only and checks it: SQLite's integrity check, then the bot's
/// tables. Errors as text: cannot open, fails the integrity check, not a nebula-bot database.
common::Result<RestoredSqlite, std::string> inspect_restored_sqlite(const std::filesystem::path& path);

}  // namespace nebula::bot::db
