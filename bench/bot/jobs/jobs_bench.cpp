// One traffic pass and one expiry pass of the background jobs over N accounts spread across S
// in-process gateways: wall time, time spent in the database, and the gateway calls made.
// Usage: bot_jobs_bench --backend sqlite|postgres [--accounts 100000] [--servers 10]
// PostgreSQL uses NEBULA_BENCH_POSTGRES_URL (or NEBULA_TEST_POSTGRES_URL) and a fresh schema.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "bot/db/connection.hpp"
#include "bot/db/executor.hpp"
#include "bot/db/migrations.hpp"
#include "bot/jobs/jobs.hpp"
#include "common/crypto.hpp"
#include "discord/rest.hpp"

namespace {

namespace asio = boost::asio;
using namespace nebula;
using namespace nebula::bot;
using Steady = std::chrono::steady_clock;

/// A panel that answers at once from memory, counting what the jobs ask of it.
class BenchGateway final : public domain::GatewayClient {
  public:
    asio::awaitable<domain::GatewayResult<domain::ClientWithLinks>> create_client(
        domain::NewClient) override {
        co_return common::unexpected(
            domain::GatewayError{domain::GatewayErrorCode::rejected, 400, "not in the benchmark"});
    }
    asio::awaitable<domain::GatewayResult<domain::ClientWithLinks>> get_client(std::string) override {
        co_return common::unexpected(
            domain::GatewayError{domain::GatewayErrorCode::rejected, 400, "not in the benchmark"});
    }
    asio::awaitable<domain::GatewayResult<domain::GatewayClientInfo>> update_client(
        std::string, domain::ClientChange) override {
        co_return common::unexpected(
            domain::GatewayError{domain::GatewayErrorCode::rejected, 400, "not in the benchmark"});
    }
    asio::awaitable<domain::GatewayResult<domain::GatewayClientInfo>> reset_traffic(std::string) override {
        co_return common::unexpected(
            domain::GatewayError{domain::GatewayErrorCode::rejected, 400, "not in the benchmark"});
    }
    asio::awaitable<common::Status<domain::GatewayError>> delete_client(std::string email) override {
        ++calls["delete"];
        clients.erase(email);
        co_return common::Status<domain::GatewayError>{};
    }
    asio::awaitable<domain::GatewayResult<std::vector<domain::TrafficEntry>>> traffic() override {
        ++calls["traffic"];
        std::vector<domain::TrafficEntry> out;
        out.reserve(clients.size());
        for (const auto& [email, entry] : clients) out.push_back(entry);
        co_return out;
    }
    asio::awaitable<domain::GatewayResult<domain::DisableOutcome>> disable_clients(
        std::vector<std::string> emails) override {
        ++calls["disable"];
        domain::DisableOutcome outcome;
        for (auto& email : emails) {
            auto it = clients.find(email);
            if (it == clients.end()) {
                outcome.missing.push_back(std::move(email));
            } else {
                it->second.enable = false;
                outcome.disabled.push_back(std::move(email));
            }
        }
        co_return outcome;
    }
    asio::awaitable<domain::GatewayResult<domain::GatewayHealth>> health() override {
        ++calls["health"];
        co_return domain::GatewayHealth{"ok", "ok", "bench", 1};
    }

    std::map<std::string, domain::TrafficEntry> clients;
    std::map<std::string, int> calls;
};

/// Wall time moved by hand (to put the accounts past their expiry), steady time real (so the
/// jobs' own database-time measurement is real).
class BenchClock final : public common::Clock {
  public:
    std::chrono::system_clock::time_point now() const override { return wall_; }
    std::chrono::steady_clock::time_point steady_now() const override {
        return std::chrono::steady_clock::now();
    }
    void advance(std::chrono::seconds by) { wall_ += by; }

