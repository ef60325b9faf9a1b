#pragma once

#include <filesystem>
#include <string>

#include "common/result.hpp"

namespace nebula::bot::db {

/// Copies the SQLite database at `source` into `target` with SQLite's online backup API
/// (readers and writers of `source` carry on meanwhile; small steps, so they are never blocked
/// for long). Blocking: run it on a database thread. Errors as text.
common::Status<std::string> backup_sqlite(const std::string& source, const std::filesystem::path& target);

}  // namespace nebula::bot::db
