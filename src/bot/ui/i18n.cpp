#include "bot/ui/i18n.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace nebula::bot::ui {
namespace {

struct Entry {
    Msg key;
    std::string_view id;
    std::string_view en;
    std::string_view ar;
};

#include "bot/ui/i18n_catalogue.inc"

// UTF-8 of the isolate controls.
constexpr std::string_view kLri = "\u2066";  // LEFT-TO-RIGHT ISOLATE
constexpr std::string_view kFsi = "\u2068";  // FIRST STRONG ISOLATE
constexpr std::string_view kPdi = "\u2069";  // POP DIRECTIONAL ISOLATE

// True when a ``` code fence starts at i.
constexpr bool is_fence(std::string_view text, std::size_t i) {
    return text[i] == '`' && i + 2 < text.size() && text[i + 1] == '`' && text[i + 2] == '`';
}

constexpr bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
constexpr bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// 0 for bytes that do not start U+2066..U+2069, else the code point's last byte (0xA6..0xA9).
constexpr unsigned isolate_at(std::string_view text, std::size_t i) {
    if (i + 2 >= text.size() || static_cast<unsigned char>(text[i]) != 0xE2 ||
        static_cast<unsigned char>(text[i + 1]) != 0x81) {
        return 0;
    }
    const auto last = static_cast<unsigned char>(text[i + 2]);
    return last >= 0xA6 && last <= 0xA9 ? last : 0;
}

struct Placeholders {
    std::array<std::string_view, 16> names{};
    std::size_t count = 0;

    constexpr bool contains(std::string_view name) const {
        for (std::size_t i = 0; i < count; ++i) {
            if (names[i] == name) return true;
        }
        return false;
    }
};

// Walks a template and reports the first rule it breaks (empty when it keeps them all). The
// same walk collects its placeholders.
constexpr std::string_view check_template(std::string_view text, bool arabic, Placeholders& found) {
    bool in_block = false;
    bool in_inline = false;
    int isolates = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (is_fence(text, i)) {
            if (in_inline) return "code block inside inline code";
            in_block = !in_block;
            i += 2;
            continue;
        }
        if (c == '`' && !in_block) {
            in_inline = !in_inline;
            continue;
        }
        if (c == '\n' && in_inline) return "inline code spans a line break";
        if (c == '{') {
            std::size_t end = i + 1;
            while (end < text.size() && is_name_char(text[end])) ++end;
            if (end == i + 1 || end >= text.size() || text[end] != '}') return "malformed placeholder";
            const std::string_view name = text.substr(i + 1, end - i - 1);
            if (!found.contains(name)) {
                if (found.count == found.names.size()) return "too many placeholders";
                found.names[found.count++] = name;
            }
            i = end;
            continue;
        }
        if (c == '}') return "stray '}'";
        if (const unsigned iso = isolate_at(text, i); iso != 0) {
            if (!arabic) return "English templates need no isolates";
            if (in_block || in_inline) return "isolate inside code";
            isolates += iso == 0xA9 ? -1 : 1;
            if (isolates < 0) return "PDI without an isolate to close";
            i += 2;
            continue;
        }
        if (arabic && is_ascii_letter(c) && isolates == 0 && !in_block && !in_inline) {
            return "Latin letters in Arabic text must be inside an isolate";
        }
    }
    if (in_block || in_inline) return "unterminated code";
    if (isolates != 0) return "unbalanced isolates";
    return {};
}

constexpr bool has_arabic_letter(std::string_view text) {
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0xD8 && byte <= 0xDB) return true;  // lead bytes of U+0600..U+06FF
    }
    return false;
}

constexpr bool has_latin_word(std::string_view text) {
    bool in_placeholder = false;
    for (char c : text) {
        if (c == '{') in_placeholder = true;
        if (c == '}') in_placeholder = false;
        if (!in_placeholder && is_ascii_letter(c)) return true;
    }
    return false;
}

