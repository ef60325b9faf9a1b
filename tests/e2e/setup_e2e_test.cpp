// Going live from nothing, end to end: nebula-bot in-process with only a token (and a database
// path) against the fake Discord, from a server the bot is not even in yet: the application and
// the server read from Discord, the invite link printed while the bot is in no server, /admin
// setup creating the roles and channels, and the "Go live in ten minutes" walkthrough of
// README.md and docs/operations.md step by step, with `nebula-gateway init` on a fresh fake 3x-ui
// panel and the real nebula-gateway it sets up, until a customer holds a working link.
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "bot/app/bot.hpp"
#include "bot/app/config.hpp"
#include "bot/app/invite.hpp"
#include "bot/db/connection.hpp"
#include "bot/db/migrations.hpp"
#include "bot/domain/discord_layout.hpp"
#include "bot/support/bot_harness.hpp"
#include "common/crypto.hpp"
#include "discord/test_support.hpp"
#include "fakes/discord/fake_discord.hpp"
#include "fakes/xui/fake_panel.hpp"
#include "gateway/init/init.hpp"
#include "support/eventually.hpp"
#include "support/tls_cert.hpp"

namespace nebula::e2e {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;
using nebula::testing::until;

constexpr std::uint64_t kShopGuild = 870000000000000001ULL;
constexpr std::uint64_t kOtherGuild = 870000000000000002ULL;
constexpr std::uint64_t kOwner = 870000000000000010ULL;
constexpr std::uint64_t kMember = 870000000000000011ULL;

/// What the invite link grants (bot/app/invite.hpp), as Discord gives it to the bot's own role.
std::uint64_t invited_permissions() { return bot::app::required_permissions(true); }

constexpr std::uint64_t kView = 1ULL << 10;
constexpr std::uint64_t kSend = 1ULL << 11;

/// The overwrite for `id` in a channel create body (null when none).
json overwrite_for(const json& channel, std::uint64_t id) {
    for (const auto& o : channel.value("permission_overwrites", json::array()))
        if (o.value("id", "") == std::to_string(id)) return o;
    return nullptr;
}
std::uint64_t field(const json& overwrite, const char* key) {
    if (overwrite.is_null() || !overwrite.contains(key)) return 0;
    return overwrite[key].is_string() ? std::stoull(overwrite[key].get<std::string>())
                                      : overwrite[key].get<std::uint64_t>();
}

/// The data of "/admin <sub>" without options.
json subcommand(const std::string& sub) {
    return json{{"id", "840000000000000001"},
                {"name", "admin"},
                {"type", 1},
                {"options", json::array({{{"name", sub}, {"type", 1}, {"options", json::array()}}})}};
}

/// The roles and channels /admin setup offers, as its offer names them.
std::vector<std::string> offered_items() {
    return {"@Shop Admin", "@Subscriber", "#order-review", "#billing", "#shop", "Orders"};
}

const std::string kWalletLine = "/admin payment set method:vodafone_cash account:01012345678";
const std::string kPlanLine = "/admin plan create name:Monthly price:150 days:30";

/// The customer posts a screenshot of the transfer in their order channel: the fake CDN serves
/// it and the MESSAGE_CREATE to dispatch is returned.
json receipt_posted(fakes::discord::FakeDiscord& discord, std::uint64_t channel) {
    const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(64, 'r');
    const std::string path = "/attachments/1/receipt.png";
    discord.serve_file(path, {"image/png", png, std::nullopt, 0ms});
    return json{{"id", "860000000000000001"},
                {"channel_id", std::to_string(channel)},
                {"guild_id", std::to_string(kShopGuild)},
                {"author", {{"id", std::to_string(kMember)}, {"username", "customer"}}},
                {"member", {{"roles", json::array()}}},
                {"content", ""},
                {"attachments", json::array({{{"id", "860000000000000002"},
                                              {"filename", "receipt.png"},
                                              {"content_type", "image/png"},
                                              {"size", png.size()},
                                              {"url", discord.cdn_base() + path},
                                              {"proxy_url", discord.cdn_base() + path}}})}};
}

// gtest's ASSERT_* return from the function, which a coroutine cannot do.
#define CO_ASSERT_TRUE(condition)                      \
    if (!(condition)) {                                \
        ADD_FAILURE() << "expected true: " #condition; \
        co_return;                                     \
    }

class SetupE2E : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("nebula-setup-e2e-" + common::uuid_v4());
        std::filesystem::create_directories(dir_);
        fakes::discord::FakeDiscordOptions options;
        options.token = "setup-e2e-bot-token-0123456789";  // as long as a real one: bot.env checks it
        auto fake = fakes::discord::FakeDiscord::create(io_.get_executor(), options);
        ASSERT_TRUE(fake) << fake.error();
        discord_ = std::move(*fake);
        // What the service runs before each start (ExecStartPre): the new database gets its schema.
        {
            auto connection = bot::db::open_connection(database_url());
            ASSERT_TRUE(connection) << connection.error();
            auto applied = bot::db::migrate_if_new(**connection);
            ASSERT_TRUE(applied) << applied.error().message;
        }
        log_sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
        spdlog::default_logger()->sinks().push_back(log_sink_);
    }

    void TearDown() override {
        auto& sinks = spdlog::default_logger()->sinks();
        std::erase(sinks, log_sink_);
        bot_.shut_down();
        if (discord_) discord_->stop();
        io_.restart();
        io_.run_for(200ms);
        discord_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    /// bot.env with the token and nothing else the shop must look up: no application, server,
    /// role, channel or gateway.
    bot::db::DatabaseUrl database_url() const {
        return *bot::db::parse_database_url("sqlite:" + (dir_ / "bot.db").string());
    }

    bot::app::BotConfig token_only() {
        auto config = bot::testing::bot_config(*discord_, database_url(), dir_ / "data");
        config.shop = {};
        config.shop.data_dir = dir_ / "data";
        config.default_server = {};
        return config;
    }

    std::string log() const { return log_.str(); }

    /// Delivers an interaction from `user` (holding `roles`) in the shop's server and waits until
    /// the bot has handled it; returns every body the bot sent for it (the callback and any
    /// follow-up edits), as one JSON array.
    asio::awaitable<json> interact(int type, std::uint64_t user, std::vector<std::uint64_t> roles,
                                   json data) {
        json interaction = discord_->make_interaction(type, user, std::move(roles), std::move(data),
                                                      kShopGuild, kShopGuild + 99);
        const std::size_t before = bot_->dispatcher().completed();
        discord_->gateway().dispatch("INTERACTION_CREATE", interaction);
        co_await until(
            [&] { return bot_->dispatcher().completed() > before && bot_->dispatcher().in_flight() == 0; });
        const std::string id = interaction["id"].get<std::string>();
        const std::string token = interaction["token"].get<std::string>();
        co_await until(
            [&] { return !discord_->requests_matching("POST /interactions/" + id + "/.*").empty(); });
        json bodies = json::array();
        for (const auto& r : discord_->requests()) {
            if (r.path.rfind("/interactions/" + id + "/", 0) == 0 ||
                r.path.find("/" + token) != std::string::npos)
                bodies.push_back(r.json);
        }
        co_return bodies;
    }

    asio::awaitable<json> admin_command(std::uint64_t user, std::vector<std::uint64_t> roles,
                                        std::string sub) {
        json data = subcommand(sub);
        co_return co_await interact(2, user, std::move(roles), std::move(data));
    }

    asio::awaitable<json> click(std::uint64_t user, std::vector<std::uint64_t> roles, std::string custom_id) {
        json data{{"custom_id", std::move(custom_id)}, {"component_type", 2}};
        co_return co_await interact(3, user, std::move(roles), std::move(data));
    }

    /// The id of the role or channel the bot created with this name.
    std::uint64_t created(const std::string& route, const std::string& name) const {
        for (const auto& r : discord_->requests_matching(route)) {
            if (r.status < 300 && r.json.value("name", "") == name)
                return std::stoull(json::parse(r.response_body).at("id").get<std::string>());
        }
        return 0;
    }
    std::uint64_t created_role(const std::string& name) const {
        return created("POST /guilds/" + std::to_string(kShopGuild) + "/roles", name);
    }
    std::uint64_t created_channel(const std::string& name) const {
        return created("POST /guilds/" + std::to_string(kShopGuild) + "/channels", name);
    }

    asio::io_context io_;
    common::SystemClock clock_;
    std::unique_ptr<fakes::discord::FakeDiscord> discord_;
    bot::testing::RunningBot bot_{io_};
    std::filesystem::path dir_;
    std::ostringstream log_;
    std::shared_ptr<spdlog::sinks::ostream_sink_mt> log_sink_;
};

