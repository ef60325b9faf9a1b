#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "bot/core/context.hpp"
#include "bot/db/backup_archive.hpp"
#include "bot/db/database_url.hpp"
#include "bot/jobs/scheduler.hpp"
#include "bot/notify/announcements.hpp"
#include "bot/notify/notices.hpp"
#include "discord/snowflake.hpp"

// The background jobs of nebula-bot (`nebula-bot jobs list` shows their schedules):
//
//   expiry           accounts past expiry: one bulk disable per server, marked expired, the
//                    customer told with a Renew button, the Subscriber role removed; deleted from
//                    the panel after the grace period
//   reminders        N days before expiry (EXPIRY_REMINDER_DAYS), once per account and term
//   traffic          one GET /api/traffic per server: usage stored, alerts once per level and
//                    term, suspension at 100 %
//   order-timeout    unpaid orders past ORDER_TIMEOUT_HOURS (declined ones: that long after the
//                    decline) expired, customer told, channel closed; admins reminded once of a
//                    receipt waiting for review that long
//   health           /api/health of every server; admins told on each change only (down after
//                    HEALTH_ALERT_AFTER_FAILURES failures in a row), with a button that tells the
//                    server's customers of the outage; they are told again when it is back
//   reconciler       approved orders without an account finished exactly once and delivered;
//                    order channels and review cards a crash left unfinished completed
//   revenue          yesterday's revenue snapshot posted with a 30-day chart
//   backup           SQLite online backup into DATA_DIR/backups (PostgreSQL: pg_dump)
//   announcements    the DMs of confirmed announcements to the customers who opted in, paced
//                    (a few per second, at most 100 a run) and resumed after a restart
//   audit-channel    (only with AUDIT_CHANNEL_ID) the queued audit entries posted to the audit
//                    channel, one line each, oldest first
//
// Every job is idempotent: what it decided is in the database (account status, alert levels,
// job_notices) before anything is said to a customer, and what it still owes (unsent notices,
// an approved order) is found again by the next run. Killing the bot mid-run and running the job
// again ends in the same state.