constexpr std::string_view check_entry(const Entry& entry) {
    if (entry.en.empty() || entry.ar.empty()) return "missing a language";
    Placeholders en;
    Placeholders ar;
    if (auto problem = check_template(entry.en, false, en); !problem.empty()) return problem;
    if (auto problem = check_template(entry.ar, true, ar); !problem.empty()) return problem;
    if (en.count != ar.count) return "placeholders differ between English and Arabic";
    for (std::size_t i = 0; i < en.count; ++i) {
        if (!ar.contains(en.names[i])) return "placeholders differ between English and Arabic";
    }
    if (has_latin_word(entry.en) && !has_arabic_letter(entry.ar)) return "Arabic text is not Arabic";
    return {};
}

// The index of the first entry in [from, to) that is out of order or breaks a rule, or -1.
constexpr int first_bad_entry(std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to && i < std::size(kCatalogue); ++i) {
        if (static_cast<std::size_t>(kCatalogue[i].key) != i) return static_cast<int>(i);
        if (!check_entry(kCatalogue[i]).empty()) return static_cast<int>(i);
    }
    return -1;
}
// On failure the compiler shows the position of the first bad entry (in Msg order), e.g. "the
// comparison reduces to (42 == -1)": entry 42 is out of place, misses a language, has different
// placeholders in English and Arabic, or leaves a Latin word in Arabic unisolated. The checks
// run in slices of 40 because compilers cap the work of one constant evaluation.
template <std::size_t From>
constexpr bool catalogue_slice_ok() {
    constexpr int kBad = first_bad_entry(From, From + 40);
    static_assert(kBad == -1, "every Msg needs English and Arabic with matching placeholders");
    if constexpr (From + 40 < kMsgCount) {
        return catalogue_slice_ok<From + 40>();
    } else {
        return kBad == -1;
    }
}
static_assert(std::size(kCatalogue) == kMsgCount, "one catalogue entry for every Msg");
static_assert(catalogue_slice_ok<0>());

const Entry& entry(Msg msg) {
    const auto index = static_cast<std::size_t>(msg);
    if (index >= kMsgCount) throw std::invalid_argument("unknown message key");
    return kCatalogue[index];
}

// Drops the controls a value must not carry into our text: embeddings and overrides always,
// isolates when they do not pair up within the value.
std::string clean_value(std::string_view value) {
    int depth = 0;
    bool balanced = true;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (const unsigned iso = isolate_at(value, i); iso != 0) {
            depth += iso == 0xA9 ? -1 : 1;
            if (depth < 0) balanced = false;
            i += 2;
        }
    }
    balanced = balanced && depth == 0;
    std::string out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto b0 = static_cast<unsigned char>(value[i]);
        if (b0 == 0xE2 && i + 2 < value.size() && static_cast<unsigned char>(value[i + 1]) == 0x80) {
            const auto b2 = static_cast<unsigned char>(value[i + 2]);
            if (b2 >= 0xAA && b2 <= 0xAE) {  // U+202A..U+202E
                i += 2;
                continue;
            }
        }
        if (!balanced && isolate_at(value, i) != 0) {
            i += 2;
            continue;
        }
        out += value[i];
    }
    return out;
}

// Inside code a backtick would end the span early; U+02CB MODIFIER LETTER GRAVE ACCENT looks alike.
std::string code_safe(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '`') {
            out += "\u02CB";
        } else {
            out += c;
        }
    }
    return out;
}

