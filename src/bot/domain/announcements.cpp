#include "bot/domain/announcements.hpp"

#include <nlohmann/json.hpp>

#include "bot/domain/audit.hpp"

namespace nebula::bot::domain {
namespace {

constexpr std::string_view kSelect =
    "SELECT id, audience, server_id, message, status, created_by, created_at, confirmed_at, "
    "posted_message_id, finished_at, dropped FROM announcements ";

AnnouncementStatus parse_status(std::string_view text) {
    if (text == "draft") return AnnouncementStatus::draft;
    if (text == "sending") return AnnouncementStatus::sending;
    if (text == "done") return AnnouncementStatus::done;
    if (text == "cancelled") return AnnouncementStatus::cancelled;
    throw std::invalid_argument("unknown announcement status: " + std::string(text));
}

std::vector<Announcement> read(db::Statement& rows) {
    std::vector<Announcement> out;
    while (rows.step()) {
        Announcement a;
        a.id = rows.get<AnnouncementId>(0);
        a.audience = parse_audience(rows.get<std::string>(1)).value_or(Audience::all);
        a.server = rows.get<std::optional<ServerId>>(2);
        a.message = rows.get<std::string>(3);
        a.status = parse_status(rows.get<std::string>(4));
        a.created_by = rows.get<DiscordId>(5);
        a.created_at = rows.get<Timestamp>(6);
        a.confirmed_at = rows.get<std::optional<Timestamp>>(7);
        a.posted_message_id = rows.get<std::optional<DiscordId>>(8);
        a.finished_at = rows.get<std::optional<Timestamp>>(9);
        a.dropped = rows.get<std::int64_t>(10);
        out.push_back(std::move(a));
    }
    return out;
}

/// The WHERE condition on users `u` for an audience; `?` is the server id for Audience::server.
std::string audience_condition(Audience audience) {
    switch (audience) {
        case Audience::all:
            return "1 = 1";
        case Audience::active:
            return "EXISTS (SELECT 1 FROM vpn_accounts a WHERE a.user_id = u.id AND a.status = 'active')";
        case Audience::expired:
            return "EXISTS (SELECT 1 FROM vpn_accounts a WHERE a.user_id = u.id) AND NOT EXISTS (SELECT 1 "
                   "FROM vpn_accounts a WHERE a.user_id = u.id AND a.status = 'active')";
        case Audience::server:
            return "EXISTS (SELECT 1 FROM vpn_accounts a WHERE a.user_id = u.id AND a.server_id = ? AND "
                   "a.status <> 'deleted')";
    }
    return "1 = 0";
}

std::string recipients_where(Audience audience) {
    return " FROM users u WHERE u.status = 'active' AND u.announcements_dm = 1 AND " +
           audience_condition(audience);
}

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

/// Characters as people count them (UTF-8 code points), as Discord counts a message's length.
std::size_t characters(std::string_view text) {
    std::size_t n = 0;
    for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

std::string target(AnnouncementId id) { return std::to_string(id.value); }

/// At most 300 bytes of an error, cut between characters.
std::string_view short_error(std::string_view error) {
    if (error.size() <= 300) return error;
    std::size_t end = 300;
    while (end > 0 && (static_cast<unsigned char>(error[end]) & 0xC0) == 0x80) --end;
    return error.substr(0, end);
}

}  // namespace

std::string_view to_string(Audience audience) {
    switch (audience) {
        case Audience::all:
            return "all";
        case Audience::active:
            return "active";
        case Audience::expired:
            return "expired";
        case Audience::server:
            return "server";
    }
    return "all";
}

std::string_view to_string(AnnouncementStatus status) {
    switch (status) {
        case AnnouncementStatus::draft:
            return "draft";
        case AnnouncementStatus::sending:
            return "sending";
        case AnnouncementStatus::done:
            return "done";
        case AnnouncementStatus::cancelled:
            return "cancelled";
    }
    return "draft";
}

std::optional<Audience> parse_audience(std::string_view text) {
    for (const auto a : {Audience::all, Audience::active, Audience::expired, Audience::server}) {
        if (to_string(a) == text) return a;
    }
    return std::nullopt;
}

namespace announcements {

Outcome<Announcement> create(db::Connection& connection, const DiscordId& actor, Audience audience,
                             std::optional<ServerId> server, std::string_view message, Timestamp now) {
    const std::string text = trim(message);
    if (text.empty()) return fail(ErrorCode::validation, "the message is empty");
    if (characters(text) > kMaxMessageLength)
        return fail(ErrorCode::validation,
                    "the message is longer than " + std::to_string(kMaxMessageLength) + " characters");
    if ((audience == Audience::server) != server.has_value())
        return fail(ErrorCode::validation, "a server is named with the audience \"server\" only");
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Announcement> {
        if (server && !c.scalar<std::int64_t>("SELECT id FROM servers WHERE id = ?", *server))
            return fail(ErrorCode::not_found, "no server #" + std::to_string(server->value));
        const auto id = *c.scalar<AnnouncementId>(
            "INSERT INTO announcements (audience, server_id, message, created_by, created_at) VALUES (?, ?, "
            "?, ?, ?) RETURNING id",
            audience, server, text, actor, now);
        record_audit(c,
                     {actor.str(), "announcement.created", "announcement", target(id), std::nullopt,
                      nlohmann::json{{"audience", to_string(audience)},
                                     {"server_id", server ? nlohmann::json(server->value) : nlohmann::json()},
                                     {"message", text}}},
                     now);
        return *get(c, id);
    });
}

std::optional<Announcement> get(db::Connection& connection, AnnouncementId id) {
    auto rows = connection.query(std::string(kSelect) + "WHERE id = ?", id);
    auto found = read(*rows);
    if (found.empty()) return std::nullopt;
    return found.front();
}

std::vector<Announcement> recent(db::Connection& connection, int limit) {
    auto rows =
        connection.query(std::string(kSelect) + "WHERE status <> 'draft' ORDER BY id DESC LIMIT ?", limit);
    return read(*rows);
}

std::int64_t dm_recipients(db::Connection& connection, Audience audience, std::optional<ServerId> server) {
    const std::string sql = "SELECT COUNT(*)" + recipients_where(audience);
    if (audience == Audience::server) return connection.scalar<std::int64_t>(sql, server).value_or(0);
    return connection.scalar<std::int64_t>(sql).value_or(0);
}

Outcome<std::int64_t> confirm(db::Connection& connection, AnnouncementId id, const DiscordId& actor,
                              Timestamp now) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<std::int64_t> {
        const auto found = get(c, id);
        if (!found) return fail(ErrorCode::not_found, "no announcement #" + std::to_string(id.value));
        if (found->created_by != actor)
            return fail(ErrorCode::forbidden, "only the admin who wrote the announcement can confirm it");
        if (c.exec("UPDATE announcements SET status = 'sending', confirmed_at = ? WHERE id = ? AND status = "
                   "'draft'",
                   now, id) != 1)
            return fail(ErrorCode::invalid_transition, "announcement #" + std::to_string(id.value) +
                                                           " is already " +
                                                           std::string(to_string(found->status)));
        const std::string insert =
            "INSERT INTO announcement_recipients (announcement_id, user_id) SELECT ?, u.id" +
            recipients_where(found->audience);
        const std::int64_t queued =
            found->audience == Audience::server ? c.exec(insert, id, found->server) : c.exec(insert, id);
        if (queued == 0)
            c.exec("UPDATE announcements SET status = 'done', finished_at = ? WHERE id = ?", now, id);
        record_audit(c,
                     {actor.str(), "announcement.confirmed", "announcement", target(id), std::nullopt,
                      nlohmann::json{{"dms_queued", queued}}},
                     now);
        return queued;
    });
}

