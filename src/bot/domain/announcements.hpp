#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"

// Announcements to customers: a draft the admin previews, then confirmed into a persistent DM
// outbox (one row per opted-in customer of the audience) that a sender works through. A row is
// claimed (pending -> sending) before its DM is sent and marked after (sent, failed); a row a
// stopped sender left in 'sending' is settled as 'unknown' and never sent again, so no customer
// gets the same announcement twice.

namespace nebula::bot::domain {

using AnnouncementId = Id<struct AnnouncementTag>;

/// Who an announcement is for: every customer, those with an active account, those whose
/// accounts all ended (expired or disabled, none active), or those with an account on one server.
enum class Audience { all, active, expired, server };
enum class AnnouncementStatus { draft, sending, done, cancelled };

std::string_view to_string(Audience audience);
std::string_view to_string(AnnouncementStatus status);
/// "all", "active", "expired", "server"; nothing for anything else.
std::optional<Audience> parse_audience(std::string_view text);

struct Announcement {
    AnnouncementId id;
    Audience audience = Audience::all;
    std::optional<ServerId> server;
    std::string message;
    AnnouncementStatus status = AnnouncementStatus::draft;
    DiscordId created_by;
    Timestamp created_at;
    std::optional<Timestamp> confirmed_at;
    std::optional<DiscordId> posted_message_id;  ///< the post in the announcements channel
    std::optional<Timestamp> finished_at;
    std::int64_t dropped = 0;  ///< DMs not sent: cancelled, or the customer turned them off first
};

struct AnnouncementProgress {
    std::int64_t sent = 0;
    std::int64_t failed = 0;     ///< DMs closed, the customer gone, or given up after retries
    std::int64_t unknown = 0;    ///< the sender stopped mid-send: counted as sent, never resent
    std::int64_t remaining = 0;  ///< not tried yet, or being sent now
    std::int64_t dropped = 0;
};

/// One outbox row a sender holds.
struct AnnouncementClaim {
    AnnouncementId announcement;
    UserId user;
};

namespace announcements {

/// The longest message (the channel post adds a mention; Discord allows 2,000 characters).
inline constexpr std::size_t kMaxMessageLength = 1800;
/// A row is given up (failed) after this many claims that ended without an answer from Discord.
inline constexpr int kMaxAttempts = 5;

/// A draft, audited "announcement.created". The message is trimmed; empty or longer than
/// kMaxMessageLength characters is a validation error, as is a server audience without a known
/// server (or a server with another audience).
Outcome<Announcement> create(db::Connection& connection, const DiscordId& actor, Audience audience,
                             std::optional<ServerId> server, std::string_view message, Timestamp now);

std::optional<Announcement> get(db::Connection& connection, AnnouncementId id);
/// The newest `limit` announcements that left the draft state, newest first.
std::vector<Announcement> recent(db::Connection& connection, int limit);

/// Customers of the audience who receive DMs: opted in and not banned.
std::int64_t dm_recipients(db::Connection& connection, Audience audience, std::optional<ServerId> server);

/// Confirms a draft: the outbox rows are written for the audience's opted-in customers and the
/// announcement is 'sending' ('done' at once when there is nobody to DM). Only the admin who
/// made the draft may confirm it (forbidden), and only once (invalid_transition). Audited
/// "announcement.confirmed". Returns the number of DMs queued.
Outcome<std::int64_t> confirm(db::Connection& connection, AnnouncementId id, const DiscordId& actor,
                              Timestamp now);

/// Cancels a draft (only its author) or an announcement being sent (any admin): the DMs not
/// claimed yet are dropped and counted. Audited "announcement.cancelled". Returns the progress.
Outcome<AnnouncementProgress> cancel(db::Connection& connection, AnnouncementId id, const DiscordId& actor,
                                     Timestamp now);

/// The id of the announcement's post in the announcements channel.
void set_posted(db::Connection& connection, AnnouncementId id, const DiscordId& message_id);

AnnouncementProgress progress(db::Connection& connection, AnnouncementId id);

/// Claims up to `limit` pending rows of announcements being sent, oldest announcement first:
/// each with a guarded UPDATE (pending -> sending), so two senders never hold the same row.
std::vector<AnnouncementClaim> claim(db::Connection& connection, int limit, Timestamp now);
void mark_sent(db::Connection& connection, const AnnouncementClaim& claim, Timestamp now);
/// A final failure (DMs closed, unknown user, ...): never tried again.
void mark_failed(db::Connection& connection, const AnnouncementClaim& claim, std::string_view error,
                 Timestamp now);
/// The request reached Discord but no answer came back: it may have been delivered, so it is
/// counted as sent ('unknown') and never tried again.
void mark_unknown(db::Connection& connection, const AnnouncementClaim& claim, std::string_view error,
                  Timestamp now);
/// Discord never acted on the DM (rate limited, not reached): pending again, or failed after
/// kMaxAttempts claims.
void release(db::Connection& connection, const AnnouncementClaim& claim, std::string_view error,
             Timestamp now);
/// Rows claimed before `claimed_before` and still 'sending' (their sender stopped): 'unknown'.
/// Returns how many.
int settle_interrupted(db::Connection& connection, Timestamp claimed_before, Timestamp now);
/// Announcements being sent with nothing left to try become 'done'; returns them.
std::vector<AnnouncementId> finish(db::Connection& connection, Timestamp now);

/// The customer's choice of announcements by DM (off by default). Turning it off drops their
/// DMs of announcements still being sent.
bool dm_opt_in(db::Connection& connection, UserId user);
void set_dm_opt_in(db::Connection& connection, UserId user, bool on, Timestamp now);

}  // namespace announcements
}  // namespace nebula::bot::domain
