#include "discord/events.hpp"

#include "discord/json_reader.hpp"

namespace nebula::discord {

using detail::Node;

Event make_event(std::string name, std::int64_t seq, nlohmann::json data) {
    Event event;
    event.name = std::move(name);
    event.seq = seq;
    event.data = std::move(data);
    const auto typed = detail::guarded<decltype(event.typed)>([&]() -> decltype(event.typed) {
        const Node node(event.data, "");
        if (event.name == "READY") {
            Ready ready;
            ready.session_id = node.at("session_id").string();
            ready.resume_gateway_url = node.string_or("resume_gateway_url");
            ready.user = detail::read_user(node.at("user"));
            if (const auto app = node.find("application")) ready.application_id = app->at("id").snowflake();
            if (const auto guilds = node.find("guilds")) {
                const std::size_t n = guilds->array_size(100'000);
                for (std::size_t i = 0; i < n; ++i)
                    ready.guilds.push_back(guilds->index(i).at("id").snowflake());
            }
            return ready;
        }
        if (event.name == "RESUMED") return Resumed{};
        if (event.name == "INTERACTION_CREATE") {
            auto interaction = parse_interaction(event.data);
            if (!interaction) throw detail::BadField(interaction.error().path, interaction.error().message);
            return std::move(*interaction);
        }
        if (event.name == "MESSAGE_CREATE") return detail::read_message(node);
        if (event.name == "GUILD_MEMBER_UPDATE") {
            GuildMemberUpdate update;
            update.guild_id = node.at("guild_id").snowflake();
            update.user = detail::read_user(node.at("user"));
            const Node roles = node.at("roles");
            const std::size_t n = roles.array_size(1000);
            for (std::size_t i = 0; i < n; ++i) update.roles.push_back(roles.index(i).snowflake());
            update.nick = node.string_or("nick");
            return update;
        }
        if (event.name == "CHANNEL_DELETE") return detail::read_channel(node);
        if (event.name == "GUILD_DELETE")
            return GuildDelete{node.at("id").snowflake(), node.bool_or("unavailable", false)};
        return std::monostate{};
    });
    if (typed) {
        event.typed = *typed;
    } else {
        event.error = typed.error();
    }
    return event;
}

}  // namespace nebula::discord
