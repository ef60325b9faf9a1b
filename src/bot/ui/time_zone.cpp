#include "bot/ui/time_zone.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace nebula::bot::ui {
namespace {

using std::chrono::seconds;
using std::chrono::sys_days;

class Reader {
  public:
    explicit Reader(std::string_view bytes) : bytes_(bytes) {}

    bool has(std::size_t n) const { return bytes_.size() - pos_ >= n; }
    std::size_t position() const { return pos_; }
    void skip(std::size_t n) { pos_ += n; }
    std::string_view take(std::size_t n) {
        auto view = bytes_.substr(pos_, n);
        pos_ += n;
        return view;
    }
    std::uint8_t u8() { return static_cast<std::uint8_t>(bytes_[pos_++]); }
    std::int64_t be(int size) {
        std::uint64_t value = 0;
        for (int i = 0; i < size; ++i) value = (value << 8) | u8();
        // Sign-extend the 32-bit form.
        if (size == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
        return static_cast<std::int64_t>(value);
    }
    std::string_view rest() const { return bytes_.substr(pos_); }

  private:
    std::string_view bytes_;
    std::size_t pos_ = 0;
};

struct Header {
    char version = 0;
    std::uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
};

std::optional<Header> read_header(Reader& in) {
    if (!in.has(44) || in.take(4) != "TZif") return std::nullopt;
    Header h;
    h.version = static_cast<char>(in.u8());
    in.skip(15);
    h.isutcnt = static_cast<std::uint32_t>(in.be(4));
    h.isstdcnt = static_cast<std::uint32_t>(in.be(4));
    h.leapcnt = static_cast<std::uint32_t>(in.be(4));
    h.timecnt = static_cast<std::uint32_t>(in.be(4));
    h.typecnt = static_cast<std::uint32_t>(in.be(4));
    h.charcnt = static_cast<std::uint32_t>(in.be(4));
    return h;
}

std::size_t data_size(const Header& h, std::size_t time_size) {
    return h.timecnt * time_size + h.timecnt + h.typecnt * 6ULL + h.charcnt + h.leapcnt * (time_size + 4) +
           h.isstdcnt + h.isutcnt;
}

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > 128) return false;
    std::size_t start = 0;
    while (start <= name.size()) {
        const std::size_t slash = std::min(name.find('/', start), name.size());
        const std::string_view part = name.substr(start, slash - start);
        if (part.empty() || part == "." || part == "..") return false;
        for (char c : part) {
            const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '_' || c == '-' || c == '+';
            if (!ok) return false;
        }
        start = slash + 1;
    }
    return true;
}

// ---- POSIX TZ strings ----

class RuleParser {
  public:
    explicit RuleParser(std::string_view text) : text_(text) {}

    bool done() const { return pos_ == text_.size(); }
    bool peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
    bool eat(char c) {
        if (!peek(c)) return false;
        ++pos_;
        return true;
    }

    bool name() {
        if (eat('<')) {
            const std::size_t close = text_.find('>', pos_);
            if (close == std::string_view::npos || close - pos_ < 3) return false;
            pos_ = close + 1;
            return true;
        }
        const std::size_t begin = pos_;
        while (pos_ < text_.size() &&
               ((text_[pos_] >= 'A' && text_[pos_] <= 'Z') || (text_[pos_] >= 'a' && text_[pos_] <= 'z'))) {
            ++pos_;
        }
        return pos_ - begin >= 3;
    }

    std::optional<int> number(int max) {
        const std::size_t begin = pos_;
        int value = 0;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9' && pos_ - begin < 4) {
            value = value * 10 + (text_[pos_++] - '0');
        }
        if (pos_ == begin || value > max) return std::nullopt;
        return value;
    }

    // [+-]hh[:mm[:ss]] with hours up to `max_hours`, in seconds.
    std::optional<std::int64_t> hms(int max_hours) {
        const bool negative = eat('-');
        if (!negative) eat('+');
        const auto hours = number(max_hours);
        if (!hours) return std::nullopt;
        std::int64_t total = *hours * 3600LL;
        if (eat(':')) {
            const auto minutes = number(59);
            if (!minutes) return std::nullopt;
            total += *minutes * 60LL;
            if (eat(':')) {
                const auto secs = number(59);
                if (!secs) return std::nullopt;
                total += *secs;
            }
        }
        return negative ? -total : total;
    }

    std::optional<TimeZone::RuleDate> date() {
        TimeZone::RuleDate d;
        if (eat('M')) {
            d.kind = TimeZone::RuleDate::Kind::month_week_day;
            const auto month = number(12);
            if (!month || *month < 1 || !eat('.')) return std::nullopt;
            const auto week = number(5);
            if (!week || *week < 1 || !eat('.')) return std::nullopt;
            const auto day = number(6);
            if (!day) return std::nullopt;
            d.month = *month;
            d.week = *week;
            d.day = *day;
        } else if (eat('J')) {
            d.kind = TimeZone::RuleDate::Kind::julian_no_leap;
            const auto day = number(365);
            if (!day || *day < 1) return std::nullopt;
            d.day = *day;
        } else {
            d.kind = TimeZone::RuleDate::Kind::zero_based;
            const auto day = number(365);
            if (!day) return std::nullopt;
            d.day = *day;
        }
        if (eat('/')) {
            // RFC 8536 extends POSIX: the time may be negative and up to 167 hours.
            const auto time = hms(167);
            if (!time) return std::nullopt;
            d.time = seconds{*time};
        }
        return d;
    }

  private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

