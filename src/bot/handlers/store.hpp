#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::handlers::store {

/// The `settings` key/value table (e.g. the main panel's message id). Run inside db.run().
std::optional<std::string> get_setting(db::Connection& connection, std::string_view key);
void set_setting(db::Connection& connection, std::string_view key, std::string_view value,
                 domain::Timestamp now);
void delete_setting(db::Connection& connection, std::string_view key);
/// Every setting whose key starts with `prefix`, as (key, value).
std::vector<std::pair<std::string, std::string>> settings_with_prefix(db::Connection& connection,
                                                                      std::string_view prefix);

/// The newest order whose private channel is `channel_id`.
std::optional<domain::OrderId> order_for_channel(db::Connection& connection, std::string_view channel_id);

}  // namespace nebula::bot::handlers::store
