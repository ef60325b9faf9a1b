#pragma once

#include <cstdint>
#include <string_view>

#include "bot/domain/types.hpp"

namespace nebula::bot::testing {

/// A Discord id made from a readable label, so a test can say discord_id("alice") or
/// discord_id("race-3"): the same label always gives the same valid id, different labels give
/// different ids (a 63-bit FNV-1a hash, never 0). A label of digits is that id itself.
inline domain::DiscordId discord_id(std::string_view label) {
    if (const auto id = domain::DiscordId::parse(label); id && !id->empty()) return *id;
    std::uint64_t hash = 14695981039346656037ULL;
    for (const char c : label) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ULL;
    }
    hash &= 0x7fffffffffffffffULL;
    return domain::DiscordId{hash == 0 ? 1 : hash};
}

}  // namespace nebula::bot::testing
