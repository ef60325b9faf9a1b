#include "bot/app/check.hpp"

#include <exception>
#include <memory>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "bot/app/discovery.hpp"
#include "bot/app/invite.hpp"
#include "bot/db/connection.hpp"
#include "bot/db/migrations.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/discord_layout.hpp"
#include "bot/gateway_client/http_gateway_client.hpp"
#include "bot/handlers/setup.hpp"
#include "discord/builders.hpp"
#include "discord/permissions.hpp"
#include "discord/rest.hpp"

namespace nebula::bot::app {
namespace asio = boost::asio;
namespace {

constexpr std::chrono::seconds kNetworkDeadline{10};

struct GatewayTarget {
    std::string name;
    std::string url;
    std::string key;
    std::string pin;
};

CheckResult pass(std::string name, std::string detail) { return {std::move(name), true, std::move(detail)}; }
CheckResult fail(std::string name, std::string detail) { return {std::move(name), false, std::move(detail)}; }

/// The database checks; fills `targets` with the enabled servers when the table can be read.
void check_database(const BotConfig& config, const common::Clock& clock, std::vector<CheckResult>& out,
                    std::vector<GatewayTarget>& targets) {
    const std::string where = config.database.redacted();
    // Read-only: a check never creates a database file or changes one.
    auto connection = db::open_connection(config.database, db::Access::read_only);
    if (!connection) {
        out.push_back(fail("database", where + ": " + connection.error() +
                                           " — fix DATABASE_URL (file path and permissions, or the "
                                           "PostgreSQL host, user and password); a new SQLite database is "
                                           "made by `nebula-bot migrate`"));
        return;
    }
    out.push_back(pass("database", where + " opens"));
    try {
        const auto pending = db::pending_migrations(**connection);
        if (!pending.empty()) {
            out.push_back(fail("migrations", std::to_string(pending.size()) + " pending (first: " +
                                                 pending.front() + ") — run `nebula-bot migrate`"));
            return;
        }
        if (auto schema = db::check_schema(**connection); !schema) {
            out.push_back(fail("migrations", schema.error().message));
            return;
        }
        out.push_back(pass("migrations", "schema is current"));
        domain::CatalogService catalog(clock);
        for (const auto& server : catalog.servers(**connection)) {
            if (!server.enabled) continue;
            targets.push_back({server.spec.name, server.spec.gateway_url, server.spec.gateway_key,
                               server.spec.tls_pin_sha256});
        }
    } catch (const std::exception& e) {
        out.push_back(fail("migrations", std::string("cannot read the schema: ") + e.what()));
    }
}

std::string gateway_fix(const domain::GatewayError& e) {
    switch (e.code) {
        case domain::GatewayErrorCode::unreachable:
            if (e.message.starts_with("certificate does not match the pin")) {
                return e.message +
                       " — set the server's pin (API_GATEWAY_PIN_SHA256 or /admin server edit pin:) to what "
                       "`openssl x509 -in cert.pem -noout -fingerprint -sha256` prints on the gateway";
            }
            return e.message +
                   " — is nebula-gateway running there, is this host's address in its ALLOWED_IPS (others "
                   "are disconnected before TLS), does its firewall let this host reach the port, and is "
                   "the certificate pin (or CA) right?";
        case domain::GatewayErrorCode::timeout:
            return "no answer within " + std::to_string(kNetworkDeadline.count()) +
                   " s — check the route to the gateway and its load";
        case domain::GatewayErrorCode::rejected:
            if (e.status == 401) {
                return "signature refused (401) — the server's key must equal the gateway's API_SECRET_KEY, "
                       "and both clocks must be within 5 minutes";
            }
            if (e.status == 403)
                return "forbidden (403) — add this host's address to the gateway's ALLOWED_IPS";
            return "refused (" + std::to_string(e.status) + "): " + e.message;
        case domain::GatewayErrorCode::server_error:
            return "gateway error (" + std::to_string(e.status) + "): " + e.message +
                   " — run `nebula-gateway check` on that server";
        default:
            return e.message;
    }
}

/// What the bot needs in each text channel it posts to.
constexpr std::uint64_t kTextChannelNeeds =
    discord::permissions::kViewChannel | discord::permissions::kSendMessages |
    discord::permissions::kEmbedLinks | discord::permissions::kAttachFiles |
    discord::permissions::kReadMessageHistory;
/// What it needs on the orders category to make order channels in it.
constexpr std::uint64_t kCategoryNeeds =
    discord::permissions::kViewChannel | discord::permissions::kManageChannels;

struct ChannelSetting {
    std::string key;
    discord::Snowflake id;
    bool category = false;
};

/// Where each id came from: bot.env, Discord, or the database (/admin setup made it).
struct IdSources {
    std::vector<std::string> from_env, from_discord, from_database;

