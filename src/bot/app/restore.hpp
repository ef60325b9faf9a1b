#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace nebula::bot::app {

/// `nebula-bot backup restore FILE`: opens the encrypted backup archive `archive` (the backup
/// job's .nlbk, see db/backup_archive.hpp) with `passphrase` into the new file `output` (never
/// over an existing one, so never over a live database) and checks what came out:
///
/// - a SQLite database must pass `PRAGMA integrity_check` and have the bot's tables; the
///   report gives its counts and whether `nebula-bot migrate` must run before the bot uses it;
/// - a PostgreSQL dump must be listed by `pg_restore --list` when pg_restore is installed; the
///   report says the pg_restore command that loads it into a new, empty database.
///
/// A restored database that fails its check is removed again. An empty `output` means the
/// archive's own name without ".nlbk", in the current directory. Returns the report (several
/// lines) or the reason it failed. Blocking.
common::Result<std::string, std::string> restore_backup(const std::filesystem::path& archive,
                                                        std::filesystem::path output,
                                                        std::string_view passphrase);

}  // namespace nebula::bot::app
