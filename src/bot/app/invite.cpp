#include "bot/app/invite.hpp"

#include "discord/builders.hpp"

namespace nebula::bot::app {

std::uint64_t required_permissions(bool subscriber_role) {
    namespace p = discord::permissions;
    std::uint64_t bits = p::kViewChannel | p::kSendMessages | p::kManageMessages | p::kEmbedLinks |
                         p::kAttachFiles | p::kReadMessageHistory | p::kManageChannels;
    if (subscriber_role) bits |= p::kManageRoles;
    return bits;
}

std::string invite_url(discord::Snowflake client_id, bool subscriber_role) {
    return "https://discord.com/oauth2/authorize?client_id=" + client_id.str() +
           "&permissions=" + std::to_string(required_permissions(subscriber_role)) +
           "&scope=bot%20applications.commands";
}

}  // namespace nebula::bot::app
