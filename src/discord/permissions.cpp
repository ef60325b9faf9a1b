#include "discord/permissions.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

namespace nebula::discord {
namespace {

constexpr std::uint64_t kAdministrator = 1ULL << 3;

constexpr std::array<std::pair<int, std::string_view>, 12> kNames{{
    {0, "Create Invite"},
    {3, "Administrator"},
    {4, "Manage Channels"},
    {5, "Manage Server"},
    {10, "View Channels"},
    {11, "Send Messages"},
    {13, "Manage Messages"},
    {14, "Embed Links"},
    {15, "Attach Files"},
    {16, "Read Message History"},
    {17, "Mention Everyone"},
    {28, "Manage Roles"},
}};

bool has_role(const std::vector<Snowflake>& roles, Snowflake id) {
    return std::find(roles.begin(), roles.end(), id) != roles.end();
}

}  // namespace

std::uint64_t base_permissions(const Guild& guild, Snowflake member, const std::vector<Snowflake>& roles) {
    if (member == guild.owner_id) return kAllPermissions;
    std::uint64_t bits = 0;
    if (const auto* everyone = guild.role(guild.id)) bits = everyone->permissions;
    for (const auto& role : guild.roles) {
        if (has_role(roles, role.id)) bits |= role.permissions;
    }
    if ((bits & kAdministrator) != 0) return kAllPermissions;
    return bits;
}

std::uint64_t channel_permissions(std::uint64_t base, const Guild& guild, Snowflake member,
                                  const std::vector<Snowflake>& roles, const Channel& channel) {
    if ((base & kAdministrator) != 0) return kAllPermissions;
    std::uint64_t bits = base;
    const auto apply = [&bits](std::uint64_t allow, std::uint64_t deny) {
        bits &= ~deny;
        bits |= allow;
    };
    for (const auto& o : channel.permission_overwrites) {
        if (o.type == OverwriteType::role && o.id == guild.id) apply(o.allow, o.deny);
    }
    std::uint64_t allow = 0, deny = 0;
    for (const auto& o : channel.permission_overwrites) {
        if (o.type == OverwriteType::role && o.id != guild.id && has_role(roles, o.id)) {
            allow |= o.allow;
            deny |= o.deny;
        }
    }
    apply(allow, deny);
    for (const auto& o : channel.permission_overwrites) {
        if (o.type == OverwriteType::member && o.id == member) apply(o.allow, o.deny);
    }
    return bits;
}

int highest_role_position(const Guild& guild, const std::vector<Snowflake>& roles) {
    int highest = 0;
    for (const auto& role : guild.roles) {
        if (has_role(roles, role.id)) highest = std::max(highest, role.position);
    }
    return highest;
}

std::string permission_names(std::uint64_t bits) {
    std::string out;
    for (int bit = 0; bit < 64; ++bit) {
        if ((bits & (1ULL << bit)) == 0) continue;
        if (!out.empty()) out += ", ";
        const auto it =
            std::find_if(kNames.begin(), kNames.end(), [bit](const auto& n) { return n.first == bit; });
        out += it != kNames.end() ? std::string(it->second) : "bit " + std::to_string(bit);
    }
    return out;
}

}  // namespace nebula::discord
