// End to end: the real nebula-bot (in-process) against the fake Discord over real sockets, with a
// real nebula-gateway over TLS in front of the fake 3x-ui panel. One test per thing a customer or
// an admin does in the shop, plus the unhappy paths of the purchase flow.
#include <array>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "bot/app/bot.hpp"
#include "bot/db/migrations.hpp"
#include "bot/domain/account_moves.hpp"
#include "bot/domain/accounts.hpp"
#include "bot/domain/audit.hpp"
#include "bot/domain/usage_history.hpp"
#include "bot/handlers/customer.hpp"
#include "bot/notify/account_moves.hpp"
#include "bot/notify/delivery.hpp"
#include "bot/notify/order_channel.hpp"
#include "bot/notify/referrals.hpp"
#include "bot/support/bot_harness.hpp"
#include "common/crypto.hpp"
#include "discord/test_support.hpp"
#include "fakes/discord/fake_discord.hpp"
#include "integration/gateway/gateway_harness.hpp"
#include "support/eventually.hpp"
#include "support/tls_cert.hpp"

namespace nebula::e2e {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;
using nebula::testing::until;

namespace shop = bot::testing::shop;
constexpr std::uint64_t kGuild = shop::kGuild;
constexpr std::uint64_t kAdminRole = shop::kAdminRole;
constexpr std::uint64_t kSubscriberRole = shop::kSubscriberRole;
constexpr std::uint64_t kReviewChannel = shop::kReviewChannel;
constexpr std::uint64_t kBillingChannel = shop::kBillingChannel;
constexpr std::uint64_t kPanelChannel = shop::kPanelChannel;
constexpr std::uint64_t kCategory = shop::kOrdersCategory;
constexpr std::uint64_t kCustomer = shop::kCustomer;
constexpr std::uint64_t kAdmin = shop::kAdmin;
constexpr std::uint64_t kOtherAdmin = 830000000000000003ULL;
constexpr std::uint64_t kStranger = 830000000000000004ULL;
constexpr std::uint64_t kAnnounceChannel = 820000000000000009ULL;

std::string png_bytes(char salt) {
    // A PNG signature and some bytes: enough for a content-type check and a distinct SHA-256.
    return std::string("\x89PNG\r\n\x1a\n", 8) + std::string(64, salt);
}

class BotE2E : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("nebula-e2e-" + common::uuid_v4());
        std::filesystem::create_directories(dir_);
        auto url = *bot::db::parse_database_url("sqlite:" + (dir_ / "bot.db").string());
        {
            auto connection = bot::db::open_connection(url);
            ASSERT_TRUE(connection) << connection.error();
            ASSERT_TRUE(bot::db::migrate(**connection));
        }
        if (discord_cert_) {
            fakes::discord::FakeDiscordOptions options;
            options.tls = common::http::TlsFiles{discord_cert_->cert_path, discord_cert_->key_path};
            auto fake = fakes::discord::FakeDiscord::create(io_.get_executor(), options);
            ASSERT_TRUE(fake) << fake.error();
            discord_ = std::move(*fake);
        } else {
            auto fake = bot::testing::start_fake_discord(io_);
            ASSERT_TRUE(fake) << fake.error();
            discord_ = std::move(*fake);
        }
        discord_->add_member(kGuild, kCustomer, {});
        discord_->add_member(kGuild, kAdmin, {kAdminRole});

        auto config = bot::testing::bot_config(*discord_, url, dir_ / "data");
        if (discord_cert_) config.discord_ca_file = discord_cert_->cert_path;
        config.default_server = {"https://127.0.0.1:" + std::to_string(gateway_.port),
                                 testing::kGatewayKey,
                                 gateway_.cert.sha256,
                                 "Frankfurt-1",
                                 "Germany",
                                 1,
                                 100};
        config.shop.order_channel_archive_after = 0s;
        config.shop.order_channel_delete_after = 3600s;
        config.shop.usage_refresh_wait = usage_refresh_wait_;
        config.shop.trial_min_account_age = trial_min_account_age_;
        if (audit_channel_ != 0) {
            config.jobs.audit_channel = discord::Snowflake(audit_channel_);
            config.jobs.audit_channel_interval = 1s;
        }
        discord_->add_channel({{"id", std::to_string(kAnnounceChannel)},
                               {"guild_id", std::to_string(kGuild)},
                               {"type", 0},
                               {"name", "announcements"}});
        config.shop.announce_channel_id = discord::Snowflake(kAnnounceChannel);
        config.jobs.announce_pacing.interval = 1ms;
        config.jobs.announce_interval = 1h;  // the tests run it (it also runs at start-up)
        config.jobs.announce_pacing.per_run = announce_per_run_;
        config_ = config;
        auto created = bot_.create(std::move(config), clock_);
        ASSERT_TRUE(created) << created.error();

        bot_.start();
        discord::testing::run(io_, [this]() -> asio::awaitable<void> {
            EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
            co_await seed_catalog();
        });
    }

    void TearDown() override {
        bot_.shut_down();
        if (discord_) discord_->stop();
        io_.restart();
        io_.run_for(200ms);
        discord_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    bot::core::BotContext& ctx() { return bot_->context(); }

    asio::awaitable<void> seed_catalog() {
        auto& c = ctx();
        co_await c.db.run([&](bot::db::Connection& connection) {
            bot::domain::PlanInput plan{
                "Monthly 50 GB", 30, 50LL << 30, 2, bot::domain::Piasters::from_pounds(150), 1};
            plan_id_ =
                c.catalog.create_plan(connection, bot::domain::DiscordId{shop::kAdmin}, plan)->id.value;
            for (const auto& method : c.catalog.payment_methods(connection)) {
                if (method.code != "vodafone_cash") continue;
                bot::domain::PaymentMethodUpdate update;
                update.account = "01012345678";
                method_id_ = c.catalog
                                 .update_payment_method(connection, bot::domain::DiscordId{shop::kAdmin},
                                                        method.id, update)
                                 ->id.value;
            }
        });
    }

    /// Delivers an INTERACTION_CREATE and waits until the bot has finished handling it; returns
    /// the interaction's callback request body.
    asio::awaitable<json> interact(int type, std::uint64_t user, std::uint64_t role, json data) {
        std::vector<std::uint64_t> roles;
        if (role != 0) roles.push_back(role);
        json interaction = discord_->make_interaction(type, user, std::move(roles), std::move(data));
        const auto chosen = locales_.find(user);
        interaction["locale"] = chosen == locales_.end() ? std::string("en-US") : chosen->second;
        co_return co_await answer_to(std::move(interaction));
    }

    /// Delivers `interaction` as an INTERACTION_CREATE, waits until the bot has finished handling
    /// it and returns its callback request body.
    asio::awaitable<json> answer_to(json interaction) {
        const std::size_t before = bot_->dispatcher().completed();
        discord_->gateway().dispatch("INTERACTION_CREATE", interaction);
        co_await until(
            [&] { return bot_->dispatcher().completed() > before && bot_->dispatcher().in_flight() == 0; });
        // The handler may finish before its callback request has reached the fake (the REST
        // queue sends it), so wait for the request itself: every interaction must be answered.
        const std::string prefix = "/interactions/" + interaction["id"].get<std::string>() + "/";
        json callback;
        co_await until([&] {
            for (const auto& r : discord_->requests()) {
                if (r.path.rfind(prefix, 0) == 0) {
                    callback = r.json;
                    return true;
                }
            }
            return false;
        });
        co_return callback;
    }

    /// A button (value empty) or a select with one chosen value; role 0 = no role.
    asio::awaitable<json> click(std::uint64_t user, std::uint64_t role, std::string custom_id,
                                std::string value) {
        json data{{"custom_id", custom_id}, {"component_type", value.empty() ? 2 : 3}};
        if (!value.empty()) data["values"] = json::array({value});
        co_return co_await interact(3, user, role, std::move(data));
    }
    asio::awaitable<json> click(std::uint64_t user, std::uint64_t role, std::string custom_id) {
        std::string no_value;
        co_return co_await click(user, role, std::move(custom_id), std::move(no_value));
    }

    asio::awaitable<json> command(std::uint64_t user, std::uint64_t role, std::string sub) {
        json data{{"id", "840000000000000001"},
                  {"name", "admin"},
                  {"type", 1},
                  {"options", json::array({{{"name", sub}, {"type", 1}, {"options", json::array()}}})}};
        co_return co_await interact(2, user, role, std::move(data));
    }

    asio::awaitable<json> submit_decline(std::uint64_t user, std::int64_t order, std::string reason) {
        json data{
            {"custom_id", "decline:" + std::to_string(order)},
            {"components",
             json::array({{{"type", 1},
                           {"components",
                            json::array({{{"type", 4}, {"custom_id", "reason"}, {"value", reason}}})}}})}};
        co_return co_await interact(5, user, kAdminRole, std::move(data));
    }

    /// A MESSAGE_CREATE in `channel` from `user`, optionally with an image served by the fake CDN.
    asio::awaitable<void> post(std::uint64_t channel, std::uint64_t user, std::uint64_t role,
                               std::string content, std::optional<std::string> image,
                               std::string content_type) {
        json message{{"id", std::to_string(++message_ids_)},
                     {"channel_id", std::to_string(channel)},
                     {"guild_id", std::to_string(kGuild)},
                     {"author", {{"id", std::to_string(user)}, {"username", "user-" + std::to_string(user)}}},
                     {"member", {{"roles", json::array()}}},
                     {"content", content},
                     {"attachments", json::array()}};
        if (role != 0) message["member"]["roles"].push_back(std::to_string(role));
        if (image) {
            const std::string path = "/attachments/" + std::to_string(message_ids_) + "/receipt.png";
            discord_->serve_file(path, {content_type, *image, std::nullopt, 0ms});
            message["attachments"].push_back({{"id", std::to_string(message_ids_ + 1000)},
                                              {"filename", "receipt.png"},
                                              {"content_type", content_type},
                                              {"size", image->size()},
                                              {"url", discord_->cdn_base() + path},
                                              {"proxy_url", discord_->cdn_base() + path}});
        }
        const std::size_t before = bot_->dispatcher().completed();
        discord_->gateway().dispatch("MESSAGE_CREATE", message);
        co_await until(
            [&] { return bot_->dispatcher().completed() > before && bot_->dispatcher().in_flight() == 0; });
    }

    /// Runs `action` (something done by hand in Discord that dispatches one event) and waits until
    /// the bot has handled the event.
    asio::awaitable<void> by_hand(const std::function<void()>& action) {
        const std::size_t before = bot_->dispatcher().completed();
        action();
        co_await until(
            [&] { return bot_->dispatcher().completed() > before && bot_->dispatcher().in_flight() == 0; });
    }

    std::vector<fakes::discord::RecordedRequest> messages_in(std::uint64_t channel) const {
        std::vector<fakes::discord::RecordedRequest> out;
        for (const auto& r : discord_->requests()) {
            if (r.method == "POST" && r.path == "/channels/" + std::to_string(channel) + "/messages")
                out.push_back(r);
        }
        return out;
    }

    asio::awaitable<std::optional<bot::domain::Order>> order(std::int64_t id) {
        auto& c = ctx();
        co_return co_await c.db.run([&](bot::db::Connection& connection) {
            return c.orders.get(connection, bot::domain::OrderId{id});
        });
    }

    asio::awaitable<std::int64_t> latest_order_id() {
        co_return co_await ctx().db.run([](bot::db::Connection& c) {
            return c.scalar<std::int64_t>("SELECT MAX(id) FROM orders").value_or(0);
        });
    }

    asio::awaitable<std::vector<bot::domain::Account>> accounts() {
        co_return co_await ctx().db.run([](bot::db::Connection& c) {
            std::vector<bot::domain::Account> out;
            auto ids = c.query("SELECT id FROM vpn_accounts ORDER BY id");
            while (ids->step())
                out.push_back(
                    *bot::domain::accounts::get(c, bot::domain::AccountId{ids->get<std::int64_t>(0)}));
            return out;
        });
    }

    /// Buys the plan and picks the wallet: returns the order's id and channel.
    asio::awaitable<std::pair<std::int64_t, std::uint64_t>> buy_and_choose_method(
        std::uint64_t user = kCustomer) {
        co_await click(user, 0, "panel:buy");
        co_await click(user, 0, "buy_plan", std::to_string(plan_id_));
        const std::int64_t id = co_await latest_order_id();
        auto placed = co_await order(id);
        EXPECT_TRUE(placed && placed->channel_id);
        co_await click(user, 0, "pay_method:" + std::to_string(id), std::to_string(method_id_));
        co_return std::make_pair(id, placed->channel_id.value_or(bot::domain::DiscordId{}).value());
    }

    asio::awaitable<void> pay_and_upload(std::uint64_t channel, char salt) {
        co_await post(channel, kCustomer, 0, "", png_bytes(salt), "image/png");
    }

    common::SystemClock clock_;
    testing::GatewayHarness gateway_{fakes::FakePanelOptions{}};
    asio::io_context io_;
    std::unique_ptr<fakes::discord::FakeDiscord> discord_;
    bot::testing::RunningBot bot_{io_};
    std::filesystem::path dir_;
    std::int64_t plan_id_ = 0;
    std::int64_t method_id_ = 0;
    std::uint64_t message_ids_ = 860000000000000000ULL;
    /// My Account's wait for a usage refresh: only a safety net here (the refresh ends it).
    std::chrono::milliseconds usage_refresh_wait_ = 60s;
    /// Set: the fake Discord speaks HTTPS (and HTTP/2) with this certificate, which the bot trusts.
    std::unique_ptr<nebula::testing::TlsCert> discord_cert_;
    /// TRIAL_MIN_ACCOUNT_AGE_DAYS.
    std::chrono::days trial_min_account_age_{0};
    /// The Discord locale each user's client sends; "en-US" when not set.
    std::map<std::uint64_t, std::string> locales_;
    /// Rows in a table, read on a connection of the test's own (for waiting outside coroutines).
    std::int64_t count_rows(const std::string& table) const {
        auto connection = bot::db::open_connection(config_.database);
        if (!connection) return -1;
        return (*connection)->scalar<std::int64_t>("SELECT COUNT(*) FROM " + table).value_or(0);
    }
    std::int64_t outbox_size() const { return count_rows("audit_outbox"); }
    std::int64_t audit_count() const { return count_rows("audit_logs"); }
    /// The data of the newest file named `name` the bot uploaded.
    std::string last_file(const std::string& name) const {
        std::string data;
        for (const auto& r : discord_->requests()) {
            for (const auto& file : r.files) {
                if (file.filename == name) data = file.data;
            }
        }
        return data;
    }
    /// AUDIT_CHANNEL_ID (0: none).
    std::uint64_t audit_channel_ = 0;
    /// The configuration the bot was created with (a restart creates it again).
    /// Announcement DMs sent by one run of the announcements job.
    int announce_per_run_ = 100;
    /// The configuration the bot was made with (to make it again after a stop).
    bot::app::BotConfig config_;
};

// gtest's ASSERT_* return from the function, which a coroutine cannot do.
#define CO_ASSERT_TRUE(condition)                      \
    if (!(condition)) {                                \
        ADD_FAILURE() << "expected true: " #condition; \
        co_return;                                     \
    }
#define CO_ASSERT_EQ(a, b) \
    if (!((a) == (b))) {   \
        EXPECT_EQ(a, b);   \
        co_return;         \
    }
#define CO_ASSERT_NE(a, b) \
    if ((a) == (b)) {      \
        EXPECT_NE(a, b);   \
        co_return;         \
    }

std::string text_of(const json& body) { return body.dump(); }

TEST_F(BotE2E, MainPanelDisplaysAndIsNeverDuplicated) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        const json refused = co_await command(kStranger, 0, "setup");
        EXPECT_NE(text_of(refused).find("Only admins"), std::string::npos) << refused.dump();
        EXPECT_TRUE(messages_in(kPanelChannel).empty());

        const json first = co_await command(kAdmin, kAdminRole, "setup");
        EXPECT_NE(text_of(first).find("Main panel posted"), std::string::npos) << first.dump();
        // How staff without Manage Server get to see /admin (the Integrations override).
        EXPECT_NE(first["data"]
                      .value("content", "")
                      .find("Integrations → this bot → /admin → Add Roles or "
                            "Members → <@&" +
                            std::to_string(kAdminRole) + ">"),
                  std::string::npos)
            << first.dump();
        const auto posted = messages_in(kPanelChannel);
        EXPECT_EQ(posted.size(), 1u);
        const json& panel = posted.front().json;
        EXPECT_NE(panel["embeds"][0]["title"].get<std::string>().find("NebulaLinks"), std::string::npos);
        std::vector<std::string> ids;
        for (const auto& b : panel["components"][0]["components"]) ids.push_back(b["custom_id"]);
        EXPECT_EQ(ids, (std::vector<std::string>{"panel:buy", "panel:account", "panel:renew", "panel:help",
                                                 "panel:language"}));

        const json second = co_await command(kAdmin, kAdminRole, "setup");
        EXPECT_NE(text_of(second).find("Main panel refreshed"), std::string::npos) << second.dump();
        EXPECT_EQ(messages_in(kPanelChannel).size(), 1u);
        EXPECT_EQ(
            discord_->requests_matching("PATCH /channels/" + std::to_string(kPanelChannel) + "/messages/.*")
                .size(),
            1u);
        // One bulk PUT registered the commands, /admin setup among the admin commands.
        const auto puts = discord_->requests_matching("PUT /applications/.*/commands");
        EXPECT_EQ(puts.size(), 1u);
        EXPECT_NE(puts.front().body.find("\"setup\""), std::string::npos);
    });
}

TEST_F(BotE2E, BuyCreatesPrivateOrderChannel) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        const json plans = co_await click(kCustomer, 0, "panel:buy");
        EXPECT_EQ(plans["data"]["flags"], 64);
        EXPECT_EQ(plans["data"]["components"][0]["components"][0]["custom_id"], "buy_plan");
        EXPECT_NE(text_of(plans).find("Monthly 50 GB"), std::string::npos);
        EXPECT_NE(text_of(plans).find("150 EGP"), std::string::npos);

        co_await click(kCustomer, 0, "buy_plan", std::to_string(plan_id_));
        const auto created = discord_->requests_matching("POST /guilds/.*/channels");
        EXPECT_EQ(created.size(), 1u);
        const json& body = created.front().json;
        EXPECT_EQ(body["name"], "order-000001");
        EXPECT_EQ(body["parent_id"], std::to_string(kCategory));
        bool everyone_denied = false, customer_allowed = false, admins_allowed = false;
        for (const auto& o : body["permission_overwrites"]) {
            const auto id = o["id"].get<std::string>();
            if (id == std::to_string(kGuild))
                everyone_denied = (o["deny"].get<std::uint64_t>() & (1ULL << 10)) != 0;
            if (id == std::to_string(kCustomer))
                customer_allowed = (o["allow"].get<std::uint64_t>() & (1ULL << 10)) != 0;
            if (id == std::to_string(kAdminRole))
                admins_allowed = (o["allow"].get<std::uint64_t>() & (1ULL << 10)) != 0;
        }
        EXPECT_TRUE(everyone_denied && customer_allowed && admins_allowed) << body.dump();
        auto placed = co_await order(1);
        EXPECT_EQ(placed->status, bot::domain::OrderStatus::awaiting_payment);
        CO_ASSERT_TRUE(placed->channel_id);
        const auto summary = messages_in(placed->channel_id->value());
        CO_ASSERT_EQ(summary.size(), 1u);
        EXPECT_NE(text_of(summary.front().json).find("NL-000001"), std::string::npos);
        EXPECT_NE(text_of(summary.front().json).find("pay_method:1"), std::string::npos);

        // A second Buy shows the open order instead of a second one.
        const json again = co_await click(kCustomer, 0, "panel:buy");
        EXPECT_NE(text_of(again).find("already have an open order"), std::string::npos) << again.dump();
    });
}