// The UTC instant at which `date`'s local time (expressed with `offset`) occurs in `year`.
std::int64_t rule_instant(const TimeZone::RuleDate& date, int year, std::int32_t offset) {
    using namespace std::chrono;
    const std::chrono::year y{year};
    sys_days day;
    switch (date.kind) {
        case TimeZone::RuleDate::Kind::julian_no_leap: {
            int n = date.day - 1;
            if (y.is_leap() && date.day >= 60) ++n;
            day = sys_days{y / January / 1} + days{n};
            break;
        }
        case TimeZone::RuleDate::Kind::zero_based:
            day = sys_days{y / January / 1} + days{date.day};
            break;
        case TimeZone::RuleDate::Kind::month_week_day: {
            const auto m = month{static_cast<unsigned>(date.month)};
            const auto wd = weekday{static_cast<unsigned>(date.day)};
            if (date.week == 5) {
                day = sys_days{y / m / wd[last]};
            } else {
                day = sys_days{y / m / wd[static_cast<unsigned>(date.week)]};
            }
            break;
        }
    }
    return day.time_since_epoch().count() * 86400LL + date.time.count() - offset;
}

}  // namespace

TimeZone TimeZone::utc() {
    TimeZone zone;
    zone.name_ = "UTC";
    zone.types_.push_back(LocalType{});
    return zone;
}

common::Result<TimeZone, std::string> TimeZone::load(std::string_view name,
                                                     const std::filesystem::path& zoneinfo_dir) {
    if (!valid_name(name)) return common::unexpected("not a time zone name: \"" + std::string(name) + "\"");
    const std::filesystem::path path = zoneinfo_dir / std::filesystem::path(std::string(name));
    std::ifstream file(path, std::ios::binary);
    if (!file)
        return common::unexpected("unknown time zone \"" + std::string(name) + "\" (no " + path.string() +
                                  ")");
    std::string bytes;
    constexpr std::size_t kMaxSize = 1 << 20;
    bytes.resize(kMaxSize + 1);
    file.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<std::size_t>(file.gcount()));
    if (bytes.size() > kMaxSize) return common::unexpected("time zone file too large: " + path.string());
    auto zone = from_tzif(std::string(name), bytes);
    if (!zone) return common::unexpected(zone.error() + " (" + path.string() + ")");
    return zone;
}