std::string group_thousands(std::int64_t value) {
    const bool negative = value < 0;
    // Work on the magnitude as unsigned so INT64_MIN does not overflow.
    std::uint64_t magnitude =
        negative ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
    const std::string digits = std::to_string(magnitude);
    std::string out = negative ? "-" : "";
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string two_digits(unsigned value) {
    return std::string{static_cast<char>('0' + value / 10 % 10), static_cast<char>('0' + value % 10)};
}

constexpr std::array<std::string_view, 12> kMonthsEn = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
// The month names used in Egypt.
constexpr std::array<std::string_view, 12> kMonthsAr = {"يناير",  "فبراير", "مارس",   "أبريل",
                                                        "مايو",   "يونيو",  "يوليو",  "أغسطس",
                                                        "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"};

// Arabic plural categories (CLDR): zero, one, two, few (n % 100 in 3..10), many (11..99), other.
enum class ArabicForm { zero, one, two, few, many, other };

ArabicForm arabic_form(std::int64_t n) {
    const std::int64_t magnitude = n < 0 ? -n : n;
    if (magnitude == 0) return ArabicForm::zero;
    if (magnitude == 1) return ArabicForm::one;
    if (magnitude == 2) return ArabicForm::two;
    const std::int64_t tail = magnitude % 100;
    if (tail >= 3 && tail <= 10) return ArabicForm::few;
    if (tail >= 11) return ArabicForm::many;
    return ArabicForm::other;
}

struct UnitWords {
    std::string_view en_one;
    std::string_view en_many;
    // Arabic: one and two are whole words ("يوم واحد", "يومان"); the others follow the number.
    std::string_view ar_one;
    std::string_view ar_two;
    std::string_view ar_few;
    std::string_view ar_many;
    std::string_view ar_other;
};

const UnitWords& unit_words(Unit unit) {
    static constexpr UnitWords kDay{"day", "days", "يوم واحد", "يومان", "أيام", "يومًا", "يوم"};
    static constexpr UnitWords kHour{"hour", "hours", "ساعة واحدة", "ساعتان", "ساعات", "ساعة", "ساعة"};
    static constexpr UnitWords kMinute{"minute", "minutes", "دقيقة واحدة", "دقيقتان",
                                       "دقائق",  "دقيقة",   "دقيقة"};
    static constexpr UnitWords kDevice{"device", "devices", "جهاز واحد", "جهازان", "أجهزة", "جهازًا", "جهاز"};
    switch (unit) {
        case Unit::day:
            return kDay;
        case Unit::hour:
            return kHour;
        case Unit::minute:
            return kMinute;
        case Unit::device:
            return kDevice;
    }
    throw std::invalid_argument("unknown unit");
}

constexpr std::string_view kRlm = "\u200F";  // RIGHT-TO-LEFT MARK

// The length of a list marker ("1. ", "12. ", "• ", "- ") at the start of `line`, else 0.
std::size_t list_marker(std::string_view line) {
    if (line.starts_with("• ")) return std::string_view("• ").size();
    if (line.starts_with("- ")) return 2;
    std::size_t digits = 0;
    while (digits < line.size() && line[digits] >= '0' && line[digits] <= '9') ++digits;
    if (digits > 0 && line.substr(digits).starts_with(". ")) return digits + 2;
    return 0;
}

// Fixes the direction of every Arabic line outside code: a RIGHT-TO-LEFT MARK at both ends (a
// line that starts or ends with Latin text, digits or punctuation would otherwise be laid out
// left to right, or end with its punctuation on the wrong side) and after a list marker. Code
// blocks are left exactly as they are, so what a customer copies is only the value.
std::string mark_right_to_left(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 32);
    bool in_block = false;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const std::string_view line = text.substr(start, end - start);
        const bool fence = line.find("```") != std::string_view::npos;
        if (in_block || line.empty() || line.starts_with("```")) {
            out += line;
        } else {
            const std::size_t marker = list_marker(line);
            out += kRlm;
            out += line.substr(0, marker);
            if (marker > 0) out += kRlm;
            out += line.substr(marker);
            if (!fence) out += kRlm;
        }
        // An odd number of fences on the line opens or closes a block.
        for (std::size_t at = line.find("```"); at != std::string_view::npos; at = line.find("```", at + 3))
            in_block = !in_block;
        if (end == text.size()) break;
        out += '\n';
        start = end + 1;
    }
    return out;
}

}  // namespace

Locale locale_from_discord(std::string_view code) {
    const bool arabic =
        code.size() >= 2 && (code[0] == 'a' || code[0] == 'A') && (code[1] == 'r' || code[1] == 'R');
    return arabic ? Locale::ar : Locale::en;
}

std::string_view locale_code(Locale locale) { return locale == Locale::ar ? "ar" : "en"; }

Locale choose_locale(std::string_view saved_choice, std::string_view discord_locale, Locale shop_default) {
    if (saved_choice == "ar") return Locale::ar;
    if (saved_choice == "en") return Locale::en;
    if (locale_from_discord(discord_locale) == Locale::ar) return Locale::ar;
    return shop_default;
}