// Looking costs the shop no write: a newcomer's Buy Access shows the plans without creating their
// users row (choosing a plan does), and a returning customer's Buy Access, My Account and Help
// run no write transaction at all, nor does choosing the language they already have.
TEST_F(BotE2E, ClicksThatOnlyShowSomethingWriteNothing) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        // The scheduler's start-up runs write their job records; let them finish first (a run
        // records its end in job_runs after its stats say done, releasing its lease).
        co_await until([&] {
            for (const auto& job : bot_->scheduler().stats()) {
                if (job.running || (job.schedule.at_start && job.runs == 0)) return false;
            }
            return true;
        });
        asio::steady_timer poll(io_);
        while (co_await ctx().db.run([](bot::db::Connection& c) {
            return c.scalar<std::int64_t>("SELECT COUNT(*) FROM job_runs WHERE holder IS NOT NULL")
                .value_or(0);
        }) > 0) {
            poll.expires_after(5ms);
            co_await poll.async_wait(asio::use_awaitable);
        }
        const bot::domain::DiscordId returning{kCustomer};
        co_await ctx().db.run([&](bot::db::Connection& c) {
            ctx().users.ensure(c, returning, "user-" + returning.str());
            return ctx().users.note_discord_locale(c, returning, "en-US");
        });
        auto writes = [&] { return ctx().db.pool().write_transactions(); };
        auto has_row = [&](std::uint64_t user) -> asio::awaitable<bool> {
            co_return co_await ctx().db.run([&](bot::db::Connection& c) {
                return ctx().users.find(c, bot::domain::DiscordId{user}).has_value();
            });
        };
        const auto before = writes();

        const json plans = co_await click(kStranger, 0, "panel:buy");
        EXPECT_NE(text_of(plans).find("Monthly 50 GB"), std::string::npos) << plans.dump();
        EXPECT_FALSE(co_await has_row(kStranger));
        const json again = co_await click(kCustomer, 0, "panel:buy");
        EXPECT_NE(text_of(again).find("Monthly 50 GB"), std::string::npos) << again.dump();
        const json account = co_await click(kCustomer, 0, "panel:account");
        EXPECT_NE(text_of(account).find("no VPN account"), std::string::npos) << account.dump();
        co_await click(kCustomer, 0, "panel:help");
        co_await click(kCustomer, 0, "language:discord");  // their language follows Discord already
        EXPECT_EQ(writes(), before);
        co_await click(kCustomer, 0, "language:ar");
        const auto chosen = writes();
        EXPECT_GT(chosen, before);
        co_await click(kCustomer, 0, "language:ar");
        EXPECT_EQ(writes(), chosen);

        co_await click(kStranger, 0, "buy_plan", std::to_string(plan_id_));
        EXPECT_TRUE(co_await has_row(kStranger));
        EXPECT_GT(writes(), before);
    });
}

// Select values come from the client and can be forged: only the exact id of a plan counts.
TEST_F(BotE2E, ForgedPlanSelectValuesAreRefusedNotMisread) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        co_await click(kCustomer, 0, "panel:buy");
        const std::string plan = std::to_string(plan_id_);
        const std::vector<std::string> forgeries = {plan + "abc", plan + " ", "99999999999999999999",
                                                    "-" + plan,   "0x1",      " "};
        for (const auto& forged : forgeries) {
            std::string value = forged;
            const json answer = co_await click(kCustomer, 0, "buy_plan", std::move(value));
            EXPECT_NE(text_of(answer).find("This button is out of date"), std::string::npos)
                << forged << ": " << answer.dump();
        }
        EXPECT_TRUE(discord_->requests_matching("POST /guilds/.*/channels").empty());
        const auto placed = co_await order(1);
        EXPECT_FALSE(placed);
    });
}

TEST_F(BotE2E, PaymentMethodSelectionShowsInstructions) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        co_await click(kCustomer, 0, "panel:buy");
        co_await click(kCustomer, 0, "buy_plan", std::to_string(plan_id_));
        const json chosen = co_await click(kCustomer, 0, "pay_method:1", std::to_string(method_id_));
        const std::string text = text_of(chosen);
        EXPECT_NE(text.find("01012345678"), std::string::npos) << text;
        EXPECT_NE(text.find("NL-000001"), std::string::npos);
        EXPECT_NE(text.find("150 EGP"), std::string::npos);
        EXPECT_NE(text.find("order_cancel:1"), std::string::npos);
        // The wallet number alone in its own field: copying it copies nothing else.
        bool alone = false;
        for (const auto& field : chosen["data"]["embeds"][0]["fields"])
            alone = alone || (field["name"] == "Wallet number" && field["value"] == "01012345678");
        EXPECT_TRUE(alone) << text;
        // Somebody else cannot pick for this order, and is told so about choosing, not uploading.
        const json other = co_await click(kStranger, 0, "pay_method:1", std::to_string(method_id_));
        EXPECT_EQ(text_of(other).find("01012345678"), std::string::npos);
        EXPECT_NE(text_of(other).find("choose how to pay"), std::string::npos) << other.dump();
    });
}

TEST_F(BotE2E, ScreenshotUploadTriggersReview) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await post(channel, kCustomer, 0, "hello?", std::nullopt, "");
        EXPECT_NE(text_of(messages_in(channel).back().json).find("confirmation SMS"), std::string::npos);
        // Writing again (to an admin, say) does not bring the same hint back.
        const auto before = messages_in(channel).size();
        co_await post(channel, kCustomer, 0, "is anyone there?", std::nullopt, "");
        co_await post(channel, kCustomer, 0, "I sent it from 0100...", std::nullopt, "");
        EXPECT_EQ(messages_in(channel).size(), before);
        co_await post(channel, kCustomer, 0, "", std::string("not an image"), "application/zip");
        EXPECT_NE(text_of(messages_in(channel).back().json).find("can't use that file as a receipt"),
                  std::string::npos);
        EXPECT_TRUE(messages_in(kReviewChannel).empty());

        co_await pay_and_upload(channel, 'a');
        const auto cards = messages_in(kReviewChannel);
        CO_ASSERT_EQ(cards.size(), 1u);
        EXPECT_EQ(cards.front().files.size(), 1u);
        EXPECT_EQ(cards.front().files.front().data, png_bytes('a'));
        const std::string card = text_of(cards.front().json);
        EXPECT_NE(card.find("NL-000001"), std::string::npos);
        EXPECT_NE(card.find("review:1:approve"), std::string::npos);
        EXPECT_NE(card.find("review:1:claim"), std::string::npos);
        EXPECT_NE(card.find("review:1:decline"), std::string::npos);
        EXPECT_NE(text_of(messages_in(channel).back().json).find("under review"), std::string::npos);
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::under_review);
    });
}

TEST_F(BotE2E, ApprovalCreatesAccountAndCustomerReceivesConfig) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'b');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");

        auto done = co_await order(id);
        EXPECT_EQ(done->status, bot::domain::OrderStatus::fulfilled);
        auto all = co_await accounts();
        EXPECT_EQ(all.size(), 1u);
        auto client = gateway_.panel->client("nl-" + std::to_string(id));
        CO_ASSERT_TRUE(client.has_value());
        EXPECT_EQ((*client)["id"], all.front().client_uuid);

        // The order channel: link in a code block, QR PNG, subscription URL.
        bool delivered = false;
        for (const auto& m : messages_in(channel)) {
            const std::string text = text_of(m.json);
            if (text.find("vless://") == std::string::npos) continue;
            delivered = true;
            EXPECT_NE(text.find("```"), std::string::npos);
            EXPECT_NE(text.find("Subscription URL"), std::string::npos);
            EXPECT_NE(text.find("v2rayNG"), std::string::npos);
            CO_ASSERT_EQ(m.files.size(), 1u);
            EXPECT_EQ(m.files.front().filename, "qr.png");
            EXPECT_EQ(m.files.front().data.substr(1, 3), "PNG");
        }
        EXPECT_TRUE(delivered);
        // By DM too, the billing line, and the Subscriber role.
        EXPECT_EQ(discord_->requests_matching("POST /users/@me/channels").size(), 1u);
        const auto billing = messages_in(kBillingChannel);
        CO_ASSERT_EQ(billing.size(), 1u);
        EXPECT_NE(text_of(billing.front().json).find("NL-000001"), std::string::npos);
        const auto* roles = discord_->member_roles(kGuild, kCustomer);
        CO_ASSERT_NE(roles, nullptr);
        EXPECT_NE(std::find(roles->begin(), roles->end(), kSubscriberRole), roles->end());
        // The channel is archived (read-only for the customer).
        co_await until([&] {
            return !discord_->requests_matching("PATCH /channels/" + std::to_string(channel)).empty();
        });
    });
}

TEST_F(BotE2E, SlashCommandApprovalDeliversLikeTheReviewButton) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'c');
        json option{{"name", "order"},
                    {"type", 3},
                    {"value", "NL-" + std::string(6 - std::to_string(id).size(), '0') + std::to_string(id)}};
        json approve{{"name", "approve"}, {"type", 1}, {"options", json::array({option})}};
        json group{{"name", "order"}, {"type", 2}, {"options", json::array({approve})}};
        json data{
            {"id", "840000000000000001"}, {"name", "admin"}, {"type", 1}, {"options", json::array({group})}};
        co_await interact(2, kAdmin, kAdminRole, std::move(data));

        auto done = co_await order(id);
        EXPECT_EQ(done->status, bot::domain::OrderStatus::fulfilled);
        bool delivered = false;
        for (const auto& m : messages_in(channel)) {
            if (text_of(m.json).find("vless://") == std::string::npos) continue;
            delivered = true;
            CO_ASSERT_EQ(m.files.size(), 1u);
            EXPECT_EQ(m.files.front().filename, "qr.png");
        }
        EXPECT_TRUE(delivered);
        EXPECT_EQ(messages_in(kBillingChannel).size(), 1u);
    });
}

TEST_F(BotE2E, MyAccountShowsTheAccount) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        const json none = co_await click(kCustomer, 0, "panel:account");
        EXPECT_NE(text_of(none).find("no VPN account"), std::string::npos);
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'c');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        const json mine = co_await click(kCustomer, 0, "panel:account");
        EXPECT_EQ(mine["data"]["flags"], 64);
        const std::string text = text_of(mine);
        EXPECT_NE(text.find("Frankfurt-1"), std::string::npos) << text;
        EXPECT_NE(text.find("Active"), std::string::npos);
        EXPECT_NE(text.find("30 days left"), std::string::npos);
        EXPECT_NE(text.find("0 B of 50 GB"), std::string::npos);
        const auto account = (co_await accounts()).front().id.value;
        const json config = co_await click(kCustomer, 0, "acct:" + std::to_string(account) + ":config");
        EXPECT_NE(text_of(config).find("vless://"), std::string::npos);
        const json stolen = co_await click(kStranger, 0, "acct:" + std::to_string(account) + ":config");
        EXPECT_EQ(text_of(stolen).find("vless://"), std::string::npos);
        EXPECT_NE(text_of(stolen).find("not yours"), std::string::npos);
    });
}

TEST_F(BotE2E, RenewalExtendsTheSamePanelClient) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'd');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        const auto before = (co_await accounts()).front();

        const json offer = co_await click(kCustomer, 0, "panel:renew");
        EXPECT_NE(text_of(offer).find("renew_plan:" + std::to_string(before.id.value)), std::string::npos);
        co_await click(kCustomer, 0, "renew_plan:" + std::to_string(before.id.value),
                       {std::to_string(plan_id_)});
        const std::int64_t renewal = co_await latest_order_id();
        auto placed = co_await order(renewal);
        EXPECT_EQ(placed->kind, bot::domain::OrderKind::renewal);
        co_await click(kCustomer, 0, "pay_method:" + std::to_string(renewal), std::to_string(method_id_));
        co_await pay_and_upload(placed->channel_id->value(), 'e');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(renewal) + ":approve");

        const auto after = co_await accounts();
        CO_ASSERT_EQ(after.size(), 1u);
        EXPECT_EQ(after.front().client_uuid, before.client_uuid);
        EXPECT_EQ(after.front().expires_at - before.expires_at, std::chrono::seconds(30 * 86400));
        auto client = gateway_.panel->client(before.client_email);
        EXPECT_EQ((*client)["expiryTime"].get<std::int64_t>(),
                  bot::domain::epoch_seconds(after.front().expires_at) * 1000);
        bool told = false;
        for (const auto& m : messages_in(placed->channel_id->value()))
            told = told || text_of(m.json).find("Renewed!") != std::string::npos;
        EXPECT_TRUE(told);
    });
}

TEST_F(BotE2E, DeclineThenReupload) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'f');
        const json modal = co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":decline");
        EXPECT_EQ(modal["type"], 9);
        co_await submit_decline(kAdmin, id, "amount does not match");
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::declined);
        EXPECT_NE(text_of(messages_in(channel).back().json).find("amount does not match"), std::string::npos);

        co_await pay_and_upload(channel, 'g');
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::under_review);
        EXPECT_EQ(messages_in(kReviewChannel).size(), 2u);
    });
}

TEST_F(BotE2E, CustomerCancels) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        const json stranger = co_await click(kStranger, 0, "order_cancel:" + std::to_string(id));
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::awaiting_payment);
        EXPECT_NE(text_of(stranger).find("can cancel it"), std::string::npos) << stranger.dump();
        const json cancelled = co_await click(kCustomer, 0, "order_cancel:" + std::to_string(id));
        EXPECT_NE(text_of(cancelled).find("is cancelled"), std::string::npos) << cancelled.dump();
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::cancelled);
        co_await post(channel, kCustomer, 0, "", png_bytes('h'), "image/png");
        EXPECT_TRUE(messages_in(kReviewChannel).empty());
        // A new order is possible again.
        co_await click(kCustomer, 0, "panel:buy");
        co_await click(kCustomer, 0, "buy_plan", std::to_string(plan_id_));
        EXPECT_EQ(co_await latest_order_id(), id + 1);
    });
}

TEST_F(BotE2E, NonAdminCannotApprove) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'i');
        const json refused = co_await click(kCustomer, 0, "review:" + std::to_string(id) + ":approve");
        EXPECT_NE(text_of(refused).find("Only admins"), std::string::npos);
        const json modal = co_await click(kCustomer, 0, "review:" + std::to_string(id) + ":decline");
        EXPECT_NE(modal["type"], 9);
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::under_review);
        EXPECT_TRUE((co_await accounts()).empty());
    });
}

TEST_F(BotE2E, DoubleApproveGivesOneAccount) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'j');
        // Two admins at once: both events are in flight together.
        const std::size_t before = bot_->dispatcher().completed();
        const std::array<std::uint64_t, 2> admins{kAdmin, kOtherAdmin};
        const std::string approve_id = "review:" + std::to_string(id) + ":approve";
        for (const auto admin : admins) {
            std::vector<std::uint64_t> roles(1, kAdminRole);
            json data = json::object();
            data["custom_id"] = approve_id;
            data["component_type"] = 2;
            json interaction = discord_->make_interaction(3, admin, std::move(roles), std::move(data));
            discord_->gateway().dispatch("INTERACTION_CREATE", interaction);
        }
        co_await until([&] {
            return bot_->dispatcher().completed() >= before + 2 && bot_->dispatcher().in_flight() == 0;
        });
        const json again = co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        EXPECT_NE(text_of(again).find("already handled"), std::string::npos) << again.dump();
        EXPECT_EQ((co_await accounts()).size(), 1u);
        EXPECT_EQ(messages_in(kBillingChannel).size(), 1u);
    });
}

TEST_F(BotE2E, StaleButtonsGetAPoliteAnswer) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        const json unknown = co_await click(kCustomer, 0, "something:old");
        EXPECT_NE(text_of(unknown).find("out of date"), std::string::npos);
        const json malformed = co_await click(kCustomer, 0, "order_cancel:not-a-number");
        EXPECT_NE(text_of(malformed).find("out of date"), std::string::npos);
        const json gone = co_await click(kAdmin, kAdminRole, "review:999:approve");
        EXPECT_NE(text_of(gone).find("no longer exists"), std::string::npos) << gone.dump();
    });
}

TEST_F(BotE2E, ArabicLocaleRendering) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        const json offered = co_await click(kCustomer, 0, "panel:language");
        EXPECT_NE(text_of(offered).find("language:ar"), std::string::npos) << offered.dump();
        const json switched = co_await click(kCustomer, 0, "language:ar");
        EXPECT_NE(text_of(switched).find("\xd8"), std::string::npos) << switched.dump();  // Arabic letters
        const json plans = co_await click(kCustomer, 0, "panel:buy");
        const std::string text = plans["data"]["content"].get<std::string>();
        EXPECT_EQ(text, bot::ui::tr(bot::ui::Locale::ar, bot::ui::Msg::plan_select_prompt));
        EXPECT_NE(text_of(plans).find("\xe2\x81\xa8"),
                  std::string::npos);  // FIRST STRONG ISOLATE around values
    });
}

TEST_F(BotE2E, GatewayDownDuringApprovalThenReconciled) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'k');
        gateway_.panel->set_down(true);
        const json approve = co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        EXPECT_NE(text_of(approve).find("not created yet"), std::string::npos) << approve.dump();
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::approved);
        EXPECT_NE(text_of(messages_in(channel).back().json).find("being prepared"), std::string::npos);
        EXPECT_TRUE((co_await accounts()).empty());

        gateway_.panel->set_down(false);
        auto report = co_await bot_->reconcile();
        EXPECT_EQ(report.fulfilled, 1);
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);
        EXPECT_EQ((co_await accounts()).size(), 1u);
    });
}

/// Every message posted outside `except` whose body contains `needle`.
std::vector<fakes::discord::RecordedRequest> posts_containing(const fakes::discord::FakeDiscord& fake,
                                                              const std::string& needle,
                                                              std::uint64_t except) {
    std::vector<fakes::discord::RecordedRequest> out;
    const std::string skip = "/channels/" + std::to_string(except) + "/messages";
    for (const auto& r : fake.requests()) {
        if (r.method == "POST" && r.path.ends_with("/messages") && r.path != skip &&
            r.json.dump().find(needle) != std::string::npos)
            out.push_back(r);
    }
    return out;
}

bool any_request_contains(const fakes::discord::FakeDiscord& fake, const std::string& needle) {
    for (const auto& r : fake.requests()) {
        if (r.json.dump().find(needle) != std::string::npos) return true;
    }
    return false;
}

