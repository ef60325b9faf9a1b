#pragma once

#include <memory>
#include <string>

#include "bot/db/connection.hpp"

namespace nebula::bot::db {

/// Backend factories behind open_connection(); internal to the db library.
common::Result<std::unique_ptr<Connection>, std::string> open_sqlite(const std::string& path, Access access);
common::Result<std::unique_ptr<Connection>, std::string> open_postgres(const std::string& url, Access access);

/// Rewrites `?` placeholders as $1, $2, … outside string literals, quoted identifiers and
/// comments. Exposed for tests.
std::string to_postgres_placeholders(std::string_view sql);

}  // namespace nebula::bot::db
