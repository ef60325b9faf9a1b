#include "common/config.hpp"

#include <cctype>
#include <charconv>

#include "common/http.hpp"

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
    auto parsed = http::Url::parse(*v);
    if (!parsed) {
        fail(key, parsed.error());
        return fallback.value_or("");
    }
    return *v;
}

void ConfigReader::fail(std::string_view key, std::string message) {
    errors_.push_back(std::string(key) + " " + message);
}

Status<std::string> ConfigReader::finish() const {
    if (errors_.empty()) return {};
    std::string message = "invalid configuration (" + std::to_string(errors_.size()) +
                          (errors_.size() == 1 ? " problem" : " problems") + "):";
    for (const auto& e : errors_) message += "\n  - " + e;
    return unexpected(std::move(message));
}

}  // namespace nebula::common
