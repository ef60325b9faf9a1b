#include "gateway/xui/envelope.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace nebula::gateway::xui {

std::string_view to_string(PanelErrorCode code) {
    switch (code) {
        case PanelErrorCode::unreachable:
            return "unreachable";
        case PanelErrorCode::timeout:
            return "timeout";
        case PanelErrorCode::auth_failed:
            return "auth_failed";
        case PanelErrorCode::rejected:
            return "rejected";
        case PanelErrorCode::not_found:
            return "not_found";
        case PanelErrorCode::conflict:
            return "conflict";
        case PanelErrorCode::last_client:
            return "last_client";
        case PanelErrorCode::protocol:
            return "protocol";
    }
    return "unknown";
}

std::string_view to_string(Generation generation) {
    return generation == Generation::clients ? "clients" : "legacy";
}

namespace {

bool contains_nocase(std::string_view haystack, std::string_view needle) {
    auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
    auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                          [&](char a, char b) { return lower(a) == lower(b); });
    return it != haystack.end();
}

}  // namespace

PanelErrorCode classify_panel_message(std::string_view msg) {
    constexpr std::array kConflict{"duplicate email", "already in use", "duplicate subid",
                                   "unique constraint"};
    for (std::string_view needle : kConflict) {
        if (contains_nocase(msg, needle)) return PanelErrorCode::conflict;
    }
    if (contains_nocase(msg, "no client remained")) return PanelErrorCode::last_client;
    if (contains_nocase(msg, "not found")) return PanelErrorCode::not_found;
    return PanelErrorCode::rejected;
}

std::string summarise(std::string_view text) {
    constexpr std::size_t kMax = 200;
    std::string out;
    bool space = false;
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (std::isspace(u) || u < 0x20 || u == 0x7f) {
            space = !out.empty();
            continue;
        }
        if (space) out.push_back(' ');
        space = false;
        out.push_back(c);
        if (out.size() > kMax) break;
    }
    if (out.size() > kMax) {
        // Cut on a UTF-8 character boundary, leaving room for the "...".
        out.resize(kMax - 3);
        while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
        if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80)) out.pop_back();
        out += "...";
    }
    return out;
}

common::Result<nlohmann::json, PanelError> parse_envelope(int http_status, std::string_view body) {
    if (http_status >= 500) {
        return common::unexpected(
            PanelError{PanelErrorCode::rejected, "panel answered HTTP " + std::to_string(http_status)});
    }
    if (http_status != 200) {
        return common::unexpected(PanelError{
            PanelErrorCode::protocol, "panel answered unexpected HTTP " + std::to_string(http_status)});
    }
    auto doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("success") || !doc["success"].is_boolean()) {
        return common::unexpected(
            PanelError{PanelErrorCode::protocol, "panel answer is not its JSON envelope"});
    }
    if (doc["success"].get<bool>()) {
        auto obj = doc.find("obj");
        return obj == doc.end() ? nlohmann::json() : std::move(*obj);
    }
    std::string msg;
    if (auto it = doc.find("msg"); it != doc.end() && it->is_string()) msg = it->get<std::string>();
    auto text = summarise(msg);
    return common::unexpected(PanelError{classify_panel_message(msg),
                                         text.empty() ? "panel refused the request" : "panel: " + text});
}

}  // namespace nebula::gateway::xui