  private:
    std::chrono::system_clock::time_point wall_{std::chrono::seconds{1'800'000'000}};
};

class BenchDirectory final : public domain::GatewayDirectory {
  public:
    domain::GatewayClient& gateway_for(const domain::Server& server) override {
        return gateways[server.id.value];
    }
    std::map<std::int64_t, BenchGateway> gateways;
};

double seconds_since(Steady::time_point start) {
    return std::chrono::duration<double>(Steady::now() - start).count();
}

std::string calls_text(BenchDirectory& directory, const std::string& kind) {
    int total = 0, most = 0;
    for (auto& [id, gateway] : directory.gateways) {
        total += gateway.calls[kind];
        most = std::max(most, gateway.calls[kind]);
        gateway.calls[kind] = 0;
    }
    return std::to_string(total) + " (at most " + std::to_string(most) + " per server)";
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"bot_jobs_bench: one traffic and one expiry pass over many accounts"};
    std::string backend = "sqlite";
    int accounts = 100'000;
    int servers = 10;
    app.add_option("--backend", backend)->check(CLI::IsMember({"sqlite", "postgres"}));
    app.add_option("--accounts", accounts)->check(CLI::Range(1, 10'000'000));
    app.add_option("--servers", servers)->check(CLI::Range(1, 1000));
    CLI11_PARSE(app, argc, argv);
    spdlog::set_level(spdlog::level::warn);

    db::DatabaseUrl url;
    std::filesystem::path directory;
    std::unique_ptr<db::Connection> admin;
    std::string schema;
    if (backend == "sqlite") {
        directory = std::filesystem::temp_directory_path() / ("nebula-jobs-bench-" + common::random_hex(6));
        std::filesystem::create_directories(directory);
        url = {db::Backend::sqlite, (directory / "bot.db").string(), {}};
    } else {
        const char* base = std::getenv("NEBULA_BENCH_POSTGRES_URL");
        if (base == nullptr) base = std::getenv("NEBULA_TEST_POSTGRES_URL");
        if (base == nullptr) {
            std::fprintf(stderr, "set NEBULA_BENCH_POSTGRES_URL (scripts/start-postgres.sh prints one)\n");
            return 2;
        }
        schema = "jobs_bench_" + common::random_hex(6);
        admin = std::move(db::open_connection({db::Backend::postgres, {}, base}).value());
        admin->execute_script("CREATE SCHEMA " + schema);
        url = {db::Backend::postgres, {}, std::string(base) + "?options=-csearch_path%3D" + schema};
        directory = std::filesystem::temp_directory_path() / ("nebula-jobs-bench-" + common::random_hex(6));
    }

    BenchClock clock;
    common::SystemClock system_clock;
    BenchDirectory gateways;
    const std::int64_t limit = 100LL << 30;
    const auto start_time = domain::to_timestamp(clock.now());
    {
        auto c = std::move(db::open_connection(url).value());
        if (auto applied = db::migrate(*c); !applied) {
            std::fprintf(stderr, "migrate: %s\n", applied.error().message.c_str());
            return 1;
        }
        const auto seeded = Steady::now();
        db::in_transaction(*c, [&](db::Connection& t) {
            const auto t0 = start_time;
            const auto plan = *t.scalar<std::int64_t>(
                "INSERT INTO plans (name, duration_days, traffic_bytes, device_limit, price_piasters, "
                "created_at, "
                "updated_at) VALUES ('Monthly', 30, ?, 2, 15000, ?, ?) RETURNING id",
                limit, t0, t0);
            std::vector<std::int64_t> server_ids;
            for (int s = 0; s < servers; ++s) {
                server_ids.push_back(*t.scalar<std::int64_t>(
                    "INSERT INTO servers (name, gateway_url, gateway_key, inbound_id, capacity, created_at, "
                    "updated_at) VALUES (?, ?, ?, 1, 1000000, ?, ?) RETURNING id",
                    "srv-" + std::to_string(s), "https://srv-" + std::to_string(s) + ".example:8443",
                    std::string(40, 'k'), t0, t0));
            }
            auto user = t.prepare(
                "INSERT INTO users (discord_id, username, created_at, updated_at) VALUES (?, ?, ?, ?) "
                "RETURNING id");
            auto order = t.prepare(
                "INSERT INTO orders (user_id, plan_id, kind, status, amount_piasters, created_at, "
                "updated_at, "
                "fulfilled_at) VALUES (?, ?, 'new', 'fulfilled', 15000, ?, ?, ?) RETURNING id");
            auto account = t.prepare(
                "INSERT INTO vpn_accounts (user_id, server_id, order_id, plan_id, client_email, client_uuid, "
                "sub_id, inbound_id, traffic_limit_bytes, device_limit, expires_at, status, created_at, "
                "updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, 2, ?, 'active', ?, ?)");
            for (int i = 0; i < accounts; ++i) {
                user->reset();
                user->bind_all(std::to_string(100000000000000000LL + i), "user" + std::to_string(i), t0, t0);
                user->step();
                const auto user_id = user->get<std::int64_t>(0);
                while (user->step()) {
                }
                order->reset();
                order->bind_all(user_id, plan, t0, t0, t0);
                order->step();
                const auto order_id = order->get<std::int64_t>(0);
                while (order->step()) {
                }
                const std::string email = domain::client_email_for(domain::OrderId{order_id});
                const auto server = server_ids[static_cast<std::size_t>(i % servers)];
                // Spread over the next 30 days, so the expiry pass (run at +31 days) finds them all.
                const auto expires = t0 + std::chrono::hours(1 + i % (30 * 24));
                account->reset();
                account->bind_all(user_id, server, order_id, plan, email, "uuid-" + email, "sub-" + email,
                                  limit, expires, t0, t0);
                while (account->step()) {
                }
                // Usage: about 1 in 11 above 80 %, 1 in 101 used up, the rest light.
                const std::int64_t used =
                    i % 101 == 0 ? limit : (i % 11 == 0 ? limit / 100 * 85 : limit / 10);
                gateways.gateways[server].clients[email] =
                    domain::TrafficEntry{email, used / 4, used - used / 4, limit, 0, true};
            }
        });
        std::printf("seeded %d accounts on %d servers (%s) in %.1f s\n", accounts, servers, backend.c_str(),
                    seconds_since(seeded));
    }

    auto database = db::DbExecutor::open(url, 2);
    if (!database) {
        std::fprintf(stderr, "%s\n", database.error().c_str());
        return 1;
    }
    asio::io_context io;
    discord::RestOptions rest_options;
    rest_options.api_base = "http://127.0.0.1:9/api/v10";  // never called: the passes send no notices
    rest_options.token = "bench-token-not-used-anywhere";
    auto rest = discord::RestClient::create(io.get_executor(), rest_options, system_clock);
    if (!rest) {
        std::fprintf(stderr, "%s\n", rest.error().c_str());
        return 1;
    }
    const auto zone = ui::TimeZone::utc();
    domain::UserService users(clock);
    domain::CatalogService catalog(clock);
    domain::OrderService orders(clock, {});
    domain::Provisioner provisioner(**database, gateways, orders, catalog, clock);
    domain::AccountOperations operations(**database, gateways, catalog, clock);
    domain::Analytics analytics(std::chrono::seconds(0));
    common::TaskGroup background(io.get_executor());
    core::ShopSettings shop;
    auto sleeper = common::make_asio_sleeper(io.get_executor(), clock);
    shop.data_dir = directory;
    core::BotContext ctx{shop,      zone,       clock,   io.get_executor(), **rest,     **database,
                         users,     catalog,    orders,  provisioner,       operations, gateways,
                         analytics, background, *sleeper};
    jobs::JobsConfig config;
    // Only the bulk disable is measured: no account is past the grace period of deletion.
    config.expired_grace = std::chrono::days(60);
    jobs::Jobs runner(ctx, config, url);

    int exit_code = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            clock.advance(std::chrono::minutes(30));
            auto started = Steady::now();
            const auto traffic = co_await runner.monitor_traffic();
            std::printf(
                "traffic pass: %.2f s wall, %.2f s database; %d accounts updated, %d alerts queued, %d "
                "suspended; "
                "gateway calls: traffic %s, disable %s\n",
                seconds_since(started), traffic.db_time.count() / 1000.0, traffic.accounts_updated,
                traffic.alerts, traffic.suspended, calls_text(gateways, "traffic").c_str(),
                calls_text(gateways, "disable").c_str());

            clock.advance(std::chrono::days(31));
            started = Steady::now();
            const auto expiry = co_await runner.expire_accounts();
            std::printf(
                "expiry pass: %.2f s wall, %.2f s database; %d accounts expired; gateway calls: disable %s, "
                "delete %s\n",
                seconds_since(started), expiry.db_time.count() / 1000.0, expiry.expired,
                calls_text(gateways, "disable").c_str(), calls_text(gateways, "delete").c_str());
            if (traffic.servers_failed + expiry.servers_failed > 0) exit_code = 1;
        },
        [&](std::exception_ptr error) {
            if (!error) return;
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "bench failed: %s\n", e.what());
                exit_code = 1;
            }
        });
    io.run();
    database->reset();
    if (admin) admin->execute_script("DROP SCHEMA " + schema + " CASCADE");
    std::error_code ec;
    std::filesystem::remove_all(directory, ec);
    return exit_code;
}
