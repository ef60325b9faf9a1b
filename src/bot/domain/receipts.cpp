#include "bot/domain/receipts.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace nebula::bot::domain {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kTypes{{
    {"image/png", "png"},
    {"image/jpeg", "jpg"},
    {"image/webp", "webp"},
    {"application/pdf", "pdf"},
}};

/// "image/png; name=x" -> "image/png".
std::string_view base_type(std::string_view content_type) {
    content_type = content_type.substr(0, content_type.find(';'));
    while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
    return content_type;
}

}  // namespace

const std::vector<std::string>& receipt_types() {
    static const std::vector<std::string> types = [] {
        std::vector<std::string> out;
        out.reserve(std::size(kTypes));
        for (const auto& [type, extension] : kTypes) out.emplace_back(type);
        return out;
    }();
    return types;
}

bool is_receipt_type(std::string_view content_type) { return !receipt_extension(content_type).empty(); }

std::string_view receipt_extension(std::string_view content_type) {
    for (const auto& [type, extension] : kTypes) {
        if (type == base_type(content_type)) return extension;
    }
    return {};
}

bool receipt_bytes_match(std::string_view bytes, std::string_view content_type) {
    if (content_type == "image/png") return bytes.starts_with(std::string_view("\x89PNG\r\n\x1a\n", 8));
    if (content_type == "image/jpeg") return bytes.starts_with("\xFF\xD8\xFF");
    if (content_type == "image/webp")
        return bytes.size() >= 12 && bytes.starts_with("RIFF") && bytes.substr(8, 4) == "WEBP";
    if (content_type == "application/pdf") return bytes.starts_with("%PDF-");
    return false;
}

}  // namespace nebula::bot::domain