Outcome<AnnouncementProgress> cancel(db::Connection& connection, AnnouncementId id, const DiscordId& actor,
                                     Timestamp now) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<AnnouncementProgress> {
        const auto found = get(c, id);
        if (!found) return fail(ErrorCode::not_found, "no announcement #" + std::to_string(id.value));
        if (found->status == AnnouncementStatus::draft && found->created_by != actor)
            return fail(ErrorCode::forbidden, "only the admin who wrote the announcement can cancel it");
        if (found->status != AnnouncementStatus::draft && found->status != AnnouncementStatus::sending)
            return fail(ErrorCode::invalid_transition, "announcement #" + std::to_string(id.value) +
                                                           " is already " +
                                                           std::string(to_string(found->status)));
        const std::int64_t dropped = c.exec(
            "DELETE FROM announcement_recipients WHERE announcement_id = ? AND status = 'pending'", id);
        if (c.exec("UPDATE announcements SET status = 'cancelled', finished_at = ?, dropped = dropped + ? "
                   "WHERE id = ? AND status = ?",
                   now, dropped, id, found->status) != 1)
            return fail(ErrorCode::conflict,
                        "announcement #" + std::to_string(id.value) + " changed meanwhile");
        record_audit(
            c,
            {actor.str(), "announcement.cancelled", "announcement", target(id),
             nlohmann::json{{"status", to_string(found->status)}}, nlohmann::json{{"dms_dropped", dropped}}},
            now);
        return progress(c, id);
    });
}

