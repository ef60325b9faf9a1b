// The account jobs: expiry (bulk disable, grace-period deletion), reminders and traffic.
#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "bot/domain/audit.hpp"
#include "bot/jobs/jobs.hpp"
#include "bot/jobs/notices.hpp"

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

struct Due {
    AccountId id;
    UserId user;
    std::string email;
    Timestamp expires_at;
};

struct Batch {
    domain::Server server;
    std::vector<Due> accounts;
};

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

/// Accounts matching `where` (with ? bound to `at`), grouped by server.
std::vector<Batch> by_server(db::Connection& c, domain::CatalogService& catalog, const std::string& where,
                             Timestamp at, int limit) {
    std::map<std::int64_t, Batch> batches;
    for (auto& server : catalog.servers(c)) batches[server.id.value].server = std::move(server);
    auto rows = c.query("SELECT id, user_id, client_email, expires_at, server_id FROM vpn_accounts WHERE " +
                            where + " ORDER BY id LIMIT ?",
                        at, limit);
    while (rows->step()) {
        auto it = batches.find(rows->get<std::int64_t>(4));
        if (it == batches.end()) continue;
        it->second.accounts.push_back({rows->get<AccountId>(0), rows->get<UserId>(1),
                                       rows->get<std::string>(2), rows->get<Timestamp>(3)});
    }
    std::vector<Batch> out;
    for (auto& [id, batch] : batches) {
        if (!batch.accounts.empty()) out.push_back(std::move(batch));
    }
    return out;
}

/// The audit rows of a job's change to many accounts, in multi-row INSERTs (same columns as
/// domain::record_audit, which writes one row per statement).
void audit_accounts(db::Connection& c, std::string_view action, const std::vector<AccountId>& ids,
                    const nlohmann::json& after, Timestamp at) {
    const std::string after_text = after.dump();
    for (std::size_t start = 0; start < ids.size(); start += kRowsPerStatement) {
        const auto end = std::min(ids.size(), start + kRowsPerStatement);
        auto insert = c.prepare(
            "INSERT INTO audit_logs (actor, action, target_type, target_id, before_json, after_json, at) "
            "VALUES " +
            repeat_rows(end - start, "(?, ?, 'account', ?, NULL, ?, ?)"));
        int index = 0;
        for (auto i = start; i < end; ++i) {
            insert->bind(++index, domain::kSystemActor);
            insert->bind(++index, action);
            insert->bind(++index, std::to_string(ids[i].value));
            insert->bind(++index, after_text);
            insert->bind(++index, at);
        }
        while (insert->step()) {
        }
    }
}

/// `UPDATE vpn_accounts SET <set> FROM (VALUES (id, x, …), …) AS v WHERE id = v.column1`, many
/// rows per statement; `set` names the values v.column2, v.column3, … and may use `?` for `now`.
void update_accounts(db::Connection& c, std::string_view set, std::size_t values_per_row,
                     const std::vector<std::vector<std::int64_t>>& rows, Timestamp now) {
    std::string row = "(";
    for (std::size_t i = 0; i < values_per_row; ++i)
        row += i == 0 ? "CAST(? AS BIGINT)" : ", CAST(? AS BIGINT)";
    row += ")";
    const auto now_params = static_cast<int>(std::count(set.begin(), set.end(), '?'));
    for (std::size_t start = 0; start < rows.size(); start += kRowsPerStatement) {
        const auto end = std::min(rows.size(), start + kRowsPerStatement);
        auto update = c.prepare("UPDATE vpn_accounts SET " + std::string(set) + " FROM (VALUES " +
                                repeat_rows(end - start, row) + ") AS v WHERE vpn_accounts.id = v.column1");
        int index = 0;
        for (int k = 0; k < now_params; ++k) update->bind(++index, now);
        for (auto i = start; i < end; ++i) {
            for (const auto value : rows[i]) update->bind(++index, value);
        }
        while (update->step()) {
        }
    }
}

std::string term_key(std::string_view kind, AccountId id, Timestamp expires_at) {
    return std::string(kind) + ":" + std::to_string(id.value) + ":" +
           std::to_string(domain::epoch_seconds(expires_at));
}

}  // namespace

// ---- expiry ----

