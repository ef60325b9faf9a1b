#include "bot/domain/usage_history.hpp"

#include <algorithm>
#include <map>

namespace nebula::bot::domain::usage_history {
namespace {

constexpr std::size_t kRowsPerStatement = 200;

std::string repeated(std::size_t count, std::string_view item) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        if (i > 0) out += ", ";
        out += item;
    }
    return out;
}

}  // namespace

void record(db::Connection& connection, const std::vector<Reading>& readings, std::string_view day) {
    for (std::size_t start = 0; start < readings.size(); start += kRowsPerStatement) {
        const auto end = std::min(readings.size(), start + kRowsPerStatement);
        // Each account's latest counter: the base of its difference.
        std::map<std::int64_t, std::int64_t> base;
        {
            auto rows = connection.prepare(
                "SELECT d.account_id, d.counter_bytes FROM account_usage_days d "
                "WHERE d.account_id IN (" +
                repeated(end - start, "?") +
                ") AND d.day = (SELECT MAX(m.day) FROM account_usage_days m WHERE m.account_id = "
                "d.account_id)");
            int index = 0;
            for (auto i = start; i < end; ++i) rows->bind(++index, readings[i].account);
            while (rows->step()) base[rows->get<std::int64_t>(0)] = rows->get<std::int64_t>(1);
        }
        auto upsert = connection.prepare(
            "INSERT INTO account_usage_days (account_id, day, used_bytes, counter_bytes) VALUES " +
            repeated(end - start, "(CAST(? AS BIGINT), ?, CAST(? AS BIGINT), CAST(? AS BIGINT))") +
            " ON CONFLICT (account_id, day) DO UPDATE SET "
            "used_bytes = account_usage_days.used_bytes + excluded.used_bytes, "
            "counter_bytes = excluded.counter_bytes");
        int index = 0;
        for (auto i = start; i < end; ++i) {
            const auto counter = std::max<std::int64_t>(readings[i].counter, 0);
            const auto it = base.find(readings[i].account.value);
            const std::int64_t used =
                it == base.end() || counter < it->second ? counter : counter - it->second;
            upsert->bind(++index, readings[i].account);
            upsert->bind(++index, day);
            upsert->bind(++index, used);
            upsert->bind(++index, counter);
        }
        while (upsert->step()) {
        }
    }
}

std::vector<Day> days(db::Connection& connection, AccountId account, std::string_view from_day,
                      std::string_view to_day) {
    auto rows = connection.query(
        "SELECT day, used_bytes FROM account_usage_days WHERE account_id = ? AND day >= ? AND day <= ? "
        "ORDER BY day",
        account, from_day, to_day);
    std::vector<Day> out;
    while (rows->step()) out.push_back({rows->get<std::string>(0), rows->get<std::int64_t>(1)});
    return out;
}

std::int64_t prune(db::Connection& connection, std::string_view before_day) {
    return connection.exec("DELETE FROM account_usage_days WHERE day < ?", before_day);
}

}  // namespace nebula::bot::domain::usage_history
