#include "bot/domain/load_balancer.hpp"

#include <gtest/gtest.h>

#include "bot/support/discord_ids.hpp"
#include "domain_fixture.hpp"

using nebula::bot::testing::discord_id;

namespace nebula::bot::domain {
namespace {

ServerLoad load(std::int64_t id, int capacity, std::int64_t used, int weight = 1, bool enabled = true,
                ServerHealth health = ServerHealth::up) {
    return ServerLoad{ServerId{id}, capacity, weight, enabled, health, used};
}

TEST(ChooseServer, LowestRatioWins) {
    EXPECT_EQ(choose_server({load(1, 100, 50), load(2, 10, 4), load(3, 1000, 600)}), ServerId{2});
}

TEST(ChooseServer, WeightThenIdBreakTies) {
    EXPECT_EQ(choose_server({load(1, 100, 50), load(2, 10, 5, 3), load(3, 20, 10, 3)}), ServerId{2});
    EXPECT_EQ(choose_server({load(5, 10, 1), load(4, 10, 1)}), ServerId{4});
}

TEST(ChooseServer, NeverFullDisabledOrDown) {
    EXPECT_EQ(choose_server(
                  {load(1, 10, 10), load(2, 10, 0, 1, false), load(3, 10, 0, 1, true, ServerHealth::down)}),
              std::nullopt);
    EXPECT_EQ(choose_server({load(1, 10, 10), load(2, 10, 9, 1, true, ServerHealth::unknown)}), ServerId{2});
    EXPECT_EQ(choose_server({}), std::nullopt);
}

class PickServerTest : public testing::DomainTest {};

TEST_P(PickServerTest, CountsAccountsAndInFlightOrdersFromTheDatabase) {
    auto empty = pick_server(conn());
    ASSERT_FALSE(empty.has_value());
    EXPECT_EQ(empty.error().code, ErrorCode::no_capacity);

    const auto a = make_server("a", 2);
    const auto b = make_server("b", 4);
    auto loads = server_loads(conn());
    ASSERT_EQ(loads.size(), 2u);
    EXPECT_EQ(loads[0].used, 0);
    EXPECT_EQ(pick_server(conn()).value(), a);  // tie at 0: equal weight, lower id

    const auto user = make_user("900");
    auto order = order_under_review(user);
    conn().exec("UPDATE orders SET status = 'approved', server_id = ? WHERE id = ?", a, order.id);
    EXPECT_EQ(server_loads(conn())[0].used, 1);
    EXPECT_EQ(pick_server(conn()).value(), b);  // 1/2 > 0/4

    ASSERT_TRUE(catalog_.set_server_health(conn(), b, ServerHealth::down).has_value());
    EXPECT_EQ(pick_server(conn()).value(), a);
    ASSERT_TRUE(catalog_.set_server_enabled(conn(), discord_id("admin-1"), a, false).has_value());
    EXPECT_EQ(pick_server(conn()).error().code, ErrorCode::no_capacity);
}

NEBULA_INSTANTIATE_FOR_BACKENDS(PickServerTest);

}  // namespace
}  // namespace nebula::bot::domain
