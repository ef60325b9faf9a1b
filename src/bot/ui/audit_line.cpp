#include "bot/ui/audit_line.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string_view>
#include <vector>

namespace nebula::bot::ui {
namespace {

constexpr std::size_t kValueMax = 120;

bool all_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

std::string actor_text(std::string_view actor) {
    if (all_digits(actor)) return "<@" + std::string(actor) + ">";
    constexpr std::string_view kCustomerPrefix = "user:";
    if (actor.substr(0, kCustomerPrefix.size()) == kCustomerPrefix &&
        all_digits(actor.substr(kCustomerPrefix.size())))
        return "<@" + std::string(actor.substr(kCustomerPrefix.size())) + ">";
    return std::string(actor);
}

bool secret_name(std::string_view name) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    constexpr std::array<std::string_view, 5> kWords{"key", "secret", "password", "passphrase", "token"};
    return std::any_of(kWords.begin(), kWords.end(),
                       [&](std::string_view word) { return lower.find(word) != std::string::npos; });
}

/// `value` with every field named like a secret hidden, at any depth.
nlohmann::json redacted(const nlohmann::json& value) {
    if (value.is_object()) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& item : value.items())
            out[item.key()] = secret_name(item.key()) ? nlohmann::json("[hidden]") : redacted(item.value());
        return out;
    }
    if (value.is_array()) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& item : value) out.push_back(redacted(item));
        return out;
    }
    return value;
}

/// Cuts `text` to at most `max` bytes without splitting a UTF-8 character, marking the cut.
std::string shortened(std::string text, std::size_t max) {
    if (text.size() <= max) return text;
    std::size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text.resize(end);
    return text + "…";
}

std::string show(const nlohmann::json& value) {
    return shortened(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), kValueMax);
}

std::string change_text(const std::optional<nlohmann::json>& before,
                        const std::optional<nlohmann::json>& after) {
    if (!before && !after) return "";
    if (before && after && before->is_object() && after->is_object()) {
        std::string out;
        auto field_text = [](const nlohmann::json& object, const std::string& name) {
            const auto it = object.find(name);
            return it == object.end() ? std::string("—") : show(*it);
        };
        std::vector<std::string> names;
        for (const auto& item : before->items()) names.push_back(item.key());
        for (const auto& item : after->items()) {
            if (!before->contains(item.key())) names.push_back(item.key());
        }
        for (const auto& name : names) {
            const auto b = before->find(name);
            const auto a = after->find(name);
            if (b != before->end() && a != after->end() && *b == *a) continue;
            if (!out.empty()) out += ", ";
            out += name + ": " + field_text(*before, name) + " → " + field_text(*after, name);
        }
        return out;
    }
    if (!before) return show(*after);
    return show(*before) + " → " + (after ? show(*after) : std::string("—"));
}

}  // namespace

std::string audit_line(const domain::AuditRecord& record) {
    const auto& entry = record.entry;
    std::string line = "<t:" + std::to_string(domain::epoch_seconds(record.at)) + ":f> " +
                       actor_text(entry.actor) + " `" + entry.action + "` " + entry.target_type + " #" +
                       entry.target_id;
    std::optional<nlohmann::json> before;
    std::optional<nlohmann::json> after;
    if (entry.before) before = redacted(*entry.before);
    if (entry.after) after = redacted(*entry.after);
    const std::string change = change_text(before, after);
    if (!change.empty()) line += ": " + change;
    return shortened(std::move(line), kAuditLineMax);
}

}  // namespace nebula::bot::ui
