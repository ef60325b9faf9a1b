#include "bot/db/database_url.hpp"

#include <libpq-fe.h>

#include <algorithm>

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
    std::string url = postgres_url;
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return "postgres://***";
    // postgres://user:password@host → postgres://user:***@host. The password ends at the last
    // '@' of the authority: an unencoded '@' in it must not leave its tail showing.
    const auto start = scheme_end + 3;
    const auto authority_end = std::min(url.find_first_of("/?#", start), url.size());
    const auto at = url.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
    if (at != std::string::npos && at >= start) {
        const auto colon = url.find(':', start);
        if (colon != std::string::npos && colon < at) url.replace(colon + 1, at - colon - 1, "***");
    }
    // …?sslmode=require&password=secret → …&password=***
    const auto query = url.find('?');
    if (query == std::string::npos) return url;
    std::string out = url.substr(0, query + 1);
    std::string_view rest = std::string_view(url).substr(query + 1);
    while (true) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        const auto eq = pair.find('=');
        out += pair.substr(0, eq) == "password" && eq != std::string_view::npos ? std::string("password=***")
                                                                                : std::string(pair);
        if (amp == std::string_view::npos) break;
        out += '&';
        rest.remove_prefix(amp + 1);
    }
    return out;
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