asio::awaitable<ExpiryReport> Jobs::expire_accounts() {
    ExpiryReport report;
    const auto now = domain::to_timestamp(ctx_.clock.now());
    std::vector<Batch> batches;
    {
        Stopwatch watch(ctx_.clock, report.db_time);
        // Expired at its expiry instant: an account that expires at 12:00 is off at 12:00.
        batches = co_await ctx_.db.run([&](db::Connection& c) {
            return by_server(c, ctx_.catalog, "status = 'active' AND expires_at <= ?", now, 1'000'000);
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
            report.expired += co_await ctx_.db.run([&](db::Connection& c) {
                return db::in_transaction(c, [&](db::Connection& t) {
                    // Guarded by status and expiry: an account renewed meanwhile is left alone.
                    std::map<std::int64_t, const Due*> wanted;
                    for (auto i = start; i < end; ++i)
                        wanted[batch.accounts[i].id.value] = &batch.accounts[i];
                    std::vector<const Due*> marked;
                    auto update = t.prepare(
                        "UPDATE vpn_accounts SET status = 'expired', updated_at = ? "
                        "WHERE status = 'active' AND expires_at <= ? AND id IN (" +
                        repeat_rows(end - start, "?") + ") RETURNING id");
                    int index = 0;
                    update->bind(++index, now);
                    update->bind(++index, now);
                    for (auto i = start; i < end; ++i) update->bind(++index, batch.accounts[i].id);
                    while (update->step()) marked.push_back(wanted.at(update->get<std::int64_t>(0)));
                    std::vector<Notice> notices;
                    std::vector<AccountId> ids;
                    for (const Due* a : marked) {
                        notices.push_back({term_key("account_expired", a->id, a->expires_at),
                                           NoticeKind::account_expired, a->user, a->id, std::nullopt, 0});
                        ids.push_back(a->id);
                    }
                    queue_notices(t, notices, now);
                    audit_accounts(t, "account.expired", ids, {{"status", "expired"}}, now);
                    return static_cast<int>(marked.size());
                });
            });
        }
    }

    // Grace period over: the panel client goes; the row stays, marked deleted, for the records.
    const auto cutoff = now - config_.expired_grace;
    std::vector<Batch> stale;
    {
        Stopwatch watch(ctx_.clock, report.db_time);
        stale = co_await ctx_.db.run([&](db::Connection& c) {
            return by_server(c, ctx_.catalog, "status = 'expired' AND expires_at <= ?", cutoff,
                             kDeletesPerRun);
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
            report.deleted += co_await ctx_.db.run([&](db::Connection& c) {
                return db::in_transaction(c, [&](db::Connection& t) {
                    if (t.exec("UPDATE vpn_accounts SET status = 'deleted', updated_at = ? WHERE id = ? AND "
                               "status = 'expired'",
                               now, a.id) == 0)
                        return 0;
                    domain::record_audit(
                        t,
                        {std::string(domain::kSystemActor), "account.deleted", "account",
                         std::to_string(a.id.value), std::nullopt,
                         nlohmann::json{{"status", "deleted"}, {"reason", "grace period over"}}},
                        now);
                    return 1;
                });
            });
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
    co_return co_await ctx_.db.run([&](db::Connection& c) {
        struct Candidate {
            AccountId id;
            UserId user;
            Timestamp expires_at;
            int level = 0;
        };
        std::vector<Candidate> candidates;
        {
            auto rows = c.query(
                "SELECT id, user_id, expires_at, expiry_alert_level FROM vpn_accounts "
                "WHERE status = 'active' AND expires_at > ? AND expires_at <= ?",
                now, now + std::chrono::hours(hours.back()));
            while (rows->step()) {
                candidates.push_back({rows->get<AccountId>(0), rows->get<UserId>(1), rows->get<Timestamp>(2),
                                      rows->get<int>(3)});
            }
        }
        int queued = 0;
        for (const auto& a : candidates) {
            // The nearest threshold already reached; an earlier one missed (bot down) is skipped.
            const auto left = a.expires_at - now;
            int due = 0;
            for (int h : hours) {
                if (left <= std::chrono::hours(h)) {
                    due = h;
                    break;
                }
            }
            if (due == 0 || (a.level != 0 && a.level <= due)) continue;
            queued += db::in_transaction(c, [&](db::Connection& t) {
                if (t.exec("UPDATE vpn_accounts SET expiry_alert_level = ? WHERE id = ? AND "
                           "expiry_alert_level = ? "
                           "AND status = 'active'",
                           due, a.id, a.level) == 0)
                    return 0;
                queue_notice(t,
                             {term_key("expiry_reminder", a.id, a.expires_at) + ":" + std::to_string(due),
                              NoticeKind::expiry_reminder, a.user, a.id, std::nullopt, due},
                             now);
                return 1;
            });
        }
        return queued;
    });
}

// ---- traffic ----

asio::awaitable<TrafficReport> Jobs::monitor_traffic() {
    TrafficReport report;
    std::vector<int> levels = config_.traffic_alert_percents;
    std::sort(levels.begin(), levels.end());
    const auto now = domain::to_timestamp(ctx_.clock.now());
    auto servers = co_await ctx_.db.run([&](db::Connection& c) { return ctx_.catalog.servers(c); });
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
            auto counts = co_await ctx_.db.run([&](db::Connection& c) {
                return db::in_transaction(c, [&](db::Connection& t) {
                    std::pair<int, int> updated_alerts{0, 0};
                    struct Row {
                        Due due;
                        std::int64_t limit = 0;
                        int level = 0;
                    };
                    std::vector<Row> accounts;
                    {
                        auto rows = t.query(
                            "SELECT id, user_id, client_email, expires_at, traffic_limit_bytes, "
                            "traffic_alert_level "
                            "FROM vpn_accounts WHERE server_id = ? AND status = 'active'",
                            server.id);
                        while (rows->step()) {
                            accounts.push_back({{rows->get<AccountId>(0), rows->get<UserId>(1),
                                                 rows->get<std::string>(2), rows->get<Timestamp>(3)},
                                                rows->get<std::int64_t>(4),
                                                rows->get<int>(5)});
                        }
                    }
                    std::vector<std::vector<std::int64_t>> usage_rows;
                    std::vector<std::vector<std::int64_t>> level_rows;
                    std::vector<Notice> notices;
                    for (const auto& a : accounts) {
                        auto it = usage.find(a.due.email);
                        if (it == usage.end()) continue;
                        const auto& entry = *it->second;
                        usage_rows.push_back({a.due.id.value, entry.up, entry.down});
                        ++updated_alerts.first;
                        if (a.limit <= 0) continue;
                        const std::int64_t used = entry.up + entry.down;
                        if (used >= a.limit) {
                            exhausted.push_back(a.due);
                            continue;
                        }
                        const std::int64_t percent = used * 100 / a.limit;
                        int reached = 0;
                        for (int level : levels) {
                            if (percent >= level) reached = level;
                        }
                        if (reached <= a.level) continue;
                        level_rows.push_back({a.due.id.value, reached});
                        notices.push_back({term_key("traffic_alert", a.due.id, a.due.expires_at) + ":" +
                                               std::to_string(reached),
                                           NoticeKind::traffic_alert, a.due.user, a.due.id, std::nullopt,
                                           reached});
                        ++updated_alerts.second;
                    }
                    update_accounts(t,
                                    "used_up_bytes = v.column2, used_down_bytes = v.column3, "
                                    "traffic_synced_at = ?, updated_at = ?",
                                    3, usage_rows, now);
                    update_accounts(t, "traffic_alert_level = v.column2", 2, level_rows, now);
                    queue_notices(t, notices, now);
                    return updated_alerts;
                });
            });
            report.accounts_updated += counts.first;
            report.alerts += counts.second;
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
            report.suspended += co_await ctx_.db.run([&](db::Connection& c) {
                return db::in_transaction(c, [&](db::Connection& t) {
                    int suspended = 0;
                    std::vector<Notice> notices;
                    std::vector<AccountId> ids;
                    for (auto i = start; i < end; ++i) {
                        const auto& a = exhausted[i];
                        if (t.exec("UPDATE vpn_accounts SET status = 'disabled', traffic_alert_level = 100, "
                                   "updated_at = ? WHERE id = ? AND status = 'active'",
                                   now, a.id) == 0)
                            continue;
                        ++suspended;
                        notices.push_back({term_key("traffic_exhausted", a.id, a.expires_at),
                                           NoticeKind::traffic_exhausted, a.user, a.id, std::nullopt, 100});
                        ids.push_back(a.id);
                    }
                    queue_notices(t, notices, now);
                    audit_accounts(t, "account.suspended", ids,
                                   {{"status", "disabled"}, {"reason", "traffic used up"}}, now);
                    return suspended;
                });
            });
        }
    }
    co_return report;
}

}  // namespace nebula::bot::jobs
