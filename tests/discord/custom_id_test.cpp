#include "discord/custom_id.hpp"

#include <gtest/gtest.h>

namespace nebula::discord {
namespace {

TEST(CustomId, MakeJoinsTypedParameters) {
    EXPECT_EQ(custom_id::make("order", std::int64_t{42}, "approve"), "order:42:approve");
    EXPECT_EQ(custom_id::make("acct", Snowflake(1234567890123456789ULL)), "acct:1234567890123456789");
    EXPECT_THROW((void)custom_id::make("order", "a:b"), std::invalid_argument);
    EXPECT_THROW((void)custom_id::make("order", ""), std::invalid_argument);
    EXPECT_THROW((void)custom_id::make("x", std::string(99, 'a')), std::length_error);
    EXPECT_EQ(custom_id::make("x", std::string(98, 'a')).size(), 100u);
}

TEST(CustomId, RouterDispatchesTypedAndRejectsMalformed) {
    custom_id::Router<std::string> router;
    router.add<std::int64_t, std::string>("order", [](std::int64_t id, std::string action) {
        return "order " + std::to_string(id) + " " + action;
    });
    router.add<Snowflake>("acct", [](Snowflake id) { return "acct " + id.str(); });
    router.add<>("buy", [] { return std::string("buy"); });

    EXPECT_EQ(router.dispatch("order:42:approve"), "order 42 approve");
    EXPECT_EQ(router.dispatch("acct:99"), "acct 99");
    EXPECT_EQ(router.dispatch("buy"), "buy");
    EXPECT_FALSE(router.dispatch("order:42"));            // too few
    EXPECT_FALSE(router.dispatch("order:42:approve:x"));  // too many
    EXPECT_FALSE(router.dispatch("order:4x2:approve"));   // not an integer
    EXPECT_FALSE(router.dispatch("order:+42:approve"));
    EXPECT_FALSE(router.dispatch("order:42:"));  // empty string parameter
    EXPECT_FALSE(router.dispatch("acct:-1"));
    EXPECT_FALSE(router.dispatch("acct:99999999999999999999"));
    EXPECT_FALSE(router.dispatch("nope:1"));
    EXPECT_FALSE(router.dispatch(""));
    EXPECT_FALSE(router.dispatch("buy:" + std::string(100, 'x')));
    EXPECT_THROW(router.add<>("buy", [] { return std::string(); }), std::invalid_argument);
}

TEST(CustomId, RoundTrip) {
    custom_id::Router<std::pair<Snowflake, std::int64_t>> router;
    router.add<Snowflake, std::int64_t>("renew", [](Snowflake a, std::int64_t d) { return std::pair{a, d}; });
    const auto id = custom_id::make("renew", Snowflake(18446744073709551615ULL), std::int64_t{-30});
    const auto result = router.dispatch(id);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->first.value(), 18446744073709551615ULL);
    EXPECT_EQ(result->second, -30);
}

}  // namespace
}  // namespace nebula::discord