TEST_F(BotE2E, ServerOutageAlertsAdminsOnceAndTheirButtonTellsTheCustomers) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'o');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        CO_ASSERT_EQ((co_await accounts()).size(), 1u);
        auto health = [this]() -> asio::awaitable<void> {
            auto ran = co_await bot_->scheduler().run_now("health");
            EXPECT_TRUE(ran && *ran) << (ran ? (*ran ? **ran : ran->error()) : "refused");
        };
        const auto review_before = messages_in(kReviewChannel).size();

        gateway_.panel->set_down(true);
        co_await health();
        EXPECT_EQ(messages_in(kReviewChannel).size(), review_before) << "one failed check is not an alert";
        co_await health();
        co_await health();
        const auto alerts = messages_in(kReviewChannel);
        CO_ASSERT_EQ(alerts.size(), review_before + 1);
        const json alert = alerts.back().json;
        EXPECT_NE(alert.value("content", "").find("Frankfurt-1"), std::string::npos) << alert.dump();
        const std::string button = alert["components"][0]["components"][0].value("custom_id", "");
        CO_ASSERT_EQ(button.rfind("outage:", 0), 0u);
        EXPECT_TRUE(posts_containing(*discord_, "having a problem", kReviewChannel).empty());

        const json refused = co_await click(kCustomer, 0, button);
        EXPECT_NE(text_of(refused).find("Only admins"), std::string::npos) << refused.dump();
        const json told = co_await click(kAdmin, kAdminRole, button);
        EXPECT_NE(text_of(told).find("1 customer(s)"), std::string::npos) << told.dump();
        const auto outage = posts_containing(*discord_, "having a problem", kReviewChannel);
        CO_ASSERT_EQ(outage.size(), 1u);
        EXPECT_NE(outage.front().json.dump().find("Frankfurt-1"), std::string::npos);
        co_await click(kOtherAdmin, kAdminRole, button);
        EXPECT_EQ(posts_containing(*discord_, "having a problem", kReviewChannel).size(), 1u) << "told once";

        gateway_.panel->set_down(false);
        co_await health();
        co_await health();
        EXPECT_EQ(messages_in(kReviewChannel).size(), review_before + 2) << "back up, once";
        EXPECT_NE(messages_in(kReviewChannel).back().json.value("content", "").find("back up"),
                  std::string::npos);
        EXPECT_EQ(posts_containing(*discord_, "working again", kReviewChannel).size(), 1u);

        // The old alert's button after the outage is over tells no one.
        const json late = co_await click(kAdmin, kAdminRole, button);
        EXPECT_NE(text_of(late).find("not down any more"), std::string::npos) << late.dump();
        EXPECT_EQ(posts_containing(*discord_, "having a problem", kReviewChannel).size(), 1u);
    });
}

TEST_F(BotE2E, OrderChannelDeletedByHandCancelsTheUnpaidOrder) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await by_hand([&] { EXPECT_TRUE(discord_->delete_channel(channel)); });
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::cancelled);

        // The customer is not stuck with an open order: Buy starts a new one in a new channel.
        auto [again, new_channel] = co_await buy_and_choose_method();
        EXPECT_NE(again, id);
        EXPECT_NE(new_channel, channel);
        EXPECT_EQ((co_await order(again))->status, bot::domain::OrderStatus::awaiting_payment);
    });
}

TEST_F(BotE2E, OrderChannelDeletedDuringReviewStillDeliversByDm) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'm');
        co_await by_hand([&] { EXPECT_TRUE(discord_->delete_channel(channel)); });
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::under_review);

        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);
        EXPECT_EQ((co_await accounts()).size(), 1u);
        // The link reached the customer by DM (the only other place a link may go).
        const auto links = posts_containing(*discord_, "vless://", channel);
        CO_ASSERT_EQ(links.size(), 1u);
        EXPECT_NE(links.front().path, "/channels/" + std::to_string(kBillingChannel) + "/messages");
        EXPECT_EQ(messages_in(kBillingChannel).size(), 1u);
    });
}

TEST_F(BotE2E, ClosedDmsStillDeliverInTheOrderChannelAndSaySo) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        discord_->close_dms(kCustomer);
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'n');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);

        bool link = false, note = false;
        for (const auto& m : messages_in(channel)) {
            const std::string text = text_of(m.json);
            link = link || text.find("vless://") != std::string::npos;
            note = note || text.find("your DMs are closed") != std::string::npos;
        }
        EXPECT_TRUE(link);
        EXPECT_TRUE(note);  // written only when the DM was refused
    });
}

TEST_F(BotE2E, CustomerWhoLeftTheServerStillGetsTheirAccountAndTheReviewerIsTold) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'p');
        co_await by_hand([&] { discord_->remove_member(kGuild, kCustomer); });

        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);
        EXPECT_EQ((co_await accounts()).size(), 1u);
        EXPECT_TRUE(any_request_contains(*discord_, "no longer in the server"));
        EXPECT_EQ(messages_in(kBillingChannel).size(), 1u);
        EXPECT_EQ(discord_->member_roles(kGuild, kCustomer), nullptr);  // no role on a non-member

        // Nothing the customer uploaded is lost: the receipt is still on disk.
        auto stored = co_await ctx().db.run([&](bot::db::Connection& c) {
            return c.scalar<std::string>("SELECT file_path FROM receipts WHERE order_id = " +
                                         std::to_string(id));
        });
        CO_ASSERT_TRUE(stored.has_value());
        EXPECT_TRUE(std::filesystem::exists(*stored) || std::filesystem::exists(dir_ / "data" / *stored));
    });
}

TEST_F(BotE2E, NoCapacityOnApprovalKeepsThePaidOrderForTheReconciler) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'q');
        auto& c = ctx();
        auto set_servers = [&](bool enabled) -> asio::awaitable<void> {
            co_await c.db.run([&](bot::db::Connection& connection) {
                for (const auto& server : c.catalog.servers(connection))
                    EXPECT_TRUE(c.catalog
                                    .set_server_enabled(connection, bot::domain::DiscordId{shop::kAdmin},
                                                        server.id, enabled)
                                    .has_value());
            });
        };
        co_await set_servers(false);
        const json approve = co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::approved);
        EXPECT_TRUE(any_request_contains(*discord_, "no VPN server has room"));  // the reviewer sees why
        EXPECT_NE(text_of(messages_in(channel).back().json).find("being prepared"), std::string::npos);
        EXPECT_TRUE((co_await accounts()).empty());

        co_await set_servers(true);
        auto report = co_await bot_->reconcile();
        EXPECT_EQ(report.fulfilled, 1);
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);
        EXPECT_EQ((co_await accounts()).size(), 1u);
    });
}

// ---- PDF receipts ----

std::string pdf_bytes(char salt) { return "%PDF-1.7\n%" + std::string(64, salt) + "\n%%EOF\n"; }

TEST_F(BotE2E, PdfReceiptGoesToReviewWithTheFileAndItsReuseIsFlagged) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        // Something that calls itself a PDF but is not one is refused, and nothing is reviewed.
        co_await post(channel, kCustomer, 0, "", std::string("<html>not a receipt</html>"),
                      "application/pdf");
        EXPECT_NE(text_of(messages_in(channel).back().json).find("can't use that file as a receipt"),
                  std::string::npos);
        EXPECT_TRUE(messages_in(kReviewChannel).empty());
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::awaiting_payment);

        co_await post(channel, kCustomer, 0, "", pdf_bytes('a'), "application/pdf");
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::under_review);
        auto cards = messages_in(kReviewChannel);
        CO_ASSERT_EQ(cards.size(), 1u);
        CO_ASSERT_EQ(cards.front().files.size(), 1u);
        EXPECT_EQ(cards.front().files.front().content_type, "application/pdf");
        EXPECT_EQ(cards.front().files.front().filename, "receipt-NL-000001.pdf");
        EXPECT_EQ(cards.front().files.front().data, pdf_bytes('a'));
        EXPECT_NE(text_of(messages_in(channel).back().json).find("under review"), std::string::npos);

        // The same PDF on the next order: the card warns of it, as for a re-used screenshot.
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        auto [second, second_channel] = co_await buy_and_choose_method();
        co_await post(second_channel, kCustomer, 0, "", pdf_bytes('a'), "application/pdf");
        EXPECT_EQ((co_await order(second))->status, bot::domain::OrderStatus::under_review);
        cards = messages_in(kReviewChannel);
        CO_ASSERT_EQ(cards.size(), 2u);
        EXPECT_NE(text_of(cards.back().json).find("already used for NL-000001"), std::string::npos)
            << text_of(cards.back().json);
    });
}

// ---- notices when DMs are closed ----

/// Answered messages (a refused DM is not one) whose body contains `needle`.
std::vector<fakes::discord::RecordedRequest> delivered_containing(const fakes::discord::FakeDiscord& fake,
                                                                  const std::string& needle) {
    std::vector<fakes::discord::RecordedRequest> out;
    for (const auto& r : fake.requests()) {
        if (r.method == "POST" && r.path.ends_with("/messages") && r.status == 200 &&
            r.json.dump().find(needle) != std::string::npos)
            out.push_back(r);
    }
    return out;
}

/// Answered messages posted in `channel`.
std::vector<fakes::discord::RecordedRequest> posted_in(const fakes::discord::FakeDiscord& fake,
                                                       const std::string& channel) {
    std::vector<fakes::discord::RecordedRequest> out;
    for (const auto& r : fake.requests()) {
        if (r.method == "POST" && r.path == "/channels/" + channel + "/messages" && r.status == 200)
            out.push_back(r);
    }
    return out;
}

// ---- the customer's language ----

/// Every text of a message that a person reads: its content, embeds, buttons and selects (an
/// interaction callback's `data` or a posted message).
std::vector<std::string> texts_of(const json& message) {
    const json& m = message.contains("data") && message["data"].is_object() ? message["data"] : message;
    std::vector<std::string> out;
    auto add = [&](const json& object, const char* key) {
        if (object.is_object() && object.contains(key) && object[key].is_string())
            out.push_back(object[key].get<std::string>());
    };
    add(m, "content");
    if (m.contains("embeds")) {
        for (const auto& embed : m["embeds"]) {
            add(embed, "title");
            add(embed, "description");
            if (embed.contains("footer")) add(embed["footer"], "text");
            if (embed.contains("fields")) {
                for (const auto& field : embed["fields"]) {
                    add(field, "name");
                    add(field, "value");
                }
            }
        }
    }
    if (m.contains("components")) {
        for (const auto& row : m["components"]) {
            if (!row.contains("components")) continue;
            for (const auto& component : row["components"]) {
                add(component, "label");
                add(component, "placeholder");
                if (component.contains("options")) {
                    for (const auto& option : component["options"]) {
                        add(option, "label");
                        add(option, "description");
                    }
                }
            }
        }
    }
    return out;
}

bool has_arabic(std::string_view text) {
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0xD8 && byte <= 0xDB) return true;
    }
    return false;
}

/// `text` without what may stay Latin in Arabic: isolated values and words (U+2066..U+2069),
/// code, mentions, links, and the `names` given (names admins typed).
std::string outside_names_and_code(std::string text, const std::vector<std::string>& names) {
    for (const auto& name : names) {
        for (auto at = text.find(name); !name.empty() && at != std::string::npos; at = text.find(name))
            text.erase(at, name.size());
    }
    std::string out;
    int isolates = 0;
    for (std::size_t i = 0; i < text.size();) {
        const std::string_view rest(text.data() + i, text.size() - i);
        if (rest.starts_with("```")) {
            const auto end = text.find("```", i + 3);
            i = end == std::string::npos ? text.size() : end + 3;
        } else if (rest.starts_with("`")) {
            const auto end = text.find('`', i + 1);
            i = end == std::string::npos ? text.size() : end + 1;
        } else if (rest.starts_with("\u2066") || rest.starts_with("\u2067") || rest.starts_with("\u2068")) {
            ++isolates;
            i += 3;
        } else if (rest.starts_with("\u2069")) {
            --isolates;
            i += 3;
        } else if (isolates > 0) {
            ++i;
        } else if (rest.starts_with("<@") || rest.starts_with("<#")) {
            const auto end = text.find('>', i);
            i = end == std::string::npos ? text.size() : end + 1;
        } else if (rest.starts_with("http://") || rest.starts_with("https://") ||
                   rest.starts_with("vless://")) {
            while (i < text.size() && text[i] != ' ' && text[i] != '\n') ++i;
        } else {
            out += text[i++];
        }
    }
    return out;
}

/// The Latin words in `text` outside isolates, code, mentions, links and `names`.
std::vector<std::string> english_words(const std::string& text, const std::vector<std::string>& names) {
    std::vector<std::string> words;
    std::string word;
    for (char c : outside_names_and_code(text, names) + " ") {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            word += c;
        } else if (!word.empty()) {
            words.push_back(word);
            word.clear();
        }
    }
    return words;
}

/// Fails the test unless the message reads as Arabic: some Arabic text, and no English word
/// outside the values that keep their own script.
void expect_arabic(const json& message, const std::vector<std::string>& names, const std::string& where) {
    std::string all;
    for (const auto& text : texts_of(message)) all += text + "\n";
    EXPECT_TRUE(has_arabic(all)) << where << ": no Arabic in " << message.dump();
    const auto words = english_words(all, names);
    EXPECT_TRUE(words.empty()) << where << ": English word '" << (words.empty() ? "" : words.front())
                               << "' in " << message.dump();
}

void expect_english(const json& message, const std::string& where) {
    std::string all;
    for (const auto& text : texts_of(message)) all += text + "\n";
    EXPECT_FALSE(has_arabic(all)) << where << ": Arabic in " << message.dump();
}

/// Messages the customer was sent in their DMs (every DM channel the bot opened).
std::vector<fakes::discord::RecordedRequest> direct_messages(const fakes::discord::FakeDiscord& fake) {
    std::vector<std::string> channels;
    for (const auto& r : fake.requests()) {
        if (r.method != "POST" || r.path != "/users/@me/channels") continue;
        const auto answer = json::parse(r.response_body, nullptr, false);
        if (answer.is_object() && answer.contains("id"))
            channels.push_back("/channels/" + answer["id"].get<std::string>() + "/messages");
    }
    std::vector<fakes::discord::RecordedRequest> out;
    for (const auto& r : fake.requests()) {
        if (r.method == "POST" && std::find(channels.begin(), channels.end(), r.path) != channels.end())
            out.push_back(r);
    }
    return out;
}

TEST_F(BotE2E, ClosedDmsPutTrafficAlertsWhereOnlyTheCustomerAndAdminsCanRead) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'r');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        const auto all = co_await accounts();
        CO_ASSERT_EQ(all.size(), 1u);
        const std::string email = all.front().client_email;
        discord_->close_dms(kCustomer);
        auto traffic = [this]() -> asio::awaitable<void> {
            auto ran = co_await bot_->scheduler().run_now("traffic");
            EXPECT_TRUE(ran && *ran) << (ran ? (*ran ? **ran : ran->error()) : "refused");
        };
        const std::string customer = "<@" + std::to_string(kCustomer) + ">";
        const auto channels_before = discord_->requests_matching("POST /guilds/.*/channels").size();

        // 81 % of 50 GB: the DM is refused (50007), the order channel still exists: it goes there.
        gateway_.panel->add_traffic(email, 1LL << 30, 40LL << 30);
        co_await traffic();
        const auto refused = discord_->requests_matching("POST /channels/[0-9]+/messages");
        bool dm_refused = false;
        for (const auto& r : refused)
            dm_refused = dm_refused || r.response_body.find("50007") != std::string::npos;
        EXPECT_TRUE(dm_refused);
        auto alert = delivered_containing(*discord_, "of your traffic");
        CO_ASSERT_EQ(alert.size(), 1u);
        EXPECT_EQ(alert.front().path, "/channels/" + std::to_string(channel) + "/messages");
        EXPECT_NE(alert.front().json.value("content", "").find(customer), std::string::npos);
        EXPECT_EQ(discord_->requests_matching("POST /guilds/.*/channels").size(), channels_before);

        // The order channel is deleted: a private channel is made for the customer's notices.
        co_await by_hand([&] { EXPECT_TRUE(discord_->delete_channel(channel)); });
        gateway_.panel->add_traffic(email, 0, 7LL << 30);  // 96 %
        co_await traffic();
        const auto created = discord_->requests_matching("POST /guilds/.*/channels");
        CO_ASSERT_EQ(created.size(), channels_before + 1);
        const json made = json::parse(created.back().response_body);
        const std::string notices = made.value("id", "");
        EXPECT_EQ(made.value("parent_id", ""), std::to_string(kCategory));
        bool everyone_denied = false, customer_allowed = false, admins_allowed = false;
        // Permission bit sets go out as numbers (docs/discord-client.md); Discord also takes strings.
        auto bits = [](const json& value) -> std::uint64_t {
            if (value.is_string()) return std::stoull(value.get<std::string>());
            return value.is_number_unsigned() ? value.get<std::uint64_t>() : 0;
        };
        for (const auto& o : made["permission_overwrites"]) {
            const auto allow = bits(o.value("allow", json(0)));
            const auto deny = bits(o.value("deny", json(0)));
            const std::string who = o.value("id", "");
            everyone_denied = everyone_denied || (who == std::to_string(kGuild) && (deny & 1024) != 0);
            customer_allowed = customer_allowed || (who == std::to_string(kCustomer) &&
                                                    o.value("type", -1) == 1 && (allow & 1024) != 0);
            admins_allowed = admins_allowed || (who == std::to_string(kAdminRole) &&
                                                o.value("type", -1) == 0 && (allow & 1024) != 0);
        }
        EXPECT_TRUE(everyone_denied && customer_allowed && admins_allowed) << made.dump();
        const auto in_private = posted_in(*discord_, notices);
        CO_ASSERT_EQ(in_private.size(), 1u);
        const std::string text = in_private.front().json.value("content", "");
        EXPECT_NE(text.find("95%"), std::string::npos) << text;
        EXPECT_NE(text.find("Frankfurt-1"), std::string::npos) << text;
        EXPECT_NE(text.find(customer), std::string::npos) << text;

        // The public channel carries only a mention asking them to open it: no usage, no server.
        const auto pointers = posted_in(*discord_, std::to_string(kPanelChannel));
        CO_ASSERT_EQ(pointers.size(), 1u);
        const std::string pointer = pointers.front().json.value("content", "");
        EXPECT_NE(pointer.find(customer), std::string::npos) << pointer;
        EXPECT_NE(pointer.find("<#" + notices + ">"), std::string::npos) << pointer;
        for (const std::string secret : {"GB", "%", "Frankfurt", "traffic", "Renew"})
            EXPECT_EQ(pointer.find(secret), std::string::npos) << pointer;
        EXPECT_EQ(pointers.front().json.dump().find("acct:"), std::string::npos) << "no Renew button";
        const auto alerts = delivered_containing(*discord_, "of your traffic");
        CO_ASSERT_EQ(alerts.size(), 2u);
        EXPECT_EQ(alerts.back().path, "/channels/" + notices + "/messages")
            << "both alerts in private places";

        // Used up: the next notice goes to the same private channel, no new channel, no new pointer.
        gateway_.panel->add_traffic(email, 0, 3LL << 30);
        co_await traffic();
        EXPECT_EQ(discord_->requests_matching("POST /guilds/.*/channels").size(), channels_before + 1);
        EXPECT_EQ(posted_in(*discord_, notices).size(), 2u);
        EXPECT_EQ(posted_in(*discord_, std::to_string(kPanelChannel)).size(), 1u);
    });
}

