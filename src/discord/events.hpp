#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "discord/model.hpp"

namespace nebula::discord {

/// READY: the session to keep for resumes.
struct Ready {
    std::string session_id;
    std::string resume_gateway_url;
    User user;
    Snowflake application_id;
    std::vector<Snowflake> guilds;  ///< unavailable until their GUILD_CREATE arrives
};

struct Resumed {};

struct GuildMemberUpdate {
    Snowflake guild_id;
    User user;
    std::vector<Snowflake> roles;
    std::string nick;
};

/// GUILD_DELETE: `unavailable` means an outage, not that the bot was removed.
struct GuildDelete {
    Snowflake id;
    bool unavailable = false;
};

/// A dispatch (op 0) from the gateway: its name, sequence number and data, plus the typed view
/// for the events the product handles (monostate for others, or when the data did not parse —
/// then `error` says why).
struct Event {
    std::string name;
    std::int64_t seq = 0;
    nlohmann::json data;
    std::variant<std::monostate, Ready, Resumed, Interaction, Message, GuildMemberUpdate, Channel,
                 GuildDelete>
        typed;
    std::optional<ParseError> error;

    const Interaction* interaction() const { return std::get_if<Interaction>(&typed); }
    /// MESSAGE_CREATE's message.
    const Message* message() const { return std::get_if<Message>(&typed); }
    /// CHANNEL_DELETE's channel.
    const Channel* channel() const { return std::get_if<Channel>(&typed); }
};

/// Builds an Event from a dispatch; never throws.
Event make_event(std::string name, std::int64_t seq, nlohmann::json data);

}  // namespace nebula::discord