void set_posted(db::Connection& connection, AnnouncementId id, const DiscordId& message_id) {
    connection.exec("UPDATE announcements SET posted_message_id = ? WHERE id = ?", message_id, id);
}

AnnouncementProgress progress(db::Connection& connection, AnnouncementId id) {
    AnnouncementProgress p;
    auto rows = connection.query(
        "SELECT status, COUNT(*) FROM announcement_recipients WHERE announcement_id = ? GROUP BY status", id);
    while (rows->step()) {
        const auto status = rows->get<std::string>(0);
        const auto n = rows->get<std::int64_t>(1);
        if (status == "sent") p.sent += n;
        if (status == "failed") p.failed += n;
        if (status == "unknown") p.unknown += n;
        if (status == "pending" || status == "sending") p.remaining += n;
    }
    p.dropped =
        connection.scalar<std::int64_t>("SELECT dropped FROM announcements WHERE id = ?", id).value_or(0);
    return p;
}

std::vector<AnnouncementClaim> claim(db::Connection& connection, int limit, Timestamp now) {
    std::vector<AnnouncementClaim> candidates;
    {
        auto rows = connection.query(
            "SELECT r.announcement_id, r.user_id FROM announcement_recipients r JOIN announcements a ON a.id "
            "= "
            "r.announcement_id WHERE r.status = 'pending' AND a.status = 'sending' ORDER BY "
            "r.announcement_id, "
            "r.user_id LIMIT ?",
            limit);
        while (rows->step()) candidates.push_back({rows->get<AnnouncementId>(0), rows->get<UserId>(1)});
    }
    std::vector<AnnouncementClaim> claimed;
    for (const auto& candidate : candidates) {
        // The guard: of two senders that picked the same row, one changes it and the other nothing.
        if (connection.exec(
                "UPDATE announcement_recipients SET status = 'sending', claimed_at = ?, attempts = "
                "attempts + 1 WHERE announcement_id = ? AND user_id = ? AND status = 'pending'",
                now, candidate.announcement, candidate.user) == 1)
            claimed.push_back(candidate);
    }
    return claimed;
}

void mark_sent(db::Connection& connection, const AnnouncementClaim& claim, Timestamp now) {
    connection.exec(
        "UPDATE announcement_recipients SET status = 'sent', finished_at = ?, error = NULL WHERE "
        "announcement_id = ? AND user_id = ? AND status IN ('sending', 'unknown')",
        now, claim.announcement, claim.user);
}