// ---- My Account reads today's usage ----

asio::awaitable<void> age_usage(bot::core::BotContext& c, std::chrono::minutes by) {
    co_await c.db.run([&](bot::db::Connection& connection) {
        const auto old = bot::domain::to_timestamp(c.clock.now()) - by;
        connection.exec("UPDATE vpn_accounts SET traffic_synced_at = ?", old);
    });
}

TEST_F(BotE2E, MyAccountShowsTheUsageOnThePanelAtOnce) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 's');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        const std::string email = (co_await accounts()).front().client_email;
        // The traffic job last ran 10 minutes ago; since then the customer used 3 GB.
        gateway_.panel->add_traffic(email, 1LL << 30, 2LL << 30);
        co_await age_usage(ctx(), 10min);
        std::string text = text_of(co_await click(kCustomer, 0, "panel:account"));
        EXPECT_NE(text.find("3 GB of 50 GB"), std::string::npos) << text;
        EXPECT_EQ(text.find("as of"), std::string::npos) << text;
        EXPECT_EQ((co_await accounts()).front().used_down_bytes, 2LL << 30);

        // Read a moment ago: shown as stored, without asking the gateway again.
        gateway_.panel->add_traffic(email, 0, 1LL << 30);
        text = text_of(co_await click(kCustomer, 0, "panel:account"));
        EXPECT_NE(text.find("3 GB of 50 GB"), std::string::npos) << text;
        EXPECT_EQ(text.find("as of"), std::string::npos) << text;
    });
}

TEST_F(BotE2E, MyAccountShowsTheStoredUsageAsOfItsTimeWhenTheGatewayFails) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 't');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        const std::string email = (co_await accounts()).front().client_email;
        gateway_.panel->add_traffic(email, 1LL << 30, 1LL << 30);
        co_await age_usage(ctx(), 10min);
        CO_ASSERT_NE((co_await click(kCustomer, 0, "panel:account")).dump().find("2 GB of 50 GB"),
                     std::string::npos);

        co_await age_usage(ctx(), 7h);
        const auto as_of = bot::ui::format_date_time(
            bot::ui::Locale::en, (co_await accounts()).front().traffic_synced_at.value(), ctx().zone);
        gateway_.panel->add_traffic(email, 0, 5LL << 30);
        gateway_.panel->set_down(true);  // the gateway answers, its panel does not
        const std::string text = text_of(co_await click(kCustomer, 0, "panel:account"));
        EXPECT_NE(text.find("2 GB of 50 GB (as of " + as_of + ")"), std::string::npos) << text;
        gateway_.panel->set_down(false);
    });
}

/// Discord over HTTPS, as in production: the fake offers HTTP/2 and the bot takes it.
class BotE2EOverHttp2 : public BotE2E {
  protected:
    BotE2EOverHttp2() { discord_cert_ = std::make_unique<nebula::testing::TlsCert>(); }
};

TEST_F(BotE2EOverHttp2, CustomerBuysUploadsAReceiptAndIsDeliveredOverHttp2) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'h');
        const auto cards = messages_in(kReviewChannel);
        CO_ASSERT_EQ(cards.size(), 1u);
        CO_ASSERT_EQ(cards.front().files.size(), 1u);  // the receipt, re-uploaded as multipart
        EXPECT_EQ(cards.front().files.front().data, png_bytes('h'));
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);
        bool delivered = false;
        for (const auto& m : messages_in(channel)) {
            if (text_of(m.json).find("vless://") == std::string::npos) continue;
            delivered = true;
            CO_ASSERT_EQ(m.files.size(), 1u);
            EXPECT_EQ(m.files.front().filename, "qr.png");
        }
        EXPECT_TRUE(delivered);
    });
    // Every REST call went as an HTTP/2 stream, on a handful of connections.
    const auto h2 = discord_->http2_stats();
    EXPECT_GE(h2.connections, 1u);
    EXPECT_EQ(h2.connections, discord_->connections_accepted());
    EXPECT_LE(h2.connections, 4u);
    EXPECT_GE(h2.streams, discord_->requests().size());  // the REST calls, and the receipt's download
    const auto transport = ctx().rest.stats().transport;
    EXPECT_EQ(transport.h2_streams, h2.streams);
}

class BotE2ESlowGateway : public BotE2E {
  protected:
    BotE2ESlowGateway() { usage_refresh_wait_ = 50ms; }
};

TEST_F(BotE2ESlowGateway, MyAccountDoesNotWaitForASlowGateway) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'u');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        const auto account = (co_await accounts()).front();
        co_await age_usage(ctx(), 2h);
        const auto as_of = bot::ui::format_date_time(
            bot::ui::Locale::en, (co_await accounts()).front().traffic_synced_at.value(), ctx().zone);
        gateway_.panel->add_traffic(account.client_email, 0, 4LL << 30);
        // The panel takes 5 s, so the gateway gives up on it after its own 2 s deadline: the
        // refresh cannot end before My Account's 50 ms wait does.
        gateway_.panel->set_delay(5s);
        const std::string text = text_of(co_await click(kCustomer, 0, "panel:account"));
        EXPECT_NE(text.find("0 B of 50 GB (as of " + as_of + ")"), std::string::npos) << text;
        const std::string refresh = "refreshing the usage of account " + std::to_string(account.id.value);
        EXPECT_TRUE(ctx().background.running(refresh)) << "answered while the refresh was still running";
        gateway_.panel->set_delay(0ms);
        co_await until([&] { return !ctx().background.running(refresh); });
    });
}

// The bot stopped after inserting the order and after Discord created its
// channel, before storing it. The customer's Buy Access finds that channel by its topic, posts
// the summary there and answers with a link and a Cancel button; Cancel ends the order.
TEST_F(BotE2E, BuyAccessAfterABotStoppedMidOrderFinishesTheChannelAndOffersCancel) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto& c = ctx();
        // What the stopped bot had done: the order row (an hour ago), then the channel.
        const auto id = co_await c.db.run([&](bot::db::Connection& connection) {
            const auto user = c.users.ensure(connection, bot::domain::DiscordId{kCustomer}, "customer");
            auto placed = c.orders.place(connection, user.id, bot::domain::PlanId{plan_id_});
            connection.exec("UPDATE orders SET channel_attempt_at = channel_attempt_at - 3600 WHERE id = ?",
                            placed->order.id);
            return placed->order.id.value;
        });
        const std::uint64_t left_behind = 820000000000000777ULL;
        discord_->add_channel({{"id", std::to_string(left_behind)},
                               {"guild_id", std::to_string(kGuild)},
                               {"type", 0},
                               {"name", "order-000001"},
                               {"parent_id", std::to_string(kCategory)},
                               {"topic", "NL-000001"}});

        const json answer = co_await click(kCustomer, 0, "panel:buy");
        EXPECT_NE(text_of(answer).find("already have an open order"), std::string::npos) << answer.dump();
        EXPECT_NE(text_of(answer).find("<#" + std::to_string(left_behind) + ">"), std::string::npos)
            << answer.dump();
        EXPECT_NE(text_of(answer).find("order_cancel:" + std::to_string(id)), std::string::npos)
            << answer.dump();
        EXPECT_TRUE(discord_->requests_matching("POST /guilds/.*/channels").empty()) << "no second channel";
        const auto summary = messages_in(left_behind);
        CO_ASSERT_EQ(summary.size(), 1u);
        EXPECT_NE(text_of(summary[0].json).find("pay_method:" + std::to_string(id)), std::string::npos);
        EXPECT_EQ((co_await order(id))->channel_id, bot::domain::DiscordId{left_behind});

        const json cancelled = co_await click(kCustomer, 0, "order_cancel:" + std::to_string(id));
        EXPECT_NE(text_of(cancelled).find("is cancelled"), std::string::npos) << cancelled.dump();
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::cancelled);
        co_await until([&] {
            return !discord_->requests_matching("PATCH /channels/" + std::to_string(left_behind)).empty();
        });
        const json fresh = co_await click(kCustomer, 0, "panel:buy");
        EXPECT_NE(text_of(fresh).find("buy_plan"), std::string::npos) << fresh.dump();
    });
}

// The summary (with the Cancel button) did not reach Discord: Buy Access still answers with the
// channel and a Cancel button, and the reconciler leaves the cancelled order's channel to its closer.
TEST_F(BotE2E, SummaryLostToDiscordStillLeavesTheCustomerACancelButton) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        discord_->script("POST /channels/[0-9]+/messages",
                         {403, {}, R"({"code": 50013, "message": "Missing Permissions"})", false});
        co_await click(kCustomer, 0, "panel:buy");
        co_await click(kCustomer, 0, "buy_plan", std::to_string(plan_id_));
        const auto id = co_await latest_order_id();
        auto placed = co_await order(id);
        CO_ASSERT_TRUE(placed && placed->channel_id);
        EXPECT_FALSE(placed->channel_ready_at);
        const std::uint64_t channel = placed->channel_id->value();
        EXPECT_EQ(discord_->message_count(channel), 0u);

        const json answer = co_await click(kCustomer, 0, "panel:buy");
        EXPECT_NE(text_of(answer).find("<#" + placed->channel_id->str() + ">"), std::string::npos)
            << answer.dump();
        EXPECT_NE(text_of(answer).find("order_cancel:" + std::to_string(id)), std::string::npos)
            << answer.dump();
        co_await click(kCustomer, 0, "order_cancel:" + std::to_string(id));
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::cancelled);

        const auto repaired = co_await bot::notify::repair_order_channels(ctx());
        EXPECT_EQ(repaired.orphans_deleted, 0) << "its closer archives and deletes it";
        EXPECT_TRUE((co_await order(id))->channel_ready_at);
        co_await until([&] {
            return !discord_->requests_matching("PATCH /channels/" + placed->channel_id->str()).empty();
        });
    });
}

TEST_F(BotE2E, CustomerCanCancelUnderReviewAndAfterADeclineButNotAfterApproval) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        // Under review: the thanks message carries Cancel; the admins' card says so.
        auto [first, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'p');
        const std::string cancel_first = "order_cancel:" + std::to_string(first);
        EXPECT_NE(text_of(messages_in(channel).back().json).find(cancel_first), std::string::npos);
        co_await click(kCustomer, 0, cancel_first);
        EXPECT_EQ((co_await order(first))->status, bot::domain::OrderStatus::cancelled);
        co_await until([&] { return any_request_contains(*discord_, "Cancelled by the customer"); });
        const json late = co_await click(kAdmin, kAdminRole, "review:" + std::to_string(first) + ":approve");
        EXPECT_NE(text_of(late).find("already handled"), std::string::npos) << late.dump();
        EXPECT_TRUE((co_await accounts()).empty());

        // Declined: the decline notice carries Cancel.
        auto [second, channel2] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel2, 'q');
        co_await submit_decline(kAdmin, second, "blurry screenshot");
        const std::string cancel_second = "order_cancel:" + std::to_string(second);
        EXPECT_NE(text_of(messages_in(channel2).back().json).find(cancel_second), std::string::npos);
        co_await click(kCustomer, 0, cancel_second);
        EXPECT_EQ((co_await order(second))->status, bot::domain::OrderStatus::cancelled);

        // Approved: refused, with the reason.
        auto [third, channel3] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel3, 'r');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(third) + ":approve");
        const json refused = co_await click(kCustomer, 0, "order_cancel:" + std::to_string(third));
        EXPECT_NE(text_of(refused).find("can no longer be cancelled"), std::string::npos) << refused.dump();
        EXPECT_EQ((co_await order(third))->status, bot::domain::OrderStatus::fulfilled);
    });
}

TEST_F(BotE2E, NewArabicCustomerSeesArabicFromBuyToDelivery) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        locales_[kCustomer] = "ar";
        // Names an admin typed (plan, server) and the wallet number keep their script.
        const std::vector<std::string> names{"Monthly 50 GB", "Frankfurt-1", "Germany", "GB"};
        std::vector<std::pair<std::string, json>> seen;
        seen.emplace_back("plans", co_await click(kCustomer, 0, "panel:buy"));
        seen.emplace_back("order placed", co_await click(kCustomer, 0, "buy_plan", std::to_string(plan_id_)));
        const std::int64_t id = co_await latest_order_id();
        const auto placed = co_await order(id);
        CO_ASSERT_TRUE(placed && placed->channel_id);
        const std::uint64_t channel = placed->channel_id->value();
        seen.emplace_back(
            "payment instructions",
            co_await click(kCustomer, 0, "pay_method:" + std::to_string(id), std::to_string(method_id_)));
        co_await post(channel, kCustomer, 0, "", png_bytes('r'), "image/png");
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::under_review);
        const json approved = co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        expect_english(approved, "the admin's own answer");
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);
        seen.emplace_back("my account", co_await click(kCustomer, 0, "panel:account"));

        for (const auto& [where, message] : seen) expect_arabic(message, names, where);
        const auto in_channel = messages_in(channel);
        EXPECT_GE(in_channel.size(), 4u);  // summary, under review, delivery, DM note
        bool delivery = false;
        for (const auto& m : in_channel) {
            expect_arabic(m.json, names, "order channel");
            delivery = delivery || text_of(m.json).find("vless://") != std::string::npos;
        }
        EXPECT_TRUE(delivery);
        const auto dms = direct_messages(*discord_);
        CO_ASSERT_EQ(dms.size(), 1u);
        EXPECT_NE(text_of(dms.front().json).find("vless://"), std::string::npos);
        expect_arabic(dms.front().json, names, "DM");
        // The stored row: no choice made, the Discord locale remembered.
        auto user = co_await ctx().db.run(
            [&](bot::db::Connection& c) { return ctx().users.find(c, bot::domain::DiscordId{kCustomer}); });
        CO_ASSERT_TRUE(user.has_value());
        EXPECT_FALSE(user->locale_choice.has_value());
        EXPECT_EQ(user->last_locale, "ar");
    });
}

TEST_F(BotE2E, LanguageFollowsTheCustomerSwitchingDiscordMidway) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        const json plans = co_await click(kCustomer, 0, "panel:buy");
        expect_english(plans, "plans in English");
        co_await click(kCustomer, 0, "buy_plan", std::to_string(plan_id_));
        const std::int64_t id = co_await latest_order_id();
        const std::uint64_t channel =
            (co_await order(id))->channel_id.value_or(bot::domain::DiscordId{}).value();
        expect_english(messages_in(channel).front().json, "summary in English");

        locales_[kCustomer] = "ar";  // they switch Discord to Arabic
        const json instructions =
            co_await click(kCustomer, 0, "pay_method:" + std::to_string(id), std::to_string(method_id_));
        expect_arabic(instructions, {"Monthly 50 GB"}, "payment instructions");
        co_await post(channel, kCustomer, 0, "", png_bytes('s'), "image/png");
        expect_arabic(messages_in(channel).back().json, {}, "under review, written after the last click");

        locales_[kCustomer] = "en-GB";  // and back
        const json account = co_await click(kCustomer, 0, "panel:account");
        expect_english(account, "My Account in English");
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        for (const auto& dm : direct_messages(*discord_)) expect_english(dm.json, "DM after switching back");
    });
}

TEST_F(BotE2E, ExplicitLanguageChoiceStaysUntilTheCustomerFollowsDiscordAgain) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        locales_[kCustomer] = "ar";
        const json offered = co_await click(kCustomer, 0, "panel:language");
        const std::string offer = text_of(offered);
        for (const char* id : {"language:ar", "language:en", "language:discord"})
            EXPECT_NE(offer.find(id), std::string::npos) << offer;
        EXPECT_NE(offer.find("Which language"), std::string::npos) << "asked in both languages: " << offer;
        EXPECT_TRUE(has_arabic(offered["data"].value("content", "")));

        const json english = co_await click(kCustomer, 0, "language:en");
        EXPECT_EQ(english["type"], 7) << "the choice replaces the question: " << english.dump();
        expect_english(english, "confirmation");
        const json plans = co_await click(kCustomer, 0, "panel:buy");
        expect_english(plans, "English chosen, Discord still Arabic");
        co_await click(kCustomer, 0, "buy_plan", std::to_string(plan_id_));
        const std::int64_t id = co_await latest_order_id();
        const std::uint64_t channel =
            (co_await order(id))->channel_id.value_or(bot::domain::DiscordId{}).value();
        co_await post(channel, kCustomer, 0, "", png_bytes('t'), "image/png");  // before choosing a method
        expect_english(messages_in(channel).back().json, "a message outside an interaction");

        const json following = co_await click(kCustomer, 0, "language:discord");
        expect_arabic(following, {}, "following Discord again");
        const json account = co_await click(kCustomer, 0, "panel:account");
        expect_arabic(account, {}, "My Account after following Discord");
        co_await post(channel, kCustomer, 0, "", png_bytes('u'), "image/png");
        expect_arabic(messages_in(channel).back().json, {}, "order channel after following Discord");

        const json arabic = co_await click(kCustomer, 0, "language:ar");
        expect_arabic(arabic, {}, "Arabic chosen");
        locales_[kCustomer] = "en-US";
        expect_arabic(co_await click(kCustomer, 0, "panel:account"), {}, "Arabic chosen, Discord English");
        expect_arabic(co_await click(kCustomer, 0, "language:fr"), {}, "an unknown choice");
    });
}

/// Fails the test unless every Arabic line a person reads outside code has its direction fixed
/// (RIGHT-TO-LEFT MARK at both ends), a leading mention is isolated on its own line, and no code
/// block holds anything invisible.
void expect_right_to_left(const json& message, const std::string& where) {
    const json& m = message.contains("data") && message["data"].is_object() ? message["data"] : message;
    std::vector<std::string> texts;
    if (m.contains("content") && m["content"].is_string()) texts.push_back(m["content"]);
    if (m.contains("embeds")) {
        for (const auto& embed : m["embeds"]) {
            for (const char* key : {"title", "description"})
                if (embed.contains(key)) texts.push_back(embed[key]);
            if (embed.contains("footer")) texts.push_back(embed["footer"]["text"]);
            if (embed.contains("fields")) {
                for (const auto& field : embed["fields"]) {
                    texts.push_back(field["name"]);
                    texts.push_back(field["value"]);
                }
            }
        }
    }
    const std::string rlm = "\u200F";
    for (const auto& text : texts) {
        if (text.starts_with("<@") || text.starts_with("\u2068<@")) {
            const auto first = text.substr(0, text.find('\n'));
            EXPECT_TRUE(first.starts_with("\u2068<@") && first.ends_with(">\u2069"))
                << where << ": a leading mention is isolated on its own line: " << text;
        }
        bool in_block = false;
        std::size_t start = 0;
        while (start <= text.size()) {
            const std::size_t end = std::min(text.find('\n', start), text.size());
            const std::string line = text.substr(start, end - start);
            std::size_t fences = 0;
            for (auto at = line.find("```"); at != std::string::npos; at = line.find("```", at + 3)) ++fences;
            if (in_block) {
                EXPECT_EQ(line.find(rlm), std::string::npos) << where << ": invisible mark in code: " << line;
                EXPECT_EQ(line.find("\u2068"), std::string::npos) << where << ": isolate in code: " << line;
            } else if (has_arabic(line)) {
                EXPECT_TRUE(line.starts_with(rlm)) << where << ": no mark at the start of: " << line;
                if (fences == 0) {
                    EXPECT_TRUE(line.ends_with(rlm)) << where << ": no mark at the end of: " << line;
                }
            }
            if (fences % 2 == 1) in_block = !in_block;
            if (end == text.size()) break;
            start = end + 1;
        }
    }
}

