// DATABASE_URL: any text. Never throws; a PostgreSQL URL's redacted form, as written to logs,
// keeps no password: libpq finds none or "***" in it, and the text of the password libpq reads
// from the original URL is not in it.
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
    // (Short passwords, or ones with the '*' of the mask, may occur in the rest of the text.)
    fuzz::check(password->size() < 4 || password->find('*') != std::string::npos ||
                    redacted.find(*password) == std::string::npos ||
                    url->postgres_url.find(*password) != url->postgres_url.rfind(*password),
                "the password's text is not in the redacted URL");
    return 0;
}