TEST_F(SetupE2E, TokenOnlyBotReadsItsApplicationAndItsOneServerFromDiscord) {
    discord_->join_guild(kShopGuild, "Nebula Shop", kOwner, invited_permissions());
    ASSERT_TRUE(bot_.create(token_only(), clock_));
    bot_.start();
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
        // The commands went to the application Discord named, in the one server.
        const auto puts = discord_->requests_matching("PUT /applications/" +
                                                      std::to_string(discord_->options().application_id) +
                                                      "/guilds/" + std::to_string(kShopGuild) + "/commands");
        EXPECT_EQ(puts.size(), 1u);
        EXPECT_EQ(discord_->requests_matching("GET /oauth2/applications/@me").size(), 1u);
        EXPECT_EQ(bot_->context().shop.guild_id.value(), kShopGuild);
    });
}

TEST_F(SetupE2E, BotInNoServerPrintsTheInviteLinkAndMovesInWhenInvited) {
    ASSERT_TRUE(bot_.create(token_only(), clock_));
    bot_.start();
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
        const std::string link =
            bot::app::invite_url(discord::Snowflake(discord_->options().application_id), true);
        EXPECT_NE(log().find(link), std::string::npos) << log();
        EXPECT_TRUE(discord_->requests_matching("PUT /applications/.*/commands").empty());

        // The owner opens the link and adds the bot to the shop's server.
        discord_->join_guild(kShopGuild, "Nebula Shop", kOwner, invited_permissions());
        co_await until([&] {
            return discord_
                       ->requests_matching("PUT /applications/.*/guilds/" + std::to_string(kShopGuild) +
                                           "/commands")
                       .size() == 1;
        });
        EXPECT_EQ(bot_->context().shop.guild_id.value(), kShopGuild);
        // A second server later is not taken over.
        discord_->join_guild(kOtherGuild, "Someone else's", kOwner, invited_permissions());
        // Events arrive in order: once a later click is answered, the GUILD_CREATE was seen.
        const json click = discord_->inject_interaction(
            3, kOwner, {}, json{{"custom_id", "panel:help"}, {"component_type", 2}});
        co_await until([&] {
            return !discord_
                        ->requests_matching("POST /interactions/" + click["id"].get<std::string>() + "/.*")
                        .empty();
        });
        EXPECT_EQ(bot_->context().shop.guild_id.value(), kShopGuild);
        EXPECT_EQ(discord_->requests_matching("PUT /applications/.*/commands").size(), 1u);
    });
}