// Every message the customer flow shows an Arabic customer, from Help to a declined payment, a
// new screenshot, delivery, My Account and renewal: Arabic only (names typed by admins for the
// VPN server, app names, links and references excepted), direction fixed line by line, isolated
// values, the wallet number alone in its field, "150 جنيه", the plan's Arabic name.
TEST_F(BotE2E, EveryArabicMessageOfTheCustomerFlowIsWrittenForArabicReaders) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto& c = ctx();
        co_await c.db.run([&](bot::db::Connection& connection) {
            auto plan = c.catalog.plan(connection, bot::domain::PlanId{plan_id_});
            auto spec = plan->spec;
            spec.name_ar = "الباقة الشهرية";
            EXPECT_TRUE(
                c.catalog.update_plan(connection, bot::domain::DiscordId{shop::kAdmin}, plan->id, spec)
                    .has_value());
        });
        locales_[kCustomer] = "ar";
        // Names an admin typed for the VPN server, and size units, keep their script.
        const std::vector<std::string> names{"Frankfurt-1", "Germany", "GB"};
        std::vector<std::pair<std::string, json>> seen;
        auto saw = [&](std::string where, json message) {
            seen.emplace_back(std::move(where), std::move(message));
        };
        saw("help", co_await click(kCustomer, 0, "panel:help"));
        const json plans = co_await click(kCustomer, 0, "panel:buy");
        EXPECT_NE(text_of(plans).find("الباقة الشهرية"), std::string::npos) << plans.dump();
        EXPECT_NE(text_of(plans).find("150 جنيه"), std::string::npos) << plans.dump();
        saw("plans", plans);
        saw("order placed", co_await click(kCustomer, 0, "buy_plan", std::to_string(plan_id_)));
        const std::int64_t id = co_await latest_order_id();
        const std::uint64_t channel =
            (co_await order(id))->channel_id.value_or(bot::domain::DiscordId{}).value();
        const json instructions =
            co_await click(kCustomer, 0, "pay_method:" + std::to_string(id), std::to_string(method_id_));
        bool wallet_alone = false;
        for (const auto& field : instructions["data"]["embeds"][0]["fields"])
            wallet_alone = wallet_alone || field["value"] == "01012345678";
        EXPECT_TRUE(wallet_alone) << instructions.dump();
        saw("payment instructions", instructions);
        co_await post(channel, kCustomer, 0, "مرحبا", std::nullopt, "");
        co_await post(channel, kCustomer, 0, "", png_bytes('v'), "image/png");

        // The admin declines with a ready-made reason: the customer reads it in Arabic.
        json data{
            {"custom_id", "decline:" + std::to_string(id)},
            {"components",
             json::array(
                 {{{"type", 18},
                   {"component", {{"type", 3}, {"custom_id", "preset"}, {"values", {"unreadable"}}}}},
                  {{"type", 18}, {"component", {{"type", 4}, {"custom_id", "reason"}, {"value", ""}}}}})}};
        co_await interact(5, kAdmin, kAdminRole, std::move(data));
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::declined);
        EXPECT_NE(text_of(messages_in(channel).back().json).find("لقطة الشاشة لا تُظهر بوضوح"),
                  std::string::npos)
            << messages_in(channel).back().json.dump();
        co_await post(channel, kCustomer, 0, "", png_bytes('w'), "image/png");
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);

        const json account = co_await click(kCustomer, 0, "panel:account");
        saw("my account", account);
        const auto account_id = (co_await accounts()).front().id.value;
        saw("show config", co_await click(kCustomer, 0, "acct:" + std::to_string(account_id) + ":config"));
        saw("renew", co_await click(kCustomer, 0, "panel:renew"));
        for (const auto& m : messages_in(channel)) saw("order channel", m.json);
        for (const auto& m : direct_messages(*discord_)) saw("DM", m.json);
        EXPECT_GE(seen.size(), 14u);
        for (const auto& [where, message] : seen) {
            expect_arabic(message, names, where);
            expect_right_to_left(message, where);
        }
        // The 12-hour clock with ص/م in the delivery.
        bool clock = false;
        for (const auto& m : direct_messages(*discord_)) {
            const std::string text = text_of(m.json);
            for (const std::string suffix : {" \u0635", " \u0645"}) {  // " ص", " م" after hh:mm
                for (auto at = text.find(suffix); at != std::string::npos; at = text.find(suffix, at + 1)) {
                    clock = clock || (at >= 3 && text[at - 3] == ':' &&
                                      std::isdigit(static_cast<unsigned char>(text[at - 1])));
                }
            }
        }
        EXPECT_TRUE(clock);
    });
}

TEST_F(BotE2E, TheMainPanelSpeaksBothLanguages) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        co_await command(kAdmin, kAdminRole, "setup");
        const auto posted = messages_in(kPanelChannel);
        CO_ASSERT_EQ(posted.size(), 1u);
        const json& panel = posted.front().json;
        const std::string description = panel["embeds"][0]["description"];
        EXPECT_NE(description.find("Buy Access"), std::string::npos) << description;
        EXPECT_NE(description.find("شراء اشتراك"), std::string::npos) << description;
        for (const auto& button : panel["components"][0]["components"]) {
            const std::string label = button["label"];
            EXPECT_TRUE(has_arabic(label)) << label;
            EXPECT_FALSE(english_words(label, {}).empty()) << label;
        }
        const std::string footer = panel["embeds"][0]["footer"]["text"];
        EXPECT_TRUE(has_arabic(footer)) << footer;
    });
}

// ---- selling more: free trial and promo codes ----
// (Option lists are built before each co_await: g++ 12 cannot keep an initializer list's array
// in a coroutine frame.)

/// `/admin <group> <sub>` with options, as Discord sends them.
json admin_options(std::string group, std::string sub, json options) {
    json leaf{{"name", sub}, {"type", 1}, {"options", std::move(options)}};
    json branch{{"name", group}, {"type", 2}, {"options", json::array({leaf})}};
    return json{
        {"id", "840000000000000001"}, {"name", "admin"}, {"type", 1}, {"options", json::array({branch})}};
}

json option(std::string name, int type, json value) {
    return json{{"name", std::move(name)}, {"type", type}, {"value", std::move(value)}};
}

json admin_stats() {
    return json{{"id", "840000000000000001"},
                {"name", "admin"},
                {"type", 1},
                {"options", json::array({{{"name", "stats"}, {"type", 1}}})}};
}

json trial_set(std::int64_t plan, int days, double traffic_gb) {
    return admin_options("trial", "set",
                         json::array({option("plan", 3, std::to_string(plan)), option("days", 4, days),
                                      option("traffic_gb", 10, traffic_gb)}));
}

/// The Promo code modal of `button` submitted with `code`.
json promo_modal(const std::string& button, const std::string& code) {
    return json{{"custom_id", button},
                {"components",
                 json::array({{{"type", 18},
                               {"component", {{"type", 4}, {"custom_id", "code"}, {"value", code}}}}})}};
}

/// Whether the main panel, as last posted or edited, shows the Free trial button.
bool panel_offers_trial(const fakes::discord::FakeDiscord& fake) {
    bool offered = false;
    for (const auto& r : fake.requests()) {
        if (r.path.find("/channels/" + std::to_string(kPanelChannel) + "/messages") == std::string::npos)
            continue;
        if (r.method != "POST" && r.method != "PATCH") continue;
        offered = r.body.find("panel:trial") != std::string::npos;
    }
    return offered;
}

TEST_F(BotE2E, FreeTrialFromTheMainPanelIsDeliveredAtOnceAndOnlyOnce) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        co_await command(kAdmin, kAdminRole, "setup");
        EXPECT_FALSE(panel_offers_trial(*discord_));
        const json none = co_await click(kCustomer, 0, "panel:trial");
        EXPECT_NE(text_of(none).find("no free trial"), std::string::npos) << none.dump();

        json set_data = trial_set(plan_id_, 3, 5);
        const json set = co_await interact(2, kAdmin, kAdminRole, std::move(set_data));
        EXPECT_NE(text_of(set).find("Free trial offered"), std::string::npos) << set.dump();
        EXPECT_TRUE(panel_offers_trial(*discord_));
        // Its own row under the five buttons, in both languages (well-formed UTF-8 throughout).
        const auto edits =
            discord_->requests_matching("PATCH /channels/" + std::to_string(kPanelChannel) + "/messages/.*");
        CO_ASSERT_EQ(edits.size(), 1u);
        const json& trial_row = edits.back().json["components"][1]["components"];
        CO_ASSERT_EQ(trial_row.size(), 1u);
        const std::string label = trial_row[0]["label"];
        EXPECT_TRUE(label.starts_with("🎁 Free trial · ")) << label;
        EXPECT_NE(label.find("تجربة مجانية"), std::string::npos) << label;
        EXPECT_NO_THROW((void)json(label).dump()) << label;

        const json ready = co_await click(kCustomer, 0, "panel:trial");
        const std::string text = text_of(ready);
        EXPECT_EQ(ready["data"]["flags"], 64);
        EXPECT_NE(text.find("free trial is ready"), std::string::npos) << text;
        EXPECT_NE(text.find("vless://"), std::string::npos) << text;
        EXPECT_NE(text.find("5 GB"), std::string::npos) << text;
        const auto all = co_await accounts();
        CO_ASSERT_EQ(all.size(), 1u);
        EXPECT_EQ(all.front().traffic_limit_bytes, 5LL << 30);
        const auto client = gateway_.panel->client(all.front().client_email);
        CO_ASSERT_TRUE(client.has_value());
        EXPECT_EQ((*client)["totalGB"].get<std::int64_t>(), 5LL << 30);
        const auto trial = co_await order(co_await latest_order_id());
        CO_ASSERT_TRUE(trial.has_value());
        EXPECT_TRUE(trial->trial);
        EXPECT_EQ(trial->status, bot::domain::OrderStatus::fulfilled);
        EXPECT_EQ(all.front().expires_at, *trial->approved_at + std::chrono::days(3));
        // Delivered like any account: by DM with its QR code, and the Subscriber role.
        bool dm = false;
        for (const auto& m : direct_messages(*discord_))
            dm = dm || text_of(m.json).find("vless://") != std::string::npos;
        EXPECT_TRUE(dm);
        const auto* roles = discord_->member_roles(kGuild, kCustomer);
        CO_ASSERT_NE(roles, nullptr);
        EXPECT_NE(std::find(roles->begin(), roles->end(), kSubscriberRole), roles->end());
        // No order channel and no review for a trial.
        EXPECT_TRUE(discord_->requests_matching("POST /guilds/.*/channels").empty());
        EXPECT_TRUE(messages_in(kReviewChannel).empty());

        const json again = co_await click(kCustomer, 0, "panel:trial");
        EXPECT_NE(text_of(again).find("already had your free trial"), std::string::npos) << again.dump();
        EXPECT_EQ((co_await accounts()).size(), 1u);

        json stats_data = admin_stats();
        const json stats = co_await interact(2, kAdmin, kAdminRole, std::move(stats_data));
        EXPECT_NE(text_of(stats).find("Free trials"), std::string::npos) << stats.dump();
        EXPECT_NE(text_of(stats).find("1 started, 0 paid later (0.0%)"), std::string::npos) << stats.dump();

        json off_data = admin_options("trial", "disable", json::array());
        const json off = co_await interact(2, kAdmin, kAdminRole, std::move(off_data));
        EXPECT_NE(text_of(off).find("no longer offered"), std::string::npos) << off.dump();
        EXPECT_FALSE(panel_offers_trial(*discord_));
    });
}

TEST_F(BotE2E, ArabicCustomerGetsTheTrialInArabic) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        json set_data = trial_set(plan_id_, 1, 0);
        co_await interact(2, kAdmin, kAdminRole, std::move(set_data));
        locales_[kCustomer] = "ar";
        const json ready = co_await click(kCustomer, 0, "panel:trial");
        EXPECT_NE(text_of(ready).find("تجربتك المجانية جاهزة"), std::string::npos) << ready.dump();
        const std::vector<std::string> names{"GB"};
        expect_arabic(ready, names, "trial ready");
        expect_right_to_left(ready, "trial ready");
        const json again = co_await click(kCustomer, 0, "panel:trial");
        expect_arabic(again, names, "trial refused");
    });
}

TEST_F(BotE2E, PromoCodeLowersTheAmountBeforePayingAndIsUsedWhenApproved) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        // Without any code the order channel offers none.
        auto [plain, plain_channel] = co_await buy_and_choose_method();
        EXPECT_EQ(text_of(messages_in(plain_channel).front().json).find("promo:"), std::string::npos);
        co_await click(kCustomer, 0, "order_cancel:" + std::to_string(plain));

        json create_data = admin_options(
            "promo", "create",
            json::array({option("code", 3, "Save20"), option("percent", 4, 20), option("max_uses", 4, 1)}));
        const json created = co_await interact(2, kAdmin, kAdminRole, std::move(create_data));
        EXPECT_NE(text_of(created).find("SAVE20"), std::string::npos) << created.dump();
        json duplicate_data = admin_options(
            "promo", "create", json::array({option("code", 3, "save20"), option("amount", 10, 10)}));
        const json duplicate = co_await interact(2, kAdmin, kAdminRole, std::move(duplicate_data));
        EXPECT_NE(text_of(duplicate).find("exists already"), std::string::npos) << duplicate.dump();
        json both_data = admin_options(
            "promo", "create",
            json::array({option("code", 3, "BOTH"), option("percent", 4, 5), option("amount", 10, 10)}));
        const json both = co_await interact(2, kAdmin, kAdminRole, std::move(both_data));
        EXPECT_NE(text_of(both).find("either a percent or an amount"), std::string::npos) << both.dump();
        json date_data = admin_options("promo", "create",
                                       json::array({option("code", 3, "LATER"), option("percent", 4, 5),
                                                    option("expires", 3, "31/12/2030")}));
        const json bad_date = co_await interact(2, kAdmin, kAdminRole, std::move(date_data));
        EXPECT_NE(text_of(bad_date).find("a date like"), std::string::npos) << bad_date.dump();

        co_await click(kCustomer, 0, "panel:buy");
        co_await click(kCustomer, 0, "buy_plan", std::to_string(plan_id_));
        const std::int64_t id = co_await latest_order_id();
        const std::uint64_t channel =
            (co_await order(id))->channel_id.value_or(bot::domain::DiscordId{}).value();
        const std::string button = "promo:" + std::to_string(id);
        EXPECT_NE(text_of(messages_in(channel).front().json).find(button), std::string::npos);
        const json modal = co_await click(kCustomer, 0, button);
        EXPECT_EQ(modal["type"], 9) << modal.dump();

        json wrong_data = promo_modal(button, "NOPE");
        const json wrong = co_await interact(5, kCustomer, 0, std::move(wrong_data));
        EXPECT_NE(text_of(wrong).find("no promo code NOPE"), std::string::npos) << wrong.dump();
        json stranger_data = promo_modal(button, "save20");
        const json stranger = co_await interact(5, kStranger, 0, std::move(stranger_data));
        EXPECT_NE(text_of(stranger).find("only be entered on your own order"), std::string::npos)
            << stranger.dump();
        json applied_data = promo_modal(button, " save20 ");
        const json applied = co_await interact(5, kCustomer, 0, std::move(applied_data));
        const std::string shown = text_of(applied);
        EXPECT_NE(shown.find("SAVE20 applied"), std::string::npos) << shown;
        EXPECT_NE(shown.find("150 EGP"), std::string::npos) << shown;
        EXPECT_NE(shown.find("30 EGP"), std::string::npos) << shown;
        EXPECT_NE(shown.find("120 EGP"), std::string::npos) << shown;
        EXPECT_EQ((co_await order(id))->amount, bot::domain::Piasters::from_pounds(120));

        const json instructions =
            co_await click(kCustomer, 0, "pay_method:" + std::to_string(id), std::to_string(method_id_));
        const std::string steps = text_of(instructions);
        EXPECT_NE(steps.find("Pay 120 EGP"), std::string::npos) << steps;
        EXPECT_NE(steps.find("Price 150 EGP"), std::string::npos) << steps;
        EXPECT_NE(steps.find("discount 30 EGP"), std::string::npos) << steps;

        co_await pay_and_upload(channel, 'p');
        const auto cards = messages_in(kReviewChannel);
        CO_ASSERT_EQ(cards.size(), 1u);
        const std::string card = text_of(cards.front().json);
        EXPECT_NE(card.find("Discount"), std::string::npos) << card;
        EXPECT_NE(card.find("SAVE20"), std::string::npos) << card;
        EXPECT_NE(card.find("120 EGP"), std::string::npos) << card;
        EXPECT_NE(card.find("150 EGP"), std::string::npos) << card;

        const auto uses = [&]() -> asio::awaitable<std::int64_t> {
            co_return co_await ctx().db.run([](bot::db::Connection& c) {
                return *c.scalar<std::int64_t>("SELECT uses FROM promo_codes WHERE code = 'SAVE20'");
            });
        };
        EXPECT_EQ(co_await uses(), 0);  // entered, not consumed
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);
        EXPECT_EQ(co_await uses(), 1);

        json list_data = admin_options("promo", "list", json::array());
        const json listed = co_await interact(2, kAdmin, kAdminRole, std::move(list_data));
        EXPECT_NE(text_of(listed).find("used 1 of 1"), std::string::npos) << listed.dump();
        json stats_data = admin_stats();
        const json stats = co_await interact(2, kAdmin, kAdminRole, std::move(stats_data));
        EXPECT_NE(text_of(stats).find("Promo discounts"), std::string::npos) << stats.dump();
        EXPECT_NE(text_of(stats).find("30 EGP"), std::string::npos) << stats.dump();
        json disable_data = admin_options("promo", "disable", json::array({option("code", 3, "save20")}));
        const json disabled = co_await interact(2, kAdmin, kAdminRole, std::move(disable_data));
        EXPECT_NE(text_of(disabled).find("SAVE20 is disabled"), std::string::npos) << disabled.dump();
    });
}

