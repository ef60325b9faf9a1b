#include "bot/domain/discord_layout.hpp"

#include <gtest/gtest.h>

#include "domain_fixture.hpp"

namespace nebula::bot::domain {
namespace {

class DiscordLayoutTest : public testing::DomainTest {};

// What /admin setup stores item by item, read back per server; NULL columns come back empty.
TEST_P(DiscordLayoutTest, StoredPerServerAndReplacedAsSetupGoesOn) {
    EXPECT_FALSE(discord_layout::load(conn(), "870000000000000001"));
    DiscordLayout layout;
    layout.admin_role = "870000000000000100";
    discord_layout::save(conn(), "870000000000000001", layout, Timestamp{std::chrono::seconds(1000)});
    auto loaded = discord_layout::load(conn(), "870000000000000001");
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->admin_role, "870000000000000100");
    EXPECT_EQ(loaded->review_channel, "");

    layout.subscriber_role = "870000000000000101";
    layout.review_channel = "870000000000000102";
    layout.billing_channel = "870000000000000103";
    layout.main_panel_channel = "870000000000000104";
    layout.orders_category = "870000000000000105";
    discord_layout::save(conn(), "870000000000000001", layout, Timestamp{std::chrono::seconds(1001)});
    loaded = discord_layout::load(conn(), "870000000000000001");
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->subscriber_role, "870000000000000101");
    EXPECT_EQ(loaded->orders_category, "870000000000000105");
    EXPECT_EQ(loaded->main_panel_channel, "870000000000000104");
    // Another server has its own (none yet).
    EXPECT_FALSE(discord_layout::load(conn(), "870000000000000002"));
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT COUNT(*) FROM discord_layout").value_or(0), 1);
}

NEBULA_INSTANTIATE_FOR_BACKENDS(DiscordLayoutTest);

}  // namespace
}  // namespace nebula::bot::domain
