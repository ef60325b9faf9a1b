#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/result.hpp"
#include "discord/rest.hpp"
#include "discord/snowflake.hpp"

// What the bot learns from Discord with its token alone when bot.env leaves it out: the
// application id (DISCORD_CLIENT_ID) and the one server it is in (DISCORD_GUILD_ID).

namespace nebula::bot::app {

/// GET /oauth2/applications/@me: the bot's application id.
boost::asio::awaitable<common::Result<discord::Snowflake, std::string>> discover_application(
    discord::RestClient& rest);

/// A server the bot is in, as GET /users/@me/guilds lists it.
struct GuildSummary {
    discord::Snowflake id;
    std::string name;
};

/// GET /users/@me/guilds (the first 200, more than a shop bot is ever in).
boost::asio::awaitable<common::Result<std::vector<GuildSummary>, std::string>> list_guilds(
    discord::RestClient& rest);

/// The one server among `guilds`; nothing when there is none yet; an error naming each one when
/// there are several (then DISCORD_GUILD_ID must say which).
common::Result<std::optional<discord::Snowflake>, std::string> choose_guild(
    const std::vector<GuildSummary>& guilds);

}  // namespace nebula::bot::app
