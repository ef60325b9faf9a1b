#include "bot/domain/catalog.hpp"

#include <gtest/gtest.h>

#include "bot/domain/audit.hpp"
#include "bot/support/discord_ids.hpp"
#include "domain_fixture.hpp"

using nebula::bot::testing::discord_id;

namespace nebula::bot::domain {
namespace {

class CatalogTest : public testing::DomainTest {};

TEST_P(CatalogTest, PlanValidationHasClearMessages) {
    auto negative = catalog_.create_plan(conn(), discord_id("a"), {"Cheap", 30, 0, 1, Piasters{-1}, 0});
    ASSERT_FALSE(negative.has_value());
    EXPECT_EQ(negative.error().code, ErrorCode::validation);
    EXPECT_NE(negative.error().message.find("negative"), std::string::npos);
    auto zero_days = catalog_.create_plan(conn(), discord_id("a"), {"Zero", 0, 0, 1, Piasters{100}, 0});
    ASSERT_FALSE(zero_days.has_value());
    EXPECT_NE(zero_days.error().message.find("at least 1 day"), std::string::npos);
    auto duplicate = catalog_.create_plan(conn(), discord_id("a"), {"Monthly", 30, 0, 1, Piasters{100}, 0});
    ASSERT_FALSE(duplicate.has_value());
    EXPECT_EQ(duplicate.error().code, ErrorCode::validation);
    EXPECT_NE(duplicate.error().message.find("already exists"), std::string::npos);
    EXPECT_EQ(catalog_.plans(conn(), false).size(), 1u);
}

TEST_P(CatalogTest, PlanEditAndDisableAreAuditedWithBeforeAndAfter) {
    auto updated = catalog_.update_plan(conn(), discord_id("admin-2"), plan_,
                                        {"Monthly+", 31, 0, 3, Piasters{20000}, 1});
    ASSERT_TRUE(updated.has_value()) << updated.error().message;
    EXPECT_EQ(updated->spec.price, Piasters{20000});
    ASSERT_TRUE(catalog_.set_plan_active(conn(), discord_id("admin-2"), plan_, false).has_value());
    EXPECT_TRUE(catalog_.plans(conn(), true).empty());
    auto trail = audit_for(conn(), "plan", std::to_string(plan_.value));
    ASSERT_EQ(trail.size(), 3u);
    EXPECT_EQ(trail[0].entry.action, "plan.created");
    EXPECT_EQ(trail[1].entry.action, "plan.updated");
    EXPECT_EQ(trail[1].entry.actor, discord_id("admin-2").str());
    EXPECT_EQ((*trail[1].entry.before)["price_piasters"], 15000);
    EXPECT_EQ((*trail[1].entry.after)["price_piasters"], 20000);
    EXPECT_EQ((*trail[2].entry.after)["active"], false);
}

TEST_P(CatalogTest, ServerValidationRefusesBadUrlsKeysAndPins) {
    ServerInput good{"eu-1", "Frankfurt", "https://eu1.example:8443", std::string(40, 'k'), "", 1, 100, 1};
    EXPECT_EQ(validate(good), std::nullopt);
    auto bad = good;
    for (const char* url : {"http://eu1.example:8443", "https://", "https://eu1.example:99999", "eu1.example",
                            "https://eu1.example/path"}) {
        bad.gateway_url = url;
        EXPECT_NE(validate(bad), std::nullopt) << url;
    }
    bad = good;
    bad.gateway_key = "short";
    EXPECT_NE(validate(bad), std::nullopt);
    bad = good;
    bad.tls_pin_sha256 = "abc";
    EXPECT_NE(validate(bad), std::nullopt);
    bad.tls_pin_sha256 = std::string(64, 'a');
    EXPECT_EQ(validate(bad), std::nullopt);
    bad = good;
    bad.capacity = 0;
    EXPECT_NE(validate(bad), std::nullopt);

    ASSERT_TRUE(catalog_.create_server(conn(), discord_id("a"), good).has_value());
    auto duplicate = catalog_.create_server(conn(), discord_id("a"), good);
    ASSERT_FALSE(duplicate.has_value());
    EXPECT_NE(duplicate.error().message.find("already exists"), std::string::npos);
}

TEST_P(CatalogTest, ServerAuditNeverContainsTheKey) {
    const auto id = make_server("eu-2");
    auto trail = audit_for(conn(), "server", std::to_string(id.value));
    ASSERT_EQ(trail.size(), 1u);
    EXPECT_EQ(trail[0].entry.after->dump().find(std::string(40, 'k')), std::string::npos);
}

TEST_P(CatalogTest, OnlyMethodsWithAnAccountAreOffered) {
    auto available = catalog_.available_payment_methods(conn());
    ASSERT_EQ(available.size(), 1u);
    EXPECT_EQ(available[0].code, "vodafone_cash");
    ASSERT_TRUE(catalog_.set_payment_method_enabled(conn(), discord_id("a"), method_, false).has_value());
    EXPECT_TRUE(catalog_.available_payment_methods(conn()).empty());
    EXPECT_EQ(catalog_.payment_methods(conn()).size(), 5u);
}

TEST_P(CatalogTest, BanAndUnbanAreAudited) {
    const auto user = make_user("555");
    auto banned = users_.ban(conn(), discord_id("admin-1"), user, "chargeback");
    ASSERT_TRUE(banned.has_value());
    EXPECT_EQ(banned->status, UserStatus::banned);
    EXPECT_EQ(banned->ban_reason, "chargeback");
    auto unbanned = users_.unban(conn(), discord_id("admin-1"), user);
    ASSERT_TRUE(unbanned.has_value());
    EXPECT_EQ(unbanned->status, UserStatus::active);
    EXPECT_EQ(audit_for(conn(), "user", std::to_string(user.value)).size(), 2u);
    EXPECT_EQ(users_.ban(conn(), discord_id("a"), UserId{999}, "x").error().code, ErrorCode::not_found);
}

// A customer's language: not chosen at first (their Discord language decides), the Discord locale
// of their latest interaction remembered for messages sent later, an explicit choice that stays
// until they go back to following Discord.
TEST_P(CatalogTest, LanguageIsAChoiceApartFromTheDiscordLocale) {
    const auto user = make_user("556");
    auto fresh = users_.get(conn(), user);
    EXPECT_FALSE(fresh->locale_choice.has_value());
    EXPECT_FALSE(fresh->last_locale.has_value());

    EXPECT_TRUE(users_.note_discord_locale(conn(), domain::DiscordId{556ULL}, "ar"));
    EXPECT_FALSE(users_.note_discord_locale(conn(), domain::DiscordId{556ULL}, "ar"))
        << "unchanged: nothing written";
    EXPECT_FALSE(users_.note_discord_locale(conn(), domain::DiscordId{556ULL}, "")) << "no locale: kept";
    EXPECT_FALSE(users_.note_discord_locale(conn(), domain::DiscordId{999ULL}, "ar"))
        << "nobody to note it for";
    EXPECT_EQ(users_.get(conn(), user)->last_locale, "ar");

    EXPECT_EQ(users_.choose_locale(conn(), user, std::string("fr")).error().code, ErrorCode::validation);
    EXPECT_EQ(users_.choose_locale(conn(), UserId{999}, std::string("en")).error().code,
              ErrorCode::not_found);
    auto chosen = users_.choose_locale(conn(), user, std::string("en"));
    ASSERT_TRUE(chosen.has_value());
    EXPECT_EQ(chosen->locale_choice, "en");
    EXPECT_TRUE(users_.note_discord_locale(conn(), domain::DiscordId{556ULL}, "en-GB"));
    EXPECT_EQ(users_.get(conn(), user)->locale_choice, "en") << "Discord changing leaves the choice";
    EXPECT_EQ(users_.get(conn(), user)->last_locale, "en-GB");

    auto following = users_.choose_locale(conn(), user, std::nullopt);
    ASSERT_TRUE(following.has_value());
    EXPECT_FALSE(following->locale_choice.has_value());
    EXPECT_EQ(following->last_locale, "en-GB");

    EXPECT_TRUE(users_.note_discord_locale(conn(), domain::DiscordId{556ULL}, std::string(40, 'x')));
    EXPECT_EQ(users_.get(conn(), user)->last_locale, std::string(16, 'x')) << "cut to 16 characters";
}

TEST_P(CatalogTest, EnsureUserIsIdempotentAndFollowsRenames) {
    const auto first = users_.ensure(conn(), discord_id("777"), "old");
    const auto second = users_.ensure(conn(), discord_id("777"), "new");
    EXPECT_EQ(first.id, second.id);
    EXPECT_EQ(second.username, "new");
}

NEBULA_INSTANTIATE_FOR_BACKENDS(CatalogTest);

}  // namespace
}  // namespace nebula::bot::domain
