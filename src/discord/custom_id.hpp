#pragma once

#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "discord/snowflake.hpp"

namespace nebula::discord {

/// Component custom_ids of the form `prefix:param:param`, at most 100 characters. The prefix
/// names the action; parameters are typed (std::int64_t, std::uint64_t, Snowflake, std::string
/// without ':'). A custom_id comes back from the user's client, so it is parsed as untrusted
/// input: anything malformed simply does not match.
namespace custom_id {

inline constexpr char kSeparator = ':';
inline constexpr std::size_t kMaxLength = 100;

namespace detail {
inline void append(std::string& out, std::string_view text) {
    if (text.empty() || text.find(kSeparator) != std::string_view::npos) {
        throw std::invalid_argument("custom_id parameter must be non-empty and free of ':'");
    }
    out += text;
}
inline void append(std::string& out, Snowflake id) { out += id.str(); }
inline void append(std::string& out, const std::string& text) { append(out, std::string_view(text)); }
inline void append(std::string& out, const char* text) { append(out, std::string_view(text)); }
template <typename T>
requires std::is_integral_v<T>
void append(std::string& out, T value) { out += std::to_string(value); }

template <typename T>
std::optional<T> read(std::string_view text);
template <>
inline std::optional<std::string> read<std::string>(std::string_view text) {
    if (text.empty()) return std::nullopt;
    return std::string(text);
}
template <>
inline std::optional<Snowflake> read<Snowflake>(std::string_view text) {
    return Snowflake::parse(text);
}
template <typename T>
requires std::is_integral_v<T> std::optional<T> read_integer(std::string_view text) {
    T value{};
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || text[0] == '+') return std::nullopt;
    return value;
}
template <>
inline std::optional<std::int64_t> read<std::int64_t>(std::string_view text) {
    return read_integer<std::int64_t>(text);
}
template <>
inline std::optional<std::uint64_t> read<std::uint64_t>(std::string_view text) {
    return read_integer<std::uint64_t>(text);
}

inline std::vector<std::string_view> split(std::string_view text) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t at = text.find(kSeparator, start);
        parts.push_back(
            text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
        if (at == std::string_view::npos) break;
        start = at + 1;
    }
    return parts;
}
}  // namespace detail

/// Builds `prefix:p1:p2...`. Throws std::invalid_argument if the prefix or a string parameter
/// is empty or holds ':', or std::length_error if the result exceeds 100 characters: both are
/// programming errors.
template <typename... Params>
std::string make(std::string_view prefix, const Params&... params) {
    std::string out;
    detail::append(out, prefix);
    ((out += kSeparator, detail::append(out, params)), ...);
    if (out.size() > kMaxLength) throw std::length_error("custom_id longer than 100 characters: " + out);
    return out;
}

/// Routes custom_ids to typed handlers returning R. Register with
/// `router.add<Snowflake, std::string>("order", [](Snowflake id, std::string action) {...})`.
/// Not thread-safe for add(); dispatch() is const and may run concurrently once set up.
template <typename R>
class Router {
  public:
    template <typename... Params, typename F>
    void add(std::string prefix, F handler) {
        if (prefix.empty() || prefix.find(kSeparator) != std::string::npos) {
            throw std::invalid_argument("bad custom_id prefix");
        }
        if (routes_.contains(prefix))
            throw std::invalid_argument("custom_id prefix registered twice: " + prefix);
        routes_.emplace(
            std::move(prefix),
            [handler = std::move(handler)](const std::vector<std::string_view>& parts) -> std::optional<R> {
                if (parts.size() != sizeof...(Params) + 1) return std::nullopt;
                return invoke<Params...>(handler, parts, std::index_sequence_for<Params...>{});
            });
    }

    /// The handler's result, or nothing when no route matches or a parameter does not parse.
    std::optional<R> dispatch(std::string_view id) const {
        if (id.empty() || id.size() > kMaxLength) return std::nullopt;
        const auto parts = detail::split(id);
        const auto it = routes_.find(std::string(parts[0]));
        if (it == routes_.end()) return std::nullopt;
        return it->second(parts);
    }

  private:
    template <typename... Params, typename F, std::size_t... I>
    static std::optional<R> invoke(const F& handler, const std::vector<std::string_view>& parts,
                                   std::index_sequence<I...>) {
        std::tuple<std::optional<Params>...> values{detail::read<Params>(parts[I + 1])...};
        if (!(std::get<I>(values).has_value() && ...)) return std::nullopt;
        return handler(std::move(*std::get<I>(values))...);
    }

    std::unordered_map<std::string, std::function<std::optional<R>(const std::vector<std::string_view>&)>>
        routes_;
};

}  // namespace custom_id
}  // namespace nebula::discord
