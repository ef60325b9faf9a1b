#include "bot/domain/discord_layout.hpp"

#include <gtest/gtest.h>

#include "domain_fixture.hpp"

namespace nebula::bot::domain {
namespace {

class DiscordLayoutTest : public testing::DomainTest {};

// What /admin setup stores item by item, read back per server; NULL columns come back empty.
TEST_P(DiscordLayoutTest, StoredPerServerAndReplacedAsSetupGoesOn) {
    EXPECT_FALSE(discord_layout::load(conn(), domain::DiscordId{870000000000000001ULL}));
    DiscordLayout layout;
    layout.admin_role = domain::DiscordId{870000000000000100ULL};
    discord_layout::save(conn(), domain::DiscordId{870000000000000001ULL}, layout,
                         Timestamp{std::chrono::seconds(1000)});
    auto loaded = discord_layout::load(conn(), domain::DiscordId{870000000000000001ULL});
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->admin_role, domain::DiscordId{870000000000000100ULL});
    EXPECT_TRUE(loaded->review_channel.empty());

    layout.subscriber_role = domain::DiscordId{870000000000000101ULL};
    layout.review_channel = domain::DiscordId{870000000000000102ULL};
    layout.billing_channel = domain::DiscordId{870000000000000103ULL};
    layout.main_panel_channel = domain::DiscordId{870000000000000104ULL};
    layout.orders_category = domain::DiscordId{870000000000000105ULL};
    discord_layout::save(conn(), domain::DiscordId{870000000000000001ULL}, layout,
                         Timestamp{std::chrono::seconds(1001)});
    loaded = discord_layout::load(conn(), domain::DiscordId{870000000000000001ULL});
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->subscriber_role, domain::DiscordId{870000000000000101ULL});
    EXPECT_EQ(loaded->orders_category, domain::DiscordId{870000000000000105ULL});
    EXPECT_EQ(loaded->main_panel_channel, domain::DiscordId{870000000000000104ULL});
    // Another server has its own (none yet).
    EXPECT_FALSE(discord_layout::load(conn(), domain::DiscordId{870000000000000002ULL}));
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT COUNT(*) FROM discord_layout").value_or(0), 1);
}

NEBULA_INSTANTIATE_FOR_BACKENDS(DiscordLayoutTest);

}  // namespace
}  // namespace nebula::bot::domain
