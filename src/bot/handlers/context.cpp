#include "bot/handlers/context.hpp"

#include <algorithm>

namespace nebula::bot::handlers {

bool is_admin(const ShopSettings& shop, const discord::Interaction& interaction) {
    if (!interaction.member || !interaction.guild_id || *interaction.guild_id != shop.guild_id) return false;
    return !shop.admin_role_id.empty() && interaction.member->has_role(shop.admin_role_id);
}

boost::asio::awaitable<void> reply_ephemeral_payload(Call& call, discord::MessagePayload payload) {
    payload.flags |= discord::kEphemeralFlag;
    co_await call.responder.reply(std::move(payload));
}

boost::asio::awaitable<void> reply_ephemeral(Call& call, std::string text) {
    discord::MessagePayload payload;
    payload.content = std::move(text);
    co_await reply_ephemeral_payload(call, std::move(payload));
}

boost::asio::awaitable<bool> require_admin(Call& call) {
    if (call.admin) co_return true;
    co_await reply_ephemeral(call, call.tr(ui::Msg::error_not_admin));
    co_return false;
}

}  // namespace nebula::bot::handlers