namespace nebula::bot::jobs {

/// Job intervals and thresholds (configuration keys in parentheses; see bot/app/config.hpp).
struct JobsConfig {
    bool enabled = true;                                            ///< JOBS_ENABLED
    std::chrono::seconds expiry_interval{std::chrono::hours(1)};    ///< JOB_EXPIRY_INTERVAL_MINUTES
    std::chrono::seconds reminder_interval{std::chrono::hours(1)};  ///< JOB_REMINDER_INTERVAL_MINUTES
    std::chrono::seconds traffic_interval{std::chrono::hours(6)};   ///< JOB_TRAFFIC_INTERVAL_MINUTES
    std::chrono::seconds order_timeout_interval{
        std::chrono::minutes(30)};                                  ///< JOB_ORDER_TIMEOUT_INTERVAL_MINUTES
    std::chrono::seconds health_interval{std::chrono::minutes(5)};  ///< JOB_HEALTH_INTERVAL_MINUTES
    /// Admins are alerted once a server failed this many health checks in a row (a server is
    /// kept from taking new accounts from the first failure). HEALTH_ALERT_AFTER_FAILURES
    int health_alert_after_failures = 2;
    std::chrono::seconds reconcile_interval{std::chrono::minutes(5)};  ///< JOB_RECONCILE_INTERVAL_MINUTES
    /// The reconciler leaves orders approved this recently to the admin's own click
    /// (JOB_RECONCILE_SETTLE_SECONDS).
    std::chrono::seconds reconcile_settle{std::chrono::minutes(2)};
    std::chrono::minutes revenue_time{5};                      ///< REVENUE_SNAPSHOT_TIME (HH:MM shop time)
    std::chrono::minutes backup_time{std::chrono::hours(3)};   ///< BACKUP_TIME (HH:MM shop time)
    std::chrono::seconds expired_grace{std::chrono::days(7)};  ///< EXPIRED_DELETE_AFTER_DAYS
    std::vector<int> reminder_days{3, 1};                      ///< EXPIRY_REMINDER_DAYS
    std::vector<int> traffic_alert_percents{80, 95};           ///< TRAFFIC_ALERT_PERCENTS
    int backup_keep = 7;                                       ///< BACKUP_KEEP
    /// Off-machine copies of each backup, encrypted with `backup_passphrase` (db/backup_archive.hpp):
    /// uploaded to this private channel when it fits `backup_upload_limit` (BACKUP_CHANNEL_ID) ...
    std::optional<discord::Snowflake> backup_channel;
    std::size_t backup_upload_limit =
        10 * 1024 * 1024;  ///< BACKUP_UPLOAD_LIMIT_MB (Discord's, 10 MiB unboosted)
    /// ... and/or handed to this shell command as "$1" (BACKUP_COMMAND: rclone, scp, restic ...).
    std::string backup_command;
    std::chrono::seconds backup_command_timeout{
        std::chrono::minutes(30)};  ///< BACKUP_COMMAND_TIMEOUT_MINUTES
    std::string backup_passphrase;  ///< BACKUP_PASSPHRASE (secret; required with either of the two)
    db::ScryptCost backup_cost;     ///< the key derivation's cost (tests lower it)
    /// PostgreSQL: the pg_dump run for each backup (PG_DUMP; found on PATH when a bare name).
    std::string pg_dump = "pg_dump";
    /// Where a customer whose DMs are closed is pointed, with a mention only, to the private
    /// channel made for their notices (NOTICE_CHANNEL_ID; empty = the main panel channel).
    std::optional<discord::Snowflake> notice_channel;
    /// Every audit entry is also posted to this channel, one line each, in order
    /// (AUDIT_CHANNEL_ID; nothing = no audit channel, nothing queued).
    std::optional<discord::Snowflake> audit_channel;
    /// How often the audit-channel job posts what is queued (JOB_AUDIT_CHANNEL_INTERVAL_SECONDS).
    std::chrono::seconds audit_channel_interval{15};
    /// At most this many lines per run, one message each (Discord allows about 5 per 5 s per channel;
    /// the REST client waits out the channel's bucket and any 429).
    int audit_channel_batch = 50;
    /// An approved order still unprovisioned after this many attempts is reported to admins once.
    int stuck_after_attempts = 3;
    std::chrono::seconds lease{std::chrono::minutes(30)};  ///< JOB_LEASE_MINUTES
    /// The announcements job: how often it runs (it also runs at start-up, to resume), and its pace.
    std::chrono::seconds announce_interval{std::chrono::minutes(1)};
    notify::AnnouncementPacing announce_pacing;
};

/// What a run of the expiry job did (also the benchmark's figures).
struct ExpiryReport {
    int expired = 0;         ///< accounts marked expired
    int deleted = 0;         ///< expired accounts removed from their panel after the grace period
    int gateway_calls = 0;   ///< bulk disable and delete calls made
    int servers_failed = 0;  ///< servers whose gateway failed (their accounts wait for the next run)
    std::chrono::milliseconds db_time{0};  ///< time spent in database work
};

struct TrafficReport {
    int servers = 0;
    int servers_failed = 0;
    int accounts_updated = 0;
    int alerts = 0;     ///< traffic alerts queued
    int suspended = 0;  ///< accounts suspended at 100 %
    int gateway_calls = 0;
    std::chrono::milliseconds db_time{0};
};

using notify::NoticeReport;

/// The jobs over the bot's context. Each `*_job()` is one run; register_jobs() puts them
/// on a Scheduler under their names. Coroutines run on ctx.executor; database work on ctx.db.
/// Not thread-safe (one executor), and the Scheduler keeps any job from overlapping itself.
class Jobs {
  public:
    Jobs(core::BotContext& ctx, JobsConfig config, db::DatabaseUrl database)
        : ctx_(ctx), config_(std::move(config)), database_(std::move(database)) {}

