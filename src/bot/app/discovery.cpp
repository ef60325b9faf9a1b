#include "bot/app/discovery.hpp"

namespace nebula::bot::app {
namespace asio = boost::asio;

asio::awaitable<common::Result<discord::Snowflake, std::string>> discover_application(
    discord::RestClient& rest) {
    auto raw = co_await rest.request("GET", "/oauth2/applications/@me");
    if (!raw)
        co_return common::unexpected("reading the application id from Discord: " + raw.error().describe());
    const auto id = raw->is_object() && (*raw)["id"].is_string()
                        ? discord::Snowflake::parse((*raw)["id"].get<std::string>())
                        : std::nullopt;
    if (!id || id->empty())
        co_return common::unexpected(std::string("unexpected answer from Discord for the application"));
    co_return *id;
}

asio::awaitable<common::Result<std::vector<GuildSummary>, std::string>> list_guilds(
    discord::RestClient& rest) {
    auto raw = co_await rest.request("GET", "/users/@me/guilds?limit=200");
    if (!raw) co_return common::unexpected("listing the bot's servers: " + raw.error().describe());
    if (!raw->is_array())
        co_return common::unexpected(std::string("unexpected answer from Discord for the bot's servers"));
    std::vector<GuildSummary> out;
    for (const auto& guild : *raw) {
        const auto id = guild.is_object() && guild["id"].is_string()
                            ? discord::Snowflake::parse(guild["id"].get<std::string>())
                            : std::nullopt;
        if (!id || id->empty()) continue;
        const auto name = guild.is_object() && guild.contains("name") && guild["name"].is_string()
                              ? guild["name"].get<std::string>()
                              : std::string();
        out.push_back({*id, name});
    }
    co_return out;
}

common::Result<std::optional<discord::Snowflake>, std::string> choose_guild(
    const std::vector<GuildSummary>& guilds) {
    if (guilds.empty()) return std::optional<discord::Snowflake>();
    if (guilds.size() == 1) return std::optional<discord::Snowflake>(guilds.front().id);
    std::string names;
    for (const auto& guild : guilds)
        names += (names.empty() ? "" : ", ") + guild.name + " (" + guild.id.str() + ")";
    return common::unexpected("the bot is in " + std::to_string(guilds.size()) + " servers: " + names +
                              " — set DISCORD_GUILD_ID in bot.env to the shop's one");
}

}  // namespace nebula::bot::app