// Two customers entered the last use of a code and paid the discounted amount: the first
// approval takes it, the second is refused with the reason and the order waits for the admin.
TEST_F(BotE2E, TheSecondApprovalOfACodesLastUseIsRefusedWithTheReason) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        constexpr std::uint64_t kSecond = 830000000000000006ULL;
        discord_->add_member(kGuild, kSecond, {});
        json create_data = admin_options(
            "promo", "create",
            json::array({option("code", 3, "LAST1"), option("amount", 10, 50), option("max_uses", 4, 1)}));
        co_await interact(2, kAdmin, kAdminRole, std::move(create_data));
        std::vector<std::int64_t> ids;
        const std::array<std::uint64_t, 2> customers{kCustomer, kSecond};
        for (const auto customer : customers) {
            co_await click(customer, 0, "panel:buy");
            co_await click(customer, 0, "buy_plan", std::to_string(plan_id_));
            const std::int64_t id = co_await latest_order_id();
            json code = promo_modal("promo:" + std::to_string(id), "last1");
            const json applied = co_await interact(5, customer, 0, std::move(code));
            EXPECT_NE(text_of(applied).find("100 EGP"), std::string::npos) << applied.dump();
            co_await click(customer, 0, "pay_method:" + std::to_string(id), std::to_string(method_id_));
            const auto placed = co_await order(id);
            co_await post(placed->channel_id.value_or(bot::domain::DiscordId{}).value(), customer, 0, "",
                          png_bytes(static_cast<char>('A' + ids.size())), "image/png");
            ids.push_back(id);
        }
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(ids[0]) + ":approve");
        EXPECT_EQ((co_await order(ids[0]))->status, bot::domain::OrderStatus::fulfilled);
        const json refused =
            co_await click(kAdmin, kAdminRole, "review:" + std::to_string(ids[1]) + ":approve");
        EXPECT_NE(text_of(refused).find("promo code LAST1 has no uses left"), std::string::npos)
            << refused.dump();
        EXPECT_EQ((co_await order(ids[1]))->status, bot::domain::OrderStatus::under_review);
        EXPECT_EQ((co_await accounts()).size(), 1u);
    });
}

// The panel is down when the customer takes the trial: it is approved and recorded, the
// reconciler makes the account once the panel is back and the link arrives by DM.
TEST_F(BotE2E, ATrialTakenWhileThePanelIsDownArrivesOnceItIsBack) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        json set_data = trial_set(plan_id_, 2, 0);
        co_await interact(2, kAdmin, kAdminRole, std::move(set_data));
        gateway_.panel->set_down(true);
        const json preparing = co_await click(kCustomer, 0, "panel:trial");
        EXPECT_NE(text_of(preparing).find("being prepared"), std::string::npos) << preparing.dump();
        EXPECT_TRUE((co_await accounts()).empty());
        EXPECT_EQ((co_await order(co_await latest_order_id()))->status, bot::domain::OrderStatus::approved);
        const json twice = co_await click(kCustomer, 0, "panel:trial");
        EXPECT_NE(text_of(twice).find("already had your free trial"), std::string::npos) << twice.dump();

        gateway_.panel->set_down(false);
        const auto report = co_await bot_->reconcile();
        EXPECT_EQ(report.fulfilled, 1);
        EXPECT_EQ((co_await accounts()).size(), 1u);
        // What the reconciler job does next: the recorded delivery.
        co_await bot::notify::deliver_pending(ctx(), true);
        co_await until([&] {
            for (const auto& m : direct_messages(*discord_))
                if (text_of(m.json).find("vless://") != std::string::npos) return true;
            return false;
        });
    });
}

// Referrals: a customer's code in My Account, a friend enters it before paying, and when the
// friend's order is approved the reconciler extends the referrer's account and tells them.
TEST_F(BotE2E, AReferredFriendsFirstPaidOrderExtendsTheReferrersAccountOnce) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        constexpr std::uint64_t kFriend = 830000000000000007ULL;
        discord_->add_member(kGuild, kFriend, {});
        auto [first, first_channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(first_channel, 'r');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(first) + ":approve");
        const auto before = (co_await accounts()).front();

        const json mine = co_await click(kCustomer, 0, "panel:account");
        std::smatch found;
        const std::string text = text_of(mine);
        CO_ASSERT_TRUE(std::regex_search(text, found, std::regex("`(R[0-9]+)`")));
        const std::string code = found[1];
        EXPECT_NE(text.find("\"custom_id\":\"referral\""), std::string::npos) << text;

        const json offered = co_await click(kFriend, 0, "panel:account");
        EXPECT_NE(text_of(offered).find("no VPN account"), std::string::npos) << offered.dump();
        const json modal = co_await click(kFriend, 0, "referral");
        EXPECT_EQ(modal["type"], 9) << modal.dump();
        json own_data = promo_modal("referral", code);
        const json own = co_await interact(5, kCustomer, 0, std::move(own_data));
        EXPECT_NE(text_of(own).find("your own referral code"), std::string::npos) << own.dump();
        json entered_data = promo_modal("referral", " " + code + " ");
        const json entered = co_await interact(5, kFriend, 0, std::move(entered_data));
        EXPECT_NE(text_of(entered).find("Referral code " + code + " saved"), std::string::npos)
            << entered.dump();

        co_await click(kFriend, 0, "panel:buy");
        co_await click(kFriend, 0, "buy_plan", std::to_string(plan_id_));
        const std::int64_t second = co_await latest_order_id();
        co_await click(kFriend, 0, "pay_method:" + std::to_string(second), std::to_string(method_id_));
        const auto placed = co_await order(second);
        co_await post(placed->channel_id.value_or(bot::domain::DiscordId{}).value(), kFriend, 0, "",
                      png_bytes('s'), "image/png");
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(second) + ":approve");
        EXPECT_EQ((co_await order(second))->status, bot::domain::OrderStatus::fulfilled);

        // What the reconciler job does after the deliveries.
        const auto sweep = co_await bot::notify::grant_referral_rewards(ctx());
        EXPECT_EQ(sweep.granted, 1);
        EXPECT_EQ(sweep.told, 1);
        const auto again = co_await bot::notify::grant_referral_rewards(ctx());
        EXPECT_EQ(again.granted + again.told + again.queued, 0);
        bot::domain::Account after;
        for (const auto& a : co_await accounts())
            if (a.id == before.id) after = a;
        EXPECT_EQ(after.expires_at, before.expires_at + std::chrono::days(7));
        const auto client = gateway_.panel->client(before.client_email);
        CO_ASSERT_TRUE(client.has_value());
        EXPECT_EQ((*client)["expiryTime"].get<std::int64_t>(),
                  bot::domain::epoch_seconds(after.expires_at) * 1000);
        bool told = false;
        for (const auto& m : direct_messages(*discord_))
            told = told || text_of(m.json).find("A friend you referred") != std::string::npos;
        EXPECT_TRUE(told);
        json stats_data = admin_stats();
        const json stats = co_await interact(2, kAdmin, kAdminRole, std::move(stats_data));
        EXPECT_NE(text_of(stats).find("1 referred, 1 rewarded"), std::string::npos) << stats.dump();
    });
}

// TRIAL_MIN_ACCOUNT_AGE_DAYS: the age is read from the Discord id of whoever clicks.
class BotE2EOldAccountsOnly : public BotE2E {
  protected:
    BotE2EOldAccountsOnly() {
        // The customer's id was made in 2021; the stranger's id below is from this year.
        trial_min_account_age_ = std::chrono::days(365);
    }
};

TEST_F(BotE2EOldAccountsOnly, ATrialIsRefusedToADiscordAccountYoungerThanTheMinimumAge) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        json set_data = trial_set(plan_id_, 1, 0);
        co_await interact(2, kAdmin, kAdminRole, std::move(set_data));
        // A snowflake made a day ago: (ms since the Discord epoch) << 22.
        const auto made = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch() - std::chrono::days(1))
                              .count() -
                          1420070400000LL;
        const std::uint64_t newcomer = static_cast<std::uint64_t>(made) << 22;
        const json refused = co_await click(newcomer, 0, "panel:trial");
        EXPECT_NE(text_of(refused).find("too new for a free trial"), std::string::npos) << refused.dump();
        EXPECT_NE(text_of(refused).find("365 days"), std::string::npos) << refused.dump();
        EXPECT_TRUE((co_await accounts()).empty());
        const json ready = co_await click(kCustomer, 0, "panel:trial");
        EXPECT_NE(text_of(ready).find("free trial is ready"), std::string::npos) << ready.dump();
    });
}

// ---- running the shop by hand: customers, accounts given by admins, refunds ----

json member_option(std::uint64_t id) { return option("user", 6, std::to_string(id)); }

TEST_F(BotE2E, AnArabicCustomerIsToldOfARefundInArabicAndRevenueLeavesIt) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        locales_[kCustomer] = "ar";
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'r');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        CO_ASSERT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);
        const auto account = (co_await accounts()).front();

        // A member without the admin role is refused and nothing changes.
        json stranger = admin_options(
            "order", "refund", json::array({option("order", 3, "NL-000001"), option("reason", 3, "x")}));
        const json refused = co_await interact(2, kStranger, 0, std::move(stranger));
        EXPECT_NE(text_of(refused).find("Only admins"), std::string::npos) << refused.dump();
        EXPECT_FALSE((co_await order(id))->refunded_at.has_value());

        json data =
            admin_options("order", "refund",
                          json::array({option("order", 3, "NL-000001"), option("reason", 3, "دفع مرتين"),
                                       option("disable_account", 5, true)}));
        const json done = co_await interact(2, kAdmin, kAdminRole, std::move(data));
        EXPECT_NE(text_of(done).find("is marked refunded (150 EGP)"), std::string::npos) << done.dump();
        EXPECT_NE(text_of(done).find("disabled"), std::string::npos) << done.dump();
        const auto refunded = co_await order(id);
        EXPECT_TRUE(refunded->refunded_at.has_value());
        EXPECT_EQ(refunded->refund_reason, "دفع مرتين");
        // The panel client is disabled through the gateway.
        const auto client = gateway_.panel->client(account.client_email);
        CO_ASSERT_TRUE(client.has_value());
        EXPECT_FALSE((*client)["enable"].get<bool>());
        // The customer reads it in Arabic.
        const auto told = posts_containing(*discord_, "تم رد مبلغ", kReviewChannel);
        CO_ASSERT_EQ(told.size(), 1u);
        const std::vector<std::string> names{"NL", "EGP", "VPN"};
        expect_arabic(told.front().json, names, "refund notice");
        EXPECT_NE(text_of(told.front().json).find("NL-000001"), std::string::npos);
        EXPECT_NE(text_of(told.front().json).find("تم تعطيل حساب"), std::string::npos);

        // A second refund is refused clearly; /admin stats shows the refund and no revenue.
        json again = admin_options(
            "order", "refund", json::array({option("order", 3, "NL-000001"), option("reason", 3, "again")}));
        const json twice = co_await interact(2, kAdmin, kAdminRole, std::move(again));
        EXPECT_NE(text_of(twice).find("already refunded"), std::string::npos) << twice.dump();
        EXPECT_EQ(posts_containing(*discord_, "تم رد مبلغ", kReviewChannel).size(), 1u);
        json stats_data = admin_stats();
        const json stats = co_await interact(2, kAdmin, kAdminRole, std::move(stats_data));
        EXPECT_NE(text_of(stats).find("150 EGP · orders: 1"), std::string::npos) << stats.dump();
    });
}

TEST_F(BotE2E, AnAccountGivenByAnAdminIsDeliveredLikeAPaidOneAndFoundBySearch) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        json stranger =
            admin_options("account", "create",
                          json::array({member_option(kCustomer), option("plan", 3, std::to_string(plan_id_)),
                                       option("reason", 3, "staff")}));
        const json refused = co_await interact(2, kStranger, 0, std::move(stranger));
        EXPECT_NE(text_of(refused).find("Only admins"), std::string::npos) << refused.dump();
        EXPECT_EQ(co_await latest_order_id(), 0);

        json data =
            admin_options("account", "create",
                          json::array({member_option(kCustomer), option("plan", 3, std::to_string(plan_id_)),
                                       option("reason", 3, "giveaway winner"), option("days", 4, 7)}));
        const json given = co_await interact(2, kAdmin, kAdminRole, std::move(data));
        EXPECT_NE(text_of(given).find("Account given to"), std::string::npos) << given.dump();
        const auto gift = co_await order(co_await latest_order_id());
        CO_ASSERT_TRUE(gift.has_value());
        EXPECT_EQ(gift->amount.value, 0);
        EXPECT_EQ(gift->gift_reason, "giveaway winner");
        EXPECT_EQ(gift->status, bot::domain::OrderStatus::fulfilled);
        const auto all = co_await accounts();
        CO_ASSERT_EQ(all.size(), 1u);
        EXPECT_EQ(all.front().expires_at, *gift->approved_at + std::chrono::days(7));
        EXPECT_TRUE(gateway_.panel->client(all.front().client_email).has_value());
        // Delivered like a paid one: the link by DM, the Subscriber role, the billing line.
        bool dm = false;
        for (const auto& m : direct_messages(*discord_))
            dm = dm || text_of(m.json).find("vless://") != std::string::npos;
        EXPECT_TRUE(dm);
        const auto* roles = discord_->member_roles(kGuild, kCustomer);
        CO_ASSERT_NE(roles, nullptr);
        EXPECT_NE(std::find(roles->begin(), roles->end(), kSubscriberRole), roles->end());
        EXPECT_EQ(messages_in(kBillingChannel).size(), 1u);

        // The admin finds the customer by the order's reference and sees it in their history.
        json search = admin_options("user", "search", json::array({option("query", 3, gift->reference)}));
        const json found = co_await interact(2, kAdmin, kAdminRole, std::move(search));
        EXPECT_NE(text_of(found).find("<@" + std::to_string(kCustomer) + ">"), std::string::npos)
            << found.dump();
        EXPECT_EQ(found["data"]["flags"], 64);
        json info = admin_options("user", "info", json::array({member_option(kCustomer)}));
        const json history = co_await interact(2, kAdmin, kAdminRole, std::move(info));
        EXPECT_NE(text_of(history).find("giveaway winner"), std::string::npos) << history.dump();

        // Moved to another plan on the panel through the gateway.
        json change = admin_options(
            "account", "change-plan",
            json::array({option("account", 3, std::to_string(all.front().id.value)),
                         option("plan", 3, std::to_string(plan_id_)), option("from", 3, "now")}));
        const json changed = co_await interact(2, kAdmin, kAdminRole, std::move(change));
        EXPECT_NE(text_of(changed).find("is now on Monthly 50 GB"), std::string::npos) << changed.dump();
        const auto client = gateway_.panel->client(all.front().client_email);
        CO_ASSERT_TRUE(client.has_value());
        EXPECT_EQ((*client)["totalGB"].get<std::int64_t>(), 50LL << 30);
    });
}

TEST_F(BotE2E, AnAccountGivenWhileThePanelIsDownIsMadeOnceWhenItIsBack) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        gateway_.panel->set_down(true);
        json data =
            admin_options("account", "create",
                          json::array({member_option(kCustomer), option("plan", 3, std::to_string(plan_id_)),
                                       option("reason", 3, "compensation")}));
        const json pending = co_await interact(2, kAdmin, kAdminRole, std::move(data));
        EXPECT_NE(text_of(pending).find("is recorded"), std::string::npos) << pending.dump();
        const auto id = co_await latest_order_id();
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::approved);
        EXPECT_TRUE((co_await accounts()).empty());

        gateway_.panel->set_down(false);
        EXPECT_EQ((co_await bot_->reconcile()).fulfilled, 1);
        EXPECT_EQ((co_await bot_->reconcile()).fulfilled, 0);
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);
        const auto all = co_await accounts();
        CO_ASSERT_EQ(all.size(), 1u);
        EXPECT_TRUE(gateway_.panel->client(all.front().client_email).has_value());
        EXPECT_EQ(all.front().client_email, "nl-" + std::to_string(id));
    });
}

// ---- the audit channel and the usage chart ----

class BotE2EAuditChannel : public BotE2E {
  protected:
    static constexpr std::uint64_t kAuditChannel = 820000000000000900ULL;
    void SetUp() override {
        audit_channel_ = kAuditChannel;
        BotE2E::SetUp();
    }
    /// The lines Discord holds in the audit channel, oldest first (a repeat that Discord answered
    /// from its nonce record is the same message).
    std::vector<std::string> audit_lines() const {
        std::vector<std::string> lines;
        std::set<std::string> seen;
        for (const auto& r : messages_in(kAuditChannel)) {
            if (r.status != 200) continue;
            if (seen.insert(json::parse(r.response_body).value("id", "")).second)
                lines.push_back(r.json.value("content", std::string()));
        }
        return lines;
    }
    static bool has(const std::vector<std::string>& lines, const std::string& text) {
        return std::any_of(lines.begin(), lines.end(),
                           [&](const std::string& line) { return line.find(text) != std::string::npos; });
    }
};

TEST_F(BotE2EAuditChannel, AnAdminsApprovalAppearsInTheAuditChannel) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'a');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        const std::string approved =
            "<@" + std::to_string(kAdmin) + "> `order.approved` order #" + std::to_string(id);
        co_await until([&] { return has(audit_lines(), approved); });
        const auto lines = audit_lines();
        EXPECT_TRUE(has(lines, "\"under_review\" → \"approved\"")) << lines.size();
        // Mentions in the channel ping nobody.
        for (const auto& r : messages_in(kAuditChannel)) {
            EXPECT_TRUE(r.json.at("allowed_mentions").at("parse").empty()) << r.json.dump();
        }
        // In the order the entries were written.
        const auto entries = co_await ctx().db.run([](bot::db::Connection& c) {
            std::vector<std::string> out;
            auto rows = c.query("SELECT action, target_id FROM audit_logs ORDER BY id");
            while (rows->step()) out.push_back("`" + rows->get<std::string>(0) + "` ");
            return out;
        });
        std::size_t at = 0;
        for (const auto& line : lines) {
            while (at < entries.size() && line.find(entries[at]) == std::string::npos) ++at;
            EXPECT_LT(at, entries.size()) << "out of order: " << line;
        }
    });
}