void mark_failed(db::Connection& connection, const AnnouncementClaim& claim, std::string_view error,
                 Timestamp now) {
    connection.exec(
        "UPDATE announcement_recipients SET status = 'failed', finished_at = ?, error = ? WHERE "
        "announcement_id = ? AND user_id = ? AND status IN ('sending', 'unknown')",
        now, short_error(error), claim.announcement, claim.user);
}

void mark_unknown(db::Connection& connection, const AnnouncementClaim& claim, std::string_view error,
                  Timestamp now) {
    connection.exec(
        "UPDATE announcement_recipients SET status = 'unknown', finished_at = ?, error = ? WHERE "
        "announcement_id = ? AND user_id = ? AND status = 'sending'",
        now, short_error(error), claim.announcement, claim.user);
}

void release(db::Connection& connection, const AnnouncementClaim& claim, std::string_view error,
             Timestamp now) {
    connection.exec(
        "UPDATE announcement_recipients SET status = CASE WHEN attempts >= ? THEN 'failed' ELSE 'pending' "
        "END, "
        "finished_at = CASE WHEN attempts >= ? THEN CAST(? AS BIGINT) ELSE NULL END, error = ? WHERE "
        "announcement_id = ? AND "
        "user_id = ? AND status = 'sending'",
        kMaxAttempts, kMaxAttempts, now, short_error(error), claim.announcement, claim.user);
}

int settle_interrupted(db::Connection& connection, Timestamp claimed_before, Timestamp now) {
    return static_cast<int>(connection.exec(
        "UPDATE announcement_recipients SET status = 'unknown', finished_at = ? WHERE status = "
        "'sending' AND claimed_at < ?",
        now, claimed_before));
}

std::vector<AnnouncementId> finish(db::Connection& connection, Timestamp now) {
    std::vector<AnnouncementId> done;
    {
        auto rows = connection.query(
            "SELECT id FROM announcements a WHERE a.status = 'sending' AND NOT EXISTS (SELECT 1 FROM "
            "announcement_recipients r WHERE r.announcement_id = a.id AND r.status IN ('pending', "
            "'sending'))");
        while (rows->step()) done.push_back(rows->get<AnnouncementId>(0));
    }
    std::vector<AnnouncementId> finished;
    for (const auto id : done) {
        if (connection.exec(
                "UPDATE announcements SET status = 'done', finished_at = ? WHERE id = ? AND status "
                "= 'sending' AND NOT EXISTS (SELECT 1 FROM announcement_recipients r WHERE "
                "r.announcement_id = ? AND r.status IN ('pending', 'sending'))",
                now, id, id) == 1)
            finished.push_back(id);
    }
    return finished;
}

bool dm_opt_in(db::Connection& connection, UserId user) {
    return connection.scalar<std::int64_t>("SELECT announcements_dm FROM users WHERE id = ?", user)
               .value_or(0) == 1;
}

void set_dm_opt_in(db::Connection& connection, UserId user, bool on, Timestamp now) {
    db::in_transaction(connection, [&](db::Connection& c) {
        c.exec("UPDATE users SET announcements_dm = ?, updated_at = ? WHERE id = ?", on ? 1 : 0, now, user);
        if (on) return;
        // Their DMs not sent yet are dropped, counted on each announcement.
        std::vector<AnnouncementId> waiting;
        {
            auto rows = c.query(
                "SELECT announcement_id FROM announcement_recipients WHERE user_id = ? AND status = "
                "'pending'",
                user);
            while (rows->step()) waiting.push_back(rows->get<AnnouncementId>(0));
        }
        for (const auto id : waiting) {
            if (c.exec("DELETE FROM announcement_recipients WHERE announcement_id = ? AND user_id = ? AND "
                       "status "
                       "= 'pending'",
                       id, user) == 1)
                c.exec("UPDATE announcements SET dropped = dropped + 1 WHERE id = ?", id);
        }
    });
}

}  // namespace announcements
}  // namespace nebula::bot::domain
