#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"
#include "common/clock.hpp"

namespace nebula::bot::domain {

struct User {
    UserId id;
    DiscordId discord_id;
    std::string username;
    /// "en" or "ar" once the customer chose a language with the Language button; nothing while
    /// the language of their Discord decides (the default).
    std::optional<std::string> locale_choice;
    /// The Discord locale code of their latest interaction ("ar", "en-US"...), for messages that
    /// are not an answer to one; nothing until the bot has seen one.
    std::optional<std::string> last_locale;
    UserStatus status = UserStatus::active;
    std::optional<std::string> ban_reason;
    Timestamp created_at;
    /// They turned "Announcements by DM" on in My Account (off by default).
    bool announcements_dm = false;
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

    /// The customer's explicit language: "en" or "ar"; nothing to follow their Discord language
    /// again. Anything else is a validation error.
    Outcome<User> choose_locale(db::Connection& connection, UserId id,
                                const std::optional<std::string>& locale);

    /// Remembers the Discord locale of the customer's latest interaction (cut to 16 characters;
    /// an empty code is ignored). Writes only when it changed; false when nothing was written
    /// (unchanged, or no such user yet).
    bool note_discord_locale(db::Connection& connection, const DiscordId& discord_id, std::string_view code);

    /// Banned users cannot order. Audited with the acting admin.
    Outcome<User> ban(db::Connection& connection, const Actor& actor, UserId id, const std::string& reason);
    Outcome<User> unban(db::Connection& connection, const Actor& actor, UserId id);

  private:
    Outcome<User> set_status(db::Connection& connection, const Actor& actor, UserId id, UserStatus status,
                             std::optional<std::string> reason);

    const common::Clock& clock_;
};

}  // namespace nebula::bot::domain
