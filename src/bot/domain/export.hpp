#pragma once

#include <cstdint>
#include <ostream>
#include <string_view>

#include "bot/db/connection.hpp"

namespace nebula::bot::domain {

enum class ExportKind { orders, users, accounts, revenue, audit };
enum class ExportFormat { csv, json };

struct ExportOptions {
    ExportFormat format = ExportFormat::csv;
    /// CSV only: start with a UTF-8 byte order mark so Excel reads Arabic text correctly.
    bool excel_bom = false;
};

std::string_view to_string(ExportKind kind);

/// Writes every row of one table to `out`, streaming so memory stays flat for millions of rows.
/// CSV goes through Connection::copy_csv (PostgreSQL formats the rows itself with COPY … TO
/// STDOUT; SQLite while stepping), byte-identical on both backends: RFC 4180 (header row, CRLF
/// line ends, fields with comma, quote, CR or LF quoted, quotes doubled), NULL and empty text
/// both as an empty field, integers (ids, piasters, epoch-second timestamps) as plain digits;
/// a text cell that starts with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` so spreadsheets
/// show it rather than run it as a formula (CSV injection). JSON carries the text unchanged.
/// JSON is one array of objects with numbers as numbers and NULL as null, read through a
/// streamed statement. Secrets (gateway keys) are never exported.
/// Returns the number of data rows. Nothing else may use the connection meanwhile.
/// Throws db::DbError, or std::ios_base::failure when `out` fails.
std::int64_t export_rows(db::Connection& connection, ExportKind kind, std::ostream& out,
                         const ExportOptions& options);

/// One CSV field, quoted when RFC 4180 requires it.
void write_csv_field(std::ostream& out, std::string_view value);

}  // namespace nebula::bot::domain