TEST_F(SetupE2E, BotInSeveralServersSaysWhichToChoose) {
    discord_->join_guild(kShopGuild, "Nebula Shop", kOwner, invited_permissions());
    discord_->join_guild(kOtherGuild, "Gaming Club", kOwner, invited_permissions());
    ASSERT_TRUE(bot_.create(token_only(), clock_));
    bot_.start();
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        EXPECT_FALSE(co_await bot_.connected(*discord_));
        EXPECT_NE(bot_.error().find("DISCORD_GUILD_ID"), std::string::npos) << bot_.error();
        EXPECT_NE(bot_.error().find("Nebula Shop (" + std::to_string(kShopGuild) + ")"), std::string::npos)
            << bot_.error();
        EXPECT_NE(bot_.error().find("Gaming Club (" + std::to_string(kOtherGuild) + ")"), std::string::npos)
            << bot_.error();
        EXPECT_TRUE(discord_->requests_matching("PUT /applications/.*/commands").empty());
    });
}

TEST_F(SetupE2E, ExplicitIdsInBotEnvAreUsedAsTheyAre) {
    discord_->join_guild(kShopGuild, "Nebula Shop", kOwner, invited_permissions());
    discord_->join_guild(kOtherGuild, "Gaming Club", kOwner, invited_permissions());
    auto config = token_only();
    config.shop.application_id = discord::Snowflake(discord_->options().application_id);
    config.shop.guild_id = discord::Snowflake(kOtherGuild);
    ASSERT_TRUE(bot_.create(std::move(config), clock_));
    bot_.start();
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
        EXPECT_TRUE(discord_->requests_matching("GET /oauth2/applications/@me").empty());
        EXPECT_TRUE(discord_->requests_matching("GET /users/@me/guilds.*").empty());
        EXPECT_EQ(discord_
                      ->requests_matching("PUT /applications/.*/guilds/" + std::to_string(kOtherGuild) +
                                          "/commands")
                      .size(),
                  1u);
    });
}

