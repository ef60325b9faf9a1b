#include "bot/db/connection.hpp"

#include "bot/db/backends.hpp"

namespace nebula::bot::db {

Result<std::unique_ptr<Connection>, std::string> open_connection(const DatabaseUrl& url) {
    if (url.backend == Backend::postgres) return open_postgres(url.postgres_url);
    return open_sqlite(url.sqlite_path);
}

std::string_view to_string(DbErrorCode code) {
    switch (code) {
        case DbErrorCode::unique_violation:
            return "unique_violation";
        case DbErrorCode::foreign_key_violation:
            return "foreign_key_violation";
        case DbErrorCode::check_violation:
            return "check_violation";
        case DbErrorCode::busy:
            return "busy";
        case DbErrorCode::serialization:
            return "serialization";
        case DbErrorCode::connection:
            return "connection";
        case DbErrorCode::other:
            return "other";
    }
    return "other";
}

}  // namespace nebula::bot::db
