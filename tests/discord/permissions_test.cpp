// Effective permissions, by Discord's documented algorithm, on hand-made guilds and channels.
#include "discord/permissions.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace nebula::discord {
namespace {

constexpr std::uint64_t kView = 1ULL << 10;
constexpr std::uint64_t kSend = 1ULL << 11;
constexpr std::uint64_t kAttach = 1ULL << 15;
constexpr std::uint64_t kManageChannels = 1ULL << 4;
constexpr std::uint64_t kAdministrator = 1ULL << 3;

const Snowflake kGuild{100};
const Snowflake kOwner{1};
const Snowflake kBot{2};
const Snowflake kBotRole{200};
const Snowflake kOtherRole{201};

Guild guild(std::uint64_t everyone, std::uint64_t bot_role, std::uint64_t other_role = 0) {
    return Guild{kGuild,
                 "shop",
                 kOwner,
                 {{kGuild, "@everyone", everyone, 0},
                  {kBotRole, "bot", bot_role, 3},
                  {kOtherRole, "x", other_role, 5}}};
}

Channel channel(std::vector<PermissionOverwrite> overwrites) {
    Channel c;
    c.id = Snowflake(300);
    c.guild_id = kGuild;
    c.permission_overwrites = std::move(overwrites);
    return c;
}

TEST(Permissions, BaseIsEveryoneAndTheMembersRoles) {
    const auto g = guild(kView, kSend | kAttach, kManageChannels);
    EXPECT_EQ(base_permissions(g, kBot, {kBotRole}), kView | kSend | kAttach);
    EXPECT_EQ(base_permissions(g, kBot, {kBotRole, kOtherRole}), kView | kSend | kAttach | kManageChannels);
    EXPECT_EQ(base_permissions(g, kBot, {Snowflake(999)}), kView) << "unknown roles add nothing";
    EXPECT_EQ(base_permissions(g, kOwner, {}), kAllPermissions);
    EXPECT_EQ(base_permissions(guild(kView, kAdministrator), kBot, {kBotRole}), kAllPermissions);
}

TEST(Permissions, OverwritesApplyEveryoneThenRolesThenTheMember) {
    const auto g = guild(kView | kSend, kAttach);
    const auto base = base_permissions(g, kBot, {kBotRole});
    // A private channel: @everyone may not see it, the bot's role may.
    auto c = channel({{kGuild, OverwriteType::role, 0, kView}, {kBotRole, OverwriteType::role, kView, 0}});
    EXPECT_EQ(channel_permissions(base, g, kBot, {kBotRole}, c), kView | kSend | kAttach);
    EXPECT_EQ(channel_permissions(base_permissions(g, kBot, {}), g, kBot, {}, c), kSend)
        << "without the role the channel is hidden";
    // Role overwrites are combined: one role's allow beats another role's deny.
    c = channel({{kBotRole, OverwriteType::role, 0, kSend}, {kOtherRole, OverwriteType::role, kSend, 0}});
    EXPECT_EQ(channel_permissions(base, g, kBot, {kBotRole, kOtherRole}, c) & kSend, kSend);
    // The member's own overwrite comes last.
    c = channel(
        {{kBotRole, OverwriteType::role, kManageChannels, 0}, {kBot, OverwriteType::member, 0, kAttach}});
    EXPECT_EQ(channel_permissions(base, g, kBot, {kBotRole}, c), kView | kSend | kManageChannels);
    // Administrator ignores overwrites.
    c = channel({{kGuild, OverwriteType::role, 0, kView}});
    EXPECT_EQ(channel_permissions(kAllPermissions, g, kBot, {kBotRole}, c), kAllPermissions);
}

TEST(Permissions, HighestRoleAndNames) {
    const auto g = guild(0, 0);
    EXPECT_EQ(highest_role_position(g, {kBotRole}), 3);
    EXPECT_EQ(highest_role_position(g, {kBotRole, kOtherRole}), 5);
    EXPECT_EQ(highest_role_position(g, {}), 0);
    EXPECT_EQ(permission_names(kManageChannels | kView | kAttach),
              "Manage Channels, View Channels, Attach Files");
    EXPECT_EQ(permission_names(1ULL << 40), "bit 40");
    EXPECT_EQ(permission_names(0), "");
}

TEST(Permissions, GuildParsesFromDiscordsJson) {
    const auto parsed = parse_guild(nlohmann::json::parse(R"({"id":"100","name":"shop","owner_id":"1",
        "roles":[{"id":"100","name":"@everyone","permissions":"1024","position":0},
                 {"id":"200","name":"bot","permissions":"268435456","position":3,"color":0}]})"));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->owner_id, kOwner);
    ASSERT_NE(parsed->role(kBotRole), nullptr);
    EXPECT_EQ(parsed->role(kBotRole)->permissions, 1ULL << 28);
    EXPECT_EQ(parsed->role(kGuild)->name, "@everyone");
    EXPECT_FALSE(parse_guild(nlohmann::json::parse(R"({"id":"100","name":"x"})"))) << "owner_id is required";
    EXPECT_FALSE(parse_guild(nlohmann::json::parse(
        R"({"id":"100","owner_id":"1","roles":[{"id":"5","permissions":"lots","position":0}]})")))
        << "permissions are a decimal bit set";
}

}  // namespace
}  // namespace nebula::discord