TEST_F(SetupE2E, OwnerCreatesTheShopLayoutWithOneClickAndItSurvivesARestart) {
    discord_->join_guild(kShopGuild, "Nebula Shop", kOwner, invited_permissions());
    discord_->add_member(kShopGuild, kMember, {});
    ASSERT_TRUE(bot_.create(token_only(), clock_));
    bot_.start();
    std::uint64_t admin_role = 0, panel = 0, review = 0;
    discord::testing::run(io_, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
        // Not the owner and without Manage Server: refused.
        const json refused = co_await admin_command(kMember, {}, "setup");
        EXPECT_NE(refused.dump().find("Only admins"), std::string::npos) << refused.dump();

        // The owner is offered what is missing, with a button.
        const json offer = co_await admin_command(kOwner, {}, "setup");
        const std::string text = offer.dump();
        for (const auto& item : offered_items())
            EXPECT_NE(text.find(item), std::string::npos) << item << " missing from " << text;
        EXPECT_NE(text.find("setup:create"), std::string::npos) << text;
        EXPECT_TRUE(discord_->requests_matching("POST /guilds/.*/(roles|channels)").empty());

        const json done = co_await click(kOwner, {}, "setup:create");
        const std::string summary = done.dump();
        admin_role = created_role("Shop Admin");
        const auto subscriber = created_role("Subscriber");
        const auto category = created_channel("Orders");
        review = created_channel("order-review");
        const auto billing = created_channel("billing");
        panel = created_channel("shop");
        EXPECT_TRUE(admin_role && subscriber && category && review && billing && panel) << summary;
        // Staff channels: hidden from @everyone, open to the admin role and the bot.
        for (const auto channel : std::vector<std::uint64_t>{review, billing}) {
            const json& body = *discord_->channel(channel);
            EXPECT_NE(field(overwrite_for(body, kShopGuild), "deny") & kView, 0u) << body.dump();
            EXPECT_NE(field(overwrite_for(body, admin_role), "allow") & kView, 0u) << body.dump();
            EXPECT_NE(field(overwrite_for(body, discord_->options().bot_user_id), "allow") & kSend, 0u);
        }
        // The panel: everyone reads, nobody but the bot writes.
        const json& shop_channel = *discord_->channel(panel);
        EXPECT_NE(field(overwrite_for(shop_channel, kShopGuild), "allow") & kView, 0u);
        EXPECT_NE(field(overwrite_for(shop_channel, kShopGuild), "deny") & kSend, 0u);
        EXPECT_EQ(discord_->channel(category)->value("type", 0), 4);
        // The Subscriber role sits below the bot's own role, so the bot can give it.
        int bot_position = 0, subscriber_position = 0;
        for (const auto& role : (*discord_->guild(kShopGuild))["roles"]) {
            if (role.value("name", "") == "nebula") bot_position = role.value("position", 0);
            if (role.value("name", "") == "Subscriber") subscriber_position = role.value("position", 0);
        }
        EXPECT_LT(subscriber_position, bot_position);
        // The owner holds the admin role now, the main panel is up, and the rest is listed.
        const auto* owner_roles = discord_->member_roles(kShopGuild, kOwner);
        CO_ASSERT_TRUE(owner_roles != nullptr);
        EXPECT_NE(std::find(owner_roles->begin(), owner_roles->end(), admin_role), owner_roles->end());
        EXPECT_EQ(discord_->message_count(panel), 1u);
        EXPECT_NE(summary.find("Integrations"), std::string::npos) << summary;
        EXPECT_NE(summary.find("nebula-gateway init"), std::string::npos) << summary;
        EXPECT_NE(summary.find("/admin payment set"), std::string::npos) << summary;
        EXPECT_NE(summary.find("/admin plan create"), std::string::npos) << summary;

        // The offer clicked a second time makes nothing more: the panel is refreshed.
        const json twice = co_await click(kOwner, {}, "setup:create");
        EXPECT_NE(twice.dump().find("Main panel refreshed"), std::string::npos) << twice.dump();
        EXPECT_EQ(discord_->requests_matching("POST /guilds/.*/roles").size(), 2u);

        // Until a server exists the customer hears that sales open soon.
        const json buy = co_await click(kMember, {}, "panel:buy");
        EXPECT_NE(buy.dump().find("Sales open soon"), std::string::npos) << buy.dump();
        EXPECT_TRUE(discord_->requests_matching("POST /guilds/.*/channels").size() == 4u);
    });
    // Stored in the database, for this server.
    {
        auto connection = bot::db::open_connection(database_url());
        ASSERT_TRUE(connection) << connection.error();
        const auto layout =
            bot::domain::discord_layout::load(**connection, bot::domain::DiscordId{kShopGuild});
        ASSERT_TRUE(layout);
        EXPECT_EQ(layout->admin_role, bot::domain::DiscordId{admin_role});
        EXPECT_EQ(layout->main_panel_channel, bot::domain::DiscordId{panel});
        EXPECT_EQ(layout->review_channel, bot::domain::DiscordId{review});
    }

    // A restart reads them back: nothing is made twice, /admin setup refreshes the panel.
    bot_.shut_down();
    const auto roles_before = discord_->requests_matching("POST /guilds/.*/roles").size();
    ASSERT_TRUE(bot_.create(token_only(), clock_));
    bot_.start();
    discord::testing::run(io_, [&]() -> asio::awaitable<void> {
        // The fake still shows the first session: wait for the second bot's own IDENTIFY.
        co_await until([&] {
            return bot_.done() || (bot_->started() && discord_->gateway().frames_with_op(2).size() >= 2);
        });
        CO_ASSERT_TRUE(!bot_.done());
        EXPECT_EQ(bot_->context().shop.admin_role_id.value(), admin_role);
        EXPECT_EQ(bot_->context().shop.review_channel_id.value(), review);
        std::vector<std::uint64_t> as_admin;
        as_admin.push_back(admin_role);
        const json again = co_await admin_command(kOwner, as_admin, "setup");
        EXPECT_NE(again.dump().find("Main panel refreshed"), std::string::npos) << again.dump();
        EXPECT_EQ(discord_->requests_matching("POST /guilds/.*/roles").size(), roles_before);
        EXPECT_EQ(discord_->message_count(panel), 1u);
    });
}

