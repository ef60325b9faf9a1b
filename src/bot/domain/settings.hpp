#pragma once

#include <optional>
#include <string>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain::settings {

/// The `settings` key/value table: shop-wide values the bot keeps for itself (the main panel's
/// message id). Business state has typed columns and tables instead (docs/schema.md). Run inside
/// db.run().
std::optional<std::string> get(db::Connection& connection, std::string_view key);
void set(db::Connection& connection, std::string_view key, std::string_view value, Timestamp now);

/// The key of the main panel's message id.
inline constexpr std::string_view kMainPanelMessage = "main_panel_message_id";

}  // namespace nebula::bot::domain::settings
