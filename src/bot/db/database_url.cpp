#include "bot/db/database_url.hpp"

#include <libpq-fe.h>

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
    std::string out = postgres_url;
    const auto scheme_end = out.find("://");
    if (scheme_end == std::string::npos) return out;
    const auto start = scheme_end + 3;
    auto query = out.find('?', start);
    // postgres://user:password@host → postgres://user:***@host. A password may itself hold '@'
    // (or '/'), so the credentials end at the last '@' before the query.
    const auto at = query == std::string::npos ? out.rfind('@') : out.rfind('@', query);
    if (at != std::string::npos && at >= start) {
        const auto colon = out.find(':', start);
        if (colon != std::string::npos && colon < at) {
            out.replace(colon + 1, at - colon - 1, "***");
            query = out.find('?', start);
        }
    }
    // ?password=… (libpq decodes the parameter names, so "pass%77ord" counts too).
    if (query == std::string::npos) return out;
    std::string redacted_query;
    bool first = true;
    std::string_view params = std::string_view(out).substr(query + 1);
    while (true) {
        const auto amp = params.find('&');
        const std::string_view param = params.substr(0, amp);
        const auto eq = param.find('=');
        const std::string_view key = param.substr(0, eq);
        if (!first) redacted_query += '&';
        first = false;
        if (eq != std::string_view::npos && http::url_decode(key).value_or(std::string(key)) == "password") {
            redacted_query += std::string(key) + "=***";
        } else {
            redacted_query += param;
        }
        if (amp == std::string_view::npos) break;
        params.remove_prefix(amp + 1);
    }
    return out.substr(0, query + 1) + redacted_query;
}

Result<DatabaseUrl, std::string> parse_database_url(std::string_view text) {
    DatabaseUrl url;
    if (text.starts_with("sqlite:")) {
        std::string_view path = text.substr(7);
        if (path.starts_with("//")) path.remove_prefix(2);
        if (path.empty())
            return unexpected(
                std::string("DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/bot.db"));
        url.backend = Backend::sqlite;
        url.sqlite_path = std::string(path);
        return url;
    }
    if (text.starts_with("postgres://") || text.starts_with("postgresql://")) {
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
            return unexpected(std::move(message));
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
        if (!has_db) return unexpected(std::string("DATABASE_URL: the PostgreSQL URL must name a database"));
        if (!port_ok) return unexpected(std::string("DATABASE_URL: the PostgreSQL port must be a number"));
        return url;
    }
    return unexpected(
        std::string("DATABASE_URL: expected sqlite:<path> or postgres://user:pass@host:port/db"));
}

}  // namespace nebula::bot::db
