#include "bot/db/database_url.hpp"

#include <libpq-fe.h>

#include <algorithm>

#include "common/http.hpp"

namespace nebula::bot::db {

std::string_view to_string(Backend backend) {
    switch (backend) {
        case Backend::sqlite:
            return "sqlite";
        case Backend::postgres:
            return "postgres";
    }
    return "unknown";
}

std::string DatabaseUrl::redacted() const {
    if (backend == Backend::sqlite) return "sqlite:" + sqlite_path;
    const std::string_view url = postgres_url;
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return postgres_url;
    // Walks the URL as libpq reads it: user[:password]@ up to the first '@' before any '/', then
    // the host list ([IPv6] in brackets, ports, commas), then /dbname, then ?parameters.
    const std::size_t start = scheme_end + 3;
    std::size_t p = start;
    while (p < url.size() && url[p] != '@' && url[p] != '/') ++p;
    const std::size_t first_at = p < url.size() && url[p] == '@' ? p : std::string_view::npos;
    p = first_at == std::string_view::npos ? start : first_at + 1;
    std::size_t last_at = first_at;  // the last '@' in the host list outside brackets
    do {
        if (p < url.size() && url[p] == ',') ++p;
        if (p < url.size() && url[p] == '[') {
            while (p < url.size() && url[p] != ']') ++p;
        }
        for (; p < url.size() && url[p] != '/' && url[p] != '?' && url[p] != ','; ++p) {
            if (url[p] == '@') last_at = p;
        }
    } while (p < url.size() && url[p] == ',');
    while (p < url.size() && url[p] != '?') ++p;
    const std::size_t query = p;

    std::string out;
    const auto colon =
        first_at == std::string_view::npos ? first_at : url.substr(start, first_at - start).find(':');
    if (colon != std::string_view::npos) {
        // user:***@host. A password typed with an '@' of its own would leak its rest (libpq stops
        // at the first '@'), so the hidden part ends at the last '@' before the database name.
        out.append(url.substr(0, start + colon + 1))
            .append("***")
            .append(url.substr(last_at, query - last_at));
    } else {
        out.append(url.substr(0, query));
    }
    if (query >= url.size()) return out;
    // ?password=… (libpq decodes the parameter names, so "pass%77ord" counts too).
    out += '?';
    std::string_view params = url.substr(query + 1);
    for (bool first = true;; first = false) {
        const auto amp = params.find('&');
        const std::string_view param = params.substr(0, amp);
        const auto eq = param.find('=');
        const std::string_view key = param.substr(0, eq);
        if (!first) out += '&';
        if (eq != std::string_view::npos &&
            common::http::url_decode(key).value_or(std::string(key)) == "password") {
            out.append(key).append("=***");
        } else {
            out.append(param);
        }
        if (amp == std::string_view::npos) break;
        params.remove_prefix(amp + 1);
    }
    return out;
}

common::Result<DatabaseUrl, std::string> parse_database_url(std::string_view text) {
    DatabaseUrl url;
    if (text.starts_with("sqlite:")) {
        std::string_view path = text.substr(7);
        if (path.starts_with("//")) path.remove_prefix(2);
        if (path.empty())
            return common::unexpected(
                std::string("DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/bot.db"));
        url.backend = Backend::sqlite;
        url.sqlite_path = std::string(path);
        return url;
    }
    if (text.starts_with("postgres://") || text.starts_with("postgresql://")) {
        // libpq would read the URL only up to a NUL, while the rest would still be logged.
        if (std::any_of(text.begin(), text.end(), [](char c) {
                const auto u = static_cast<unsigned char>(c);
                return u < 0x20 || u == 0x7f;
            })) {
            return common::unexpected(
                std::string("DATABASE_URL: the PostgreSQL URL contains a control character"));
        }
        url.backend = Backend::postgres;
        url.postgres_url = std::string(text);
        char* error = nullptr;
        PQconninfoOption* options = PQconninfoParse(url.postgres_url.c_str(), &error);
        if (options == nullptr) {
            std::string message = "DATABASE_URL: not a valid PostgreSQL URL";
            if (error != nullptr) {
                message += std::string(": ") + error;
                PQfreemem(error);
            }
            while (!message.empty() && message.back() == '\n') message.pop_back();
            return common::unexpected(std::move(message));
        }
        bool has_db = false;
        bool port_ok = true;
        for (auto* option = options; option->keyword != nullptr; ++option) {
            if (option->val == nullptr || *option->val == '\0') continue;
            const std::string_view keyword(option->keyword);
            const std::string_view value(option->val);
            if (keyword == "dbname") has_db = true;
            // libpq checks ports only when connecting; a typo should fail at start-up.
            if (keyword == "port") port_ok = value.find_first_not_of("0123456789,") == std::string_view::npos;
        }
        PQconninfoFree(options);
        if (!has_db)
            return common::unexpected(std::string("DATABASE_URL: the PostgreSQL URL must name a database"));
        if (!port_ok)
            return common::unexpected(std::string("DATABASE_URL: the PostgreSQL port must be a number"));
        return url;
    }
    return common::unexpected(
        std::string("DATABASE_URL: expected sqlite:<path> or postgres://user:pass@host:port/db"));
}

}  // namespace nebula::bot::db
