#pragma once

#include <cstdint>
#include <string>

#include "discord/snowflake.hpp"

namespace nebula::bot::app {

/// The guild permissions nebula-bot needs, and nothing more: View Channel, Send Messages,
/// Manage Messages, Embed Links, Attach Files, Read Message History and Manage Channels (order
/// channels), plus Manage Roles only when the Subscriber role is configured.
std::uint64_t required_permissions(bool subscriber_role);

/// The OAuth2 URL that adds the bot to a guild with those permissions and the scopes
/// `bot` and `applications.commands`.
std::string invite_url(discord::Snowflake client_id, bool subscriber_role);

}  // namespace nebula::bot::app
