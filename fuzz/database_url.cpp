// DATABASE_URL: any text. Never throws; a PostgreSQL URL's redacted form, as written to logs,
// keeps no password: libpq finds none or "***" in it. (A check that the password's text is
// absent from it was dropped: the database name may hold the same text.)
#include <libpq-fe.h>

#include <optional>
#include <string>

#include "bot/db/database_url.hpp"
#include "fuzz_util.hpp"

using namespace nebula;

namespace {

/// The password libpq reads from a connection string; nothing when it does not parse.
std::optional<std::string> libpq_password(const std::string& url) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
    if (error != nullptr) PQfreemem(error);
    if (options == nullptr) return std::nullopt;
    std::string password;
    for (auto* option = options; option->keyword != nullptr; ++option) {
        if (std::string_view(option->keyword) == "password" && option->val != nullptr) password = option->val;
    }
    PQconninfoFree(options);
    return password;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    auto url = bot::db::parse_database_url(text);
    if (!url) {
        fuzz::check(!url.error().empty(), "a refused URL has a message");
        return 0;
    }
    const std::string redacted = url->redacted();
    if (url->backend != bot::db::Backend::postgres) return 0;
    const auto password = libpq_password(url->postgres_url);
    if (!password || password->empty()) return 0;
    // Hiding more than the password (a host with an '@' of its own) is acceptable.
    const auto shown = libpq_password(redacted);
    fuzz::check(!shown || shown->empty() || *shown == "***", "the redacted URL holds no password");
    return 0;
}
