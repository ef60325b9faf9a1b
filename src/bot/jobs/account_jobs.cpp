// The account jobs: expiry (bulk disable, grace-period deletion), reminders and traffic.
#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "bot/domain/account_sweeps.hpp"
#include "bot/domain/usage_history.hpp"
#include "bot/jobs/jobs.hpp"

namespace nebula::bot::jobs {
namespace asio = boost::asio;
using domain::AccountId;
using domain::ServerId;
using domain::Timestamp;
using domain::UserId;

namespace {

/// nebula-gateway takes 1 to 1000 emails per bulk disable (docs/api.md).
constexpr std::size_t kDisableBatch = 1000;
/// Panel deletions per run: the grace-period backlog drains over several runs.
constexpr int kDeletesPerRun = 500;

using Due = domain::DueAccount;
using Batch = domain::ServerBatch;

class Stopwatch {
  public:
    explicit Stopwatch(const common::Clock& clock, std::chrono::milliseconds& total)
        : clock_(clock), total_(total), start_(clock.steady_now()) {}
    ~Stopwatch() {
        total_ += std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - start_);
    }
    Stopwatch(const Stopwatch&) = delete;
    Stopwatch& operator=(const Stopwatch&) = delete;

  private:
    const common::Clock& clock_;
    std::chrono::milliseconds& total_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace

// ---- expiry ----

asio::awaitable<ExpiryReport> Jobs::expire_accounts() {
    ExpiryReport report;
    const auto now = domain::to_timestamp(ctx_.clock.now());
    std::vector<Batch> batches;
    {
        Stopwatch watch(ctx_.clock, report.db_time);
        batches = co_await ctx_.db.run([&](db::Connection& c) {
            return domain::account_sweeps::expired_active(c, ctx_.catalog, now, 1'000'000);
        });
    }
    for (const auto& batch : batches) {
        auto& gateway = ctx_.gateways.gateway_for(batch.server);
        for (std::size_t start = 0; start < batch.accounts.size(); start += kDisableBatch) {
            const auto end = std::min(batch.accounts.size(), start + kDisableBatch);
            std::vector<std::string> emails;
            for (auto i = start; i < end; ++i) emails.push_back(batch.accounts[i].email);
            ++report.gateway_calls;
            auto disabled = co_await gateway.disable_clients(std::move(emails));
            if (!disabled) {
                // Nothing is marked: the next run disables these again (the call is idempotent).
                ++report.servers_failed;
                spdlog::warn("expiry: server {} not reachable, {} account(s) wait: {}",
                             batch.server.spec.name, batch.accounts.size() - start,
                             domain::describe(disabled.error()));
                break;
            }
            // Disabled or missing on the panel: either way no longer usable, so expired here.
            Stopwatch watch(ctx_.clock, report.db_time);
            const std::vector<Due> chunk(batch.accounts.begin() + static_cast<std::ptrdiff_t>(start),
                                         batch.accounts.begin() + static_cast<std::ptrdiff_t>(end));
            report.expired += co_await ctx_.db.run(
                [&](db::Connection& c) { return domain::account_sweeps::mark_expired(c, chunk, now); });
        }
    }

    // Grace period over: the panel client goes; the row stays, marked deleted, for the records.
    const auto cutoff = now - config_.expired_grace;
    std::vector<Batch> stale;
    {
        Stopwatch watch(ctx_.clock, report.db_time);
        stale = co_await ctx_.db.run([&](db::Connection& c) {
            return domain::account_sweeps::past_grace(c, ctx_.catalog, cutoff, kDeletesPerRun);
        });
    }
    for (const auto& batch : stale) {
        auto& gateway = ctx_.gateways.gateway_for(batch.server);
        for (const auto& a : batch.accounts) {
            ++report.gateway_calls;
            auto deleted = co_await gateway.delete_client(a.email);
            // 409 last_client: a 2.x panel keeps the last client of an inbound; it is disabled already.
            if (!deleted && deleted.error().code != domain::GatewayErrorCode::conflict) {
                ++report.servers_failed;
                spdlog::warn("expiry: deleting {} on {} failed: {}", a.email, batch.server.spec.name,
                             domain::describe(deleted.error()));
                break;
            }
            Stopwatch watch(ctx_.clock, report.db_time);
            report.deleted += co_await ctx_.db.run(
                [&](db::Connection& c) { return domain::account_sweeps::mark_deleted(c, a, now); });
        }
    }
    co_return report;
}

// ---- reminders ----

asio::awaitable<int> Jobs::queue_reminders() {
    std::vector<int> hours;
    for (int d : config_.reminder_days) hours.push_back(d * 24);
    std::sort(hours.begin(), hours.end());
    if (hours.empty()) co_return 0;
    const auto now = domain::to_timestamp(ctx_.clock.now());
    co_return co_await ctx_.db.run(
        [&](db::Connection& c) { return domain::account_sweeps::queue_reminders(c, hours, now); });
}

// ---- traffic ----

asio::awaitable<TrafficReport> Jobs::monitor_traffic() {
    TrafficReport report;
    std::vector<int> levels = config_.traffic_alert_percents;
    std::sort(levels.begin(), levels.end());
    const auto now = domain::to_timestamp(ctx_.clock.now());
    const std::string day = ctx_.analytics.day_of(now);
    // The daily usage history keeps usage_history::kKeepDays days.
    const std::string keep_from =
        ctx_.analytics.day_of(now - std::chrono::days(domain::usage_history::kKeepDays));
    auto servers = co_await ctx_.db.run([&](db::Connection& c) {
        domain::usage_history::prune(c, keep_from);
        return ctx_.catalog.servers(c);
    });
    for (const auto& server : servers) {
        if (!server.enabled) continue;
        ++report.servers;
        auto& gateway = ctx_.gateways.gateway_for(server);
        ++report.gateway_calls;
        auto traffic = co_await gateway.traffic();
        if (!traffic) {
            ++report.servers_failed;
            spdlog::warn("traffic: server {} not reachable: {}", server.spec.name,
                         domain::describe(traffic.error()));
            continue;
        }
        std::map<std::string, const domain::TrafficEntry*, std::less<>> usage;
        for (const auto& entry : *traffic) usage.emplace(entry.email, &entry);

        std::vector<Due> exhausted;
        {
            Stopwatch watch(ctx_.clock, report.db_time);
            auto update = co_await ctx_.db.run([&](db::Connection& c) {
                return domain::account_sweeps::record_traffic(c, server.id, usage, levels, now, day);
            });
            report.accounts_updated += update.accounts_updated;
            report.alerts += update.alerts;
            exhausted = std::move(update.exhausted);
        }

        for (std::size_t start = 0; start < exhausted.size(); start += kDisableBatch) {
            const auto end = std::min(exhausted.size(), start + kDisableBatch);
            std::vector<std::string> emails;
            for (auto i = start; i < end; ++i) emails.push_back(exhausted[i].email);
            ++report.gateway_calls;
            auto disabled = co_await gateway.disable_clients(std::move(emails));
            if (!disabled) {
                ++report.servers_failed;
                spdlog::warn("traffic: suspending on {} failed: {}", server.spec.name,
                             domain::describe(disabled.error()));
                break;
            }
            Stopwatch watch(ctx_.clock, report.db_time);
            const std::vector<Due> chunk(exhausted.begin() + static_cast<std::ptrdiff_t>(start),
                                         exhausted.begin() + static_cast<std::ptrdiff_t>(end));
            report.suspended += co_await ctx_.db.run(
                [&](db::Connection& c) { return domain::account_sweeps::suspend_exhausted(c, chunk, now); });
        }
    }
    co_return report;
}

}  // namespace nebula::bot::jobs