common::Result<TimeZone, std::string> TimeZone::from_tzif(std::string name, std::string_view bytes) {
    Reader in(bytes);
    auto header = read_header(in);
    if (!header) return common::unexpected(std::string("not a TZif file"));
    std::size_t time_size = 4;
    if (header->version >= '2') {
        // Skip the 32-bit block; the 64-bit one after it covers every instant.
        const std::size_t v1 = data_size(*header, 4);
        if (!in.has(v1)) return common::unexpected(std::string("truncated TZif file"));
        in.skip(v1);
        header = read_header(in);
        if (!header) return common::unexpected(std::string("TZif file lacks its 64-bit header"));
        time_size = 8;
    }
    const Header& h = *header;
    if (h.typecnt == 0 || h.typecnt > 256 || h.timecnt > 100000 || h.charcnt > 100000 || h.leapcnt > 100000 ||
        (h.isstdcnt != 0 && h.isstdcnt != h.typecnt) || (h.isutcnt != 0 && h.isutcnt != h.typecnt)) {
        return common::unexpected(std::string("TZif header counts are invalid"));
    }
    if (!in.has(data_size(h, time_size))) return common::unexpected(std::string("truncated TZif file"));

    TimeZone zone;
    zone.name_ = std::move(name);
    zone.transitions_.reserve(h.timecnt);
    for (std::uint32_t i = 0; i < h.timecnt; ++i) {
        const std::int64_t t = in.be(static_cast<int>(time_size));
        if (!zone.transitions_.empty() && t <= zone.transitions_.back()) {
            return common::unexpected(std::string("TZif transitions are not ascending"));
        }
        zone.transitions_.push_back(t);
    }
    zone.transition_types_.reserve(h.timecnt);
    for (std::uint32_t i = 0; i < h.timecnt; ++i) {
        const std::uint8_t type = in.u8();
        if (type >= h.typecnt) return common::unexpected(std::string("TZif transition names a missing type"));
        zone.transition_types_.push_back(type);
    }
    for (std::uint32_t i = 0; i < h.typecnt; ++i) {
        const auto offset = static_cast<std::int32_t>(in.be(4));
        const std::uint8_t dst = in.u8();
        in.skip(1);  // abbreviation index
        if (offset <= -25 * 3600 || offset >= 26 * 3600 || dst > 1) {
            return common::unexpected(std::string("TZif local time type is invalid"));
        }
        zone.types_.push_back(LocalType{offset, dst == 1});
    }
    in.skip(h.charcnt + h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt);

    if (time_size == 8) {
        // Footer: "\n<POSIX TZ string>\n"; an empty string means "no rule".
        const std::string_view rest = in.rest();
        if (rest.size() < 2 || rest.front() != '\n')
            return common::unexpected(std::string("TZif footer missing"));
        const std::size_t end = rest.find('\n', 1);
        if (end == std::string_view::npos) return common::unexpected(std::string("TZif footer unterminated"));
        const std::string_view footer = rest.substr(1, end - 1);
        if (!footer.empty()) {
            zone.rule_ = parse_rule(footer);
            if (!zone.rule_)
                return common::unexpected("TZif footer rule is malformed: " + std::string(footer));
        }
    }
    return zone;
}

std::optional<TimeZone::Rule> TimeZone::parse_rule(std::string_view text) {
    RuleParser p(text);
    Rule rule;
    if (!p.name()) return std::nullopt;
    // POSIX offsets count west of UTC ("EET-2" is UTC+2), hence the minus signs.
    const auto standard = p.hms(24);
    if (!standard) return std::nullopt;
    rule.standard = LocalType{static_cast<std::int32_t>(-*standard), false};
    if (p.done()) return rule;
    if (!p.name()) return std::nullopt;
    LocalType daylight{rule.standard.offset + 3600, true};
    if (!p.peek(',')) {
        const auto offset = p.hms(24);
        if (!offset) return std::nullopt;
        daylight.offset = static_cast<std::int32_t>(-*offset);
    }
    rule.daylight = daylight;
    if (!p.eat(',')) return std::nullopt;
    const auto start = p.date();
    if (!start || !p.eat(',')) return std::nullopt;
    const auto end = p.date();
    if (!end || !p.done()) return std::nullopt;
    rule.start = *start;
    rule.end = *end;
    return rule;
}

TimeZone::LocalType TimeZone::type_at(std::chrono::sys_seconds t) const {
    const std::int64_t at = t.time_since_epoch().count();
    // RFC 8536: type 0 before the first transition; the footer rule (when present) from the last
    // transition on, or everywhere when there are no transitions.
    if (!transitions_.empty()) {
        if (at < transitions_.front()) return types_.front();
        if (at < transitions_.back() || !rule_) {
            const auto after = std::upper_bound(transitions_.begin(), transitions_.end(), at);
            const auto index = static_cast<std::size_t>(std::distance(transitions_.begin(), after)) - 1;
            return types_[transition_types_[index]];
        }
    } else if (!rule_) {
        return types_.front();
    }
    if (!rule_->daylight) return rule_->standard;
    const auto local_days = std::chrono::floor<std::chrono::days>(t + seconds{rule_->standard.offset});
    const int year = static_cast<int>(std::chrono::year_month_day{local_days}.year());
    const std::int64_t start = rule_instant(rule_->start, year, rule_->standard.offset);
    const std::int64_t end = rule_instant(rule_->end, year, rule_->daylight->offset);
    const bool dst = start < end ? (at >= start && at < end) : !(at >= end && at < start);
    return dst ? *rule_->daylight : rule_->standard;
}

std::chrono::seconds TimeZone::offset_at(std::chrono::sys_seconds t) const {
    return seconds{type_at(t).offset};
}

bool TimeZone::is_dst_at(std::chrono::sys_seconds t) const { return type_at(t).dst; }

}  // namespace nebula::bot::ui
