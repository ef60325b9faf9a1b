#include "common/config.hpp"

#include <cctype>
#include <charconv>

#include "common/http.hpp"
#include "common/metrics.hpp"

namespace nebula::common {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string ConfigReader::required(std::string_view key) {
    if (const auto* v = env_.find(key)) return *v;
    fail(key, "is required");
    return {};
}

std::string ConfigReader::optional(std::string_view key, std::string fallback) {
    if (const auto* v = env_.find(key)) return *v;
    return fallback;
}

std::string ConfigReader::secret(std::string_view key, std::size_t min_length, bool required) {
    const auto* v = env_.find(key);
    if (v == nullptr) {
        if (required) fail(key, "is required");
        return {};
    }
    if (v->size() < min_length) {
        fail(key, "must be at least " + std::to_string(min_length) + " characters long (got " +
                      std::to_string(v->size()) + ")");
    }
    return *v;
}

std::int64_t ConfigReader::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                   std::int64_t max) {
    const auto* v = env_.find(key);
    if (v == nullptr) return fallback;
    std::int64_t out = 0;
    std::string_view text = trim(*v);
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc{} || ptr != text.data() + text.size()) {
        fail(key, "must be a whole number (got \"" + *v + "\")");
        return fallback;
    }
    if (out < min || out > max) {
        fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got " +
                      std::to_string(out) + ")");
        return fallback;
    }
    return out;
}

std::uint16_t ConfigReader::port(std::string_view key, std::uint16_t fallback) {
    return static_cast<std::uint16_t>(integer(key, fallback, 1, 65535));
}

bool ConfigReader::boolean(std::string_view key, bool fallback) {
    const auto* v = env_.find(key);
    if (v == nullptr) return fallback;
    std::string lower;
    for (char c : trim(*v)) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "1" || lower == "true" || lower == "yes" || lower == "on") return true;
    if (lower == "0" || lower == "false" || lower == "no" || lower == "off") return false;
    fail(key, "must be true or false (got \"" + *v + "\")");
    return fallback;
}

std::chrono::seconds ConfigReader::seconds(std::string_view key, std::chrono::seconds fallback) {
    return std::chrono::seconds{integer(key, fallback.count(), 0, 365LL * 24 * 3600)};
}

std::vector<std::string> ConfigReader::list(std::string_view key) {
    std::vector<std::string> out;
    const auto* v = env_.find(key);
    if (v == nullptr) return out;
    std::string_view rest = *v;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string_view item = trim(rest.substr(0, comma));
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return out;
}

std::string ConfigReader::url(std::string_view key, std::optional<std::string> fallback) {
    const auto* v = env_.find(key);
    if (v == nullptr) {
        if (!fallback) fail(key, "is required");
        return fallback.value_or("");
    }
    auto parsed = common::http::Url::parse(*v);
    if (!parsed) {
        fail(key, parsed.error());
        return fallback.value_or("");
    }
    return *v;
}

void ConfigReader::fail(std::string_view key, std::string message) {
    errors_.push_back(std::string(key) + " " + message);
}

std::optional<std::string> normalize_log_level(std::string_view text) {
    std::string lower;
    for (char c : trim(text)) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "warning") return "warn";
    if (lower == "err") return "error";
    for (const char* known : {"trace", "debug", "info", "warn", "error"}) {
        if (lower == known) return lower;
    }
    return std::nullopt;
}

SharedSettings read_shared_settings(ConfigReader& r) {
    SharedSettings s;
    const std::string level = r.optional("LOG_LEVEL", "info");
    if (auto known = normalize_log_level(level)) {
        s.log_level = *known;
    } else {
        r.fail("LOG_LEVEL", "must be one of trace, debug, info, warn, error (got \"" + level + "\")");
    }
    s.log_dir = r.optional("LOG_DIR", "logs");
    if (trim(s.log_dir).empty()) r.fail("LOG_DIR", "must name a folder (it is empty)");
    if (const auto port = r.integer("METRICS_PORT", 0, 0, 65535); port != 0) {
        s.metrics_port = static_cast<std::uint16_t>(port);
    }
    s.metrics_bind = r.optional("METRICS_BIND", "127.0.0.1");
    if (!metrics::is_loopback_literal(s.metrics_bind)) {
        r.fail("METRICS_BIND",
               "must be a loopback address (127.0.0.1 or ::1): metrics have no authentication");
    }
    return s;
}

common::Status<std::string> ConfigReader::finish() const {
    if (errors_.empty()) return {};
    std::string message = "invalid configuration (" + std::to_string(errors_.size()) +
                          (errors_.size() == 1 ? " problem" : " problems") + "):";
    for (const auto& e : errors_) message += "\n  - " + e;
    return common::unexpected(std::move(message));
}

}  // namespace nebula::common