TEST_F(BotE2EAuditChannel, ARestartWithLinesStillQueuedPostsThemInOrder) {
    const std::string route = "POST /channels/" + std::to_string(kAuditChannel) + "/messages";
    // What the bot wrote at start-up (the default server, the catalogue) reaches the channel.
    discord::testing::run(
        io_, [&]() -> asio::awaitable<void> { co_await until([&] { return outbox_size() == 0; }); });
    const std::size_t posted_before = audit_lines().size();
    EXPECT_GT(posted_before, 0u);

    // Then Discord refuses the channel for a while, and an admin renames the plan three times.
    discord_->script(route, {403, {}, R"({"message": "Missing Permissions", "code": 50013})", false}, 1000);
    discord::testing::run(io_, [&]() -> asio::awaitable<void> {
        auto& c = ctx();
        for (int i = 1; i <= 3; ++i) {
            co_await c.db.run([&](bot::db::Connection& connection) {
                bot::domain::PlanInput input{"Monthly v" + std::to_string(i),         30, 50LL << 30, 2,
                                             bot::domain::Piasters::from_pounds(150), 1,  ""};
                EXPECT_TRUE(c.catalog
                                .update_plan(connection, bot::domain::DiscordId{kAdmin},
                                             bot::domain::PlanId{plan_id_}, input)
                                .has_value());
            });
        }
        // The job tried and was refused: the three lines wait in the outbox.
        co_await until([&] {
            for (const auto& r : discord_->requests_matching(route)) {
                if (r.status == 403) return true;
            }
            return false;
        });
    });
    EXPECT_EQ(outbox_size(), 3);
    EXPECT_EQ(audit_lines().size(), posted_before);

    // The bot stops with the lines queued; Discord lets it in again; the bot starts again.
    bot_.shut_down();
    discord_->clear_scripts();
    auto created = bot_.create(config_, clock_);
    ASSERT_TRUE(created) << created.error();
    bot_.start();
    discord::testing::run(io_, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
        co_await until([&] { return outbox_size() == 0 && has(audit_lines(), "Monthly v3"); });
    });
    const auto lines = audit_lines();
    std::vector<std::size_t> at;
    for (int i = 1; i <= 3; ++i) {
        const std::string name = "\"Monthly v" + std::to_string(i) + "\"";
        const auto it = std::find_if(lines.begin(), lines.end(), [&](const std::string& line) {
            return line.find("→ " + name) != std::string::npos;
        });
        ASSERT_NE(it, lines.end()) << name;
        at.push_back(static_cast<std::size_t>(it - lines.begin()));
    }
    EXPECT_LT(at[0], at[1]);
    EXPECT_LT(at[1], at[2]);
    EXPECT_GE(at[0], posted_before) << "after everything posted before the restart";
}

TEST_F(BotE2E, WithoutAnAuditChannelNothingIsQueued) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'n');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);
    });
    EXPECT_EQ(outbox_size(), 0);
    EXPECT_GT(audit_count(), 0);
}

/// The PNG's width and height from its IHDR chunk (0 × 0 when it is no PNG).
std::pair<std::uint32_t, std::uint32_t> png_size(const std::string& png) {
    if (png.size() < 24 || png.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) != 0) return {0, 0};
    const auto word = [&](std::size_t at) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(png[at])) << 24 |
               static_cast<std::uint32_t>(static_cast<unsigned char>(png[at + 1])) << 16 |
               static_cast<std::uint32_t>(static_cast<unsigned char>(png[at + 2])) << 8 |
               static_cast<std::uint32_t>(static_cast<unsigned char>(png[at + 3]));
    };
    return {word(16), word(20)};
}

TEST_F(BotE2E, MyAccountDrawsTheDailyUsageChartInTheCustomersLanguage) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'u');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        const auto account = (co_await accounts()).front().id;
        // What the traffic job read over three days: 1 GiB, then 2 GiB more two days later.
        auto& c = ctx();
        const auto now = bot::domain::to_timestamp(clock_.now());
        co_await c.db.run([&](bot::db::Connection& connection) {
            bot::domain::usage_history::record(connection, {{account, 1LL << 30}},
                                               c.analytics.day_of(now - std::chrono::days(2)));
            bot::domain::usage_history::record(connection, {{account, 3LL << 30}}, c.analytics.day_of(now));
        });

        const json mine = co_await click(kCustomer, 0, "panel:account");
        const std::string button = "acct:" + std::to_string(account.value) + ":usage";
        EXPECT_NE(text_of(mine).find(button), std::string::npos) << text_of(mine);
        EXPECT_NE(text_of(mine).find("Usage chart"), std::string::npos);

        const json chart = co_await click(kCustomer, 0, button);
        EXPECT_EQ(chart["data"]["flags"], 64);
        EXPECT_NE(text_of(chart).find("Daily traffic of your account on Frankfurt-1"), std::string::npos)
            << text_of(chart);
        EXPECT_NE(text_of(chart).find("3 GB in all"), std::string::npos) << text_of(chart);
        EXPECT_NE(text_of(chart).find("Traffic used — Last 30 days"), std::string::npos)
            << "the title as alt text";
        const auto english = last_file("usage.png");
        EXPECT_EQ(png_size(english), (std::pair<std::uint32_t, std::uint32_t>{900, 400}));

        // In Arabic: the Arabic text and another picture (Arabic labels, right to left).
        locales_[kCustomer] = "ar";
        const json arabic = co_await click(kCustomer, 0, button);
        EXPECT_NE(text_of(arabic).find("الاستهلاك اليومي"), std::string::npos) << text_of(arabic);
        const auto arabic_png = last_file("usage.png");
        EXPECT_EQ(png_size(arabic_png), (std::pair<std::uint32_t, std::uint32_t>{900, 400}));
        EXPECT_NE(arabic_png, english);

        // Someone else's account: refused, no chart.
        const json stolen = co_await click(kStranger, 0, button);
        EXPECT_NE(text_of(stolen).find("not yours"), std::string::npos);
    });
}

// ---- announcements ----

json announce_send(const std::string& audience, const std::string& message) {
    return admin_options("announce", "send",
                         json::array({option("audience", 3, audience), option("message", 3, message)}));
}

/// The custom_id of the first button whose custom_id starts with `prefix` in a message body.
std::string button_id(const json& body, const std::string& prefix) {
    std::smatch found;
    const std::string text = body.dump();
    if (!std::regex_search(text, found, std::regex("\"custom_id\":\"(" + prefix + "[^\"]*)\""))) return {};
    return found[1];
}

/// The announcement DMs (those with the Stop announcements button) sent to `user`.
std::vector<fakes::discord::RecordedRequest> announcement_dms_to(const fakes::discord::FakeDiscord& fake,
                                                                 std::uint64_t user) {
    std::vector<std::string> channels;
    for (const auto& r : fake.requests()) {
        if (r.method != "POST" || r.path != "/users/@me/channels") continue;
        if (r.json.value("recipient_id", "") != std::to_string(user)) continue;
        const auto answer = json::parse(r.response_body, nullptr, false);
        if (answer.is_object() && answer.contains("id"))
            channels.push_back("/channels/" + answer["id"].get<std::string>() + "/messages");
    }
    std::vector<fakes::discord::RecordedRequest> out;
    for (const auto& r : fake.requests()) {
        if (r.method == "POST" && std::find(channels.begin(), channels.end(), r.path) != channels.end() &&
            r.json.dump().find("announce_stop") != std::string::npos)
            out.push_back(r);
    }
    return out;
}

class BotE2EAnnouncements : public BotE2E {
  protected:
    /// The customer opens My Account and turns announcements by DM on.
    asio::awaitable<void> opt_in(std::uint64_t user) {
        const json mine = co_await click(user, 0, "panel:account");
        EXPECT_NE(text_of(mine).find("announce_dm:on"), std::string::npos) << mine.dump();
        const json on = co_await click(user, 0, "announce_dm:on");
        EXPECT_NE(text_of(on).find("announce"), std::string::npos) << on.dump();
    }

    /// /admin announce send, then Confirm; returns the announcement's id.
    asio::awaitable<std::int64_t> announce_and_confirm(const std::string& audience,
                                                       const std::string& message) {
        json data = announce_send(audience, message);
        const json preview = co_await interact(2, kAdmin, kAdminRole, std::move(data));
        const std::string confirm = button_id(preview, "announce:[0-9]+:confirm");
        EXPECT_FALSE(confirm.empty()) << preview.dump();
        const json done = co_await click(kAdmin, kAdminRole, confirm);
        EXPECT_NE(text_of(done).find("confirmed"), std::string::npos) << done.dump();
        co_return std::stoll(confirm.substr(std::string("announce:").size()));
    }

    /// One run of the announcements job, after its start-up run.
    asio::awaitable<void> run_announcements() {
        co_await until([&] {
            for (const auto& job : bot_->scheduler().stats())
                if (job.name == "announcements") return job.runs > 0 && !job.running;
            return false;
        });
        auto ran = co_await bot_->scheduler().run_now("announcements");
        EXPECT_TRUE(ran && *ran) << (ran ? (*ran ? **ran : ran->error()) : "refused");
    }

    /// /admin announce send with these options; the reply's text.
    asio::awaitable<std::string> send_announce(json options) {
        json data = admin_options("announce", "send", std::move(options));
        co_return text_of(co_await interact(2, kAdmin, kAdminRole, std::move(data)));
    }

    asio::awaitable<std::string> status() {
        json data = admin_options("announce", "status", json::array());
        co_return text_of(co_await interact(2, kAdmin, kAdminRole, std::move(data)));
    }

    /// A click in the customer's DM with the bot: no server, no member, the user alone.
    asio::awaitable<json> click_in_dm(std::uint64_t user, std::string custom_id) {
        json interaction =
            discord_->make_interaction(3, user, {}, json{{"custom_id", custom_id}, {"component_type", 2}});
        interaction.erase("guild_id");
        interaction.erase("member");
        interaction["user"] = {{"id", std::to_string(user)}, {"username", "user-" + std::to_string(user)}};
        interaction["context"] = 1;
        const auto chosen = locales_.find(user);
        interaction["locale"] = chosen == locales_.end() ? std::string("en-US") : chosen->second;
        co_return co_await answer_to(std::move(interaction));
    }

    static constexpr std::uint64_t kFriend = 830000000000000011ULL;
    static constexpr std::uint64_t kThird = 830000000000000012ULL;
    static constexpr std::uint64_t kQuiet = 830000000000000013ULL;
};

TEST_F(BotE2EAnnouncements, ActiveCustomersArePingedInTheChannelAndThoseWhoOptedInGetOneDm) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        discord_->add_member(kGuild, kFriend, {});
        discord_->add_member(kGuild, kOtherAdmin, {kAdminRole});
        auto [id, channel] = co_await buy_and_choose_method();
        co_await pay_and_upload(channel, 'a');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        const auto all = co_await accounts();
        CO_ASSERT_EQ(all.size(), 1u);

        // Off by default; the customer turns it on in My Account, and the button says so.
        co_await opt_in(kCustomer);
        const json mine = co_await click(kCustomer, 0, "panel:account");
        EXPECT_NE(text_of(mine).find("Announcements by DM: on"), std::string::npos) << mine.dump();
        EXPECT_NE(text_of(mine).find("announce_dm:off"), std::string::npos) << mine.dump();
        co_await opt_in(kFriend);  // opted in, but no active account: not in the audience

        json data = announce_send("active", "Maintenance tonight at 22:00");
        const json preview = co_await interact(2, kAdmin, kAdminRole, std::move(data));
        const std::string text = text_of(preview);
        EXPECT_NE(text.find("Preview"), std::string::npos) << text;
        EXPECT_NE(text.find("Maintenance tonight at 22:00"), std::string::npos) << text;
        EXPECT_NE(text.find("<@&" + std::to_string(kSubscriberRole) + ">"), std::string::npos) << text;
        EXPECT_NE(text.find("DMs: 1 "), std::string::npos) << text;
        EXPECT_EQ(preview["data"]["flags"], 64) << "only the admin sees the preview";
        EXPECT_TRUE(messages_in(kAnnounceChannel).empty()) << "nothing is posted before Confirm";
        const std::string confirm = button_id(preview, "announce:[0-9]+:confirm");
        CO_ASSERT_TRUE(!confirm.empty());

        const json stranger = co_await click(kOtherAdmin, kAdminRole, confirm);
        EXPECT_NE(text_of(stranger).find("Only the admin who wrote"), std::string::npos) << stranger.dump();
        const json customer = co_await click(kCustomer, 0, confirm);
        EXPECT_TRUE(messages_in(kAnnounceChannel).empty());

        const json done = co_await click(kAdmin, kAdminRole, confirm);
        EXPECT_EQ(done["type"], 7) << "the preview is replaced";
        EXPECT_NE(text_of(done).find("1 DM(s) queued"), std::string::npos) << done.dump();
        const auto posts = messages_in(kAnnounceChannel);
        CO_ASSERT_EQ(posts.size(), 1u);
        EXPECT_NE(posts[0].json.value("content", "").find("<@&" + std::to_string(kSubscriberRole) + ">"),
                  std::string::npos)
            << posts[0].json.dump();
        EXPECT_EQ(posts[0].json["allowed_mentions"]["roles"], json::array({std::to_string(kSubscriberRole)}))
            << posts[0].json.dump();
        EXPECT_EQ(posts[0].json["allowed_mentions"]["parse"], json::array());
        const json twice = co_await click(kAdmin, kAdminRole, confirm);
        EXPECT_NE(text_of(twice).find("already"), std::string::npos) << twice.dump();
        EXPECT_EQ(messages_in(kAnnounceChannel).size(), 1u);

        co_await run_announcements();
        co_await run_announcements();
        const auto dms = announcement_dms_to(*discord_, kCustomer);
        CO_ASSERT_EQ(dms.size(), 1u);
        EXPECT_NE(text_of(dms[0].json).find("Maintenance tonight at 22:00"), std::string::npos);
        EXPECT_NE(text_of(dms[0].json).find("Stop announcements"), std::string::npos);
        EXPECT_TRUE(announcement_dms_to(*discord_, kFriend).empty());
        const std::string progress = co_await status();
        EXPECT_NE(progress.find("Sent: 1 · failed: 0 · remaining: 0"), std::string::npos) << progress;
        EXPECT_NE(progress.find("done"), std::string::npos) << progress;

        // Stop announcements, pressed in the DM.
        const json stopped = co_await click_in_dm(kCustomer, "announce_stop");
        EXPECT_NE(text_of(stopped).find("will not get announcements"), std::string::npos) << stopped.dump();
        const json off = co_await click(kCustomer, 0, "panel:account");
        EXPECT_NE(text_of(off).find("Announcements by DM: off"), std::string::npos) << off.dump();
        co_await announce_and_confirm("active", "Second note");
        co_await run_announcements();
        EXPECT_EQ(announcement_dms_to(*discord_, kCustomer).size(), 1u) << "no announcement after Stop";

        // Notices about their own account still reach them by DM.
        gateway_.panel->add_traffic(all.front().client_email, 1LL << 30, 40LL << 30);
        auto ran = co_await bot_->scheduler().run_now("traffic");
        EXPECT_TRUE(ran && *ran);
        bool alerted = false;
        for (const auto& m : direct_messages(*discord_))
            alerted = alerted || text_of(m.json).find("of your traffic") != std::string::npos;
        EXPECT_TRUE(alerted);
        (void)customer;
    });
}

TEST_F(BotE2EAnnouncements, OnlyOptedInCustomersGetDmsAndClosedDmsCountAsFailedOnce) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        for (const auto user : {kFriend, kThird, kQuiet}) discord_->add_member(kGuild, user, {});
        for (const auto user : {kCustomer, kFriend, kThird}) co_await opt_in(user);
        co_await click(kQuiet, 0, "panel:account");  // known to the bot, DMs left off
        discord_->close_dms(kThird);

        json data = announce_send("all", "New servers in Paris");
        const json preview = co_await interact(2, kAdmin, kAdminRole, std::move(data));
        EXPECT_NE(text_of(preview).find("DMs: 3 "), std::string::npos) << preview.dump();
        EXPECT_NE(text_of(preview).find("without a mention"), std::string::npos) << preview.dump();
        const std::string confirm = button_id(preview, "announce:[0-9]+:confirm");
        co_await click(kAdmin, kAdminRole, confirm);
        const auto posts = messages_in(kAnnounceChannel);
        CO_ASSERT_EQ(posts.size(), 1u);
        EXPECT_EQ(posts[0].json.value("content", "").find("<@"), std::string::npos) << posts[0].json.dump();
        EXPECT_EQ(posts[0].json["allowed_mentions"]["parse"], json::array());

        co_await run_announcements();
        EXPECT_EQ(announcement_dms_to(*discord_, kCustomer).size(), 1u);
        EXPECT_EQ(announcement_dms_to(*discord_, kFriend).size(), 1u);
        EXPECT_TRUE(announcement_dms_to(*discord_, kQuiet).empty());
        const auto tried = announcement_dms_to(*discord_, kThird);
        CO_ASSERT_EQ(tried.size(), 1u);
        EXPECT_NE(tried[0].response_body.find("50007"), std::string::npos);
        co_await run_announcements();
        EXPECT_EQ(announcement_dms_to(*discord_, kThird).size(), 1u) << "a closed DM is not tried again";
        const std::string progress = co_await status();
        EXPECT_NE(progress.find("Sent: 2 · failed: 1 · remaining: 0"), std::string::npos) << progress;
    });
}

TEST_F(BotE2EAnnouncements, A429IsWaitedOutAsDiscordSaysAndTheDmGoesOnceAfterIt) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        co_await opt_in(kCustomer);
        co_await announce_and_confirm("all", "Rate limited hello");
        // Discord answers the DM with a 429 asking for 50 ms: the REST client waits, then sends.
        discord_->script("POST /channels/[0-9]+/messages",
                         {429,
                          {{"Retry-After", "1"}, {"X-RateLimit-Scope", "user"}},
                          R"({"message":"You are being rate limited.","retry_after":0.05,"global":false})"});
        co_await run_announcements();
        const auto dms = announcement_dms_to(*discord_, kCustomer);
        CO_ASSERT_EQ(dms.size(), 2u);  // the refused attempt and the one after the wait
        EXPECT_EQ(dms[0].status, 429);
        EXPECT_EQ(dms[1].status, 200);
        co_await run_announcements();
        EXPECT_EQ(announcement_dms_to(*discord_, kCustomer).size(), 2u);
        const std::string progress = co_await status();
        EXPECT_NE(progress.find("Sent: 1 · failed: 0 · remaining: 0"), std::string::npos) << progress;
    });
}

TEST_F(BotE2EAnnouncements, BadInputIsRefusedWithTheReasonAndNothingIsQueued) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        co_await opt_in(kCustomer);
        // Built before each co_await: g++ 12 cannot keep an initializer list across one.
        json no_server_options = json::array({option("audience", 3, "server"), option("message", 3, "Hi")});
        const std::string no_server = co_await send_announce(std::move(no_server_options));
        EXPECT_NE(no_server.find("name a server"), std::string::npos) << no_server;
        json stray_options = json::array(
            {option("audience", 3, "all"), option("message", 3, "Hi"), option("server", 3, "Frankfurt-1")});
        const std::string stray = co_await send_announce(std::move(stray_options));
        EXPECT_NE(stray.find("name a server"), std::string::npos) << stray;
        json unknown_options = json::array(
            {option("audience", 3, "server"), option("message", 3, "Hi"), option("server", 3, "Mars-9")});
        const std::string unknown = co_await send_announce(std::move(unknown_options));
        EXPECT_NE(unknown.find("no server matches"), std::string::npos) << unknown;
        json empty_options = json::array({option("audience", 3, "all"), option("message", 3, "   ")});
        const std::string empty = co_await send_announce(std::move(empty_options));
        EXPECT_NE(empty.find("the message is empty"), std::string::npos) << empty;
        json everyone_options = json::array({option("audience", 3, "everyone"), option("message", 3, "Hi")});
        const std::string everyone = co_await send_announce(std::move(everyone_options));
        EXPECT_NE(everyone.find("audience must be"), std::string::npos) << everyone;
        // A server audience, by name: its customers (none with an account here) and no mention.
        json server_options = json::array({option("audience", 3, "server"), option("message", 3, "Hi"),
                                           option("server", 3, "Frankfurt-1")});
        const std::string on_server = co_await send_announce(std::move(server_options));
        EXPECT_NE(on_server.find("customers on Frankfurt-1"), std::string::npos) << on_server;
        EXPECT_NE(on_server.find("DMs: 0 "), std::string::npos) << on_server;
        EXPECT_TRUE(messages_in(kAnnounceChannel).empty());
        const auto queued = co_await ctx().db.run([](bot::db::Connection& c) {
            return c.scalar<std::int64_t>("SELECT COUNT(*) FROM announcement_recipients").value_or(-1);
        });
        EXPECT_EQ(queued, 0);
    });
}

