#include "bot/domain/discord_layout.hpp"

namespace nebula::bot::domain::discord_layout {
namespace {

std::optional<DiscordId> stored(const DiscordId& id) {
    if (id.empty()) return std::nullopt;
    return id;
}

}  // namespace

std::optional<DiscordLayout> load(db::Connection& connection, const DiscordId& guild) {
    auto row = connection.query(
        "SELECT admin_role_id, subscriber_role_id, review_channel_id, billing_channel_id, "
        "main_panel_channel_id, orders_category_id FROM discord_layout WHERE guild_id = ?",
        guild);
    if (!row->step()) return std::nullopt;
    const auto id = [&](int column) {
        return row->get<std::optional<DiscordId>>(column).value_or(DiscordId{});
    };
    return DiscordLayout{id(0), id(1), id(2), id(3), id(4), id(5)};
}

void save(db::Connection& connection, const DiscordId& guild, const DiscordLayout& layout, Timestamp now) {
    connection.exec(
        "INSERT INTO discord_layout (guild_id, admin_role_id, subscriber_role_id, review_channel_id, "
        "billing_channel_id, main_panel_channel_id, orders_category_id, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
        "admin_role_id = excluded.admin_role_id, subscriber_role_id = excluded.subscriber_role_id, "
        "review_channel_id = excluded.review_channel_id, billing_channel_id = excluded.billing_channel_id, "
        "main_panel_channel_id = excluded.main_panel_channel_id, "
        "orders_category_id = excluded.orders_category_id, updated_at = excluded.updated_at",
        guild, stored(layout.admin_role), stored(layout.subscriber_role), stored(layout.review_channel),
        stored(layout.billing_channel), stored(layout.main_panel_channel), stored(layout.orders_category),
        now);
}

}  // namespace nebula::bot::domain::discord_layout
