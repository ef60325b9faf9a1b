// A customer's click as the bot handles it: through the dispatcher, with a real interaction
// responder, against the fake Discord, on SQLite and on PostgreSQL. The catalogue a click shows
// comes from memory and follows every change at the next click (an admin's command, a write by
// another process, a restart); a ban counts at the next click; Buy Access and My Account make
// one database hop each and write nothing.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "bot/handlers/admin.hpp"
#include "bot/handlers/customer.hpp"
#include "bot/handlers/dispatcher.hpp"
#include "bot/support/bot_harness.hpp"
#include "bot/support/fake_nebula_gateway.hpp"
#include "discord/interactions.hpp"
#include "discord/test_support.hpp"

namespace nebula::bot::testing {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using ui::Msg;

constexpr std::uint64_t kAdmin = 510000000000000001ULL;
constexpr std::uint64_t kCustomer = 510000000000000002ULL;
constexpr std::uint64_t kNewcomer = 510000000000000003ULL;
const domain::DiscordId kActor{510000000000000009ULL};

std::string english(Msg msg) { return ui::tr(ui::Locale::en, msg); }

class ClickTest : public ::testing::TestWithParam<db::Backend>, protected BotGraph {
  protected:
    void SetUp() override {
        build(GetParam(), directory_);
        if (HasFatalFailure()) return;
        handlers::register_customer_handlers(router_, *ctx_);
        handlers::register_admin_handlers(router_, *ctx_);
        dispatcher_ = std::make_unique<handlers::Dispatcher>(*ctx_, router_);
        with_db([&](db::Connection& c) {
            domain::PlanInput plan{"Monthly 50 GB", 30, 50LL << 30, 2, domain::Piasters::from_pounds(150), 1};
            auto made = catalog_.create_plan(c, kActor, plan);
            ASSERT_TRUE(made.has_value()) << made.error().message;
            plan_ = made->id;
            auto server =
                catalog_.create_server(c, kActor,
                                       {"Frankfurt-1", "Frankfurt", "https://frankfurt.example:8443",
                                        std::string(40, 'k'), "", 1, 100, 1});
            ASSERT_TRUE(server.has_value()) << server.error().message;
            // A returning customer whose Discord language is already on their row: their clicks
            // have nothing to write.
            users_.ensure(c, domain::DiscordId{kCustomer}, "user-" + std::to_string(kCustomer));
            users_.note_discord_locale(c, domain::DiscordId{kCustomer}, "en-US");
        });
    }

    void TearDown() override {
        dispatcher_.reset();
        tear_down();
    }

    template <typename F>
    void with_db(F fn) {
        auto connection = database_->connect();
        fn(*connection);
    }

    /// Hands `raw` (an interaction as Discord sends it) to the dispatcher and returns the answer
    /// Discord received; `hops_` and `writes_` say what handling it cost the database.
    json dispatch(json raw) {
        auto parsed = discord::parse_interaction(raw);
        EXPECT_TRUE(parsed) << parsed.error().describe();
        if (!parsed) return {};
        const auto callbacks_before = fake_->requests_matching("POST /interactions/.*/callback").size();
        const auto tasks = db_->tasks();
        const auto writes = db_->pool().write_transactions();
        nebula::discord::testing::run(
            io_, [&]() -> asio::awaitable<void> { co_await dispatcher_->handle(*parsed); });
        hops_ = db_->tasks() - tasks;
        writes_ = db_->pool().write_transactions() - writes;
        const auto callbacks = fake_->requests_matching("POST /interactions/.*/callback");
        EXPECT_EQ(callbacks.size(), callbacks_before + 1) << "one answer per interaction";
        if (callbacks.size() != callbacks_before + 1) return {};
        EXPECT_EQ(callbacks.back().status, 204) << callbacks.back().body;
        return callbacks.back().json;
    }

    /// `user` presses the button `custom_id`, their Discord in English.
    json click(std::uint64_t user, const std::string& custom_id) {
        json raw =
            fake_->make_interaction(3, user, {}, json{{"custom_id", custom_id}, {"component_type", 2}});
        raw["locale"] = "en-US";
        return dispatch(std::move(raw));
    }

