// /admin user list|search|info|note, /admin account create|change-plan and /admin order refund,
// as an admin runs them in Discord (the fake Discord receives the answers; the in-process fake
// nebula-gateway plays the panel).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bot/admin/admin_fixture.hpp"
#include "bot/domain/accounts.hpp"
#include "bot/domain/analytics.hpp"
#include "bot/domain/audit.hpp"
#include "discord/interactions.hpp"
#include "discord/test_support.hpp"

namespace nebula::bot::testing {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::uint64_t kOtherAdmin = 500000000000000009ULL;

class AdminCustomersTest : public AdminTest {
  protected:
    /// Presses a button of an earlier answer as `user` (with or without the admin role).
    Answer press(const std::string& custom_id, std::uint64_t user, bool with_role = true) {
        std::vector<std::uint64_t> roles;
        if (with_role) roles.push_back(kAdminRole);
        const json raw =
            fake_->make_interaction(3, user, roles, json{{"custom_id", custom_id}, {"component_type", 2}});
        auto parsed = discord::parse_interaction(raw);
        EXPECT_TRUE(parsed) << parsed.error().describe();
        if (!parsed) return {};
        auto handler = router_.component(custom_id);
        EXPECT_TRUE(handler.has_value()) << custom_id;
        if (!handler) return {};
        const std::size_t before = fake_->requests_matching("POST /interactions/.*/callback").size();
        auto responder = discord::make_responder(io_.get_executor(), *rest_, system_clock_, *parsed);
        handlers::Call call{*ctx_, responder->interaction(), *responder, locale_,
                            handlers::is_admin(shop_, responder->interaction())};
        nebula::discord::testing::run(io_, [&]() -> asio::awaitable<void> { co_await (*handler)(call); });
        const auto callbacks = fake_->requests_matching("POST /interactions/.*/callback");
        EXPECT_EQ(callbacks.size(), before + 1);
        if (callbacks.size() != before + 1) return {};
        Answer answer;
        answer.type = callbacks.back().json.value("type", 0);
        answer.data = callbacks.back().json.value("data", json::object());
        return answer;
    }

    static std::vector<json> buttons(const Answer& answer) {
        std::vector<json> out;
        for (const auto& row : answer.data.value("components", json::array()))
            for (const auto& button : row.value("components", json::array())) out.push_back(button);
        return out;
    }

    static std::string footer(const Answer& answer) {
        if (!answer.data.contains("embeds") || answer.data["embeds"].empty()) return {};
        return answer.data["embeds"][0].value("footer", json::object()).value("text", std::string());
    }