    /// Said after an id that did not come from bot.env.
    std::string of(const std::string& key) const {
        for (const auto& k : from_database)
            if (k == key) return " — made by /admin setup, kept in the database";
        return "";
    }
    std::string describe() const {
        const auto list = [](const std::vector<std::string>& keys) {
            std::string out;
            for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
            return out;
        };
        std::string out;
        const auto add = [&](const std::vector<std::string>& keys, const char* where) {
            if (!keys.empty()) out += (out.empty() ? "" : "; ") + std::string(where) + ": " + list(keys);
        };
        add(from_env, "from bot.env");
        add(from_discord, "read from Discord");
        add(from_database, "made by /admin setup (kept in the database)");
        return out;
    }
};

/// One configured channel: in this server, of the right type, and the bot may do its work there.
asio::awaitable<CheckResult> check_channel(discord::RestClient& rest, const discord::Guild& guild,
                                           discord::Snowflake bot,
                                           const std::vector<discord::Snowflake>& roles, std::uint64_t base,
                                           ChannelSetting setting) {
    const std::string name = "discord " + setting.key;
    auto raw = co_await rest.request("GET", "/channels/" + setting.id.str());
    if (!raw) {
        co_return fail(name, setting.id.str() + " cannot be read (" + raw.error().describe() +
                                 ") — is it a channel of this server, and may the bot's role see it?");
    }
    auto channel = discord::parse_channel(*raw);
    if (!channel) co_return fail(name, setting.id.str() + ": unexpected answer from Discord");
    const std::string label = "#" + channel->name + " (" + setting.id.str() + ")";
    if (channel->guild_id != guild.id) co_return fail(name, label + " belongs to another server");
    const int want = static_cast<int>(setting.category ? discord::ChannelType::guild_category
                                                       : discord::ChannelType::guild_text);
    constexpr int kAnnouncement = 5;
    if (channel->type != want && (setting.category || channel->type != kAnnouncement)) {
        co_return fail(name, label + (setting.category ? " is not a category" : " is not a text channel"));
    }
    const auto has = discord::channel_permissions(base, guild, bot, roles, *channel);
    const auto needs = setting.category ? kCategoryNeeds : kTextChannelNeeds;
    if (const auto missing = needs & ~has; missing != 0) {
        co_return fail(name, label + ": the bot lacks " + discord::permission_names(missing) +
                                 " here — allow them for the bot's role in the channel's permissions");
    }
    co_return pass(name, label);
}

/// The admin role exists; the Subscriber role (when configured) exists below the bot's highest.
CheckResult check_roles(const discord::Guild& guild, const std::vector<discord::Snowflake>& roles,
                        const core::ShopSettings& shop) {
    std::vector<std::string> problems;
    const auto* admin = guild.role(shop.admin_role_id);
    if (admin == nullptr) {
        problems.push_back("ADMIN_ROLE_ID " + shop.admin_role_id.str() + " is not a role of this server");
    }
    const discord::Role* subscriber = nullptr;
    if (shop.subscriber_role_id) {
        subscriber = guild.role(*shop.subscriber_role_id);
        if (subscriber == nullptr) {
            problems.push_back("SUBSCRIBER_ROLE_ID " + shop.subscriber_role_id->str() +
                               " is not a role of this server");
        } else if (subscriber->position >= discord::highest_role_position(guild, roles)) {
            problems.push_back("the Subscriber role @" + subscriber->name +
                               " is not below the bot's highest role, so the bot cannot give it — drag the "
                               "bot's role above it (Server Settings → Roles)");
        }
    }
    if (!problems.empty()) {
        std::string detail;
        for (const auto& p : problems) detail += (detail.empty() ? "" : "; ") + p;
        return fail("discord roles", detail);
    }
    std::string detail = "admin role @" + admin->name;
    if (subscriber != nullptr) detail += ", Subscriber role @" + subscriber->name;
    return pass("discord roles", detail);
}

/// The one-time step that lets the admin role see /admin, for the check's detail.
std::string admin_command_steps(const std::string& role) {
    return "in Discord: Server Settings → Integrations → this bot → /admin → Add Roles or Members → " + role +
           " (allowed) → Save; customers keep not seeing it";
}

/// Whether the members of ADMIN_ROLE_ID can see /admin. It is registered for Manage Server
/// (default_member_permissions), so staff without it need the command's permission overwrite for
/// their role, set once by the server owner in Integrations; the bot reads it with its token.
asio::awaitable<CheckResult> check_admin_command(discord::RestClient& rest, const discord::Guild& guild,
                                                 const core::ShopSettings& shop) {
    const std::string name = "discord /admin";
    const std::string commands_path =
        "/applications/" + shop.application_id.str() + "/guilds/" + shop.guild_id.str() + "/commands";
    auto commands = co_await rest.request("GET", commands_path);
    if (!commands)
        co_return fail(name, "cannot list the bot's commands (" + commands.error().describe() + ")");
    std::optional<std::string> command_id;
    if (commands->is_array()) {
        for (const auto& command : *commands) {
            if (command.is_object() && command.value("name", "") == "admin" && command.contains("id") &&
                command["id"].is_string())
                command_id = command["id"].get<std::string>();
        }
    }
    const auto* admin = guild.role(shop.admin_role_id);
    const std::string role = admin != nullptr ? "@" + admin->name : "the admin role";
    if (!command_id) {
        co_return pass(name,
                       "not registered yet: the bot registers it when it starts; then run check again "
                       "to see whether " +
                           role + " can use it");
    }
    if (admin == nullptr) co_return fail(name, "ADMIN_ROLE_ID is not a role of this server");
    namespace p = discord::permissions;
    if ((admin->permissions & p::kAdministrator) != 0)
        co_return pass(name, role + " has Administrator, so its members see /admin");

    auto raw = co_await rest.request("GET", commands_path + "/" + *command_id + "/permissions");
    nlohmann::json overwrites = nlohmann::json::array();
    if (raw) {
        if (!raw->is_object() || !(*raw)["permissions"].is_array())
            co_return fail(name, "unexpected answer from Discord for the permissions of /admin");
        overwrites = (*raw)["permissions"];
    } else if (raw.error().discord_code != 10066) {  // 10066: no overwrite was ever set
        co_return fail(name, "cannot read the permissions of /admin (" + raw.error().describe() + ")");
    }
    constexpr int kRoleOverwrite = 1;
    std::optional<bool> role_allowed;
    bool everyone_allowed = false;
    for (const auto& o : overwrites) {
        if (!o.is_object() || o.value("type", 0) != kRoleOverwrite || !o.contains("id") ||
            !o["id"].is_string())
            continue;
        const bool allowed = o.value("permission", false);
        const std::string id = o["id"].get<std::string>();
        if (id == shop.admin_role_id.str()) role_allowed = allowed;
        if (id == shop.guild_id.str()) everyone_allowed = allowed;
    }
    if (everyone_allowed) {
        co_return fail(name,
                       "/admin is allowed for @everyone, so every customer sees it — in Server Settings → "
                       "Integrations → this bot → /admin, remove @everyone and add " +
                           role + " instead");
    }
    if (role_allowed == true) co_return pass(name, role + " is allowed /admin (Integrations)");
    if (role_allowed == false) {
        co_return fail(name, role + " is denied /admin in Integrations, so its members cannot see it — " +
                                 admin_command_steps(role));
    }
    if ((admin->permissions & p::kManageGuild) != 0)
        co_return pass(name, role + " has Manage Server, so its members see /admin");
    co_return fail(name, "members of " + role + " without Manage Server cannot see /admin — " +
                             admin_command_steps(role));
}

std::vector<ChannelSetting> configured_channels(const BotConfig& config) {
    const auto& shop = config.shop;
    std::vector<ChannelSetting> channels{{"REVIEW_CHANNEL_ID", shop.review_channel_id},
                                         {"BILLING_CHANNEL_ID", shop.billing_channel_id},
                                         {"MAIN_PANEL_CHANNEL_ID", shop.main_panel_channel_id},
                                         {"ORDERS_CATEGORY_ID", shop.orders_category_id, true}};
    if (config.jobs.notice_channel) channels.push_back({"NOTICE_CHANNEL_ID", *config.jobs.notice_channel});
    if (config.jobs.audit_channel) channels.push_back({"AUDIT_CHANNEL_ID", *config.jobs.audit_channel});
    if (shop.announce_channel_id) channels.push_back({"ANNOUNCE_CHANNEL_ID", *shop.announce_channel_id});
    return channels;
}

/// The bot's place in DISCORD_GUILD_ID: member, guild-wide permissions, the configured roles and
/// channels (each seen through its permission overwrites, as Discord computes them).
asio::awaitable<void> check_discord_setup(discord::RestClient& rest, BotConfig& config,
                                          discord::Snowflake bot, std::vector<CheckResult>& out) {
    auto& shop = config.shop;
    IdSources sources;
    for (const auto& [key, id] : std::vector<std::pair<std::string, discord::Snowflake>>{
             {"DISCORD_CLIENT_ID", shop.application_id},
             {"DISCORD_GUILD_ID", shop.guild_id},
             {"ADMIN_ROLE_ID", shop.admin_role_id},
             {"SUBSCRIBER_ROLE_ID", shop.subscriber_role_id.value_or(discord::Snowflake())},
             {"REVIEW_CHANNEL_ID", shop.review_channel_id},
             {"BILLING_CHANNEL_ID", shop.billing_channel_id},
             {"MAIN_PANEL_CHANNEL_ID", shop.main_panel_channel_id},
             {"ORDERS_CATEGORY_ID", shop.orders_category_id}}) {
        if (!id.empty()) sources.from_env.push_back(key);
    }
    std::string guild_source;
    if (shop.application_id.empty()) {
        auto application = co_await discover_application(rest);
        if (!application) {
            out.push_back(fail("discord application", application.error()));
        } else {
            shop.application_id = *application;
            sources.from_discord.push_back("DISCORD_CLIENT_ID");
        }
    }
    if (shop.guild_id.empty()) {
        auto guilds = co_await list_guilds(rest);
        auto chosen = guilds ? choose_guild(*guilds)
                             : common::Result<std::optional<discord::Snowflake>, std::string>(
                                   common::unexpected(guilds.error()));
        if (!chosen) {
            out.push_back(fail("discord server", chosen.error()));
            co_return;
        }
        if (!*chosen) {
            out.push_back(
                fail("discord server",
                     "the bot is in no server yet — add it with the link `nebula-bot invite-url` prints"));
            co_return;
        }
        shop.guild_id = **chosen;
        guild_source = " — the one server the bot is in";
        sources.from_discord.push_back("DISCORD_GUILD_ID");
    }
    // Ids bot.env leaves out come from the database, where /admin setup keeps what it made.
    if (auto connection = db::open_connection(config.database, db::Access::read_only)) {
        try {
            if (auto stored = domain::discord_layout::load(**connection, shop.guild_id))
                sources.from_database = handlers::setup::apply_layout(shop, *stored);
        } catch (const std::exception&) {
            // An old schema: the migrations line already says so.
        }
    }
    std::vector<std::string> unset;
    for (const auto& [key, id] : std::vector<std::pair<std::string, discord::Snowflake>>{
             {"ADMIN_ROLE_ID", shop.admin_role_id},
             {"REVIEW_CHANNEL_ID", shop.review_channel_id},
             {"BILLING_CHANNEL_ID", shop.billing_channel_id},
             {"MAIN_PANEL_CHANNEL_ID", shop.main_panel_channel_id},
             {"ORDERS_CATEGORY_ID", shop.orders_category_id}}) {
        if (id.empty()) unset.push_back(key);
    }
    // Said when bot.env did not name them all (with every id in bot.env there is nothing to add).
    if (!sources.from_discord.empty() || !sources.from_database.empty())
        out.push_back(pass("discord ids", sources.describe()));
    if (!unset.empty()) {
        std::string keys;
        for (const auto& key : unset) keys += (keys.empty() ? "" : ", ") + key;
        out.push_back(
            fail("discord setup", "not set up yet: " + keys +
                                      " — run /admin setup in Discord (it creates them), or set them in "
                                      "bot.env"));
    }
    const std::string server = "discord server";
    auto raw = co_await rest.request("GET", "/guilds/" + shop.guild_id.str());
    if (!raw) {
        const auto code = raw.error().code;
        if (code == discord::RestErrorCode::not_found || code == discord::RestErrorCode::forbidden) {
            out.push_back(
                fail(server, "the bot is not in server " + shop.guild_id.str() +
                                 " (DISCORD_GUILD_ID) — add it with the link `nebula-bot invite-url` "
                                 "prints"));
        } else {
            out.push_back(fail(server, raw.error().describe()));
        }
        co_return;
    }
    auto guild = discord::parse_guild(*raw);
    if (!guild) {
        out.push_back(fail(server, "unexpected answer from Discord for " + shop.guild_id.str()));
        co_return;
    }
    auto member = co_await rest.get_member(shop.guild_id, bot);
    if (!member) {
        out.push_back(fail(server, "the bot is not a member of " + guild->name + " (" +
                                       member.error().describe() +
                                       ") — add it with the link `nebula-bot invite-url` prints"));
        co_return;
    }
    out.push_back(pass(server, guild->name + " (" + shop.guild_id.str() + ")" + guild_source));
    const auto& roles = member->roles;
    const auto base = discord::base_permissions(*guild, bot, roles);

    const auto needed = required_permissions(shop.subscriber_role_id.has_value());
    if (const auto missing = needed & ~base; missing != 0) {
        out.push_back(
            fail("discord permissions", "the bot's roles lack " + discord::permission_names(missing) +
                                            " — grant them to its role (Server Settings → Roles) or "
                                            "add the bot again with `nebula-bot invite-url`"));
    } else {
        out.push_back(
            pass("discord permissions", "the bot's roles grant " + discord::permission_names(needed)));
    }

    if (shop.admin_role_id.empty()) co_return;
    auto role_check = check_roles(*guild, roles, shop);
    if (role_check.ok) role_check.detail += sources.of("ADMIN_ROLE_ID");
    out.push_back(std::move(role_check));
    if (!shop.application_id.empty()) out.push_back(co_await check_admin_command(rest, *guild, shop));
    auto channels = configured_channels(config);
    for (auto& setting : channels) {
        if (setting.id.empty()) continue;
        const std::string key = setting.key;
        auto checked = co_await check_channel(rest, *guild, bot, roles, base, std::move(setting));
        if (checked.ok) checked.detail += sources.of(key);
        out.push_back(std::move(checked));
    }
}

asio::awaitable<void> check_network(asio::any_io_executor executor, BotConfig config,
                                    const common::Clock& clock, std::vector<GatewayTarget> targets,
                                    std::vector<CheckResult>& out) {
    discord::RestOptions options;
    options.api_base = config.discord_api_base;
    options.token = config.discord_token;
    options.ca_file = config.discord_ca_file;
    options.request_timeout = kNetworkDeadline;
    options.max_retries = 1;
    auto rest = discord::RestClient::create(executor, options, clock);
    if (!rest) {
        out.push_back(fail("discord", rest.error() + " — fix DISCORD_API_BASE or DISCORD_CA_FILE"));
    } else {
        auto me = co_await (*rest)->get_current_user();
        if (me) {
            out.push_back(
                pass("discord", "token accepted: logged in as " + me->username + " (" + me->id.str() + ")"));
            co_await check_discord_setup(**rest, config, me->id, out);
        } else if (me.error().code == discord::RestErrorCode::unauthorized) {
            out.push_back(fail("discord",
                               "DISCORD_TOKEN rejected (401) — copy the token again from the "
                               "Developer Portal (Bot → Reset Token)"));
        } else {
            out.push_back(fail(
                "discord", me.error().describe() + " — check outbound HTTPS to " + config.discord_api_base));
        }
        rest->reset();
    }

    if (targets.empty()) {
        out.push_back(
            fail("gateways", "no enabled server — add one with /admin server add or set API_GATEWAY_URL"));
    }
    for (const auto& target : targets) {
        const std::string name = "gateway " + target.name + " (" + target.url + ")";
        gateway_client::HttpGatewayOptions o;
        o.base_url = target.url;
        o.key = target.key;
        o.pinned_sha256 = target.pin;
        o.timeout = kNetworkDeadline;
        auto client = gateway_client::HttpGatewayClient::create(executor, o, clock);
        if (!client) {
            out.push_back(fail(name, client.error()));
            continue;
        }
        auto health = co_await (*client)->health();
        if (!health) {
            out.push_back(fail(name, gateway_fix(health.error())));
        } else if (health->status != "ok") {
            out.push_back(fail(name, "gateway " + health->version + " answers, but its panel is " +
                                         health->panel + " — run `nebula-gateway check` on that server"));
        } else {
            out.push_back(
                pass(name, "signed health ok, panel " + health->panel + ", gateway " + health->version));
        }
    }
}

}  // namespace

std::string format_check(const CheckResult& result) {
    return std::string(result.ok ? "OK   " : "FAIL ") + result.name + ": " + result.detail;
}

std::vector<CheckResult> check_bot(const BotConfig& config, const common::Clock& clock) {
    std::vector<CheckResult> out;
    std::vector<GatewayTarget> targets;
    check_database(config, clock, out, targets);
    const auto& def = config.default_server;
    bool listed = false;
    for (const auto& t : targets) listed = listed || t.url == def.gateway_url;
    if (!listed && !def.gateway_url.empty()) {
        targets.push_back(
            {def.name.empty() ? "default" : def.name, def.gateway_url, def.key, def.tls_pin_sha256});
    }

    asio::io_context io;
    std::exception_ptr failure;
    asio::co_spawn(io, check_network(io.get_executor(), config, clock, std::move(targets), out),
                   [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return out;
}

}  // namespace nebula::bot::app
