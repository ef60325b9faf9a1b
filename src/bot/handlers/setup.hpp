#pragma once

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "bot/core/context.hpp"
#include "bot/domain/discord_layout.hpp"
#include "bot/handlers/context.hpp"
#include "bot/handlers/router.hpp"

// The guided setup of the shop's Discord server: /admin setup offers to create the roles and
// channels bot.env does not name, with the permission overwrites `nebula-bot check` expects,
// stores their ids (domain::DiscordLayout), posts the main panel and says what is still missing
// before the first sale.

namespace nebula::bot::handlers::setup {

/// Fills each id `shop` leaves empty (bot.env did not name it) from `stored`; returns the
/// bot.env keys filled ("ADMIN_ROLE_ID", ...).
std::vector<std::string> apply_layout(core::ShopSettings& shop, const domain::DiscordLayout& stored);

/// /admin setup: for the admin role or anyone with Manage Server (the owner has it).
boost::asio::awaitable<void> admin_setup(Call& call);

/// The Create / Not now buttons of the offer.
void register_setup_routes(Router& router);

}  // namespace nebula::bot::handlers::setup
