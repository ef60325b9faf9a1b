#include "discord/text.hpp"

#include <cstdint>
#include <vector>

namespace nebula::discord {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes one code point at `pos`; returns its length in bytes, or 0 when the sequence there is
// not valid UTF-8.
std::size_t decode(std::string_view text, std::size_t pos, char32_t& out) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(pos);
    std::size_t length = 0;
    char32_t value = 0;
    char32_t minimum = 0;
    if (lead < 0x80) {
        out = lead;
        return 1;
    } else if ((lead & 0xE0) == 0xC0) {
        length = 2, value = lead & 0x1F, minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3, value = lead & 0x0F, minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4, value = lead & 0x07, minimum = 0x10000;
    } else {
        return 0;
    }
    if (pos + length > text.size()) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(pos + i) & 0xC0) != 0x80) return 0;
        value = (value << 6) | (byte(pos + i) & 0x3F);
    }
    if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
    out = value;
    return length;
}

void encode(char32_t cp, std::string& out) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Marks that attach to the previous character; cutting just before one would strip it.
bool is_combining(char32_t cp) {
    return (cp >= 0x0300 && cp <= 0x036F) ||    // combining diacritics
           (cp >= 0x0610 && cp <= 0x061A) ||    // Arabic signs
           (cp >= 0x064B && cp <= 0x065F) ||    // Arabic harakat
           cp == 0x0670 ||                      // superscript alef
           (cp >= 0x06D6 && cp <= 0x06ED) ||    // Quranic annotation marks
           (cp >= 0xFE00 && cp <= 0xFE0F) ||    // variation selectors
           (cp >= 0x1F3FB && cp <= 0x1F3FF) ||  // emoji skin tones
           cp == 0x200D;                        // zero-width joiner
}

std::size_t units(char32_t cp) { return cp >= 0x10000 ? 2 : 1; }

}  // namespace

std::string sanitize_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        char32_t cp = 0;
        const std::size_t length = decode(text, pos, cp);
        if (length == 0) {
            encode(kReplacement, out);
            ++pos;
        } else {
            out.append(text.substr(pos, length));
            pos += length;
        }
    }
    return out;
}

std::size_t text_length(std::string_view text) {
    std::size_t total = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        char32_t cp = kReplacement;
        const std::size_t length = decode(text, pos, cp);
        total += units(cp);
        pos += length == 0 ? 1 : length;
    }
    return total;
}

std::string truncate_text(std::string_view raw, std::size_t max_units, std::string_view ellipsis) {
    std::string text = sanitize_utf8(raw);
    if (text_length(text) <= max_units) return text;
    const std::string tail = sanitize_utf8(ellipsis);
    const std::size_t tail_units = text_length(tail);
    const std::size_t budget = tail_units <= max_units ? max_units - tail_units : 0;

    // Code point boundaries (byte offsets) and their code points, up to the budget.
    std::vector<std::pair<std::size_t, char32_t>> points;
    std::size_t used = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        char32_t cp = 0;
        const std::size_t length = decode(text, pos, cp);
        if (used + units(cp) > budget) break;
        points.emplace_back(pos, cp);
        used += units(cp);
        pos += length;
    }
    // `pos` is the cut. Back off while the next character would attach to the kept text, or
    // the last kept character joins to what was cut.
    std::size_t keep = points.size();
    auto next_cp = [&](std::size_t index) {
        char32_t cp = 0;
        const std::size_t at = index < points.size() ? points[index].first : pos;
        if (at < text.size()) decode(text, at, cp);
        return cp;
    };
    while (keep > 0 && (is_combining(next_cp(keep)) || points[keep - 1].second == 0x200D)) {
        --keep;
    }
    const std::size_t cut = keep < points.size() ? points[keep].first : pos;
    std::string out = text.substr(0, cut);
    if (tail_units <= max_units) out += tail;
    return out;
}

}  // namespace nebula::discord
