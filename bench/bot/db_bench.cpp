// Seeds a database with N accounts and M orders and times the queries the bot runs on it.
// Usage: bot_db_bench --backend sqlite|postgres [--accounts 100000] [--orders 1000000] [--export-runs 3]
// PostgreSQL uses NEBULA_BENCH_POSTGRES_URL (or NEBULA_TEST_POSTGRES_URL) and a fresh schema.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "bot/db/connection.hpp"
#include "bot/db/migrations.hpp"
#include "bot/domain/accounts.hpp"
#include "bot/domain/analytics.hpp"
#include "bot/domain/export.hpp"
#include "common/crypto.hpp"

namespace {

using namespace nebula::bot;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Peak resident memory (VmHWM) in KiB; reset_peak() starts a new measurement window.
long peak_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return -1;
}
void reset_peak() { std::ofstream("/proc/self/clear_refs") << "5"; }

// CPU seconds (user + system) a process has used so far; the PostgreSQL server runs on this
// machine, so its backend's share of an export can be read from /proc as well.
double cpu_seconds(const std::string& pid) {
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto after_name = text.rfind(')');
    if (after_name == std::string::npos) return -1;
    std::istringstream fields(text.substr(after_name + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; fields >> field && i <= 15; ++i) {
        if (i == 14 || i == 15) ticks += std::strtod(field.c_str(), nullptr);
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Multi-row INSERTs in one transaction: few round trips on PostgreSQL, few statements on SQLite.
template <typename RowFn>
void bulk_insert(db::Connection& c, const std::string& head, int columns, std::int64_t rows,
                 RowFn&& bind_row) {
    constexpr std::int64_t kBatch = 500;
    std::string values = "(";
    for (int i = 0; i < columns; ++i) values += i == 0 ? "?" : ", ?";
    values += ")";
    db::in_transaction(c, [&](db::Connection& t) {
        std::unique_ptr<db::Statement> full;
        for (std::int64_t start = 0; start < rows; start += kBatch) {
            const auto count = std::min(kBatch, rows - start);
            std::unique_ptr<db::Statement> partial;
            db::Statement* statement = nullptr;
            if (count == kBatch && full) {
                full->reset();
                statement = full.get();
            } else {
                std::string sql = head + " VALUES ";
                for (std::int64_t r = 0; r < count; ++r) sql += (r == 0 ? "" : ", ") + values;
                auto prepared = t.prepare(sql);
                if (count == kBatch) {
                    full = std::move(prepared);
                    statement = full.get();
                } else {
                    partial = std::move(prepared);
                    statement = partial.get();
                }
            }
            int index = 1;
            for (std::int64_t r = 0; r < count; ++r) bind_row(*statement, index, start + r);
            while (statement->step()) {
            }
        }
    });
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"nebula-bot database benchmark"};
    std::string backend = "sqlite";
    std::int64_t account_count = 100'000;
    std::int64_t order_count = 1'000'000;
    app.add_option("--backend", backend)->check(CLI::IsMember({"sqlite", "postgres"}));
    app.add_option("--accounts", account_count);
    app.add_option("--orders", order_count);
    int export_runs = 3;
    app.add_option("--export-runs", export_runs, "how many times to time the CSV export")
        ->check(CLI::Range(1, 20));
    CLI11_PARSE(app, argc, argv);
    if (order_count < account_count) order_count = account_count;

    db::DatabaseUrl url;
    std::string schema;
    const auto dir =
        std::filesystem::temp_directory_path() / ("nebula-bot-bench-" + nebula::common::random_hex(6));
    std::filesystem::create_directories(dir);
    std::unique_ptr<db::Connection> admin;
    if (backend == "sqlite") {
        url = {db::Backend::sqlite, (dir / "bench.db").string(), {}};
    } else {
        const char* base = std::getenv("NEBULA_BENCH_POSTGRES_URL");
        if (base == nullptr) base = std::getenv("NEBULA_TEST_POSTGRES_URL");
        if (base == nullptr) {
            std::fprintf(stderr, "set NEBULA_BENCH_POSTGRES_URL (scripts/start-postgres.sh prints one)\n");
            return 2;
        }
        schema = "bench_" + nebula::common::random_hex(6);
        admin = std::move(db::open_connection({db::Backend::postgres, {}, base}).value());
        admin->execute_script("CREATE SCHEMA " + schema);
        url = {db::Backend::postgres, {}, std::string(base) + "?options=-csearch_path%3D" + schema};
    }
    auto opened = db::open_connection(url);
    if (!opened) {
        std::fprintf(stderr, "%s\n", opened.error().c_str());
        return 1;
    }
    auto& c = **opened;
    if (auto migrated = db::migrate(c); !migrated) {
        std::fprintf(stderr, "%s\n", migrated.error().message.c_str());
        return 1;
    }

    const std::int64_t now = 1'800'000'000;
    std::mt19937_64 random(42);
    auto seed_start = Clock::now();
    c.exec(
        "INSERT INTO plans (name, duration_days, traffic_bytes, device_limit, price_piasters, created_at, "
        "updated_at) "
        "VALUES ('Monthly', 30, 0, 2, 15000, 0, 0), ('Quarterly', 90, 0, 2, 40000, 0, 0)");
    c.exec(
        "INSERT INTO servers (name, gateway_url, gateway_key, inbound_id, capacity, created_at, updated_at) "
        "VALUES ('eu-1', 'https://eu1.example:8443', 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk', 1, 1000000, "
        "0, 0)");
    bulk_insert(c, "INSERT INTO users (discord_id, username, created_at, updated_at)", 4, account_count,
                [&](db::Statement& s, int& i, std::int64_t r) {
                    s.bind(i++, std::to_string(100000000000000000LL + r));
                    s.bind(i++, "user " + std::to_string(r));
                    s.bind(i++, now - static_cast<std::int64_t>(random() % (365 * 86400)));
                    s.bind(i++, now);
                });
    // Orders: the first `account_count` are the fulfilled new-account orders; the rest are
    // renewals and abandoned orders spread over the last year. Ids follow insertion order.
    const char* statuses[] = {"fulfilled", "fulfilled", "expired", "cancelled", "declined"};
    bulk_insert(
        c,
        "INSERT INTO orders (reference, user_id, plan_id, kind, status, amount_piasters, payment_method_id, "
        "created_at, updated_at, fulfilled_at)",
        10, order_count, [&](db::Statement& s, int& i, std::int64_t r) {
            const bool first = r < account_count;
            const std::string status = first ? "fulfilled" : statuses[random() % 5];
            const std::int64_t created = now - static_cast<std::int64_t>(random() % (365 * 86400));
            const std::int64_t plan = 1 + static_cast<std::int64_t>(random() % 2);
            s.bind(i++, domain::order_reference(domain::OrderId{r + 1}));
            s.bind(i++, 1 + (r % account_count));
            s.bind(i++, plan);
            s.bind(i++, first ? "new" : "renewal");
            s.bind(i++, status);
            s.bind(i++, plan == 1 ? 15000 : 40000);
            s.bind(i++, 1 + static_cast<std::int64_t>(random() % 5));
            s.bind(i++, created);
            s.bind(i++, created);
            if (status == "fulfilled") {
                s.bind(i++, created + 3600);
            } else {
                s.bind_null(i++);
            }
        });
    bulk_insert(
        c,
        "INSERT INTO vpn_accounts (user_id, server_id, order_id, plan_id, client_email, client_uuid, sub_id, "
        "inbound_id, expires_at, status, created_at, updated_at)",
        12, account_count, [&](db::Statement& s, int& i, std::int64_t r) {
            s.bind(i++, r + 1);
            s.bind(i++, 1);
            s.bind(i++, r + 1);
            s.bind(i++, 1);
            s.bind(i++, "nl-" + std::to_string(r + 1));
            s.bind(i++, nebula::common::uuid_v4());
            s.bind(i++, "sub" + std::to_string(r));
            s.bind(i++, 1);
            // Expiries spread over ±60 days: about 30 active accounts expire in any given hour.
            s.bind(i++, now - 60 * 86400 + static_cast<std::int64_t>(random() % (120 * 86400)));
            s.bind(i++, (r % 10 == 0) ? "expired" : "active");
            s.bind(i++, now);
            s.bind(i++, now);
        });
    // PostgreSQL: VACUUM as autovacuum soon does on a live database; without it the first full
    // read of freshly inserted rows also pays for setting every row's hint bits.
    c.execute_script(backend == "sqlite" ? "ANALYZE" : "VACUUM ANALYZE");
    const double seed_s = seconds_since(seed_start);

    // Expiry scan: active accounts expiring in the next hour (the expiry job's query).
    const domain::Timestamp t_now{std::chrono::seconds{now}};
    auto start = Clock::now();
    auto expiring = domain::accounts::expiring_between(c, t_now, t_now + std::chrono::hours(1));
    const double expiry_s = seconds_since(start);
    start = Clock::now();
    auto overdue = domain::accounts::expired_but_active(c, t_now, 1000);
    const double overdue_s = seconds_since(start);

    // Revenue over the last 30 days: by day, method, plan and the summary.
    domain::Analytics analytics;
    start = Clock::now();
    auto days = analytics.revenue_by_day(c, t_now - std::chrono::days(30), t_now);
    auto methods = analytics.revenue_by_method(c, t_now - std::chrono::days(30), t_now);
    auto plans = analytics.revenue_by_plan(c, t_now - std::chrono::days(30), t_now);
    auto summary = analytics.summary(c, t_now - std::chrono::days(30), t_now, t_now);
    const double revenue_s = seconds_since(start);

    // CSV export of every order, streamed to a file, several times (the first may also warm caches).
    const auto csv_path = dir / "orders.csv";
    const long peak_before = peak_kib();
    reset_peak();
    const long rss_at_start = peak_kib();
    std::vector<double> export_s;
    std::vector<std::pair<double, double>> export_cpu;  // this process, the server's backend
    const std::string server_pid =
        backend == "postgres" ? std::to_string(*c.scalar<std::int64_t>("SELECT pg_backend_pid()")) : "";
    std::int64_t exported = 0;
    for (int run = 0; run < export_runs; ++run) {
        const double own_cpu = cpu_seconds("self");
        const double server_cpu = server_pid.empty() ? 0 : cpu_seconds(server_pid);
        start = Clock::now();
        std::ofstream out(csv_path, std::ios::binary | std::ios::trunc);
        exported = domain::export_rows(c, domain::ExportKind::orders, out, {domain::ExportFormat::csv, true});
        out.close();
        export_s.push_back(seconds_since(start));
        export_cpu.emplace_back(cpu_seconds("self") - own_cpu,
                                server_pid.empty() ? 0 : cpu_seconds(server_pid) - server_cpu);
    }
    const long export_peak = peak_kib();
    // Both backends seed the same orders, so the same digest shows the exports are byte-identical.
    std::string export_digest;
    {
        std::ifstream in(csv_path, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        export_digest = nebula::common::sha256_hex(bytes);
    }

    std::printf("backend=%s accounts=%lld orders=%lld seed=%.1fs\n", backend.c_str(),
                static_cast<long long>(account_count), static_cast<long long>(order_count), seed_s);
    std::printf("expiry scan (next hour): %zu accounts in %.1f ms\n", expiring.size(), expiry_s * 1000);
    std::printf("overdue scan (expired but active, limit 1000): %zu in %.1f ms\n", overdue.size(),
                overdue_s * 1000);
    std::printf("30-day revenue (by day, method, plan, summary): %zu days, %s EGP in %.1f ms\n", days.size(),
                summary.revenue.to_pounds_string().c_str(), revenue_s * 1000);
    for (std::size_t run = 0; run < export_s.size(); ++run) {
        std::printf("CSV export run %zu: %lld rows, %.1f MB in %.2f s = %.0f rows/s; CPU: bench %.2f s",
                    run + 1, static_cast<long long>(exported), std::filesystem::file_size(csv_path) / 1e6,
                    export_s[run], static_cast<double>(exported) / export_s[run], export_cpu[run].first);
        if (!server_pid.empty()) std::printf(", server backend %.2f s", export_cpu[run].second);
        std::printf("\n");
    }
    std::printf("CSV export sha256: %s\n", export_digest.c_str());
    std::printf(
        "CSV export peak RSS: %ld KiB at start of the exports, %ld KiB during them (before: %ld KiB)\n",
        rss_at_start, export_peak, peak_before);
    (void)methods;
    (void)plans;

    opened->reset();
    if (admin) admin->execute_script("DROP SCHEMA " + schema + " CASCADE");
    std::filesystem::remove_all(dir);
    return 0;
}