    /// The admin runs `/admin <group> <sub>` with `options`, as Discord sends it.
    json admin(const std::string& group, const std::string& sub, json options, json resolved = nullptr) {
        json data{{"id", "990000000000000001"},
                  {"name", "admin"},
                  {"type", 1},
                  {"options",
                   json::array(
                       {{{"name", group},
                         {"type", 2},
                         {"options",
                          json::array({{{"name", sub}, {"type", 1}, {"options", std::move(options)}}})}}})}};
        if (!resolved.is_null()) data["resolved"] = std::move(resolved);
        return dispatch(fake_->make_interaction(2, kAdmin, {shop::kAdminRole}, std::move(data)));
    }

    /// What the answer shows: its text, embeds and select options, as JSON text.
    static std::string shown(const json& answer) { return answer.dump(); }
    static bool shows(const json& answer, const std::string& text) {
        return shown(answer).find(text) != std::string::npos;
    }

    FakeNebulaGateway gateway_;
    FakeDirectory directory_{gateway_};
    std::unique_ptr<handlers::Dispatcher> dispatcher_;
    domain::PlanId plan_;
    std::uint64_t hops_ = 0;
    std::uint64_t writes_ = 0;
};

json option(const std::string& name, int type, json value) {
    return json{{"name", name}, {"type", type}, {"value", std::move(value)}};
}

TEST_P(ClickTest, BuyAccessAndMyAccountTakeOneDatabaseHopAndWriteNothing) {
    const json newcomer = click(kNewcomer, "panel:buy");
    EXPECT_TRUE(shows(newcomer, "Monthly 50 GB")) << shown(newcomer);
    EXPECT_EQ(hops_, 1u);
    EXPECT_EQ(writes_, 0u);

    const json returning = click(kCustomer, "panel:buy");
    EXPECT_TRUE(shows(returning, "Monthly 50 GB")) << shown(returning);
    EXPECT_EQ(hops_, 1u);
    EXPECT_EQ(writes_, 0u);

    const json account = click(kCustomer, "panel:account");
    EXPECT_TRUE(shows(account, english(Msg::account_none))) << shown(account);
    EXPECT_EQ(hops_, 1u);
    EXPECT_EQ(writes_, 0u);

    // The catalogue was read from the database once, for the first click; the others used memory.
    EXPECT_EQ(catalog_.shop_reloads(), 1u);
}

TEST_P(ClickTest, AnAdminsPlanChangeShowsAtTheNextClick) {
    EXPECT_FALSE(shows(click(kCustomer, "panel:buy"), "Weekly 10 GB"));
    const json created = admin(
        "plan", "create",
        json::array({option("name", 3, "Weekly 10 GB"), option("price", 10, 50), option("days", 4, 7)}));
    EXPECT_TRUE(shows(created, "Weekly 10 GB")) << shown(created);
    const json after = click(kCustomer, "panel:buy");
    EXPECT_TRUE(shows(after, "Weekly 10 GB")) << shown(after);
    EXPECT_TRUE(shows(after, "Monthly 50 GB")) << shown(after);

    // Both plans off sale: the next click says there is nothing to buy.
    for (const auto id : {plan_.value, plan_.value + 1}) {
        admin("plan", "disable", json::array({option("plan", 3, std::to_string(id))}));
    }
    const json none = click(kCustomer, "panel:buy");
    EXPECT_TRUE(shows(none, english(Msg::plans_none))) << shown(none);
}

TEST_P(ClickTest, AChangeByAnotherProcessShowsAtTheNextClick) {
    EXPECT_TRUE(shows(click(kCustomer, "panel:buy"), "Monthly 50 GB"));
    const auto reloads = catalog_.shop_reloads();

    // Another process (`nebula-bot jobs run`, a second bot, an operator at the SQL prompt) on its
    // own connection, knowing nothing of this bot's memory.
    with_db(
        [&](db::Connection& c) { c.exec("UPDATE plans SET name = 'Monthly 60 GB' WHERE id = ?", plan_); });
    const json renamed = click(kCustomer, "panel:buy");
    EXPECT_TRUE(shows(renamed, "Monthly 60 GB")) << shown(renamed);
    EXPECT_FALSE(shows(renamed, "Monthly 50 GB"));
    EXPECT_EQ(catalog_.shop_reloads(), reloads + 1);

    // Through the services of that other process: the only server disabled.
    with_db([&](db::Connection& c) {
        domain::CatalogService other(clock_);
        auto server = c.scalar<domain::ServerId>("SELECT id FROM servers");
        ASSERT_TRUE(other.set_server_enabled(c, kActor, *server, false).has_value());
    });
    const json closed = click(kCustomer, "panel:buy");
    EXPECT_TRUE(shows(closed, english(Msg::sales_open_soon))) << shown(closed);

    // The payment methods an order channel offers come from the same memory.
    with_db([&](db::Connection& c) {
        c.exec("UPDATE payment_methods SET account = '01012345678' WHERE code = 'vodafone_cash'");
    });
    std::vector<std::string> offered;
    with_db([&](db::Connection& c) {
        for (const auto& method : catalog_.shop(c)->available_methods) offered.push_back(method.code);
    });
    EXPECT_EQ(offered, std::vector<std::string>{"vodafone_cash"});
}

TEST_P(ClickTest, ABotStartedAfterAChangeShowsIt) {
    EXPECT_TRUE(shows(click(kCustomer, "panel:buy"), "Monthly 50 GB"));
    // The bot stops; the plan is renamed while it is down; a new bot process starts on the same
    // database (its own memory, router and dispatcher).
    dispatcher_.reset();
    with_db(
        [&](db::Connection& c) { c.exec("UPDATE plans SET name = 'Monthly 70 GB' WHERE id = ?", plan_); });
    domain::CatalogService restarted(clock_);
    core::BotContext context{shop_,      zone_,      clock_,     io_.get_executor(), *rest_,
                             *db_,       users_,     restarted,  *orders_,           *provisioner_,
                             *accounts_, directory_, analytics_, background_,        *sleeper_};
    handlers::Router router;
    handlers::register_customer_handlers(router, context);
    dispatcher_ = std::make_unique<handlers::Dispatcher>(context, router);
    const json after = click(kCustomer, "panel:buy");
    EXPECT_TRUE(shows(after, "Monthly 70 GB")) << shown(after);
    EXPECT_EQ(restarted.shop_reloads(), 1u);
    dispatcher_.reset();
}

TEST_P(ClickTest, ABanCountsAtTheNextClick) {
    EXPECT_TRUE(shows(click(kCustomer, "panel:buy"), "Monthly 50 GB"));
    const std::string customer = std::to_string(kCustomer);
    const json resolved{{"users", {{customer, {{"id", customer}, {"username", "user-" + customer}}}}}};
    const json banned = admin(
        "user", "ban", json::array({option("user", 6, customer), option("reason", 3, "fraud")}), resolved);
    const json refused = click(kCustomer, "panel:buy");
    EXPECT_TRUE(shows(refused, english(Msg::error_banned))) << shown(banned) << shown(refused);
    EXPECT_FALSE(shows(refused, "Monthly 50 GB"));

    admin("user", "unban", json::array({option("user", 6, customer)}), resolved);
    EXPECT_TRUE(shows(click(kCustomer, "panel:buy"), "Monthly 50 GB"));

    // A ban written by another process counts just as soon.
    with_db([&](db::Connection& c) {
        c.exec("UPDATE users SET status = 'banned' WHERE discord_id = ?", customer);
    });
    const json again = click(kCustomer, "panel:buy");
    EXPECT_TRUE(shows(again, english(Msg::error_banned))) << shown(again);
}

NEBULA_INSTANTIATE_FOR_BACKENDS(ClickTest);

}  // namespace
}  // namespace nebula::bot::testing
