#pragma once

#include <optional>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

/// The shop's roles and channels in one Discord server as /admin setup made them (a row of
/// discord_layout). Empty: not made. Ids in bot.env win over these (bot/app/layout.hpp).
struct DiscordLayout {
    DiscordId admin_role;
    DiscordId subscriber_role;
    DiscordId review_channel;
    DiscordId billing_channel;
    DiscordId main_panel_channel;
    DiscordId orders_category;
};

namespace discord_layout {

/// The layout stored for `guild`: nothing when /admin setup never stored one there.
std::optional<DiscordLayout> load(db::Connection& connection, const DiscordId& guild);
/// Stores (or replaces) the layout of `guild`.
void save(db::Connection& connection, const DiscordId& guild, const DiscordLayout& layout, Timestamp now);

}  // namespace discord_layout
}  // namespace nebula::bot::domain
