#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "discord/model.hpp"

// Effective permissions as Discord computes them (developers/topics/permissions.mdx): the guild
// owner and Administrator have everything; otherwise @everyone's bits plus the member's roles'
// bits, then in a channel the overwrites for @everyone, for the member's roles (together) and for
// the member, each one's deny applied before its allow.

namespace nebula::discord {

inline constexpr std::uint64_t kAllPermissions = ~0ULL;

/// The member's guild-wide permissions (roles not in `guild` are ignored).
std::uint64_t base_permissions(const Guild& guild, Snowflake member, const std::vector<Snowflake>& roles);

/// The member's permissions in `channel`, from their guild-wide `base`.
std::uint64_t channel_permissions(std::uint64_t base, const Guild& guild, Snowflake member,
                                  const std::vector<Snowflake>& roles, const Channel& channel);

/// The member's highest role position (0 with no role but @everyone).
int highest_role_position(const Guild& guild, const std::vector<Snowflake>& roles);

/// "Manage Channels, Attach Files": the names of `bits`, as the Discord client shows them, in bit
/// order; unnamed bits as "bit N".
std::string permission_names(std::uint64_t bits);

}  // namespace nebula::discord