std::string tr(Locale locale, Msg msg, std::initializer_list<Arg> args) {
    const Entry& e = entry(msg);
    const std::string_view text = locale == Locale::ar ? e.ar : e.en;
    const bool arabic = locale == Locale::ar;

    const std::vector<std::string_view> wanted = msg_placeholders(msg);
    for (auto it = args.begin(); it != args.end(); ++it) {
        if (std::find(wanted.begin(), wanted.end(), it->name) == wanted.end()) {
            throw std::invalid_argument("tr(" + std::string(e.id) + "): no placeholder {" +
                                        std::string(it->name) + "}");
        }
        for (auto other = args.begin(); other != it; ++other) {
            if (other->name == it->name) {
                throw std::invalid_argument("tr(" + std::string(e.id) + "): {" + std::string(it->name) +
                                            "} given twice");
            }
        }
    }
    for (std::string_view name : wanted) {
        if (std::none_of(args.begin(), args.end(), [&](const Arg& a) { return a.name == name; })) {
            throw std::invalid_argument("tr(" + std::string(e.id) + "): missing {" + std::string(name) + "}");
        }
    }

    std::string out;
    out.reserve(text.size() + 64);
    bool in_block = false;
    bool in_inline = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (text.substr(i, 3) == "```") {
            in_block = !in_block;
            out += "```";
            i += 2;
        } else if (c == '`' && !in_block) {
            // An inline code span reads left to right as a whole inside Arabic text.
            if (!in_inline && arabic) out += kLri;
            out += '`';
            if (in_inline && arabic) out += kPdi;
            in_inline = !in_inline;
        } else if (c == '{') {
            const std::size_t end = text.find('}', i);
            const std::string_view name = text.substr(i + 1, end - i - 1);
            const Arg& arg =
                *std::find_if(args.begin(), args.end(), [&](const Arg& a) { return a.name == name; });
            std::string value = clean_value(arg.value);
            if (in_block || in_inline) {
                out += code_safe(value);
            } else if (arabic && !value.empty()) {
                out += kFsi;
                out += value;
                out += kPdi;
            } else {
                out += value;
            }
            i = end;
        } else {
            out += c;
        }
    }
    return arabic ? mark_right_to_left(out) : out;
}

std::string_view msg_id(Msg msg) { return entry(msg).id; }

std::string_view msg_template(Locale locale, Msg msg) {
    const Entry& e = entry(msg);
    return locale == Locale::ar ? e.ar : e.en;
}

std::vector<std::string_view> msg_placeholders(Msg msg) {
    Placeholders found;
    // The catalogue passed check_template at compile time, so this cannot report a problem.
    static_cast<void>(check_template(entry(msg).en, false, found));
    return {found.names.begin(), found.names.begin() + static_cast<std::ptrdiff_t>(found.count)};
}

Msg order_status_msg(domain::OrderStatus status) {
    switch (status) {
        case domain::OrderStatus::awaiting_payment:
            return Msg::status_awaiting_payment;
        case domain::OrderStatus::under_review:
            return Msg::status_under_review;
        case domain::OrderStatus::approved:
            return Msg::status_approved;
        case domain::OrderStatus::fulfilled:
            return Msg::status_fulfilled;
        case domain::OrderStatus::declined:
            return Msg::status_declined;
        case domain::OrderStatus::expired:
            return Msg::status_expired;
        case domain::OrderStatus::cancelled:
            return Msg::status_cancelled;
    }
    throw std::invalid_argument("unknown order status");
}

Msg account_status_msg(domain::AccountStatus status) {
    switch (status) {
        case domain::AccountStatus::active:
            return Msg::account_status_active;
        case domain::AccountStatus::disabled:
            return Msg::account_status_disabled;
        case domain::AccountStatus::expired:
            return Msg::account_status_expired;
        case domain::AccountStatus::deleted:
            return Msg::account_status_deleted;
    }
    throw std::invalid_argument("unknown account status");
}

Msg order_kind_msg(domain::OrderKind kind) {
    return kind == domain::OrderKind::renewal ? Msg::order_kind_renewal : Msg::order_kind_new;
}