TEST_F(SetupE2E, IdsInBotEnvWinOverTheSetupAndAreNotMadeAgain) {
    discord_->join_guild(kShopGuild, "Nebula Shop", kOwner, invited_permissions());
    constexpr std::uint64_t kOwnPanel = 880000000000000001ULL;
    discord_->add_channel(json{{"id", std::to_string(kOwnPanel)},
                               {"type", 0},
                               {"name", "buy-here"},
                               {"guild_id", std::to_string(kShopGuild)}});
    auto config = token_only();
    config.shop.main_panel_channel_id = discord::Snowflake(kOwnPanel);
    ASSERT_TRUE(bot_.create(std::move(config), clock_));
    bot_.start();
    discord::testing::run(io_, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
        const json offer = co_await admin_command(kOwner, {}, "setup");
        EXPECT_EQ(offer.dump().find("#shop"), std::string::npos) << offer.dump();
        co_await click(kOwner, {}, "setup:create");
        EXPECT_EQ(created_channel("shop"), 0u);
        EXPECT_EQ(discord_->message_count(kOwnPanel), 1u);
        EXPECT_NE(created_channel("order-review"), 0u);
    });
}

TEST_F(SetupE2E, SetupWithoutManageRolesSaysWhatToFixAndKeepsWhatItMade) {
    // Added with a link that did not ask for Manage Roles.
    discord_->join_guild(kShopGuild, "Nebula Shop", kOwner, bot::app::required_permissions(false));
    ASSERT_TRUE(bot_.create(token_only(), clock_));
    bot_.start();
    discord::testing::run(io_, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
        co_await admin_command(kOwner, {}, "setup");
        const json refused = co_await click(kOwner, {}, "setup:create");
        EXPECT_NE(refused.dump().find("Manage Roles"), std::string::npos) << refused.dump();
        EXPECT_NE(refused.dump().find("nebula-bot invite-url"), std::string::npos) << refused.dump();
        EXPECT_TRUE(bot_->context().shop.admin_role_id.empty());
        // The bot keeps working and answers the next click.
        const json buy = co_await click(kMember, {}, "panel:buy");
        EXPECT_NE(buy.dump().find("Sales open soon"), std::string::npos) << buy.dump();
    });
}