    json resolved_user(std::uint64_t id, const std::string& name) {
        return json{{"users", {{std::to_string(id), {{"id", std::to_string(id)}, {"username", name}}}}}};
    }
};

TEST_F(AdminCustomersTest, UserListPagesWithButtonsOnlyForTheAdminWhoAsked) {
    for (int i = 0; i < 23; ++i) make_user(600000000000000100ULL + static_cast<std::uint64_t>(i));
    auto first = admin({"user", "list"});
    EXPECT_TRUE(first.ephemeral());
    EXPECT_THAT(first.embed_text(), HasSubstr("Customers: 23"));
    EXPECT_THAT(first.embed_text(), HasSubstr("<@600000000000000122>"));  // newest first
    EXPECT_THAT(first.embed_text(), Not(HasSubstr("<@600000000000000112>")));
    EXPECT_EQ(footer(first), "Page 1 of 3");
    auto row = buttons(first);
    ASSERT_EQ(row.size(), 2u);
    EXPECT_EQ(row[0]["label"], "◀ Previous");
    EXPECT_TRUE(row[0].value("disabled", false));
    EXPECT_FALSE(row[1].value("disabled", false));

    // Another admin cannot page through it: a clear refusal, the list stays as it is.
    auto refused = press(row[1]["custom_id"], kOtherAdmin);
    EXPECT_EQ(refused.type, 4);
    EXPECT_TRUE(refused.ephemeral());
    EXPECT_THAT(refused.content(), HasSubstr("Only the admin who asked for this list can page through it"));
    // Nor a member without the admin role.
    EXPECT_EQ(press(row[1]["custom_id"], kAdmin, false).content(), "Only admins can do that.");

    auto second = press(row[1]["custom_id"], kAdmin);
    EXPECT_EQ(second.type, 7);  // the same message, updated
    EXPECT_EQ(footer(second), "Page 2 of 3");
    EXPECT_THAT(second.embed_text(), HasSubstr("<@600000000000000112>"));
    auto third = press(buttons(second)[1]["custom_id"], kAdmin);
    EXPECT_EQ(footer(third), "Page 3 of 3");
    EXPECT_THAT(third.embed_text(), HasSubstr("<@600000000000000100>"));
    EXPECT_TRUE(buttons(third)[1].value("disabled", false));
    EXPECT_EQ(footer(press(buttons(third)[0]["custom_id"], kAdmin)), "Page 2 of 3");
    // A forged button is stale, not a crash.
    EXPECT_THAT(press("admin_users:" + std::to_string(kAdmin) + ":0:x:q", kAdmin).content(),
                Not(HasSubstr("Customers")));
}

TEST_F(AdminCustomersTest, UserSearchFindsByNameIdReferenceAndEmailAndKeepsTheQueryWhilePaging) {
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    make_server("eu-1");
    const auto account = fulfilled_account(kCustomer, plan.id, "receipt-1");
    const auto reference =
        with_db([&](db::Connection& c) { return orders_->get(c, account.order_id)->reference; });
    for (int i = 0; i < 12; ++i) {
        with_db([&](db::Connection& c) {
            return users_.ensure(c, domain::DiscordId{600000000000000200ULL + static_cast<std::uint64_t>(i)},
                                 "50%:off_" + std::to_string(i));
        });
    }
    make_user(600000000000000300ULL);  // "user600000000000000300"

    const std::string customer = "<@" + std::to_string(kCustomer) + ">";
    EXPECT_THAT(admin({"user", "search"}, {str("query", reference)}).embed_text(), HasSubstr(customer));
    EXPECT_THAT(admin({"user", "search"}, {str("query", account.client_email)}).embed_text(),
                HasSubstr(customer));
    EXPECT_THAT(admin({"user", "search"}, {str("query", std::to_string(kCustomer))}).embed_text(),
                HasSubstr("Customers: 1"));
    EXPECT_EQ(admin({"user", "search"}, {str("query", "nobody-like-this")}).content(), "No customers match.");

    // The query (with % and : in it) travels with the page buttons.
    auto first = admin({"user", "search"}, {str("query", "50%:off")});
    EXPECT_THAT(first.embed_text(), HasSubstr("Customers: 12"));
    auto second = press(buttons(first)[1]["custom_id"], kAdmin);
    EXPECT_THAT(second.embed_text(), HasSubstr("Customers: 12"));
    EXPECT_THAT(second.embed_text(), Not(HasSubstr("<@600000000000000300>")));
    EXPECT_EQ(footer(second), "Page 2 of 2");
    // % is a letter in a query, not a wildcard.
    EXPECT_THAT(admin({"user", "search"}, {str("query", "%")}).embed_text(), HasSubstr("Customers: 12"));
    EXPECT_THAT(admin({"user", "list"}, {str("status", "banned")}).content(), "No customers match.");
}

TEST_F(AdminCustomersTest, UserInfoShowsOrdersAccountsAndTheNotesAdminsKeep) {
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    make_server("eu-1");
    const auto account = fulfilled_account(kCustomer, plan.id, "receipt-1");
    EXPECT_EQ(
        admin({"user", "note"}, {user_option("user", kCustomer), str("text", "asked for a refund by DM")})
            .content(),
        "Note kept for <@500000000000000002>.");
    EXPECT_THAT(admin({"user", "note"}, {user_option("user", 42), str("text", "x")}).content(),
                HasSubstr("never used the bot"));
    auto info = admin({"user", "info"}, {user_option("user", kCustomer)});
    EXPECT_THAT(info.content(), HasSubstr("orders: 1 · accounts: 1"));
    const auto text = info.embed_text();
    EXPECT_THAT(text, HasSubstr("NL-000001 · Monthly · 150 EGP · Vodafone Cash · Delivered"));
    EXPECT_THAT(text, HasSubstr("#" + std::to_string(account.id.value) + " (nl-1)"));
    EXPECT_THAT(text, HasSubstr("<@500000000000000001>: asked for a refund by DM"));
    const auto audit = with_db([&](db::Connection& c) { return domain::recent_audit(c, 1); });
    EXPECT_EQ(audit[0].entry.action, "user.note_added");
    EXPECT_EQ(audit[0].entry.actor, std::to_string(kAdmin));
}

TEST_F(AdminCustomersTest, AccountCreateGivesAnAccountDeliveredLikeAPaidOneAndRecordsAnOrderOfZero) {
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    make_server("eu-1");
    auto answer = admin({"account", "create"},
                        {user_option("user", kCustomer), str("plan", std::to_string(plan.id.value)),
                         str("reason", "server outage compensation"), integer("days", 10)},
                        true, resolved_user(kCustomer, "mona"));
    EXPECT_THAT(answer.content(), HasSubstr("Account given to <@500000000000000002>: Monthly until"));
    EXPECT_THAT(answer.content(), HasSubstr("amount 0). Reason: server outage compensation"));
    ASSERT_EQ(hook_calls_.size(), 1u);
    EXPECT_EQ(hook_calls_[0], "fulfilled NL-000001");
    ASSERT_EQ(gateway_.clients().size(), 1u);
    const auto order = with_db([&](db::Connection& c) { return orders_->get(c, domain::OrderId{1}); });
    EXPECT_EQ(order->status, domain::OrderStatus::fulfilled);
    EXPECT_EQ(order->amount.value, 0);
    EXPECT_EQ(order->gift_reason, "server outage compensation");
    const auto audit = with_db([&](db::Connection& c) { return domain::audit_for(c, "order", "1"); });
    ASSERT_FALSE(audit.empty());
    EXPECT_EQ(audit.front().entry.action, "order.gifted");
    EXPECT_EQ(audit.front().entry.actor, std::to_string(kAdmin));

    // The customer now has an account: a second gift works (no open order), a missing reason not.
    EXPECT_THAT(admin({"account", "create"},
                      {user_option("user", kCustomer), str("plan", "Monthly"), str("reason", " ")})
                    .content(),
                HasSubstr("give a reason"));
    EXPECT_THAT(admin({"account", "create"},
                      {user_option("user", kCustomer), str("plan", "Nope"), str("reason", "staff")})
                    .content(),
                HasSubstr("no plan matches \"Nope\""));
    // A non-admin is refused and nothing is made.
    EXPECT_EQ(admin({"account", "create"},
                    {user_option("user", kCustomer), str("plan", "Monthly"), str("reason", "staff")}, false)
                  .content(),
              "Only admins can do that.");
    EXPECT_EQ(gateway_.clients().size(), 1u);
}

TEST_F(AdminCustomersTest, AGiftWhoseGatewayFailsIsRetriedAndMakesExactlyOneClient) {
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    make_server("eu-1");
    gateway_.script_create({CreateFault::server_error});
    auto answer = admin({"account", "create"},
                        {user_option("user", kCustomer), str("plan", "Monthly"), str("reason", "staff")});
    EXPECT_THAT(answer.content(), HasSubstr("Order NL-000001 for <@500000000000000002> is recorded"));
    EXPECT_TRUE(gateway_.clients().empty());
    nebula::discord::testing::run(io_, [&]() -> asio::awaitable<void> {
        EXPECT_EQ((co_await provisioner_->reconcile()).fulfilled, 1);
        EXPECT_EQ((co_await provisioner_->reconcile()).fulfilled, 0);
    });
    EXPECT_EQ(gateway_.clients().size(), 1u);
    (void)plan;
}

TEST_F(AdminCustomersTest, ChangePlanSetsTheNewQuotaAndExpiryOnThePanel) {
    const auto monthly = make_plan("Monthly", domain::Piasters::from_pounds(150));
    make_server("eu-1");
    const auto account = fulfilled_account(kCustomer, monthly.id, "receipt-1");
    ASSERT_TRUE(with_db([&](db::Connection& c) {
                    return catalog_.create_plan(
                        c, domain::DiscordId{kAdmin},
                        {"Unlimited", 90, 0, 5, domain::Piasters::from_pounds(400), 0});
                }).has_value());
    auto answer = admin({"account", "change-plan"}, {str("account", std::to_string(account.id.value)),
                                                     str("plan", "Unlimited"), str("from", "expiry")});
    EXPECT_THAT(answer.content(), HasSubstr("is now on Unlimited: Unlimited, 5 devices, expires"));
    const auto client = gateway_.clients().at(account.client_email);
    EXPECT_EQ(client.total_bytes, 0);
    EXPECT_EQ(client.limit_ip, 5);
    EXPECT_EQ(client.expiry_ms, domain::epoch_seconds(account.expires_at + std::chrono::days(90)) * 1000);
    EXPECT_THAT(admin({"account", "change-plan"},
                      {str("account", "#999"), str("plan", "Unlimited"), str("from", "now")})
                    .content(),
                HasSubstr("no account matches"));
}

TEST_F(AdminCustomersTest, OrderRefundMarksTheOrderDisablesTheAccountAndIsRefusedTwice) {
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    make_server("eu-1");
    const auto account = fulfilled_account(kCustomer, plan.id, "receipt-1");
    auto answer = admin({"order", "refund"}, {str("order", "NL-000001"), str("reason", "paid twice"),
                                              boolean("disable_account", true)});
    EXPECT_THAT(answer.content(), HasSubstr("Order NL-000001 is marked refunded (150 EGP): paid twice"));
    EXPECT_THAT(answer.content(), HasSubstr("disabled"));
    EXPECT_FALSE(gateway_.clients().at(account.client_email).enable);
    EXPECT_EQ(with_db([&](db::Connection& c) { return domain::accounts::get(c, account.id); })->status,
              domain::AccountStatus::disabled);
    EXPECT_THAT(admin({"order", "info"}, {str("order", "NL-000001")}).embed_text(),
                HasSubstr("Refunded: paid twice"));

    auto twice = admin({"order", "refund"}, {str("order", "NL-000001"), str("reason", "again")});
    EXPECT_THAT(twice.content(),
                HasSubstr("That didn't work: order NL-000001 was already refunded (paid twice)"));
    EXPECT_EQ(
        with_db([&](db::Connection& c) {
            return c.scalar<std::int64_t>("SELECT COUNT(*) FROM audit_logs WHERE action = 'order.refunded'");
        }),
        1);
    // /admin stats shows the refund beside revenue.
    auto stats = admin({"stats"});
    EXPECT_THAT(stats.embed_text(), HasSubstr("Refunds: 150 EGP · orders: 1"));
    EXPECT_THAT(stats.embed_text(), HasSubstr("Revenue: 0 EGP"));
}

}  // namespace
}  // namespace nebula::bot::testing
