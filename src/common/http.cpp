#include "common/http.hpp"

#include <cctype>
#include <charconv>

namespace nebula::common::http {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    // Header names are ASCII: fold A-Z inline rather than through the locale.
    auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c; };
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (fold(a[i]) != fold(b[i])) return false;
    }
    return true;
}

std::optional<std::string_view> Headers::find(std::string_view name) const {
    for (const auto& [n, v] : fields_) {
        if (iequals(n, name)) return std::string_view(v);
    }
    return std::nullopt;
}

void Headers::set(std::string_view name, std::string value) {
    remove(name);
    fields_.emplace_back(std::string(name), std::move(value));
}

void Headers::add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
    std::erase_if(fields_, [&](const auto& f) { return iequals(f.first, name); });
}

std::string Url::authority() const {
    std::string out;
    out.reserve(host.size() + 8);
    const bool bracket = host.find(':') != std::string::npos;
    if (bracket) out += '[';
    out += host;
    if (bracket) out += ']';
    if (!((scheme == "https" && port == 443) || (scheme == "http" && port == 80))) {
        out += ':';
        out += std::to_string(port);
    }
    return out;
}

common::Result<Url, std::string> Url::parse(std::string_view text) {
    Url url;
    auto sep = text.find("://");
    if (sep == std::string_view::npos)
        return common::unexpected(std::string("must start with http:// or https://"));
    for (char c : text.substr(0, sep))
        url.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (url.scheme != "http" && url.scheme != "https") {
        return common::unexpected(std::string("must start with http:// or https://"));
    }
    std::string_view rest = text.substr(sep + 3);
    auto slash = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    if (authority.find('@') != std::string_view::npos) {
        return common::unexpected(std::string("must not contain credentials"));
    }
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos)
            return common::unexpected(std::string("has an unterminated IPv6 address"));
        url.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':')
                return common::unexpected(std::string("has text after the IPv6 address"));
            port_text = after.substr(1);
        }
    } else {
        auto colon = authority.rfind(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (url.host.empty()) return common::unexpected(std::string("has no host"));
    // A ':' belongs only in a bracketed IPv6 address ("http://a:b:80" is not host "a:b").
    const bool bracketed = !authority.empty() && authority.front() == '[';
    for (char c : url.host) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isspace(u) || u < 0x20 || u == 0x7f || c == '/' || c == '\\' || c == '[' || c == ']' ||
            (c == ':' && !bracketed)) {
            return common::unexpected(std::string("has an invalid host"));
        }
    }
    url.port = url.scheme == "https" ? 443 : 80;
    if (!port_text.empty()) {
        unsigned value = 0;
        auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || value == 0 || value > 65535) {
            return common::unexpected(std::string("has an invalid port"));
        }
        url.port = static_cast<std::uint16_t>(value);
    }
    auto query = path.find_first_of("?#");
    url.path = std::string(path.substr(0, query));
    if (url.path.empty()) url.path.assign(1, '/');
    return url;
}

std::string url_encode(std::string_view text) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kDigits[c >> 4];
            out += kDigits[c & 0x0f];
        }
    }
    return out;
}

std::optional<std::string> url_decode(std::string_view text, bool plus_is_space) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            int hi = hex(text[i + 1]);
            int lo = hex(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

std::string_view reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 204:
            return "No Content";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 307:
            return "Temporary Redirect";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 411:
            return "Length Required";
        case 413:
            return "Payload Too Large";
        case 415:
            return "Unsupported Media Type";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "Unknown";
    }
}

}  // namespace nebula::common::http