// ---- "Go live in ten minutes" (README.md, docs/operations.md), step by step ----

/// nebula-gateway as systemd starts it after `init`: the real executable with the gateway.env
/// init wrote (only the log folder and the loopback address differ, for the test machine).
class GatewayProcess {
  public:
    GatewayProcess(const std::filesystem::path& env_file, const std::filesystem::path& dir) {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(fds[1], STDERR_FILENO);
            ::dup2(fds[1], STDOUT_FILENO);
            ::close(fds[0]);
            ::close(fds[1]);
            std::string env_arg = env_file.string();
            std::string log_dir = "LOG_DIR=" + (dir / "gateway-logs").string();
            std::vector<char*> argv{const_cast<char*>(NEBULA_GATEWAY_BINARY), const_cast<char*>("--env"),
                                    env_arg.data(), nullptr};
            std::vector<char*> envp{const_cast<char*>("BIND_ADDRESS=127.0.0.1"), log_dir.data(), nullptr};
            ::execve(NEBULA_GATEWAY_BINARY, argv.data(), envp.data());
            ::_exit(127);
        }
        ::close(fds[1]);
        out_ = ::fdopen(fds[0], "r");
        const std::string started = read_until("listening on");
        if (started.find("listening on") == std::string::npos)
            throw std::runtime_error("the gateway did not start:\n" + started);
    }
    ~GatewayProcess() {
        ::kill(pid_, SIGTERM);
        read_until("\x01never\x01");
        ::waitpid(pid_, nullptr, 0);
        if (out_) std::fclose(out_);
    }
    GatewayProcess(const GatewayProcess&) = delete;
    GatewayProcess& operator=(const GatewayProcess&) = delete;

  private:
    std::string read_until(const std::string& text) {
        std::string all;
        char line[4096];
        while (std::fgets(line, sizeof line, out_) != nullptr) {
            all += line;
            if (all.find(text) != std::string::npos) break;
        }
        return all;
    }
    pid_t pid_ = -1;
    std::FILE* out_ = nullptr;
};

/// A port nothing listens on now, for the gateway `init` sets up.
std::uint16_t free_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

/// The slash command Discord makes of a pasted "/admin group sub name:value …" line: options
/// typed as the command defines them (integers for the numbers, numbers for the price).
json pasted_command(const std::string& line) {
    std::istringstream words(line);
    std::string admin, group, sub, word;
    words >> admin >> group >> sub;
    json options = json::array();
    while (words >> word) {
        const auto colon = word.find(':');
        const std::string name = word.substr(0, colon), value = word.substr(colon + 1);
        if (name == "inbound" || name == "days" || name == "capacity" || name == "devices") {
            options.push_back({{"name", name}, {"type", 4}, {"value", std::stoll(value)}});
        } else if (name == "price" || name == "traffic_gb") {
            options.push_back({{"name", name}, {"type", 10}, {"value", std::stod(value)}});
        } else {
            options.push_back({{"name", name}, {"type", 3}, {"value", value}});
        }
    }
    return json{
        {"id", "840000000000000001"},
        {"name", "admin"},
        {"type", 1},
        {"options",
         json::array({{{"name", group},
                       {"type", 2},
                       {"options", json::array({{{"name", sub}, {"type", 1}, {"options", options}}})}}})}};
}

