#include "bot/jobs/jobs.hpp"

namespace nebula::bot::jobs {
namespace asio = boost::asio;

// ---- notices ----

asio::awaitable<NoticeReport> Jobs::deliver_notices() {
    co_return co_await notify::deliver_notices(ctx_, config_.notice_channel);
}

// ---- registration ----

void register_jobs(Scheduler& scheduler, Jobs& jobs) {
    const auto& c = jobs.config();
    auto with_notices = [&jobs](std::string summary, int failures) -> asio::awaitable<JobResult> {
        auto notices = co_await jobs.deliver_notices();
        summary += "; " + std::to_string(notices.sent) + " notice(s) sent, " +
                   std::to_string(notices.failed) + " not delivered";
        if (failures > 0 || notices.failed > 0) co_return common::unexpected(summary);
        co_return summary;
    };
    scheduler.add("expiry", Schedule::every(c.expiry_interval),
                  [&jobs, with_notices]() -> asio::awaitable<JobResult> {
                      auto r = co_await jobs.expire_accounts();
                      co_return co_await with_notices(
                          std::to_string(r.expired) + " account(s) expired, " + std::to_string(r.deleted) +
                              " deleted after the grace period, " + std::to_string(r.gateway_calls) +
                              " gateway call(s), " + std::to_string(r.servers_failed) + " server failure(s)",
                          r.servers_failed);
                  });
    scheduler.add("reminders", Schedule::every(c.reminder_interval),
                  [&jobs, with_notices]() -> asio::awaitable<JobResult> {
                      const int queued = co_await jobs.queue_reminders();
                      co_return co_await with_notices(std::to_string(queued) + " reminder(s) queued", 0);
                  });
    scheduler.add("traffic", Schedule::every(c.traffic_interval),
                  [&jobs, with_notices]() -> asio::awaitable<JobResult> {
                      auto r = co_await jobs.monitor_traffic();
                      co_return co_await with_notices(
                          std::to_string(r.accounts_updated) + " account(s) updated on " +
                              std::to_string(r.servers) + " server(s), " + std::to_string(r.alerts) +
                              " alert(s), " + std::to_string(r.suspended) + " suspended, " +
                              std::to_string(r.servers_failed) + " server failure(s)",
                          r.servers_failed);
                  });
    scheduler.add("order-timeout", Schedule::every(c.order_timeout_interval),
                  [&jobs] { return jobs.expire_orders(); });
    scheduler.add("health", Schedule::every(c.health_interval), [&jobs] { return jobs.check_health(); });
    scheduler.add("reconciler", Schedule::every(c.reconcile_interval, true),
                  [&jobs] { return jobs.reconcile(); });
    scheduler.add("revenue", Schedule::daily(c.revenue_time), [&jobs] { return jobs.snapshot_revenue(); });
    scheduler.add("backup", Schedule::daily(c.backup_time), [&jobs] { return jobs.backup(); });
    scheduler.add("announcements", Schedule::every(c.announce_interval, true),
                  [&jobs] { return jobs.send_announcements(); });
    if (c.audit_channel) {
        scheduler.add("audit-channel", Schedule::every(c.audit_channel_interval, true),
                      [&jobs] { return jobs.post_audit_channel(); });
    }
}

asio::awaitable<JobResult> Jobs::send_announcements() {
    const auto s = co_await notify::send_announcement_dms(ctx_, config_.announce_pacing);
    co_return std::to_string(s.sent) + " announcement DM(s) sent, " + std::to_string(s.failed) + " failed, " +
        std::to_string(s.deferred) + " deferred, " + std::to_string(s.unknown + s.settled) +
        " left unanswered (not resent), " + std::to_string(s.finished) + " announcement(s) finished";
}

}  // namespace nebula::bot::jobs
