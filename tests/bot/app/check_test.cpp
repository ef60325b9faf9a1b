// nebula-bot operations: the invite URL's permission bits, the metrics (scraped over a real
// port, orders counted through the DbExecutor) and `check` against the fake Discord and a real
// gateway in front of the fake panel, healthy and with each dependency broken.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <tuple>

#include "bot/app/bot_metrics.hpp"
#include "bot/app/check.hpp"
#include "bot/app/invite.hpp"
#include "bot/db/migrations.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/discord_layout.hpp"
#include "bot/domain/orders.hpp"
#include "bot/domain/users.hpp"
#include "bot/handlers/admin_commands.hpp"
#include "bot/support/test_database.hpp"
#include "common/http_client.hpp"
#include "fakes/discord/fake_discord.hpp"
#include "integration/gateway/gateway_harness.hpp"
#include "support/io_thread.hpp"

namespace nebula::bot::app {
namespace {

// ---- invite-url ----

constexpr std::uint64_t kViewChannel = 1ULL << 10;
constexpr std::uint64_t kSendMessages = 1ULL << 11;
constexpr std::uint64_t kManageMessages = 1ULL << 13;
constexpr std::uint64_t kEmbedLinks = 1ULL << 14;
constexpr std::uint64_t kAttachFiles = 1ULL << 15;
constexpr std::uint64_t kReadMessageHistory = 1ULL << 16;
constexpr std::uint64_t kManageChannels = 1ULL << 4;
constexpr std::uint64_t kManageRoles = 1ULL << 28;

TEST(InviteUrl, AsksForExactlyTheNeededBitsWithoutTheSubscriberRole) {
    const std::uint64_t expected = kViewChannel | kSendMessages | kManageMessages | kEmbedLinks |
                                   kAttachFiles | kReadMessageHistory | kManageChannels;
    EXPECT_EQ(required_permissions(false), expected);
    EXPECT_EQ(expected, 125968u);
    EXPECT_EQ(required_permissions(false) & kManageRoles, 0u);
    // Nothing dangerous: no Administrator (1 << 3), Manage Guild (1 << 5), Ban or Kick.
    EXPECT_EQ(required_permissions(true) & ((1ULL << 3) | (1ULL << 5) | (1ULL << 1) | (1ULL << 2)), 0u);
}

TEST(InviteUrl, AddsManageRolesOnlyWithTheSubscriberRole) {
    EXPECT_EQ(required_permissions(true), required_permissions(false) | kManageRoles);
    EXPECT_EQ(required_permissions(true), 268561424u);
}

TEST(InviteUrl, CarriesTheClientIdScopesAndPermissions) {
    const discord::Snowflake id(900000000000000001ULL);
    EXPECT_EQ(invite_url(id, false),
              "https://discord.com/oauth2/authorize?client_id=900000000000000001&permissions=125968"
              "&scope=bot%20applications.commands");
    EXPECT_NE(invite_url(id, true).find("&permissions=268561424&"), std::string::npos);
}

// ---- metrics ----

class BotMetricsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        database_ = testing::TestDatabase::create(db::Backend::sqlite);
        auto connection = database_->connect();
        ASSERT_TRUE(db::migrate(*connection));
        auto executor = db::DbExecutor::open(database_->url(), 1);
        ASSERT_TRUE(executor) << executor.error();
        db_ = std::move(*executor);
        metrics_ = std::make_unique<BotMetrics>(*db_);
    }
    void TearDown() override {
        io_.call([&] { metrics_.reset(); });
    }

    std::string scrape() {
        if (metrics_->port() == 0) {
            auto served = io_.call([&] { return metrics_->serve(io_.executor(), "127.0.0.1", 0); });
            if (!served) throw std::runtime_error(served.error());
        }
        common::http::ClientOptions o;
        o.base = *common::http::Url::parse("http://127.0.0.1:" + std::to_string(metrics_->port()));
        auto client = std::move(*common::http::Client::create(io_.executor(), o));
        common::http::Request r;
        r.method = "GET";
        r.target = "/metrics";
        auto response = io_.run(client->send(std::move(r)));
        io_.call([&] { client.reset(); });
        if (!response || response->status != 200) throw std::runtime_error("scrape failed");
        return response->body;
    }

    /// `count` orders placed by distinct customers, then `cancelled` of them cancelled.
    void place_orders(int count, int cancelled) {
        common::ManualClock clock{std::chrono::system_clock::now()};
        domain::UserService users(clock);
        domain::CatalogService catalog(clock);
        domain::OrderService orders(clock, domain::OrderOptions{});
        auto c = database_->connect();
        auto plan = catalog.create_plan(
            *c, domain::Actor::system(),
            domain::PlanInput{"Monthly", 30, 0, 1, domain::Piasters::from_pounds(100), 0});
        ASSERT_TRUE(plan);
        for (int i = 0; i < count; ++i) {
            auto user = users.ensure(*c, domain::DiscordId{830000000000000100ULL + static_cast<unsigned>(i)},
                                     "customer");
            auto placed = orders.place(*c, user.id, plan->id);
            ASSERT_TRUE(placed);
            if (i < cancelled) {
                ASSERT_TRUE(orders.cancel(*c, placed->order.id, user.id));
            }
        }
    }