TEST_F(SetupE2E, GoLiveInTenMinutesFromAnEmptyServerToACustomersWorkingLink) {
    // ---- On the VPN server: `nebula-gateway init` next to a fresh 3x-ui ----
    fakes::FakePanelOptions panel_options;
    panel_options.base_path = "/AbC12xyz/";
    auto panel = fakes::FakePanel::start(panel_options);
    const auto xui_db = dir_ / "x-ui.db";
    {
        auto xui = bot::db::open_connection(*bot::db::parse_database_url("sqlite:" + xui_db.string()));
        ASSERT_TRUE(xui) << xui.error();
        (*xui)->exec("CREATE TABLE settings (id integer PRIMARY KEY AUTOINCREMENT, key text, value text)");
        for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
                 {"webPort", std::to_string(panel->port())}, {"webBasePath", "AbC12xyz"}, {"webListen", ""}})
            (*xui)->exec("INSERT INTO settings (key, value) VALUES (?, ?)", key, value);
    }
    gateway::init::InitOptions flags;  // what the reseller answers (here as flags, --yes)
    flags.config_dir = (dir_ / "etc").string();
    flags.xui_db = xui_db.string();
    flags.panel_user = "admin";
    flags.panel_password = "admin";
    flags.public_host = "127.0.0.1";
    flags.bot_address = "127.0.0.1";
    flags.name = "Frankfurt-1";
    flags.location = "Frankfurt";
    flags.inbound = 1;
    flags.port = free_port();
    flags.firewall = gateway::init::Firewall::none;
    const group* own_group = ::getgrgid(::getegid());
    flags.service_group = own_group != nullptr ? own_group->gr_name : "";
    flags.yes = true;
    std::istringstream in;
    std::ostringstream out;
    gateway::init::Console console{in, out, false, -1};
    std::vector<std::string> started;
    const auto runner = [&](const std::vector<std::string>& argv) {
        std::string command;
        for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
        started.push_back(command);
        return gateway::init::CommandResult{0, ""};
    };
    ASSERT_EQ(gateway::init::run_init(flags, console, runner, clock_), 0) << out.str();
    std::string line;
    {
        std::istringstream lines(out.str());
        for (std::string l; std::getline(lines, l);)
            if (l.starts_with("/admin server add ")) line = l;
    }
    ASSERT_FALSE(line.empty()) << out.str();
    GatewayProcess gateway(dir_ / "etc" / "gateway.env", dir_);  // systemctl start, for real

    // ---- On the bot machine: the token in bot.env, start ----
    auto url = "sqlite:" + (dir_ / "bot.db").string();
    std::map<std::string, std::string> bot_env{{"DISCORD_TOKEN", discord_->options().token},
                                               {"DATABASE_URL", url},
                                               // Where the fake Discord answers, and the test's own folders:
                                               {"DISCORD_API_BASE", discord_->api_base()},
                                               {"DISCORD_GATEWAY_URL", discord_->gateway().url()},
                                               {"DISCORD_CDN_HOSTS", "127.0.0.1"},
                                               {"DATA_DIR", (dir_ / "data").string()},
                                               {"LOG_DIR", (dir_ / "logs").string()}};
    auto config = bot::app::load_bot_config(common::Environment::from_map(bot_env));
    ASSERT_TRUE(config) << config.error();
    ASSERT_TRUE(bot_.create(std::move(*config), clock_));
    bot_.start();

    discord::testing::run(io_, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
        // ---- Invite: the link from the log, with the permissions it asks for ----
        const auto at = log().find("https://discord.com/oauth2/authorize?");
        CO_ASSERT_TRUE(at != std::string::npos);
        const std::string link = log().substr(at, log().find_first_of(" \n", at) - at);
        const auto permissions = std::stoull(link.substr(link.find("permissions=") + 12));
        discord_->join_guild(kShopGuild, "Nebula Shop", kOwner, permissions);
        co_await until([&] { return !discord_->requests_matching("PUT /applications/.*/commands").empty(); });

        // ---- /admin setup, Create them ----
        co_await admin_command(kOwner, {}, "setup");
        const json setup = co_await click(kOwner, {}, "setup:create");
        const auto admin_role = created_role("Shop Admin");
        const auto review = created_channel("order-review");
        const auto panel_channel = created_channel("shop");
        CO_ASSERT_TRUE(admin_role != 0 && review != 0 && panel_channel != 0);
        EXPECT_EQ(discord_->message_count(panel_channel), 1u);
        std::vector<std::uint64_t> as_admin;  // the owner holds the admin role now
        as_admin.push_back(admin_role);

        // ---- Paste the line from init, set a wallet number, create a plan ----
        const json added = co_await interact(2, kOwner, as_admin, pasted_command(line));
        EXPECT_NE(added.dump().find("Frankfurt-1"), std::string::npos) << added.dump();
        co_await interact(2, kOwner, as_admin, pasted_command(kWalletLine));
        const json plan = co_await interact(2, kOwner, as_admin, pasted_command(kPlanLine));
        EXPECT_NE(plan.dump().find("Monthly"), std::string::npos) << plan.dump();
        // /admin setup now says the shop is ready.
        const json ready = co_await admin_command(kOwner, as_admin, "setup");
        EXPECT_NE(ready.dump().find("ready to sell"), std::string::npos) << ready.dump();

        // ---- A customer buys ----
        discord_->add_member(kShopGuild, kMember, {});
        const json plans = co_await click(kMember, {}, "panel:buy");
        EXPECT_NE(plans.dump().find("Monthly"), std::string::npos) << plans.dump();
        json pick_plan{{"custom_id", "buy_plan"}, {"component_type", 3}, {"values", json::array({"1"})}};
        co_await interact(3, kMember, {}, std::move(pick_plan));
        const auto order_channel = created_channel("order-000001");
        CO_ASSERT_TRUE(order_channel != 0);
        auto& ctx = bot_->context();
        const auto wallet = co_await ctx.db.run([&](bot::db::Connection& c) {
            for (const auto& method : ctx.catalog.payment_methods(c))
                if (method.code == "vodafone_cash") return method.id.value;
            return std::int64_t{0};
        });
        json pick_wallet{{"custom_id", "pay_method:1"},
                         {"component_type", 3},
                         {"values", json::array({std::to_string(wallet)})}};
        const json pay = co_await interact(3, kMember, {}, std::move(pick_wallet));
        EXPECT_NE(pay.dump().find("01012345678"), std::string::npos) << pay.dump();
        // The receipt screenshot, posted in the order channel.
        const json message = receipt_posted(*discord_, order_channel);
        const std::size_t before = bot_->dispatcher().completed();
        discord_->gateway().dispatch("MESSAGE_CREATE", message);
        co_await until(
            [&] { return bot_->dispatcher().completed() > before && bot_->dispatcher().in_flight() == 0; });
        EXPECT_EQ(discord_->message_count(review), 1u);

        // ---- The owner approves from the review card; the customer holds a working link ----
        co_await click(kOwner, as_admin, "review:1:approve");
        auto client = panel->client("nl-1");
        CO_ASSERT_TRUE(client.has_value());
        bool delivered = false;
        for (const auto& r :
             discord_->requests_matching("POST /channels/" + std::to_string(order_channel) + "/messages"))
            delivered =
                delivered || r.body.find("vless://" + std::string((*client)["id"].get<std::string>())) !=
                                 std::string::npos;
        EXPECT_TRUE(delivered) << "no link with the panel client's id in the order channel";
    });
    // init asked systemd to start the gateway once (the test started it itself, above).
    bool service_started = false;
    for (const auto& command : started)
        service_started = service_started || command.find("nebula-gateway") != std::string::npos;
    EXPECT_TRUE(service_started);
}

}  // namespace
}  // namespace nebula::e2e
