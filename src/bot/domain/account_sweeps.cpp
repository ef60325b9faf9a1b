#include "bot/domain/account_sweeps.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "bot/domain/audit.hpp"
#include "bot/domain/notices.hpp"
#include "bot/domain/usage_history.hpp"

namespace nebula::bot::domain::account_sweeps {
namespace {

/// Accounts matching `where` (with ? bound to `at`), grouped by server.
std::vector<ServerBatch> by_server(db::Connection& c, CatalogService& catalog, const std::string& where,
                                   Timestamp at, int limit) {
    std::map<std::int64_t, ServerBatch> batches;
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
    std::vector<ServerBatch> out;
    for (auto& [id, batch] : batches) {
        if (!batch.accounts.empty()) out.push_back(std::move(batch));
    }
    return out;
}

/// The audit rows of a job's change to many accounts, in multi-row INSERTs (same columns as
/// record_audit, which writes one row per statement).
void audit_accounts(db::Connection& c, std::string_view action, const std::vector<AccountId>& ids,
                    const nlohmann::json& after, Timestamp at) {
    const std::string after_text = after.dump();
    for (std::size_t start = 0; start < ids.size(); start += kRowsPerStatement) {
        const auto end = std::min(ids.size(), start + kRowsPerStatement);
        auto insert = c.prepare(
            "INSERT INTO audit_logs (actor, action, target_type, target_id, before_json, after_json, at) "
            "VALUES " +
            repeat_rows(end - start, "(?, ?, 'account', ?, NULL, ?, ?)") + " RETURNING id");
        int index = 0;
        for (auto i = start; i < end; ++i) {
            insert->bind(++index, Actor::system().text());
            insert->bind(++index, action);
            insert->bind(++index, std::to_string(ids[i].value));
            insert->bind(++index, after_text);
            insert->bind(++index, at);
        }
        std::vector<std::int64_t> audit_ids;
        while (insert->step()) audit_ids.push_back(insert->get<std::int64_t>(0));
        insert.reset();
        queue_for_audit_channel(c, audit_ids);
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
           std::to_string(epoch_seconds(expires_at));
}

}  // namespace

std::vector<ServerBatch> expired_active(db::Connection& connection, CatalogService& catalog, Timestamp now,
                                        int limit) {
    // Expired at its expiry instant: an account that expires at 12:00 is off at 12:00.
    return by_server(connection, catalog, "status = 'active' AND expires_at <= ?", now, limit);
}

std::vector<ServerBatch> past_grace(db::Connection& connection, CatalogService& catalog, Timestamp cutoff,
                                    int limit) {
    return by_server(connection, catalog, "status = 'expired' AND expires_at <= ?", cutoff, limit);
}

int mark_expired(db::Connection& connection, const std::vector<DueAccount>& accounts, Timestamp now) {
    if (accounts.empty()) return 0;
    return db::in_transaction(connection, [&](db::Connection& t) {
        // Guarded by status and expiry: an account renewed meanwhile is left alone.
        std::map<std::int64_t, const DueAccount*> wanted;
        for (const auto& a : accounts) wanted[a.id.value] = &a;
        std::vector<const DueAccount*> marked;
        auto update = t.prepare(
            "UPDATE vpn_accounts SET status = 'expired', updated_at = ? "
            "WHERE status = 'active' AND expires_at <= ? AND id IN (" +
            repeat_rows(accounts.size(), "?") + ") RETURNING id");
        int index = 0;
        update->bind(++index, now);
        update->bind(++index, now);
        for (const auto& a : accounts) update->bind(++index, a.id);
        while (update->step()) marked.push_back(wanted.at(update->get<std::int64_t>(0)));
        update.reset();
        std::vector<Notice> notices;
        std::vector<AccountId> ids;
        for (const DueAccount* a : marked) {
            notices.push_back({term_key("account_expired", a->id, a->expires_at), NoticeKind::account_expired,
                               a->user, a->id, std::nullopt, 0});
            ids.push_back(a->id);
        }
        queue_notices(t, notices, now);
        audit_accounts(t, "account.expired", ids, {{"status", "expired"}}, now);
        return static_cast<int>(marked.size());
    });
}

int mark_deleted(db::Connection& connection, const DueAccount& account, Timestamp now) {
    return db::in_transaction(connection, [&](db::Connection& t) {
        if (t.exec("UPDATE vpn_accounts SET status = 'deleted', updated_at = ? WHERE id = ? AND status = "
                   "'expired'",
                   now, account.id) == 0)
            return 0;
        record_audit(t,
                     {Actor::system().text(), "account.deleted", "account", std::to_string(account.id.value),
                      std::nullopt, nlohmann::json{{"status", "deleted"}, {"reason", "grace period over"}}},
                     now);
        return 1;
    });
}

int queue_reminders(db::Connection& connection, const std::vector<int>& hours, Timestamp now) {
    if (hours.empty()) return 0;
    auto& c = connection;
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
            candidates.push_back(
                {rows->get<AccountId>(0), rows->get<UserId>(1), rows->get<Timestamp>(2), rows->get<int>(3)});
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
}

TrafficUpdate record_traffic(db::Connection& connection, ServerId server,
                             const std::map<std::string, const TrafficEntry*, std::less<>>& usage,
                             const std::vector<int>& levels, Timestamp now, std::string_view day) {
    return db::in_transaction(connection, [&](db::Connection& t) {
        TrafficUpdate out;
        struct Row {
            DueAccount due;
            std::int64_t limit = 0;
            int level = 0;
        };
        std::vector<Row> accounts;
        {
            auto rows = t.query(
                "SELECT id, user_id, client_email, expires_at, traffic_limit_bytes, "
                "traffic_alert_level "
                "FROM vpn_accounts WHERE server_id = ? AND status = 'active'",
                server);
            while (rows->step()) {
                accounts.push_back({{rows->get<AccountId>(0), rows->get<UserId>(1), rows->get<std::string>(2),
                                     rows->get<Timestamp>(3)},
                                    rows->get<std::int64_t>(4),
                                    rows->get<int>(5)});
            }
        }
        std::vector<std::vector<std::int64_t>> usage_rows;
        std::vector<std::vector<std::int64_t>> level_rows;
        std::vector<Notice> notices;
        std::vector<usage_history::Reading> readings;
        for (const auto& a : accounts) {
            auto it = usage.find(a.due.email);
            if (it == usage.end()) continue;
            const auto& entry = *it->second;
            usage_rows.push_back({a.due.id.value, entry.up, entry.down});
            readings.push_back({a.due.id, entry.up + entry.down});
            ++out.accounts_updated;
            if (a.limit <= 0) continue;
            const std::int64_t used = entry.up + entry.down;
            if (used >= a.limit) {
                out.exhausted.push_back(a.due);
                continue;
            }
            const std::int64_t percent = used * 100 / a.limit;
            int reached = 0;
            for (int level : levels) {
                if (percent >= level) reached = level;
            }
            if (reached <= a.level) continue;
            level_rows.push_back({a.due.id.value, reached});
            notices.push_back(
                {term_key("traffic_alert", a.due.id, a.due.expires_at) + ":" + std::to_string(reached),
                 NoticeKind::traffic_alert, a.due.user, a.due.id, std::nullopt, reached});
            ++out.alerts;
        }
        update_accounts(t,
                        "used_up_bytes = v.column2, used_down_bytes = v.column3, "
                        "traffic_synced_at = ?, updated_at = ?",
                        3, usage_rows, now);
        update_accounts(t, "traffic_alert_level = v.column2", 2, level_rows, now);
        usage_history::record(t, readings, day);
        queue_notices(t, notices, now);
        return out;
    });
}

int suspend_exhausted(db::Connection& connection, const std::vector<DueAccount>& accounts, Timestamp now) {
    return db::in_transaction(connection, [&](db::Connection& t) {
        int suspended = 0;
        std::vector<Notice> notices;
        std::vector<AccountId> ids;
        for (const auto& a : accounts) {
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
        audit_accounts(t, "account.suspended", ids, {{"status", "disabled"}, {"reason", "traffic used up"}},
                       now);
        return suspended;
    });
}

}  // namespace nebula::bot::domain::account_sweeps
