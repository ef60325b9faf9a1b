#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"
#include "common/clock.hpp"

namespace nebula::bot::domain {

struct User {
    UserId id;
    DiscordId discord_id;
    std::string username;
    std::string locale;  ///< "en" or "ar"
    UserStatus status = UserStatus::active;
    std::optional<std::string> ban_reason;
    Timestamp created_at;
};

nlohmann::json to_json(const User& user);

/// Customers known to the bot. Every method runs on the connection it is given (callers use
/// the DbExecutor) and is safe to call from several connections at once.
class UserService {
  public:
    explicit UserService(const common::Clock& clock) : clock_(clock) {}

    /// The user with this Discord id, created on first sight; the stored name follows the
    /// latest one seen. Safe under concurrent first sights of the same user.
    User ensure(db::Connection& connection, const DiscordId& discord_id, const std::string& username);

    std::optional<User> find(db::Connection& connection, const DiscordId& discord_id);
    std::optional<User> get(db::Connection& connection, UserId id);

    /// "en" or "ar"; anything else is a validation error.
    Outcome<User> set_locale(db::Connection& connection, UserId id, const std::string& locale);

    /// Banned users cannot order. Audited with the acting admin.
    Outcome<User> ban(db::Connection& connection, const DiscordId& actor, UserId id,
                      const std::string& reason);
    Outcome<User> unban(db::Connection& connection, const DiscordId& actor, UserId id);

  private:
    Outcome<User> set_status(db::Connection& connection, const DiscordId& actor, UserId id, UserStatus status,
                             std::optional<std::string> reason);

    const common::Clock& clock_;
};

}  // namespace nebula::bot::domain