Msg server_health_msg(domain::ServerHealth health) {
    switch (health) {
        case domain::ServerHealth::up:
            return Msg::server_health_up;
        case domain::ServerHealth::down:
            return Msg::server_health_down;
        case domain::ServerHealth::unknown:
            return Msg::server_health_unknown;
    }
    throw std::invalid_argument("unknown server health");
}

std::optional<Msg> payment_method_msg(std::string_view code) {
    if (code == "vodafone_cash") return Msg::method_vodafone_cash;
    if (code == "orange_cash") return Msg::method_orange_cash;
    if (code == "etisalat_cash") return Msg::method_etisalat_cash;
    if (code == "we_pay") return Msg::method_we_pay;
    if (code == "instapay") return Msg::method_instapay;
    return std::nullopt;
}

std::string mark_direction(Locale locale, std::string_view text) {
    return locale == Locale::ar ? mark_right_to_left(text) : std::string(text);
}

const std::vector<std::string_view>& decline_presets() {
    static const std::vector<std::string_view> codes{"amount", "not_received", "unreadable", "wrong_account",
                                                     "reused"};
    return codes;
}

std::optional<Msg> decline_preset_msg(std::string_view code) {
    if (code == "amount") return Msg::decline_reason_amount;
    if (code == "not_received") return Msg::decline_reason_not_received;
    if (code == "unreadable") return Msg::decline_reason_unreadable;
    if (code == "wrong_account") return Msg::decline_reason_wrong_account;
    if (code == "reused") return Msg::decline_reason_reused;
    return std::nullopt;
}

std::string decline_reason(Locale locale, std::string_view preset, std::string_view text) {
    std::string out;
    if (auto msg = decline_preset_msg(preset)) out = tr(locale, *msg);
    if (!text.empty()) out += (out.empty() ? "" : " — ") + std::string(text);
    return out;
}

std::string translate_decline_reason(Locale locale, std::string_view stored) {
    for (std::string_view code : decline_presets()) {
        const std::string english = tr(Locale::en, *decline_preset_msg(code));
        if (!stored.starts_with(english)) continue;
        std::string_view rest = stored.substr(english.size());
        if (!rest.empty() && !rest.starts_with(" — ")) continue;
        if (rest.starts_with(" — ")) rest.remove_prefix(std::string_view(" — ").size());
        return decline_reason(locale, code, rest);
    }
    return std::string(stored);
}

std::string format_money(Locale locale, domain::Piasters amount) {
    const std::int64_t piasters = amount.value;
    const std::int64_t pounds = piasters / 100;
    const auto cents = static_cast<unsigned>(piasters < 0 ? -(piasters % 100) : piasters % 100);
    std::string text = group_thousands(pounds);
    if (piasters < 0 && pounds == 0) text = "-0";
    if (cents != 0) {
        text += '.';
        text += two_digits(cents);
    }
    text += locale == Locale::ar ? " جنيه" : " EGP";
    return text;
}

std::string format_bytes(std::int64_t bytes) {
    if (bytes < 0) throw std::invalid_argument("format_bytes: negative size");
    static constexpr std::array<std::string_view, 6> kUnits = {"B", "KB", "MB", "GB", "TB", "PB"};
    const auto size = static_cast<std::uint64_t>(bytes);
    std::size_t unit = 0;
    std::uint64_t scale = 1;
    while (unit + 1 < kUnits.size() && size >= scale * 1024) {
        scale *= 1024;
        ++unit;
    }
    // Tenths of the unit, rounded half up; a value that rounds up to 1024 moves to the next unit.
    std::uint64_t tenths = (size / scale) * 10 + ((size % scale) * 10 + scale / 2) / scale;
    if (tenths >= 10240 && unit + 1 < kUnits.size()) {
        ++unit;
        tenths = (tenths + 512) / 1024;
    }
    std::string text = std::to_string(tenths / 10);
    if (unit > 0 && tenths % 10 != 0) {
        text += '.';
        text += static_cast<char>('0' + tenths % 10);
    }
    text += ' ';
    text += kUnits[unit];
    return text;
}

std::string format_traffic_limit(Locale locale, std::int64_t bytes) {
    // A value, not a line: the plain word, without tr()'s direction marks.
    return bytes == 0 ? std::string(msg_template(locale, Msg::unlimited)) : format_bytes(bytes);
}