class BotE2EAnnouncementsSlow : public BotE2EAnnouncements {
  protected:
    BotE2EAnnouncementsSlow() { announce_per_run_ = 1; }
};

TEST_F(BotE2EAnnouncementsSlow, TheAdminCancelsAnAnnouncementMidwayAndTheRestIsDroppedAndAudited) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        for (const auto user : {kFriend, kThird}) discord_->add_member(kGuild, user, {});
        for (const auto user : {kCustomer, kFriend, kThird}) co_await opt_in(user);
        const auto id = co_await announce_and_confirm("all", "Prices change on Monday");
        co_await run_announcements();
        const std::string progress = co_await status();
        EXPECT_NE(progress.find("Sent: 1 · failed: 0 · remaining: 2"), std::string::npos) << progress;
        const std::string cancel = "announce:" + std::to_string(id) + ":cancel";
        EXPECT_NE(progress.find(cancel), std::string::npos) << progress;
        const json cancelled = co_await click(kAdmin, kAdminRole, cancel);
        EXPECT_NE(text_of(cancelled).find("cancelled"), std::string::npos) << cancelled.dump();
        EXPECT_NE(text_of(cancelled).find("dropped: 2"), std::string::npos) << cancelled.dump();
        co_await run_announcements();
        co_await run_announcements();
        std::size_t sent = 0;
        for (const auto user : {kCustomer, kFriend, kThird})
            sent += announcement_dms_to(*discord_, user).size();
        EXPECT_EQ(sent, 1u);
        const auto actions = co_await ctx().db.run([&](bot::db::Connection& c) {
            std::vector<std::string> out;
            for (const auto& r : bot::domain::audit_for(c, "announcement", std::to_string(id)))
                out.push_back(r.entry.action);
            return out;
        });
        EXPECT_EQ(actions, (std::vector<std::string>{"announcement.created", "announcement.confirmed",
                                                     "announcement.cancelled"}));
    });
}

class BotE2EAnnouncementsInTwos : public BotE2EAnnouncements {
  protected:
    BotE2EAnnouncementsInTwos() { announce_per_run_ = 2; }
};

// The bot stops with DMs left to send, one of them sent but not marked (as a crash between the
// two would leave it): the restarted bot sends the rest at start-up and nobody gets two.
TEST_F(BotE2EAnnouncementsInTwos, ARestartMidSendResumesWithoutSendingAnyoneTwice) {
    const std::vector<std::uint64_t> customers{kCustomer, kFriend, kThird, kQuiet, kStranger};
    std::int64_t id = 0;
    discord::testing::run(io_, [&]() -> asio::awaitable<void> {
        for (const auto user : customers)
            if (user != kCustomer) discord_->add_member(kGuild, user, {});
        for (const auto user : customers) co_await opt_in(user);
        id = co_await announce_and_confirm("all", "We moved to a faster network");
        co_await run_announcements();
        std::size_t sent = 0;
        for (const auto user : customers) sent += announcement_dms_to(*discord_, user).size();
        EXPECT_EQ(sent, 2u);
        // The next row was claimed and its DM sent when the bot stopped, before it was marked.
        co_await ctx().db.run([&](bot::db::Connection& c) {
            c.exec(
                "UPDATE announcement_recipients SET status = 'sending', claimed_at = ?, attempts = 1 WHERE "
                "user_id = (SELECT MIN(user_id) FROM announcement_recipients WHERE status = 'pending')",
                bot::domain::to_timestamp(clock_.now()) - std::chrono::hours(1));
        });
    });
    bot_.shut_down();
    io_.restart();
    ASSERT_TRUE(bot_.create(config_, clock_));
    bot_.start();
    discord::testing::run(io_, [&]() -> asio::awaitable<void> {
        co_await until([&] {
            return bot_.done() || (bot_->started() && discord_->gateway().frames_with_op(2).size() >= 2);
        });
        CO_ASSERT_TRUE(!bot_.done());
        // The start-up run of the announcements job resumes; the next run finds nothing left.
        co_await run_announcements();
        std::size_t sent = 0;
        for (const auto user : customers) {
            const auto dms = announcement_dms_to(*discord_, user).size();
            EXPECT_LE(dms, 1u) << "customer " << user;
            sent += dms;
        }
        EXPECT_EQ(sent, 4u) << "two before the stop, the one in doubt counted as sent, two after";
        const std::string progress = co_await status();
        EXPECT_NE(progress.find("Sent: 5 · failed: 0 · remaining: 0"), std::string::npos) << progress;
    });
}

TEST_F(BotE2EAnnouncements, AnArabicCustomerGetsTheToggleTheDmAndItsButtonInArabic) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        locales_[kCustomer] = "ar";
        const json mine = co_await click(kCustomer, 0, "panel:account");
        EXPECT_NE(text_of(mine).find("الإعلانات بالرسائل الخاصة: متوقفة"), std::string::npos) << mine.dump();
        const json on = co_await click(kCustomer, 0, "announce_dm:on");
        EXPECT_NE(text_of(on).find("تم تفعيل الإعلانات"), std::string::npos) << on.dump();
        co_await announce_and_confirm("all", "صيانة الليلة");
        co_await run_announcements();
        const auto dms = announcement_dms_to(*discord_, kCustomer);
        CO_ASSERT_EQ(dms.size(), 1u);
        EXPECT_NE(text_of(dms[0].json).find("صيانة الليلة"), std::string::npos);
        EXPECT_NE(text_of(dms[0].json).find("إيقاف الإعلانات"), std::string::npos) << dms[0].json.dump();
        const json stopped = co_await click_in_dm(kCustomer, "announce_stop");
        EXPECT_NE(text_of(stopped).find("لن تصلك الإعلانات"), std::string::npos) << stopped.dump();
    });
}

// ---- a choice of location and moving accounts (two panels in two locations) ----

class BotE2ETwoLocations : public BotE2E {
  protected:
    void SetUp() override {
        BotE2E::SetUp();
        if (HasFatalFailure()) return;
        discord::testing::run(io_, [this]() -> asio::awaitable<void> {
            auto& c = ctx();
            co_await c.db.run([&](bot::db::Connection& connection) {
                auto server = c.catalog.create_server(
                    connection, bot::domain::DiscordId{100000000000000001ULL},
                    {"Cairo-1", "Egypt", "https://127.0.0.1:" + std::to_string(cairo_.port),
                     testing::kGatewayKey, cairo_.cert.sha256, 1, 100, 1});
                EXPECT_TRUE(server.has_value()) << server.error().message;
                if (server) cairo_id_ = server->id.value;
            });
        });
    }

    /// Buy, the plan, then `location` ("any" or "=<name>") from the location select; the method.
    asio::awaitable<std::pair<std::int64_t, std::uint64_t>> buy_in(std::string location,
                                                                   std::uint64_t user = kCustomer) {
        co_await click(user, 0, "panel:buy");
        const json offered = co_await click(user, 0, "buy_plan", std::to_string(plan_id_));
        EXPECT_NE(text_of(offered).find("buy_loc:" + std::to_string(plan_id_)), std::string::npos)
            << offered.dump();
        co_await click(user, 0, "buy_loc:" + std::to_string(plan_id_), location);
        const std::int64_t id = co_await latest_order_id();
        auto placed = co_await order(id);
        EXPECT_TRUE(placed && placed->channel_id);
        co_await click(user, 0, "pay_method:" + std::to_string(id), std::to_string(method_id_));
        co_return std::make_pair(id, placed->channel_id.value_or(bot::domain::DiscordId{}).value());
    }

    asio::awaitable<json> move_command(std::int64_t account, std::string server) {
        json options = json::array({{{"name", "account"}, {"type", 3}, {"value", std::to_string(account)}},
                                    {{"name", "server"}, {"type", 3}, {"value", server}}});
        json move{{"name", "move"}, {"type", 1}, {"options", options}};
        json group{{"name", "account"}, {"type", 2}, {"options", json::array({move})}};
        json data{
            {"id", "840000000000000001"}, {"name", "admin"}, {"type", 1}, {"options", json::array({group})}};
        co_return co_await interact(2, kAdmin, kAdminRole, std::move(data));
    }

    /// A customer's account on Frankfurt-1 (Germany), bought and approved.
    asio::awaitable<bot::domain::Account> account_in_germany() {
        auto [id, channel] = co_await buy_in("=Germany");
        co_await pay_and_upload(channel, 'm');
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        auto all = co_await accounts();
        EXPECT_EQ(all.size(), 1u);
        co_return all.empty() ? bot::domain::Account{} : all.front();
    }

    testing::GatewayHarness cairo_{fakes::FakePanelOptions{}};
    std::int64_t cairo_id_ = 0;
};

TEST_F(BotE2ETwoLocations, TheCustomerPicksALocationAndTheAccountIsMadeThere) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        co_await click(kCustomer, 0, "panel:buy");
        const json offered = co_await click(kCustomer, 0, "buy_plan", std::to_string(plan_id_));
        const std::string text = text_of(offered);
        EXPECT_NE(text.find("Where should your server be?"), std::string::npos) << text;
        EXPECT_NE(text.find("Any (fastest available)"), std::string::npos);
        EXPECT_NE(text.find("=Egypt"), std::string::npos);
        EXPECT_NE(text.find("=Germany"), std::string::npos);
        EXPECT_EQ(co_await latest_order_id(), 0);  // nothing ordered before the location is picked

        co_await click(kCustomer, 0, "buy_loc:" + std::to_string(plan_id_), "=Egypt");
        const std::int64_t id = co_await latest_order_id();
        auto placed = co_await order(id);
        CO_ASSERT_TRUE(placed && placed->channel_id);
        EXPECT_EQ(placed->location, std::string("Egypt"));
        co_await click(kCustomer, 0, "pay_method:" + std::to_string(id), std::to_string(method_id_));
        co_await pay_and_upload(placed->channel_id->value(), 'l');
        // The review card tells the admins where the customer wants the account.
        const auto cards = messages_in(kReviewChannel);
        CO_ASSERT_TRUE(!cards.empty());
        EXPECT_NE(text_of(cards.back().json).find(R"("name":"Location","value":"Egypt")"), std::string::npos)
            << cards.back().json.dump();
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");

        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);
        EXPECT_TRUE(cairo_.panel->client("nl-" + std::to_string(id)).has_value());
        EXPECT_FALSE(gateway_.panel->client("nl-" + std::to_string(id)).has_value());
        const auto all = co_await accounts();
        CO_ASSERT_EQ(all.size(), 1u);
        EXPECT_EQ(all.front().server_id.value, cairo_id_);
        const json mine = co_await click(kCustomer, 0, "panel:account");
        EXPECT_NE(text_of(mine).find("Cairo-1"), std::string::npos);
        // A forged value is refused without an order.
        const json forged = co_await click(kStranger, 0, "buy_loc:" + std::to_string(plan_id_), "Egypt");
        EXPECT_NE(text_of(forged).find("out of date"), std::string::npos) << forged.dump();
    });
}

TEST_F(BotE2ETwoLocations, AnArabicCustomerChoosesInArabicAndAnyTakesTheLeastLoaded) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        // Germany already has an account: Egypt is the least loaded.
        co_await account_in_germany();
        locales_[kStranger] = "ar";
        discord_->add_member(kGuild, kStranger, {});
        co_await click(kStranger, 0, "panel:buy");
        const json offered = co_await click(kStranger, 0, "buy_plan", std::to_string(plan_id_));
        EXPECT_NE(text_of(offered).find("أي موقع (الأسرع المتاح)"), std::string::npos) << offered.dump();
        expect_arabic(offered, {"Monthly 50 GB", "Egypt", "Germany", "GB"}, "location choice");
        co_await click(kStranger, 0, "buy_loc:" + std::to_string(plan_id_), "any");
        const std::int64_t id = co_await latest_order_id();
        auto placed = co_await order(id);
        CO_ASSERT_TRUE(placed && placed->channel_id);
        EXPECT_FALSE(placed->location.has_value());
        co_await click(kStranger, 0, "pay_method:" + std::to_string(id), std::to_string(method_id_));
        co_await post(placed->channel_id->value(), kStranger, 0, "", png_bytes('a'), "image/png");
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        EXPECT_TRUE(cairo_.panel->client("nl-" + std::to_string(id)).has_value());
    });
}

TEST_F(BotE2ETwoLocations, AChosenLocationThatFilledUpBeforeApprovalFallsBackAndEveryoneIsTold) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        auto [id, channel] = co_await buy_in("=Egypt");
        co_await pay_and_upload(channel, 'f');
        // Egypt is taken out of service while the order waits for review.
        co_await ctx().db.run([&](bot::db::Connection& c) {
            EXPECT_TRUE(ctx().catalog.set_server_enabled(c, bot::domain::DiscordId{100000000000000001ULL},
                                                         bot::domain::ServerId{cairo_id_}, false));
        });
        co_await click(kAdmin, kAdminRole, "review:" + std::to_string(id) + ":approve");
        EXPECT_EQ((co_await order(id))->status, bot::domain::OrderStatus::fulfilled);
        EXPECT_TRUE(gateway_.panel->client("nl-" + std::to_string(id)).has_value());
        EXPECT_FALSE(cairo_.panel->client("nl-" + std::to_string(id)).has_value());
        bool told = false;
        for (const auto& m : messages_in(channel))
            told = told || text_of(m.json).find("Egypt** was full") != std::string::npos;
        EXPECT_TRUE(told);
        const auto billing = messages_in(kBillingChannel);
        CO_ASSERT_EQ(billing.size(), 1u);
        EXPECT_NE(text_of(billing.front().json).find("Egypt was full, placed in Germany"), std::string::npos)
            << billing.front().json.dump();
    });
}

TEST_F(BotE2ETwoLocations, AStaleLocationIsOfferedAgainOrLeftToTheBalancer) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        co_await click(kCustomer, 0, "panel:buy");
        co_await click(kCustomer, 0, "buy_plan", std::to_string(plan_id_));
        // Egypt fills up (disabled here) between the list and the pick: one location is left,
        // so the order goes to the least loaded server with room.
        co_await ctx().db.run([&](bot::db::Connection& c) {
            EXPECT_TRUE(ctx().catalog.set_server_enabled(c, bot::domain::DiscordId{100000000000000001ULL},
                                                         bot::domain::ServerId{cairo_id_}, false));
        });
        co_await click(kCustomer, 0, "buy_loc:" + std::to_string(plan_id_), "=Egypt");
        auto placed = co_await order(co_await latest_order_id());
        CO_ASSERT_TRUE(placed.has_value());
        EXPECT_FALSE(placed->location.has_value());
    });
}

TEST_F(BotE2ETwoLocations, AnAdminMovesAnAccountTheNewLinkArrivesFirstThenTheOldClientGoes) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        const auto before = co_await account_in_germany();
        CO_ASSERT_TRUE(gateway_.panel->client(before.client_email).has_value());
        const auto dms_before = direct_messages(*discord_).size();

        const json reply = co_await move_command(before.id.value, "Cairo-1");
        EXPECT_NE(text_of(reply).find("moved to **Cairo-1**"), std::string::npos) << reply.dump();
        const auto after = (co_await accounts()).front();
        EXPECT_EQ(after.server_id.value, cairo_id_);
        EXPECT_EQ(after.client_email, before.client_email + "-m1");
        EXPECT_EQ(after.expires_at, before.expires_at);
        auto created = cairo_.panel->client(after.client_email);
        CO_ASSERT_TRUE(created.has_value());
        EXPECT_EQ((*created)["id"], after.client_uuid);
        EXPECT_FALSE(gateway_.panel->client(before.client_email).has_value());
        // The customer got the new link, QR code and subscription URL by DM.
        const auto dms = direct_messages(*discord_);
        CO_ASSERT_EQ(dms.size(), dms_before + 1);
        const std::string text = text_of(dms.back().json);
        EXPECT_NE(text.find("Your account has moved"), std::string::npos) << text;
        EXPECT_NE(text.find("vless://"), std::string::npos);
        EXPECT_NE(text.find("Subscription URL"), std::string::npos);
        CO_ASSERT_EQ(dms.back().files.size(), 1u);
        EXPECT_EQ(dms.back().files.front().filename, "qr.png");
        // Audited.
        const bool audited = co_await ctx().db.run([](bot::db::Connection& c) {
            return c.scalar<std::int64_t>("SELECT COUNT(*) FROM audit_logs WHERE action = 'account.moved'")
                       .value_or(0) == 1;
        });
        EXPECT_TRUE(audited);
        // Moving it onto the server it is on is refused with the reason.
        const json again = co_await move_command(before.id.value, "Cairo-1");
        EXPECT_NE(text_of(again).find("on Cairo-1 already"), std::string::npos) << again.dump();
    });
}

TEST_F(BotE2ETwoLocations, AMoveCutShortByACrashOrAnOutageIsFinishedOnceByTheResumer) {
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        const auto before = co_await account_in_germany();
        // A process that stopped right after the switch: the new client exists and the account
        // points at it; the customer was not told and the old client is still there.
        bot::domain::AccountMover mover(ctx().db, ctx().gateways, ctx().catalog, ctx().clock);
        auto move = co_await mover.start(before.id, bot::domain::ServerId{cairo_id_},
                                         bot::domain::DiscordId{100000000000000001ULL});
        CO_ASSERT_TRUE(move.has_value());
        CO_ASSERT_TRUE((co_await mover.create(move->id)).has_value());
        const auto dms_before = direct_messages(*discord_).size();
        // And the old panel is unreachable at first.
        gateway_.panel->set_down(true);
        EXPECT_EQ(co_await bot::notify::resume_account_moves(ctx()), 0);
        EXPECT_EQ(direct_messages(*discord_).size(), dms_before + 1);  // told while the old one is down
        EXPECT_TRUE(gateway_.panel->client(before.client_email).has_value());
        gateway_.panel->set_down(false);
        EXPECT_EQ(co_await bot::notify::resume_account_moves(ctx()), 1);
        EXPECT_EQ(co_await bot::notify::resume_account_moves(ctx()), 0);  // nothing left
        EXPECT_FALSE(gateway_.panel->client(before.client_email).has_value());
        EXPECT_EQ(direct_messages(*discord_).size(), dms_before + 1);  // told once
        EXPECT_TRUE(cairo_.panel->client(move->new_client_email).has_value());
        const auto state = co_await ctx().db.run(
            [&](bot::db::Connection& c) { return bot::domain::moves::get(c, move->id)->state; });
        EXPECT_EQ(state, bot::domain::MoveState::done);
    });
}

}  // namespace
}  // namespace nebula::e2e
