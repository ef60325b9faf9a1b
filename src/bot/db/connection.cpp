#include "bot/db/connection.hpp"

#include "bot/db/backends.hpp"

namespace nebula::bot::db {
namespace {

constexpr std::size_t kCsvChunkBytes = 64 * 1024;

// PostgreSQL's CSV output rules (CopyAttributeOutCSV), so both backends write the same bytes:
// quote when the field holds a delimiter, quote, CR or LF, when it is an empty string (which
// would otherwise read back as NULL) and when a lone column holds the end-of-data marker.
void append_csv_field(std::string& out, std::string_view value, bool single_column) {
    const bool quote = value.empty() || value.find_first_of(",\"\r\n") != std::string_view::npos ||
                       (single_column && value == "\\.");
    if (!quote) {
        out += value;
        return;
    }
    out += '"';
    for (const char c : value) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

}  // namespace

std::int64_t Connection::copy_csv(std::string_view select,
                                  const std::function<void(std::string_view)>& sink) {
    auto rows = prepare(select, Fetch::streamed);
    std::string chunk;
    chunk.reserve(kCsvChunkBytes + kCsvChunkBytes / 4);
    std::int64_t records = 0;
    while (rows->step()) {
        const int count = rows->column_count();
        for (int i = 0; i < count; ++i) {
            if (i > 0) chunk += ',';
            if (!rows->is_null(i)) append_csv_field(chunk, rows->get_text(i), count == 1);
        }
        chunk += "\r\n";
        ++records;
        if (chunk.size() >= kCsvChunkBytes) {
            sink(chunk);
            chunk.clear();
        }
    }
    if (!chunk.empty()) sink(chunk);
    return records;
}

common::Result<std::unique_ptr<Connection>, std::string> open_connection(const DatabaseUrl& url,
                                                                         Access access) {
    if (url.backend == Backend::postgres) return open_postgres(url.postgres_url, access);
    return open_sqlite(url.sqlite_path, access);
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
