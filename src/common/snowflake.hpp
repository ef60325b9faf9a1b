#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace nebula::common {

/// A Discord id (a snowflake): a 64-bit integer sent and stored as a decimal string. A distinct
/// type so it never mixes with counts, money, database ids or other text. The bot's domain calls
/// it DiscordId. Value 0 means "no id". Plain value; thread-safe.
class Snowflake {
  public:
    constexpr Snowflake() = default;
    constexpr explicit Snowflake(std::uint64_t value) : value_(value) {}

    /// Parses 1–20 decimal digits that fit in 64 bits; nothing otherwise (signs, spaces,
    /// overflow and empty text are all rejected).
    static std::optional<Snowflake> parse(std::string_view text);

    constexpr std::uint64_t value() const { return value_; }
    constexpr bool empty() const { return value_ == 0; }
    std::string str() const { return std::to_string(value_); }
    /// When Discord created the id (milliseconds since the Discord epoch, 2015-01-01).
    std::chrono::system_clock::time_point created_at() const;

    friend constexpr auto operator<=>(Snowflake, Snowflake) = default;

  private:
    std::uint64_t value_ = 0;
};

}  // namespace nebula::common

template <>
struct std::hash<nebula::common::Snowflake> {
    std::size_t operator()(nebula::common::Snowflake id) const noexcept {
        return std::hash<std::uint64_t>{}(id.value());
    }
};