    /// The state changes of the expiry and traffic jobs; their notices are queued, not sent
    /// (deliver_notices() sends them; the registered jobs do both).
    boost::asio::awaitable<ExpiryReport> expire_accounts();
    /// Queues due reminders; returns how many.
    boost::asio::awaitable<int> queue_reminders();
    boost::asio::awaitable<TrafficReport> monitor_traffic();
    boost::asio::awaitable<JobResult> expire_orders();
    boost::asio::awaitable<JobResult> check_health();
    /// domain::server_health::queue_outage_notices() now (`incident`: when the down alert was
    /// posted, as its "Tell its customers" button carries it).
    boost::asio::awaitable<std::optional<int>> queue_outage_notices(domain::ServerId server,
                                                                    std::int64_t incident,
                                                                    domain::Actor actor);
    /// Approved orders provisioned and delivered; order channels whose creation, storing or
    /// summary was interrupted completed (or, for ended orders, deleted); review cards that were
    /// never stored posted again.
    boost::asio::awaitable<JobResult> reconcile();
    /// Reminds admins once of each receipt under review for longer than ORDER_TIMEOUT_HOURS
    /// (part of the order-timeout job); returns how many.
    boost::asio::awaitable<int> remind_unreviewed();
    boost::asio::awaitable<JobResult> snapshot_revenue();
    /// SQLite: a consistent copy into DATA_DIR/backups/bot-YYYYMMDD-HHMMSS.db (online backup
    /// API, so the bot keeps writing). PostgreSQL: `pg_dump --format=custom` into
    /// bot-YYYYMMDD-HHMMSS.dump when pg_dump is installed (else skipped with the reason, or failed
    /// when the backup should leave the machine). Then
    /// only the newest BACKUP_KEEP kept, and, when configured, the copy sealed into an encrypted
    /// archive (.nlbk) that is uploaded to BACKUP_CHANNEL_ID (or, too large for Discord, the
    /// admins are told in the review channel) and handed to BACKUP_COMMAND; the archive is removed
    /// afterwards. Fails when the copy, the upload or the command fails.
    boost::asio::awaitable<JobResult> backup();

    /// Posts the audit outbox to AUDIT_CHANNEL_ID in audit id order, one message per entry (at
    /// most audit_channel_batch per run), each row deleted once Discord has its message. The
    /// first failure ends the run, so a later entry is never posted before an earlier one. Each
    /// message carries the nonce "audit-<id>" with enforce_nonce, so a line posted just before a
    /// crash (its row not yet deleted) is not posted twice when the next run repeats it within
    /// Discord's nonce window (a few minutes); after that a repeat is possible (at least once).
    boost::asio::awaitable<JobResult> post_audit_channel();
    /// notify::send_announcement_dms() at the configured pace.
    boost::asio::awaitable<JobResult> send_announcements();

    /// notify::deliver_notices() with NOTICE_CHANNEL_ID: sends the queued customer notices.
    boost::asio::awaitable<NoticeReport> deliver_notices();

    const JobsConfig& config() const { return config_; }

  private:
    boost::asio::awaitable<NoticeReport> repost_review_cards(domain::Timestamp submitted_before);
    domain::Timestamp clock_now() const { return domain::to_timestamp(ctx_.clock.now()); }

    core::BotContext& ctx_;
    JobsConfig config_;
    db::DatabaseUrl database_;
};

/// The job names, in the order they are registered ("audit-channel" only with AUDIT_CHANNEL_ID).
inline constexpr std::string_view kJobNames[] = {"expiry",        "reminders",    "traffic", "order-timeout",
                                                 "health",        "reconciler",   "revenue", "backup",
                                                 "announcements", "audit-channel"};

/// Registers the jobs on `scheduler` with the intervals of `jobs.config()` (the audit-channel job
/// only with an audit channel).
void register_jobs(Scheduler& scheduler, Jobs& jobs);

}  // namespace nebula::bot::jobs
