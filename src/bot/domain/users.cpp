#include "bot/domain/users.hpp"

#include "bot/domain/audit.hpp"

namespace nebula::bot::domain {
namespace {

constexpr std::string_view kSelect =
    "SELECT id, discord_id, username, locale_choice, last_locale, status, ban_reason, created_at, "
    "announcements_dm FROM users ";

std::optional<User> read_one(db::Statement& row) {
    if (!row.step()) return std::nullopt;
    User user;
    user.id = row.get<UserId>(0);
    user.discord_id = row.get<DiscordId>(1);
    user.username = row.get<std::string>(2);
    user.locale_choice = row.get<std::optional<std::string>>(3);
    user.last_locale = row.get<std::optional<std::string>>(4);
    user.status = parse_user_status(row.get<std::string>(5));
    user.ban_reason = row.get<std::optional<std::string>>(6);
    user.created_at = row.get<Timestamp>(7);
    user.announcements_dm = row.get<bool>(8);
    return user;
}

}  // namespace

nlohmann::json to_json(const User& user) {
    return {{"id", user.id.value},
            {"discord_id", user.discord_id.str()},
            {"username", user.username},
            {"locale_choice", user.locale_choice ? nlohmann::json(*user.locale_choice) : nullptr},
            {"last_locale", user.last_locale ? nlohmann::json(*user.last_locale) : nullptr},
            {"status", to_string(user.status)},
            {"ban_reason", user.ban_reason ? nlohmann::json(*user.ban_reason) : nullptr}};
}

User UserService::ensure(db::Connection& connection, const DiscordId& discord_id,
                         const std::string& username) {
    // Every click of a returning customer lands here: answer it with a read, so it never waits
    // for (or takes) the database's write lock.
    if (auto known = find(connection, discord_id); known && known->username == username) return *known;
    const auto now = to_timestamp(clock_.now());
    // Insert-or-rename in one statement that tolerates a concurrent insert on both backends.
    connection.exec(
        "INSERT INTO users (discord_id, username, created_at, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (discord_id) DO UPDATE SET username = excluded.username, updated_at = "
        "excluded.updated_at "
        "WHERE users.username <> excluded.username",
        discord_id, username, now, now);
    auto user = find(connection, discord_id);
    if (!user) throw db::DbError(db::DbErrorCode::other, "user vanished after insert");
    return *user;
}

std::optional<User> UserService::find(db::Connection& connection, const DiscordId& discord_id) {
    auto row = connection.query(std::string(kSelect) + "WHERE discord_id = ?", discord_id);
    return read_one(*row);
}

std::optional<User> UserService::get(db::Connection& connection, UserId id) {
    auto row = connection.query(std::string(kSelect) + "WHERE id = ?", id);
    return read_one(*row);
}

Outcome<User> UserService::choose_locale(db::Connection& connection, UserId id,
                                         const std::optional<std::string>& locale) {
    if (locale && *locale != "en" && *locale != "ar")
        return fail(ErrorCode::validation, "language must be en or ar");
    if (connection.exec("UPDATE users SET locale_choice = ?, updated_at = ? WHERE id = ?", locale,
                        to_timestamp(clock_.now()), id) == 0) {
        return fail(ErrorCode::not_found, "no such user");
    }
    return *get(connection, id);
}

bool UserService::note_discord_locale(db::Connection& connection, const DiscordId& discord_id,
                                      std::string_view code) {
    if (code.empty()) return false;
    const std::string value(code.substr(0, 16));
    // Most clicks change nothing: the WHERE keeps them from writing (and taking the write lock).
    return connection.exec(
               "UPDATE users SET last_locale = ?, updated_at = ? WHERE discord_id = ? AND "
               "(last_locale IS NULL OR last_locale <> ?)",
               value, to_timestamp(clock_.now()), discord_id, value) == 1;
}

Outcome<User> UserService::ban(db::Connection& connection, const Actor& actor, UserId id,
                               const std::string& reason) {
    if (reason.size() > 500)
        return fail(ErrorCode::validation, "the ban reason is longer than 500 characters");
    return set_status(connection, actor, id, UserStatus::banned, reason);
}

Outcome<User> UserService::unban(db::Connection& connection, const Actor& actor, UserId id) {
    return set_status(connection, actor, id, UserStatus::active, std::nullopt);
}

Outcome<User> UserService::set_status(db::Connection& connection, const Actor& actor, UserId id,
                                      UserStatus status, std::optional<std::string> reason) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<User> {
        auto before = get(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such user");
        const auto now = to_timestamp(clock_.now());
        c.exec("UPDATE users SET status = ?, ban_reason = ?, updated_at = ? WHERE id = ?", status, reason,
               now, id);
        auto after = *get(c, id);
        record_audit(c,
                     {actor.text(), status == UserStatus::banned ? "user.banned" : "user.unbanned", "user",
                      std::to_string(id.value), to_json(*before), to_json(after)},
                     now);
        return after;
    });
}

}  // namespace nebula::bot::domain
