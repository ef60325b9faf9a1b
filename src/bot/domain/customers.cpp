#include "bot/domain/customers.hpp"

#include <algorithm>
#include <cctype>

#include "bot/domain/audit.hpp"

namespace nebula::bot::domain {
namespace {

// LIKE pattern that matches `text` anywhere, lower-cased, with the wildcard characters in it
// escaped (the queries say ESCAPE '\').
std::string like_anywhere(std::string_view text) {
    std::string pattern = "%";
    for (char c : text) {
        if (c == '%' || c == '_' || c == '\\') pattern += '\\';
        pattern += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    pattern += '%';
    return pattern;
}

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

// "<@123>" or "<@!123>" as pasted from Discord: the id inside.
std::string_view without_mention(std::string_view text) {
    if (text.starts_with("<@") && text.ends_with('>')) {
        text = text.substr(2, text.size() - 3);
        if (text.starts_with('!')) text.remove_prefix(1);
    }
    return text;
}

std::size_t code_points(std::string_view text) {
    std::size_t count = 0;
    for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return count;
}

constexpr std::string_view kMatch =
    "(? = '' OR LOWER(u.username) LIKE ? ESCAPE '\\' OR u.discord_id = ? "
    "OR EXISTS (SELECT 1 FROM orders mo WHERE mo.user_id = u.id AND LOWER(mo.reference) LIKE ? ESCAPE '\\') "
    "OR EXISTS (SELECT 1 FROM vpn_accounts ma WHERE ma.user_id = u.id "
    "AND LOWER(ma.client_email) LIKE ? ESCAPE '\\'))";

std::string_view filter_condition(CustomerFilter filter) {
    switch (filter) {
        case CustomerFilter::all:
            return "1 = 1";
        case CustomerFilter::active:
            return "u.status = 'active'";
        case CustomerFilter::banned:
            return "u.status = 'banned'";
        case CustomerFilter::subscribed:
            return "EXISTS (SELECT 1 FROM vpn_accounts sa WHERE sa.user_id = u.id AND sa.status = 'active')";
    }
    return "1 = 1";
}

std::vector<UserNote> read_notes(db::Statement& rows) {
    std::vector<UserNote> notes;
    while (rows.step()) {
        UserNote note;
        note.id = rows.get<std::int64_t>(0);
        note.user_id = rows.get<UserId>(1);
        note.author = rows.get<DiscordId>(2);
        note.body = rows.get<std::string>(3);
        note.created_at = rows.get<Timestamp>(4);
        notes.push_back(std::move(note));
    }
    return notes;
}

}  // namespace

std::optional<CustomerFilter> parse_customer_filter(std::string_view text) {
    if (text.empty() || text == "all") return CustomerFilter::all;
    if (text == "active") return CustomerFilter::active;
    if (text == "banned") return CustomerFilter::banned;
    if (text == "subscribed") return CustomerFilter::subscribed;
    return std::nullopt;
}

namespace customers {

CustomerPage list(db::Connection& connection, CustomerFilter filter, std::string_view query,
                  std::int64_t offset, int limit) {
    std::string typed(without_mention(trimmed(query)));
    if (typed.size() > kMaxQueryLength) typed.resize(kMaxQueryLength);
    const std::string pattern = like_anywhere(typed);
    const std::string where =
        " FROM users u WHERE " + std::string(filter_condition(filter)) + " AND " + std::string(kMatch);
    CustomerPage page;
    page.total =
        connection.scalar<std::int64_t>("SELECT COUNT(*)" + where, typed, pattern, typed, pattern, pattern)
            .value_or(0);
    auto rows = connection.query(
        "SELECT u.id, u.discord_id, u.username, u.status, u.created_at, "
        "(SELECT COUNT(*) FROM orders o WHERE o.user_id = u.id), "
        "(SELECT COUNT(*) FROM vpn_accounts a WHERE a.user_id = u.id AND a.status = 'active')" +
            where + " ORDER BY u.id DESC LIMIT ? OFFSET ?",
        typed, pattern, typed, pattern, pattern, limit, std::max<std::int64_t>(offset, 0));
    while (rows->step()) {
        CustomerRow row;
        row.id = rows->get<UserId>(0);
        row.discord_id = rows->get<DiscordId>(1);
        row.username = rows->get<std::string>(2);
        row.status = parse_user_status(rows->get<std::string>(3));
        row.created_at = rows->get<Timestamp>(4);
        row.orders = rows->get<std::int64_t>(5);
        row.active_accounts = rows->get<std::int64_t>(6);
        page.rows.push_back(std::move(row));
    }
    return page;
}

CustomerHistory history(db::Connection& connection, OrderService& orders, UserId user) {
    CustomerHistory history;
    std::vector<std::pair<OrderId, std::pair<std::string, std::optional<std::string>>>> names;
    {
        auto rows = connection.query(
            "SELECT o.id, p.name, m.code FROM orders o JOIN plans p ON p.id = o.plan_id "
            "LEFT JOIN payment_methods m ON m.id = o.payment_method_id WHERE o.user_id = ? ORDER BY o.id "
            "DESC",
            user);
        while (rows->step()) {
            names.push_back({rows->get<OrderId>(0),
                             {rows->get<std::string>(1), rows->get<std::optional<std::string>>(2)}});
        }
    }
    for (auto& [id, name] : names) {
        auto order = orders.get(connection, id);
        if (!order) continue;
        history.orders.push_back({std::move(*order), std::move(name.first), std::move(name.second)});
    }
    history.accounts = accounts::for_user(connection, user);
    auto rows = connection.query(
        "SELECT id, user_id, author, body, created_at FROM user_notes WHERE user_id = ? ORDER BY id", user);
    history.notes = read_notes(*rows);
    return history;
}

Outcome<UserNote> add_note(db::Connection& connection, const DiscordId& author, UserId user,
                           std::string_view text, Timestamp now) {
    const auto body = trimmed(text);
    if (body.empty()) return fail(ErrorCode::validation, "write the note's text");
    if (code_points(body) > kMaxNoteLength)
        return fail(ErrorCode::validation,
                    "a note is at most " + std::to_string(kMaxNoteLength) + " characters");
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<UserNote> {
        if (!c.scalar<std::int64_t>("SELECT id FROM users WHERE id = ?", user))
            return fail(ErrorCode::not_found, "that member has never used the bot");
        const auto id = *c.scalar<std::int64_t>(
            "INSERT INTO user_notes (user_id, author, body, created_at) VALUES (?, ?, ?, ?) RETURNING id",
            user, author, std::string(body), now);
        UserNote note{id, user, author, std::string(body), now};
        record_audit(c,
                     {author.str(), "user.note_added", "user", std::to_string(user.value), std::nullopt,
                      nlohmann::json{{"note_id", id}, {"body", note.body}}},
                     now);
        return note;
    });
}

}  // namespace customers
}  // namespace nebula::bot::domain
