#include "common/snowflake.hpp"

#include <cstdint>

namespace nebula::common {

std::optional<Snowflake> Snowflake::parse(std::string_view text) {
    if (text.empty() || text.size() > 20) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return Snowflake(value);
}

std::chrono::system_clock::time_point Snowflake::created_at() const {
    constexpr std::uint64_t kDiscordEpochMs = 1'420'070'400'000;
    return std::chrono::system_clock::time_point{std::chrono::milliseconds{(value_ >> 22) + kDiscordEpochMs}};
}

}  // namespace nebula::common