std::string format_count(Locale locale, std::int64_t n, Unit unit) {
    const UnitWords& words = unit_words(unit);
    const std::string number = std::to_string(n);
    if (locale == Locale::en) {
        return number + " " + std::string(n == 1 ? words.en_one : words.en_many);
    }
    switch (arabic_form(n)) {
        case ArabicForm::one:
            return std::string(words.ar_one);
        case ArabicForm::two:
            return std::string(words.ar_two);
        case ArabicForm::few:
            return number + " " + std::string(words.ar_few);
        case ArabicForm::many:
            return number + " " + std::string(words.ar_many);
        case ArabicForm::zero:
        case ArabicForm::other:
            break;
    }
    return number + " " + std::string(words.ar_other);
}

std::string format_device_limit(Locale locale, int limit) {
    if (limit < 0) throw std::invalid_argument("format_device_limit: negative limit");
    return limit == 0 ? std::string(msg_template(locale, Msg::unlimited_devices))
                      : format_count(locale, limit, Unit::device);
}

std::string format_duration(Locale locale, std::chrono::seconds duration) {
    const std::int64_t s = duration.count();
    if (s < 0) throw std::invalid_argument("format_duration: negative duration");
    if (s >= 86400 && s % 86400 == 0) return format_count(locale, s / 86400, Unit::day);
    if (s >= 3600) return format_count(locale, s / 3600, Unit::hour);
    return format_count(locale, (s + 59) / 60, Unit::minute);
}

std::string format_date(Locale locale, std::chrono::sys_seconds t, const TimeZone& zone) {
    const auto local_day = std::chrono::floor<std::chrono::days>(zone.to_local(t));
    const std::chrono::year_month_day ymd{local_day};
    const auto month_index = static_cast<unsigned>(ymd.month()) - 1;
    const auto& months = locale == Locale::ar ? kMonthsAr : kMonthsEn;
    return std::to_string(static_cast<unsigned>(ymd.day())) + " " + std::string(months[month_index]) + " " +
           std::to_string(static_cast<int>(ymd.year()));
}

std::string format_date_time(Locale locale, std::chrono::sys_seconds t, const TimeZone& zone) {
    const auto local = zone.to_local(t);
    const auto since_midnight = local - std::chrono::floor<std::chrono::days>(local);
    const auto minutes = static_cast<unsigned>(since_midnight.count() / 60);
    if (locale == Locale::ar) {
        // The 12-hour clock Egypt reads, with ص (morning) / م (afternoon and evening).
        const unsigned hour = minutes / 60;
        return format_date(locale, t, zone) + "، " + std::to_string(hour % 12 == 0 ? 12 : hour % 12) + ":" +
               two_digits(minutes % 60) + (hour < 12 ? " ص" : " م");
    }
    return format_date(locale, t, zone) + ", " + two_digits(minutes / 60) + ":" + two_digits(minutes % 60);
}

int days_left(std::chrono::sys_seconds now, std::chrono::sys_seconds expiry) {
    if (expiry <= now) return 0;
    const std::int64_t remaining = (expiry - now).count();
    return static_cast<int>((remaining + 86399) / 86400);
}

std::string progress_bar(std::int64_t used, std::int64_t total, int width) {
    if (total <= 0 || used < 0 || width < 1 || width > 50) {
        throw std::invalid_argument("progress_bar: needs total > 0, used >= 0 and width 1..50");
    }
    // long double holds used × 100 exactly for every realistic size, so floors are exact.
    const long double ratio = static_cast<long double>(used) / static_cast<long double>(total);
    const auto percent =
        static_cast<std::int64_t>(static_cast<long double>(used) * 100 / static_cast<long double>(total));
    const auto filled = static_cast<int>(std::min<long double>(width, ratio * width));
    std::string bar;
    for (int i = 0; i < width; ++i) bar += i < filled ? "▰" : "▱";
    return bar + " " + std::to_string(percent) + "%";
}

std::string isolate(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 6);
    out += kFsi;
    out += text;
    out += kPdi;
    return out;
}

}  // namespace nebula::bot::ui