    std::unique_ptr<testing::TestDatabase> database_;
    // Before db_: the database threads hand their last results to this io_context, so they must
    // be joined (db_ destroyed) while it still exists.
    nebula::testing::IoThread io_;
    std::unique_ptr<db::DbExecutor> db_;
    std::unique_ptr<BotMetrics> metrics_;
};

TEST_F(BotMetricsTest, OrdersByStatusAreQueriedAtEachScrape) {
    auto first = scrape();
    EXPECT_NE(first.find("# TYPE nebula_bot_orders gauge\n"), std::string::npos) << first;
    EXPECT_NE(first.find("nebula_bot_orders{status=\"awaiting_payment\"} 0\n"), std::string::npos) << first;

    place_orders(3, 1);
    auto second = scrape();
    EXPECT_NE(second.find("nebula_bot_orders{status=\"awaiting_payment\"} 2\n"), std::string::npos) << second;
    EXPECT_NE(second.find("nebula_bot_orders{status=\"cancelled\"} 1\n"), std::string::npos) << second;
    EXPECT_NE(second.find("nebula_bot_orders{status=\"fulfilled\"} 0\n"), std::string::npos) << second;
}

TEST_F(BotMetricsTest, CountsInteractionsByTypeAndMirrorsJobCounts) {
    auto interaction = [](discord::InteractionType type) {
        discord::Event event;
        event.name = "INTERACTION_CREATE";
        discord::Interaction i;
        i.type = type;
        event.typed = i;
        return event;
    };
    metrics_->count_event(interaction(discord::InteractionType::application_command));
    metrics_->count_event(interaction(discord::InteractionType::message_component));
    metrics_->count_event(interaction(discord::InteractionType::message_component));
    discord::Event other;
    other.name = "GUILD_MEMBER_ADD";
    metrics_->count_event(other);

    std::vector<JobCounts> jobs{
        {"expiry", 5, 1, 2, false, std::chrono::milliseconds(250), std::chrono::milliseconds(1500)}};
    metrics_->watch_jobs([&] { return jobs; });
    auto text = scrape();
    EXPECT_NE(text.find("nebula_bot_interactions_total{type=\"application_command\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("nebula_bot_interactions_total{type=\"message_component\"} 2\n"), std::string::npos);
    EXPECT_EQ(text.find("GUILD_MEMBER_ADD"), std::string::npos);
    EXPECT_NE(text.find("nebula_bot_job_runs_total{job=\"expiry\",result=\"ok\"} 4\n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("nebula_bot_job_runs_total{job=\"expiry\",result=\"failed\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("nebula_bot_job_skipped_total{job=\"expiry\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("nebula_bot_job_duration_seconds_total{job=\"expiry\"} 1.5\n"), std::string::npos);
    EXPECT_NE(text.find("nebula_bot_job_last_duration_seconds{job=\"expiry\"} 0.25\n"), std::string::npos);

    jobs[0].runs = 6;
    EXPECT_NE(scrape().find("nebula_bot_job_runs_total{job=\"expiry\",result=\"ok\"} 5\n"),
              std::string::npos);
}

TEST_F(BotMetricsTest, RefusesANonLoopbackBind) {
    auto served = io_.call([&] { return metrics_->serve(io_.executor(), "0.0.0.0", 0); });
    ASSERT_FALSE(served);
    EXPECT_NE(served.error().find("loopback"), std::string::npos);
    EXPECT_EQ(metrics_->port(), 0);
}

// ---- check ----

class BotCheck : public ::testing::Test {
  protected:
    static constexpr std::uint64_t kGuild = 800000000000000001ULL;
    static constexpr std::uint64_t kOwner = 810000000000000099ULL;
    static constexpr std::uint64_t kBotRole = 860000000000000001ULL;
    static constexpr std::uint64_t kAdminRole = 860000000000000002ULL;
    static constexpr std::uint64_t kSubscriberRole = 860000000000000003ULL;
    static constexpr std::uint64_t kReview = 870000000000000001ULL;
    static constexpr std::uint64_t kBilling = 870000000000000002ULL;
    static constexpr std::uint64_t kPanel = 870000000000000003ULL;
    static constexpr std::uint64_t kCategory = 870000000000000004ULL;
    static constexpr std::uint64_t kElsewhere = 870000000000000005ULL;

    static nlohmann::json role(std::uint64_t id, const std::string& name, std::uint64_t permissions,
                               int position) {
        return {{"id", std::to_string(id)},
                {"name", name},
                {"permissions", std::to_string(permissions)},
                {"position", position}};
    }
    static nlohmann::json channel(std::uint64_t id, const std::string& name, int type,
                                  nlohmann::json overwrites, std::uint64_t guild = kGuild) {
        return {{"id", std::to_string(id)},
                {"guild_id", std::to_string(guild)},
                {"name", name},
                {"type", type},
                {"permission_overwrites", std::move(overwrites)}};
    }
    static nlohmann::json overwrite(std::uint64_t id, std::uint64_t allow, std::uint64_t deny) {
        return {{"id", std::to_string(id)},
                {"type", 0},
                {"allow", std::to_string(allow)},
                {"deny", std::to_string(deny)}};
    }
    /// The shop's server as a reseller sets it up: a bot role with what invite-url asks for,
    /// roles below it, and a review channel hidden from @everyone but open to admins and the bot.
    void seed_guild(std::uint64_t bot_permissions, int subscriber_position) {
        io_.call([&] {
            discord_->add_guild(
                kGuild, "Nebula Shop", kOwner,
                nlohmann::json::array({role(kGuild, "@everyone", kViewChannel | kReadMessageHistory, 0),
                                       role(kBotRole, "NebulaLinks", bot_permissions, 5),
                                       role(kAdminRole, "Admins", 0, 4),
                                       role(kSubscriberRole, "Subscriber", 0, subscriber_position)}));
            discord_->add_member(kGuild, discord_->options().bot_user_id, {kBotRole});
            discord_->add_channel(channel(kReview, "review", 0,
                                          nlohmann::json::array({overwrite(kGuild, 0, kViewChannel),
                                                                 overwrite(kAdminRole, kViewChannel, 0),
                                                                 overwrite(kBotRole, kViewChannel, 0)})));
            discord_->add_channel(channel(kBilling, "billing", 0, nlohmann::json::array()));
            discord_->add_channel(channel(kPanel, "vpn-shop", 0, nlohmann::json::array()));
            discord_->add_channel(channel(kCategory, "Orders", 4, nlohmann::json::array()));
            discord_->add_channel(channel(kElsewhere, "general", 0, nlohmann::json::array(), kGuild + 1));
        });
    }

    void SetUp() override {
        database_ = testing::TestDatabase::create(db::Backend::sqlite);
        auto fake = io_.call([&] { return fakes::discord::FakeDiscord::create(io_.executor()); });
        ASSERT_TRUE(fake) << fake.error();
        discord_ = std::move(*fake);
        gateway_ = std::make_unique<nebula::testing::GatewayHarness>(fakes::FakePanelOptions{});

        config_.discord_token = discord_->options().token;
        config_.discord_api_base = discord_->api_base();
        config_.database = database_->url();
        config_.default_server.gateway_url = "https://127.0.0.1:" + std::to_string(gateway_->port);
        config_.default_server.key = nebula::testing::kGatewayKey;
        config_.default_server.tls_pin_sha256 = gateway_->cert.sha256;
        config_.default_server.name = "Frankfurt-1";
        config_.shop.application_id = discord::Snowflake(discord_->options().application_id);
        config_.shop.guild_id = discord::Snowflake(kGuild);
        config_.shop.admin_role_id = discord::Snowflake(kAdminRole);
        config_.shop.subscriber_role_id = discord::Snowflake(kSubscriberRole);
        config_.shop.review_channel_id = discord::Snowflake(kReview);
        config_.shop.billing_channel_id = discord::Snowflake(kBilling);
        config_.shop.main_panel_channel_id = discord::Snowflake(kPanel);
        config_.shop.orders_category_id = discord::Snowflake(kCategory);
        seed_guild(required_permissions(true), 1);
    }
    void TearDown() override {
        gateway_.reset();
        if (discord_) {
            io_.call([&] { discord_->stop(); });
            io_.call([&] { discord_.reset(); });
        }
    }

    void migrate() { ASSERT_TRUE(db::migrate(*database_->connect())); }

    std::vector<CheckResult> run() { return check_bot(config_, clock_); }

    /// What the bot does when it starts: registers its commands in the server (/admin for
    /// Manage Server) with its token.
    void register_commands() {
        discord::RestOptions options;
        options.api_base = discord_->api_base();
        options.token = discord_->options().token;
        auto rest = io_.call([&] { return discord::RestClient::create(io_.executor(), options, clock_); });
        ASSERT_TRUE(rest) << rest.error();
        const std::vector<discord::Command> commands{
            handlers::admin_command_definition(discord::permissions::kManageGuild)};
        auto put = io_.run((*rest)->bulk_overwrite_guild_commands(
            discord::Snowflake(discord_->options().application_id), discord::Snowflake(kGuild), commands));
        ASSERT_TRUE(put) << put.error().describe();
        io_.call([&] { rest->reset(); });
    }
    /// What the server owner does in Server Settings → Integrations → the bot → /admin.
    void set_admin_overwrites(nlohmann::json permissions) {
        ASSERT_TRUE(
            io_.call([&] { return discord_->set_command_permissions(kGuild, "admin", permissions); }));
    }
    static nlohmann::json role_permission(std::uint64_t role, bool allowed) {
        return {{"id", std::to_string(role)}, {"type", 1}, {"permission", allowed}};
    }

    static const CheckResult& find(const std::vector<CheckResult>& results, std::string_view prefix) {
        auto it = std::find_if(results.begin(), results.end(),
                               [&](const CheckResult& r) { return r.name.starts_with(prefix); });
        if (it == results.end()) throw std::runtime_error("no check named " + std::string(prefix));
        return *it;
    }
    static std::string dump(const std::vector<CheckResult>& results) {
        std::string out;
        for (const auto& r : results) out += format_check(r) + "\n";
        return out;
    }

    common::SystemClock clock_;
    nebula::testing::IoThread io_;
    std::unique_ptr<testing::TestDatabase> database_;
    std::unique_ptr<fakes::discord::FakeDiscord> discord_;
    std::unique_ptr<nebula::testing::GatewayHarness> gateway_;
    BotConfig config_;
};

TEST_F(BotCheck, EverythingReachableIsAllOk) {
    migrate();
    const auto results = run();
    // database, migrations, discord, server, permissions, roles, /admin, four channels, one gateway
    ASSERT_EQ(results.size(), 12u) << dump(results);
    for (const auto& r : results) EXPECT_TRUE(r.ok) << format_check(r);
    EXPECT_NE(find(results, "discord").detail.find(std::to_string(discord_->options().bot_user_id)),
              std::string::npos);
    EXPECT_EQ(find(results, "gateway Frankfurt-1").name,
              "gateway Frankfurt-1 (https://127.0.0.1:" + std::to_string(gateway_->port) + ")");
    EXPECT_TRUE(format_check(results[0]).starts_with("OK   database: "));
}

TEST_F(BotCheck, TheBotsPlaceInTheServerIsChecked) {
    migrate();
    const auto results = run();
    EXPECT_EQ(find(results, "discord server").detail, "Nebula Shop (" + std::to_string(kGuild) + ")");
    EXPECT_NE(find(results, "discord roles").detail.find("@Subscriber"), std::string::npos);
    EXPECT_EQ(find(results, "discord REVIEW_CHANNEL_ID").detail, "#review (" + std::to_string(kReview) + ")")
        << "hidden from @everyone, open to the bot's role";
    EXPECT_TRUE(find(results, "discord ORDERS_CATEGORY_ID").ok) << dump(results);
}

TEST_F(BotCheck, DiscordSetupMistakesAreNamedWithTheirFix) {
    migrate();
    // The bot's role lacks Manage Channels, and the Subscriber role sits above it.
    seed_guild(required_permissions(true) & ~kManageChannels, 9);
    // The review channel no longer lets the bot's role in; billing points at another server's
    // channel; the orders "category" is a text channel.
    io_.call([&] {
        discord_->add_channel(channel(kReview, "review", 0,
                                      nlohmann::json::array({overwrite(kGuild, 0, kViewChannel),
                                                             overwrite(kAdminRole, kViewChannel, 0)})));
    });
    config_.shop.billing_channel_id = discord::Snowflake(kElsewhere);
    config_.shop.orders_category_id = discord::Snowflake(kPanel);
    const auto results = run();
    const auto& permissions = find(results, "discord permissions");
    EXPECT_FALSE(permissions.ok);
    EXPECT_NE(permissions.detail.find("lack Manage Channels —"), std::string::npos) << permissions.detail;
    const auto& roles = find(results, "discord roles");
    EXPECT_FALSE(roles.ok);
    EXPECT_NE(roles.detail.find("drag the bot's role above it"), std::string::npos) << roles.detail;
    const auto& review = find(results, "discord REVIEW_CHANNEL_ID");
    EXPECT_FALSE(review.ok);
    EXPECT_NE(review.detail.find("lacks View Channels"), std::string::npos) << review.detail;
    EXPECT_NE(find(results, "discord BILLING_CHANNEL_ID").detail.find("another server"), std::string::npos);
    EXPECT_NE(find(results, "discord ORDERS_CATEGORY_ID").detail.find("is not a category"),
              std::string::npos);
    EXPECT_TRUE(find(results, "discord MAIN_PANEL_CHANNEL_ID").ok) << dump(results);

    // A channel id that is no channel at all.
    config_.shop.main_panel_channel_id = discord::Snowflake(kPanel + 100);
    const auto missing = find(run(), "discord MAIN_PANEL_CHANNEL_ID");
    EXPECT_FALSE(missing.ok);
    EXPECT_NE(missing.detail.find("cannot be read"), std::string::npos) << missing.detail;
}

TEST_F(BotCheck, TheAnnouncementsChannelIsCheckedLikeTheOthersWhenSet) {
    migrate();
    EXPECT_THROW(find(run(), "discord ANNOUNCE_CHANNEL_ID"), std::runtime_error) << "optional: no line unset";
    config_.shop.announce_channel_id = discord::Snowflake(kPanel);
    const auto results = run();
    EXPECT_TRUE(find(results, "discord ANNOUNCE_CHANNEL_ID").ok) << dump(results);
    config_.shop.announce_channel_id = discord::Snowflake(kElsewhere);
    const auto elsewhere = find(run(), "discord ANNOUNCE_CHANNEL_ID");
    EXPECT_FALSE(elsewhere.ok);
    EXPECT_NE(elsewhere.detail.find("another server"), std::string::npos) << elsewhere.detail;
}

TEST_F(BotCheck, SaysWhetherTheAdminRoleCanSeeAdminAndHowToLetIt) {
    migrate();
    // Before the first start: nothing to read yet, and nothing wrong.
    auto before = find(run(), "discord /admin");
    EXPECT_TRUE(before.ok) << before.detail;
    EXPECT_NE(before.detail.find("not registered yet"), std::string::npos) << before.detail;

    // Registered for Manage Server, which @Admins does not grant, and no overwrite (Discord
    // answers 404 / 10066): its members cannot see /admin, and the check says how to fix it.
    register_commands();
    auto hidden = find(run(), "discord /admin");
    EXPECT_FALSE(hidden.ok);
    EXPECT_NE(hidden.detail.find("members of @Admins without Manage Server cannot see /admin"),
              std::string::npos)
        << hidden.detail;
    EXPECT_NE(hidden.detail.find("Server Settings → Integrations → this bot → /admin"), std::string::npos)
        << hidden.detail;
    EXPECT_EQ(discord_->requests_matching("GET /applications/.*/guilds/.*/commands/[0-9]+/permissions")
                  .back()
                  .status,
              404);

    // The one-time step of the docs: /admin allowed for @Admins.
    set_admin_overwrites(nlohmann::json::array({role_permission(kAdminRole, true)}));
    auto allowed = find(run(), "discord /admin");
    EXPECT_TRUE(allowed.ok) << allowed.detail;
    EXPECT_NE(allowed.detail.find("@Admins is allowed /admin"), std::string::npos) << allowed.detail;

    // The bot registers its commands again on every start: the overwrite stays.
    register_commands();
    EXPECT_TRUE(find(run(), "discord /admin").ok);

    // Allowing @everyone shows /admin to every customer.
    set_admin_overwrites(
        nlohmann::json::array({role_permission(kAdminRole, true), role_permission(kGuild, true)}));
    auto everyone = find(run(), "discord /admin");
    EXPECT_FALSE(everyone.ok);
    EXPECT_NE(everyone.detail.find("every customer sees it"), std::string::npos) << everyone.detail;

    // Denied explicitly.
    set_admin_overwrites(nlohmann::json::array({role_permission(kAdminRole, false)}));
    auto denied = find(run(), "discord /admin");
    EXPECT_FALSE(denied.ok);
    EXPECT_NE(denied.detail.find("denied"), std::string::npos) << denied.detail;
}

TEST_F(BotCheck, AnAdminRoleWithManageServerSeesAdminWithoutAnOverwrite) {
    migrate();
    io_.call([&] {
        discord_->add_guild(
            kGuild, "Nebula Shop", kOwner,
            nlohmann::json::array({role(kGuild, "@everyone", kViewChannel | kReadMessageHistory, 0),
                                   role(kBotRole, "NebulaLinks", required_permissions(true), 5),
                                   role(kAdminRole, "Admins", discord::permissions::kManageGuild, 4),
                                   role(kSubscriberRole, "Subscriber", 0, 1)}));
    });
    register_commands();
    const auto results = run();
    const auto& admin = find(results, "discord /admin");
    EXPECT_TRUE(admin.ok) << dump(results);
    EXPECT_NE(admin.detail.find("has Manage Server"), std::string::npos) << admin.detail;
}

TEST_F(BotCheck, TheAuditChannelIsCheckedLikeTheOtherChannels) {
    migrate();
    config_.jobs.audit_channel = discord::Snowflake(kBilling);
    const auto good = find(run(), "discord AUDIT_CHANNEL_ID");
    EXPECT_TRUE(good.ok) << format_check(good);
    EXPECT_NE(good.detail.find("#billing"), std::string::npos) << good.detail;

    config_.jobs.audit_channel = discord::Snowflake(kElsewhere);
    const auto elsewhere = find(run(), "discord AUDIT_CHANNEL_ID");
    EXPECT_FALSE(elsewhere.ok);
    EXPECT_NE(elsewhere.detail.find("another server"), std::string::npos) << elsewhere.detail;
}

TEST_F(BotCheck, ABotNotInTheServerIsToldHowToAddIt) {
    migrate();
    config_.shop.guild_id = discord::Snowflake(kGuild + 7);
    const auto results = run();
    const auto& server = find(results, "discord server");
    EXPECT_FALSE(server.ok);
    EXPECT_NE(server.detail.find("nebula-bot invite-url"), std::string::npos) << server.detail;
    EXPECT_TRUE(find(results, "discord").ok) << "the token itself is fine";
    EXPECT_TRUE(find(results, "gateway").ok) << "and the gateways are still checked";
}

// A token-only bot.env after /admin setup: the application and server come from Discord, the
// roles and channels from the database; check says so, and checks them as it checks bot.env's.
TEST_F(BotCheck, SaysWhereEachIdCameFromWhenBotEnvLeavesThemOut) {
    migrate();
    {
        auto connection = database_->connect();
        domain::DiscordLayout layout{domain::DiscordId{kAdminRole}, domain::DiscordId{kSubscriberRole},
                                     domain::DiscordId{kReview},    domain::DiscordId{kBilling},
                                     domain::DiscordId{kPanel},     domain::DiscordId{kCategory}};
        domain::discord_layout::save(*connection, domain::DiscordId{kGuild}, layout,
                                     domain::to_timestamp(clock_.now()));
    }
    const auto explicit_config = config_;
    config_.shop = {};
    const auto results = run();
    const auto& ids = find(results, "discord ids");
    EXPECT_TRUE(ids.ok);
    EXPECT_NE(ids.detail.find("read from Discord: DISCORD_CLIENT_ID, DISCORD_GUILD_ID"), std::string::npos)
        << ids.detail;
    EXPECT_NE(
        ids.detail.find("made by /admin setup (kept in the database): ADMIN_ROLE_ID, SUBSCRIBER_ROLE_ID"),
        std::string::npos)
        << ids.detail;
    EXPECT_NE(find(results, "discord server").detail.find("the one server the bot is in"), std::string::npos);
    const auto& review = find(results, "discord REVIEW_CHANNEL_ID");
    EXPECT_TRUE(review.ok) << review.detail;
    EXPECT_EQ(review.detail,
              "#review (" + std::to_string(kReview) + ") — made by /admin setup, kept in the database");
    EXPECT_NE(find(results, "discord ORDERS_CATEGORY_ID").detail.find("made by /admin setup"),
              std::string::npos)
        << dump(results);
    EXPECT_TRUE(find(results, "discord roles").ok) << dump(results);

    // With every id in bot.env there is no such line, as before.
    config_ = explicit_config;
    const auto named = run();
    EXPECT_FALSE(std::any_of(named.begin(), named.end(),
                             [](const CheckResult& r) { return r.name == "discord ids"; }));
}

TEST_F(BotCheck, AServerNotSetUpYetSaysToRunAdminSetup) {
    migrate();
    config_.shop = {};
    const auto results = run();
    const auto& setup = find(results, "discord setup");
    EXPECT_FALSE(setup.ok);
    EXPECT_NE(setup.detail.find("ADMIN_ROLE_ID"), std::string::npos) << setup.detail;
    EXPECT_NE(setup.detail.find("run /admin setup"), std::string::npos) << setup.detail;
}

TEST_F(BotCheck, PendingMigrationsAndABadTokenAreNamedWithTheirFix) {
    config_.discord_token = "not-the-token-of-this-bot-at-all";
    (void)database_->connect();  // the file exists, without any migration
    const auto results = run();
    const auto& migrations = find(results, "migrations");
    EXPECT_FALSE(migrations.ok);
    EXPECT_NE(migrations.detail.find("nebula-bot migrate"), std::string::npos) << migrations.detail;
    const auto& discord = find(results, "discord");
    EXPECT_FALSE(discord.ok);
    EXPECT_NE(discord.detail.find("DISCORD_TOKEN"), std::string::npos) << discord.detail;
    EXPECT_TRUE(format_check(discord).starts_with("FAIL discord: "));
    // The gateway is still checked (from API_GATEWAY_URL) and is fine.
    EXPECT_TRUE(find(results, "gateway").ok) << dump(results);
}

TEST_F(BotCheck, AWrongGatewayKeyAndADeadGatewayFail) {
    migrate();
    config_.default_server.key = "some-other-key-0123456789abcdef0123456789";
    auto results = run();
    const auto& wrong_key = find(results, "gateway");
    EXPECT_FALSE(wrong_key.ok);
    EXPECT_NE(wrong_key.detail.find("API_SECRET_KEY"), std::string::npos) << wrong_key.detail;

    config_.default_server.key = nebula::testing::kGatewayKey;
    gateway_.reset();  // nothing listens on that port any more
    results = run();
    const auto& dead = find(results, "gateway");
    EXPECT_FALSE(dead.ok);
    EXPECT_NE(dead.detail.find("is nebula-gateway running"), std::string::npos) << dead.detail;
    EXPECT_TRUE(find(results, "database").ok);
    EXPECT_TRUE(find(results, "discord").ok);
}

TEST_F(BotCheck, AGatewayWhosePanelIsDownFails) {
    migrate();
    gateway_->panel->set_down(true);
    const auto results = run();
    const auto& gateway = find(results, "gateway");
    EXPECT_FALSE(gateway.ok);
    EXPECT_NE(gateway.detail.find("panel is down"), std::string::npos) << gateway.detail;
}

TEST_F(BotCheck, AMissingDatabaseIsNotCreated) {
    const auto path = database_->directory() / "never-made.db";
    config_.database = *db::parse_database_url("sqlite:" + path.string());
    const auto results = run();
    EXPECT_FALSE(find(results, "database").ok) << dump(results);
    EXPECT_NE(find(results, "database").detail.find("nebula-bot migrate"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(BotCheck, AnUnopenableDatabaseFails) {
    // A regular file where the database's folder should be: neither it nor the folder can be made.
    const auto blocker = database_->directory() / "not-a-folder";
    std::ofstream(blocker) << "x";
    config_.database = *db::parse_database_url("sqlite:" + (blocker / "bot.db").string());
    const auto results = run();
    EXPECT_FALSE(find(results, "database").ok) << dump(results);
    EXPECT_NE(find(results, "database").detail.find("DATABASE_URL"), std::string::npos);
}

}  // namespace
}  // namespace nebula::bot::app

namespace nebula::bot::app {
namespace {

std::pair<int, std::string> run_command(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("popen failed");
    std::string out;
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(BotBinary, InviteUrlAndCheckOfAnInvalidConfiguration) {
    const auto env =
        std::filesystem::temp_directory_path() / ("nebula-bot-ops-" + common::uuid_v4() + ".env");
    const std::string bot = std::string(NEBULA_BOT_BINARY) + " --env-file " + env.string();

    std::ofstream(env) << "DISCORD_CLIENT_ID=900000000000000001\n";
    auto [status, out] = run_command("env -i " + bot + " invite-url");
    EXPECT_EQ(status, 0);
    EXPECT_EQ(out, invite_url(discord::Snowflake(900000000000000001ULL), false) + "\n");

    std::ofstream(env) << "DISCORD_CLIENT_ID=900000000000000001\nSUBSCRIBER_ROLE_ID=810000000000000002\n";
    std::tie(status, out) = run_command("env -i " + bot + " invite-url");
    EXPECT_NE(out.find("permissions=268561424"), std::string::npos) << out;

    std::ofstream(env) << "SUBSCRIBER_ROLE_ID=1\n";
    std::tie(status, out) = run_command("env -i " + bot + " invite-url 2>&1");
    EXPECT_EQ(status, 2);
    EXPECT_NE(out.find("DISCORD_CLIENT_ID"), std::string::npos) << out;

    std::ofstream(env) << "DISCORD_CLIENT_ID=900000000000000001\nMETRICS_BIND=0.0.0.0\n";
    std::tie(status, out) = run_command("env -i " + bot + " check");
    EXPECT_EQ(status, 1);
    EXPECT_TRUE(out.starts_with("FAIL configuration: ")) << out;
    EXPECT_NE(out.find("METRICS_BIND"), std::string::npos) << out;
    EXPECT_NE(out.find("DISCORD_TOKEN"), std::string::npos) << out;
    std::filesystem::remove(env);
}

// "Go live in ten minutes": bot.env holds only the token, so invite-url asks Discord for the
// application, and the link asks for Manage Roles too (/admin setup makes the roles).
TEST(BotBinary, InviteUrlReadsTheApplicationFromDiscordWhenBotEnvDoesNotSayIt) {
    nebula::testing::IoThread io;
    fakes::discord::FakeDiscordOptions options;
    options.token = "invite-url-token-0123456789";
    auto fake = io.call([&] { return fakes::discord::FakeDiscord::create(io.executor(), options); });
    ASSERT_TRUE(fake) << fake.error();
    const auto env =
        std::filesystem::temp_directory_path() / ("nebula-bot-invite-" + common::uuid_v4() + ".env");
    std::ofstream(env) << "DISCORD_TOKEN=" << options.token << "\nDISCORD_API_BASE=" << (*fake)->api_base()
                       << "\n";
    auto [status, out] = run_command("env -i " + std::string(NEBULA_BOT_BINARY) + " --env-file " +
                                     env.string() + " invite-url 2>&1");
    EXPECT_EQ(status, 0) << out;
    EXPECT_EQ(out, invite_url(discord::Snowflake((*fake)->options().application_id), true) + "\n");
    EXPECT_EQ(io.call([&] { return (*fake)->requests_matching("GET /oauth2/applications/@me").size(); }), 1u);

    // A token Discord refuses: said, exit 1.
    std::ofstream(env) << "DISCORD_TOKEN=not-the-token-of-this-bot-at-all\nDISCORD_API_BASE="
                       << (*fake)->api_base() << "\n";
    std::tie(status, out) = run_command("env -i " + std::string(NEBULA_BOT_BINARY) + " --env-file " +
                                        env.string() + " invite-url 2>&1");
    EXPECT_EQ(status, 1);
    EXPECT_NE(out.find("DISCORD_CLIENT_ID"), std::string::npos) << out;
    io.call([&] { (*fake)->stop(); });
    io.call([&] { fake->reset(); });
    std::filesystem::remove(env);
}

// The documented first step, `sudo -u nebula-bot nebula-bot migrate`, runs with sudo's umask
// 0022: the database it creates (every gateway key is in it) and its folder must still be
// readable by the bot's user only.
TEST(BotBinary, MigrateUnderAPermissiveUmaskCreatesPrivateFiles) {
    namespace fs = std::filesystem;
    const auto root = fs::temp_directory_path() / ("nebula-bot-modes-" + common::uuid_v4());
    fs::create_directories(root);
    const auto env = root / "bot.env";
    const auto state = root / "state";  // not there yet: migrate creates it
    std::ofstream(env) << "DATABASE_URL=sqlite:" << (state / "bot.db").string() << "\n";
    auto [status, out] = run_command("umask 0022 && env -i " + std::string(NEBULA_BOT_BINARY) +
                                     " --env-file " + env.string() + " migrate 2>&1");
    ASSERT_EQ(status, 0) << out;
    auto mode = [](const fs::path& path) { return fs::status(path).permissions() & fs::perms::all; };
    EXPECT_EQ(mode(state), fs::perms::owner_all);
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(state)) {  // bot.db and any -wal / -shm
        EXPECT_EQ(mode(entry.path()), fs::perms::owner_read | fs::perms::owner_write) << entry.path();
        ++files;
    }
    EXPECT_GE(files, 1u);
    fs::remove_all(root);
}

TEST(BotBinary, AnUnknownLogLevelIsRefusedOnStderrAndAKnownOneInAnyCaseLogs) {
    const auto dir = std::filesystem::temp_directory_path() / ("nebula-bot-log-" + common::uuid_v4());
    std::filesystem::create_directories(dir);
    const auto env = dir / "bot.env";
    const auto write_env = [&](const std::string& level) {
        std::ofstream(env)
            << "DISCORD_TOKEN=" << std::string(40, 't') << "\nDISCORD_CLIENT_ID=900000000000000001\n"
            << "DISCORD_GUILD_ID=800000000000000001\nADMIN_ROLE_ID=860000000000000002\n"
            << "REVIEW_CHANNEL_ID=870000000000000001\nBILLING_CHANNEL_ID=870000000000000002\n"
            << "MAIN_PANEL_CHANNEL_ID=870000000000000003\nORDERS_CATEGORY_ID=870000000000000004\n"
            << "API_GATEWAY_URL=https://127.0.0.1:1\nAPI_SECRET_KEY=" << std::string(40, 'k') << "\n"
            << "DISCORD_API_BASE=http://127.0.0.1:1\n"
            << "DATABASE_URL=sqlite:" << (dir / "bot.db").string() << "\n"
            << "LOG_DIR=" << (dir / "logs").string() << "\nLOG_LEVEL=" << level << "\n";
    };
    const std::string run =
        "env -i " + std::string(NEBULA_BOT_BINARY) + " --env-file " + env.string() + " run 2>&1 >/dev/null";

    // A database with a pending migration and LOG_LEVEL=verbose: refused at once, on stderr.
    write_env("verbose");
    auto [status, err] = run_command(run);
    EXPECT_EQ(status, 2);
    EXPECT_NE(err.find("LOG_LEVEL must be one of trace, debug, info, warn, error (got \"verbose\")"),
              std::string::npos)
        << err;

    // WARN is warn: the pending migration is reported on stderr and in error.log.
    write_env("WARN");
    std::tie(status, err) = run_command(run);
    EXPECT_EQ(status, 1);
    EXPECT_NE(err.find("nebula-bot migrate"), std::string::npos) << err;
    std::stringstream error_log;
    error_log << std::ifstream(dir / "logs" / "error.log").rdbuf();
    EXPECT_NE(error_log.str().find("nebula-bot migrate"), std::string::npos) << error_log.str();
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nebula::bot::app
