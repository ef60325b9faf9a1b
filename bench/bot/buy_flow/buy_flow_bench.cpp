// nebula-bot under a burst of customers: N customers press Buy Access (new customers) or My
// Account (returning customers, --press account) within one window (default 1,000 in 1 s, evenly
// spaced) or all at once (--simultaneous: dispatched back to back, each stamped just before its
// frame is handed to the gateway, its payload built beforehand) against the fake Discord, with the
// bot as a real process on SQLite, or on PostgreSQL (--database URL: a fresh schema there, dropped
// afterwards). The fake speaks plain HTTP and ws://, or HTTPS and WSS (its gateway too) with a
// throw-away certificate the bot trusts through DISCORD_CA_FILE (--tls), and can hold every REST answer for
// --latency-ms (a Discord that far away). Measures, as the fake sees it, the time from dispatching
// each INTERACTION_CREATE on the gateway websocket to the arrival of its interaction callback,
// checks every interaction was acknowledged (callback answered 204 inside Discord's 3 s window),
// counts the REST connections (TLS handshakes) the bot opened and the database write transactions
// it ran during the burst (from its /metrics), and reads the bot's memory from /proc/<pid>/status:
// VmRSS sampled every 10 ms during the burst, VmHWM at the end, VmRSS once the bot has been idle
// for a second afterwards; RssFile before the burst and RssAnon's sampled peak split the figure into
// mapped code (the bot and its libraries, shared with the page cache) and heap and stacks. CPU is the bot
// process's user + system time, all threads.
//   bot_buy_flow_bench --bot build/demo-rel/src/bot/nebula-bot [--customers 1000] [--window-ms 1000]
//       [--simultaneous] [--tls] [--latency-ms 60] [--press buy|account] [--database postgres://…]
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "bot/db/connection.hpp"
#include "bot/db/database_url.hpp"
#include "common/http_client.hpp"
#include "fakes/discord/fake_discord.hpp"
#include "support/tls_cert.hpp"

extern char** environ;

namespace {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kGuild = 800000000000000001ULL;
constexpr std::uint64_t kAdminRole = 810000000000000001ULL;
constexpr std::uint64_t kPanelChannel = 820000000000000003ULL;
constexpr std::uint64_t kAdmin = 830000000000000002ULL;
constexpr std::uint64_t kFirstCustomer = 840000000000000000ULL;

/// A field of /proc/<pid>/status in KiB (VmRSS, VmHWM); 0 when the process is gone.
long status_kib(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    }
    return 0;
}

/// User + system CPU time the process has used, in milliseconds.
double cpu_ms(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces) start behind the last ')'.
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14 || i == 15) ticks += std::stod(field);
    }
    return ticks * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
    return pid;
}

int wait_exit(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) < 0) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

double percentile(std::vector<double> sorted, double p) {
    if (sorted.empty()) return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

struct Options {
    std::string bot;
    int customers = 1000;
    int window_ms = 1000;
    int db_threads = 4;
    int settle_ms = 1000;
    std::string work_dir;
    std::string json_out;
    std::string perf_out;
    bool simultaneous = false;
    bool tls = false;
    bool http1 = false;  ///< over HTTPS, the fake offers HTTP/1.1 only (no h2)
    int latency_ms = 0;
    std::string press = "buy";  ///< buy: new customers press Buy Access; account: returning ones My Account
    std::string database;       ///< a PostgreSQL URL; empty: SQLite in the work dir
    std::string schema;         ///< the fresh schema made there for this run
    std::uint16_t metrics_port = 0;
};

/// The bot's DATABASE_URL: SQLite in the work dir, or the run's own schema on PostgreSQL.
std::string database_url(const Options& o) {
    if (o.database.empty()) return "sqlite:" + (std::filesystem::path(o.work_dir) / "bot.db").string();
    const char separator = o.database.find('?') == std::string::npos ? '?' : '&';
    return o.database + separator + "options=-csearch_path%3D" + o.schema;
}

/// Runs `sql` on the PostgreSQL server of --database (outside the run's schema).
void on_postgres_server(const Options& o, const std::string& sql) {
    auto url = nebula::bot::db::parse_database_url(o.database);
    if (!url) throw std::runtime_error(url.error());
    auto connection = nebula::bot::db::open_connection(*url);
    if (!connection) throw std::runtime_error(connection.error());
    (*connection)->execute_script(sql);
}

struct Outcome {
    int dispatched = 0;
    int acknowledged = 0;
    int late_or_failed = 0;
    std::vector<double> latencies_ms;
    long rss_idle_kib = 0;
    long rss_idle_file_kib = 0;  ///< of the idle RSS: mapped code and files (RssFile)
    long rss_peak_anon_kib = 0;  ///< heap, stacks and other private memory at its sampled peak (RssAnon)
    long rss_peak_sampled_kib = 0;
    long hwm_kib = 0;
    long rss_after_kib = 0;
    double burst_seconds = 0;
    double cpu_ms = 0;               ///< the bot's CPU time from the first dispatch to the last answer
    double fake_cpu_ms = 0;          ///< the same for this process (the fake Discord)
    double answer_seconds = 0;       ///< from the first dispatch to the last answer
    std::size_t connections = 0;     ///< REST connections the bot opened during the burst
    double write_transactions = -1;  ///< database write transactions during the burst; -1 unknown
};

/// The value of one unlabelled series in a Prometheus text page; -1 when absent.
double metric_value(const std::string& page, const std::string& name) {
    std::istringstream lines(page);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    }
    return -1;
}

class Bench {
  public:
    Bench(asio::io_context& io, nebula::fakes::discord::FakeDiscord& fake, Options options, pid_t bot)
        : io_(io), fake_(fake), options_(std::move(options)), bot_(bot) {}

    asio::awaitable<Outcome> run() {
        Outcome out;
        auto& gateway = fake_.gateway();
        if (!co_await gateway.wait_until([&] { return !gateway.session_id().empty(); }, 30s))
            throw std::runtime_error("nebula-bot did not connect (see bot.log)");
        co_await seed_plan();
        // The burst hits a bot that has finished starting (its start-up jobs included).
        asio::steady_timer settle(io_, std::chrono::milliseconds(options_.settle_ms));
        co_await settle.async_wait(asio::use_awaitable);
        out.rss_idle_kib = status_kib(bot_, "VmRSS");
        out.rss_idle_file_kib = status_kib(bot_, "RssFile");
        pid_t perf = 0;
        if (!options_.perf_out.empty()) {
            perf = spawn({"/usr/bin/perf", "record", "-F", "1999", "-g", "-p", std::to_string(bot_), "-o",
                          options_.perf_out},
                         options_.perf_out + ".log");
            // perf needs a moment to attach before the burst is worth recording.
            asio::steady_timer attach(io_, 500ms);
            co_await attach.async_wait(asio::use_awaitable);
        }

        // Every press is built before the burst, so its own cost is not in the measurement.
        std::vector<json> presses;
        std::vector<std::string> callback_paths;
        const std::string custom_id = options_.press == "account" ? "panel:account" : "panel:buy";
        for (int i = 0; i < options_.customers; ++i) {
            json data{{"custom_id", custom_id}, {"component_type", 2}};
            presses.push_back(fake_.make_interaction(3, kFirstCustomer + static_cast<std::uint64_t>(i), {},
                                                     data, kGuild, kPanelChannel));
            callback_paths.push_back("/interactions/" + presses.back()["id"].get<std::string>() + "/" +
                                     presses.back()["token"].get<std::string>() + "/callback");
        }
        const double writes_before = co_await write_transactions();
        const std::size_t connections_before = fake_.connections_accepted();

        bool burst_done = false;
        asio::co_spawn(io_, sample_rss(burst_done, out.rss_peak_sampled_kib, out.rss_peak_anon_kib),
                       asio::detached);
        const double cpu_before = cpu_ms(bot_);
        const double fake_cpu_before = cpu_ms(::getpid());
        std::map<std::string, Clock::time_point> dispatched;  // callback path -> dispatch time
        const auto start = Clock::now();
        asio::steady_timer timer(io_);
        for (int i = 0; i < options_.customers; ++i) {
            if (!options_.simultaneous) {
                timer.expires_at(start +
                                 std::chrono::microseconds(static_cast<long long>(i) * options_.window_ms *
                                                           1000 / options_.customers));
                co_await timer.async_wait(asio::use_awaitable);
            }
            dispatched[callback_paths[static_cast<std::size_t>(i)]] = Clock::now();
            gateway.dispatch("INTERACTION_CREATE", std::move(presses[static_cast<std::size_t>(i)]));
            ++out.dispatched;
        }
        out.burst_seconds = std::chrono::duration<double>(Clock::now() - start).count();
        co_await wait_for_answers(dispatched, 15s);
        out.cpu_ms = cpu_ms(bot_) - cpu_before;
        out.fake_cpu_ms = cpu_ms(::getpid()) - fake_cpu_before;
        out.answer_seconds = std::chrono::duration<double>(Clock::now() - start).count();
        burst_done = true;
        out.connections = fake_.connections_accepted() - connections_before;
        const double writes_after = co_await write_transactions();
        if (writes_before >= 0 && writes_after >= 0) out.write_transactions = writes_after - writes_before;
        if (perf > 0) {
            ::kill(perf, SIGINT);
            wait_exit(perf);
        }
        out.hwm_kib = status_kib(bot_, "VmHWM");

        for (const auto& r : fake_.requests()) {
            const auto it = dispatched.find(r.path);
            if (it == dispatched.end() || r.method != "POST") continue;
            if (r.status == 204) {
                ++out.acknowledged;
            } else {
                ++out.late_or_failed;
            }
            out.latencies_ms.push_back(std::chrono::duration<double, std::milli>(r.at - it->second).count());
        }
        std::sort(out.latencies_ms.begin(), out.latencies_ms.end());

        asio::steady_timer idle(io_, 1s);
        co_await idle.async_wait(asio::use_awaitable);
        out.rss_after_kib = status_kib(bot_, "VmRSS");
        co_return out;
    }

  private:
    // The bot's count of database write transactions, from its /metrics; -1 when unavailable.
    asio::awaitable<double> write_transactions() {
        nebula::common::http::ClientOptions o;
        o.base =
            *nebula::common::http::Url::parse("http://127.0.0.1:" + std::to_string(options_.metrics_port));
        auto client = nebula::common::http::Client::create(io_.get_executor(), o);
        if (!client) co_return -1;
        nebula::common::http::Request r;
        r.method = "GET";
        r.target = "/metrics";
        auto response = co_await (*client)->send(std::move(r));
        if (!response || response->status != 200) co_return -1;
        co_return metric_value(response->body, "nebula_bot_db_write_transactions_total");
    }

    // One plan on sale, created the way an admin does it (so the burst reads a real catalogue).
    asio::awaitable<void> seed_plan() {
        json create{{"name", "create"},
                    {"type", 1},
                    {"options", json::array({{{"name", "name"}, {"type", 3}, {"value", "Monthly 50 GB"}},
                                             {{"name", "price"}, {"type", 10}, {"value", 150}},
                                             {{"name", "days"}, {"type", 4}, {"value", 30}},
                                             {{"name", "traffic_gb"}, {"type", 10}, {"value", 50}},
                                             {{"name", "devices"}, {"type", 4}, {"value", 2}}})}};
        json data{
            {"id", "840000000000000001"},
            {"name", "admin"},
            {"type", 1},
            {"options", json::array({{{"name", "plan"}, {"type", 2}, {"options", json::array({create})}}})}};
        fake_.inject_interaction(2, kAdmin, {kAdminRole}, data);
        if (!co_await fake_.wait_for_requests("POST /interactions/.*/callback", 1, 10s))
            throw std::runtime_error("the bot did not answer /admin plan create");
        // A deferred answer is completed by an edit of the original response.
        co_await fake_.wait_for_requests("PATCH /webhooks/.*", 1, 2s);
        const auto answers = fake_.requests_matching("(POST /interactions/.*/callback|PATCH /webhooks/.*)");
        bool created = false;
        for (const auto& r : answers) created = created || r.body.find("Monthly 50 GB") != std::string::npos;
        if (!created) throw std::runtime_error("/admin plan create did not confirm the plan");
    }

    // Waits until every dispatched interaction's callback has been answered by the fake. Scans
    // the request log incrementally every 5 ms rather than matching it all on every request, so
    // the waiting costs the fake (which shares this thread) next to nothing.
    asio::awaitable<void> wait_for_answers(const std::map<std::string, Clock::time_point>& dispatched,
                                           std::chrono::milliseconds limit) {
        const auto deadline = Clock::now() + limit;
        std::size_t scanned = 0, answered = 0;
        asio::steady_timer timer(io_);
        while (answered < dispatched.size() && Clock::now() < deadline) {
            const auto& requests = fake_.requests();
            while (scanned < requests.size() && requests[scanned].status != 0) {
                if (dispatched.count(requests[scanned].path) != 0) ++answered;
                ++scanned;
            }
            timer.expires_after(5ms);
            co_await timer.async_wait(asio::use_awaitable);
        }
    }

    asio::awaitable<void> sample_rss(const bool& done, long& peak, long& peak_anon) {
        asio::steady_timer timer(io_);
        while (!done) {
            peak = std::max(peak, status_kib(bot_, "VmRSS"));
            peak_anon = std::max(peak_anon, status_kib(bot_, "RssAnon"));
            timer.expires_after(10ms);
            co_await timer.async_wait(asio::use_awaitable);
        }
    }

    asio::io_context& io_;
    nebula::fakes::discord::FakeDiscord& fake_;
    Options options_;
    pid_t bot_;
};

void write_env(const Options& o, nebula::fakes::discord::FakeDiscord& fake, const std::string& ca_file,
               const std::filesystem::path& path) {
    std::ofstream env(path);
    if (!ca_file.empty()) env << "DISCORD_CA_FILE=" << ca_file << "\n";
    env << "DISCORD_TOKEN=" << fake.options().token << "\n"
        << "DISCORD_CLIENT_ID=" << fake.options().application_id << "\n"
        << "DISCORD_GUILD_ID=" << kGuild << "\n"
        << "DISCORD_API_BASE=" << fake.api_base() << "\n"
        << "DISCORD_GATEWAY_URL=" << fake.gateway().url() << "\n"
        << "DISCORD_CDN_HOSTS=127.0.0.1\n"
        << "METRICS_PORT=" << o.metrics_port
        << "\n"
        // Buy Access never reaches a gateway; the default server only has to be configured.
        << "API_GATEWAY_URL=https://127.0.0.1:9\n"
        << "API_SECRET_KEY=" << std::string(64, 'b') << "\n"
        << "ADMIN_ROLE_ID=" << kAdminRole << "\n"
        << "REVIEW_CHANNEL_ID=820000000000000001\n"
        << "BILLING_CHANNEL_ID=820000000000000002\n"
        << "MAIN_PANEL_CHANNEL_ID=" << kPanelChannel << "\n"
        << "ORDERS_CATEGORY_ID=820000000000000004\n"
        << "DATABASE_URL=" << database_url(o) << "\n"
        << "DB_THREADS=" << o.db_threads << "\n"
        << "DATA_DIR=" << (std::filesystem::path(o.work_dir) / "data").string() << "\n"
        << "LOG_DIR=" << (std::filesystem::path(o.work_dir) / "logs").string() << "\n"
        << "LOG_LEVEL=warn\n";
}

/// A free loopback port for the bot's /metrics.
std::uint16_t free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return acceptor.local_endpoint().port();
}

/// Returning customers: a users row for each, as their earlier visits left it.
void seed_customers(const Options& o) {
    auto url = nebula::bot::db::parse_database_url(database_url(o));
    if (!url) throw std::runtime_error(url.error());
    auto connection = nebula::bot::db::open_connection(*url);
    if (!connection) throw std::runtime_error(connection.error());
    nebula::bot::db::Transaction transaction(**connection);
    for (int i = 0; i < o.customers; ++i) {
        const std::string id = std::to_string(kFirstCustomer + static_cast<std::uint64_t>(i));
        (*connection)
            ->exec(
                "INSERT INTO users (discord_id, username, last_locale, created_at, updated_at) "
                "VALUES (?, ?, 'en-US', 0, 0)",
                id, "user-" + id);
    }
    transaction.commit();
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"nebula-bot: N customers press Buy Access within one window against the fake Discord"};
    app.add_option("--bot", o.bot, "the nebula-bot executable (a release build)")->required();
    app.add_option("--customers", o.customers, "customers, one interaction each")->capture_default_str();
    app.add_option("--window-ms", o.window_ms, "spread the interactions evenly over this window")
        ->capture_default_str();
    app.add_option("--db-threads", o.db_threads, "the bot's DB_THREADS")->capture_default_str();
    app.add_option("--settle-ms", o.settle_ms, "idle time between start-up and the burst")
        ->capture_default_str();
    app.add_option("--work-dir", o.work_dir,
                   "folder for the bot's .env, database and log (default: a temp dir)");
    app.add_option("--json", o.json_out, "append the result as one JSON line to this file");
    app.add_option("--perf", o.perf_out,
                   "record the bot with perf (call graphs) during the burst into this file");
    app.add_flag("--simultaneous", o.simultaneous,
                 "dispatch every press back to back instead of spreading them over --window-ms");
    app.add_flag("--tls", o.tls, "the fake Discord speaks HTTPS and WSS (a throw-away certificate)");
    app.add_flag("--http1", o.http1, "with --tls: the fake offers HTTP/1.1 only, not HTTP/2");
    app.add_option("--latency-ms", o.latency_ms, "hold every REST answer this long")->capture_default_str();
    app.add_option("--press", o.press,
                   "buy: new customers press Buy Access; account: returning customers press My Account")
        ->check(CLI::IsMember({"buy", "account"}))
        ->capture_default_str();
    app.add_option("--database", o.database,
                   "a PostgreSQL URL (postgres://…): the bot runs on a fresh schema there (default: SQLite)");
    CLI11_PARSE(app, argc, argv);
    if (o.customers <= 0 || o.window_ms <= 0 || o.latency_ms < 0) {
        std::cerr << "--customers and --window-ms must be positive, --latency-ms not negative\n";
        return 2;
    }
    o.metrics_port = free_port();
    if (o.work_dir.empty()) {
        o.work_dir =
            (std::filesystem::temp_directory_path() / ("nebula-buy-bench-" + std::to_string(::getpid())))
                .string();
    }
    std::filesystem::remove_all(o.work_dir);
    std::filesystem::create_directories(o.work_dir);
    const std::filesystem::path dir(o.work_dir);
    if (!o.database.empty()) {
        o.schema = "bench_" + std::to_string(::getpid());
        try {
            on_postgres_server(o,
                               "DROP SCHEMA IF EXISTS " + o.schema + " CASCADE; CREATE SCHEMA " + o.schema);
        } catch (const std::exception& e) {
            std::cerr << "PostgreSQL (--database): " << e.what() << "\n";
            return 2;
        }
    }

    asio::io_context io;
    nebula::fakes::discord::FakeDiscordOptions fake_options;
    fake_options.record_dir.clear();
    fake_options.token = "bench." + std::string(48, 't');
    fake_options.response_delay = std::chrono::milliseconds(o.latency_ms);
    fake_options.http2 = !o.http1;
    std::optional<nebula::testing::TlsCert> cert;
    if (o.tls) {
        cert.emplace();
        fake_options.tls = nebula::common::http::TlsFiles{cert->cert_path, cert->key_path};
    }
    auto fake = nebula::fakes::discord::FakeDiscord::create(io.get_executor(), fake_options);
    if (!fake) {
        std::cerr << "fake Discord: " << fake.error() << "\n";
        return 2;
    }
    (*fake)->add_member(kGuild, kAdmin, {kAdminRole});
    write_env(o, **fake, cert ? cert->cert_path : std::string(), dir / "bot.env");
    const std::string log = (dir / "bot.log").string();
    if (wait_exit(spawn({o.bot, "--env-file", (dir / "bot.env").string(), "migrate"}, log)) != 0) {
        std::cerr << "nebula-bot migrate failed; see " << log << "\n";
        return 2;
    }
    if (o.press == "account") {
        try {
            seed_customers(o);
        } catch (const std::exception& e) {
            std::cerr << "seeding returning customers failed: " << e.what() << "\n";
            return 2;
        }
    }
    const pid_t bot = spawn({o.bot, "--env-file", (dir / "bot.env").string(), "run"}, log);

    Bench bench(io, **fake, o, bot);
    Outcome out;
    std::string error;
    bool finished = false;
    asio::co_spawn(io, bench.run(), [&](std::exception_ptr e, Outcome result) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                error = ex.what();
            }
        }
        out = std::move(result);
        finished = true;
    });
    while (!finished) io.run_one();
    ::kill(bot, SIGTERM);
    bool stopped = false;
    (*fake)->stop([&] { stopped = true; });
    const auto deadline = Clock::now() + 5s;
    while (!stopped && Clock::now() < deadline) {
        io.restart();
        io.run_one_for(50ms);
    }
    const int bot_status = wait_exit(bot);
    if (!o.database.empty()) {
        try {
            on_postgres_server(o, "DROP SCHEMA " + o.schema + " CASCADE");
        } catch (const std::exception& e) {
            std::cerr << "dropping schema " << o.schema << ": " << e.what() << "\n";
        }
    }
    if (!error.empty()) {
        std::cerr << "bench failed: " << error << " (bot log: " << log << ")\n";
        return 2;
    }

    const double p50 = percentile(out.latencies_ms, 50), p90 = percentile(out.latencies_ms, 90),
                 p99 = percentile(out.latencies_ms, 99),
                 max = out.latencies_ms.empty() ? 0 : out.latencies_ms.back();
    const bool all_acked = out.acknowledged == out.dispatched;
    const long rss_peak = std::max(out.rss_peak_sampled_kib, out.hwm_kib);
    const double p99_target = o.tls || o.latency_ms > 0 || !o.database.empty() ? 150.0 : 100.0;
    const long rss_target_kib = 30 * 1024;
    const bool ok =
        all_acked && p99 <= p99_target && rss_peak <= rss_target_kib && out.rss_after_kib <= rss_target_kib;
    std::printf(
        "scenario                  %s, %s, %s%s, %s\n", o.simultaneous ? "simultaneous" : "spread",
        o.press == "account" ? "returning customers press My Account" : "new customers press Buy Access",
        !o.tls    ? "plain HTTP"
        : o.http1 ? "HTTPS (HTTP/1.1) + WSS"
                  : "HTTPS (HTTP/2) + WSS",
        o.latency_ms > 0 ? (" + " + std::to_string(o.latency_ms) + " ms answers").c_str() : "",
        o.database.empty() ? "SQLite" : "PostgreSQL");
    std::printf("customers dispatched      %d in %.3f s\n", out.dispatched, out.burst_seconds);
    std::printf("acknowledged (204)        %d%s\n", out.acknowledged,
                all_acked ? "  [target: all]" : "  [MISSED: all]");
    std::printf("refused or late           %d\n", out.late_or_failed);
    std::printf("dispatch -> callback ms   p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  [%s p99 <= %.0f]\n", p50,
                p90, p99, max, p99 <= p99_target ? "target" : "MISSED", p99_target);
    std::printf(
        "bot RSS MiB               idle %.1f  burst peak %.1f (sampled %.1f, VmHWM %.1f)  after %.1f  %s\n",
        out.rss_idle_kib / 1024.0, rss_peak / 1024.0, out.rss_peak_sampled_kib / 1024.0, out.hwm_kib / 1024.0,
        out.rss_after_kib / 1024.0,
        rss_peak <= rss_target_kib && out.rss_after_kib <= rss_target_kib ? "[target <= 30]"
                                                                          : "[MISSED <= 30]");
    std::printf(
        "  of which               code and files %.1f idle; heap and stacks %.1f idle, %.1f at peak\n",
        out.rss_idle_file_kib / 1024.0, (out.rss_idle_kib - out.rss_idle_file_kib) / 1024.0,
        out.rss_peak_anon_kib / 1024.0);
    std::printf(
        "CPU until the last answer bot %.0f ms (%.2f ms per interaction), fake Discord %.0f ms, in %.3f s\n",
        out.cpu_ms, out.dispatched > 0 ? out.cpu_ms / out.dispatched : 0.0, out.fake_cpu_ms,
        out.answer_seconds);
    std::printf("REST connections opened   %zu%s\n", out.connections, o.tls ? " (TLS handshakes)" : "");
    std::printf("DB write transactions     %.0f\n", out.write_transactions);
    std::printf("bot exit status           %d\n", bot_status);
    if (!o.json_out.empty()) {
        std::ofstream json_file(o.json_out, std::ios::app);
        json_file << json{{"customers", out.dispatched},
                          {"window_ms", o.window_ms},
                          {"simultaneous", o.simultaneous},
                          {"tls", o.tls},
                          {"http2", o.tls && !o.http1},
                          {"latency_ms", o.latency_ms},
                          {"press", o.press},
                          {"database", o.database.empty() ? "sqlite" : "postgres"},
                          {"connections", out.connections},
                          {"write_transactions", out.write_transactions},
                          {"cpu_ms_per_press", out.dispatched > 0 ? out.cpu_ms / out.dispatched : 0.0},
                          {"acknowledged", out.acknowledged},
                          {"p50_ms", p50},
                          {"p90_ms", p90},
                          {"p99_ms", p99},
                          {"max_ms", max},
                          {"rss_idle_kib", out.rss_idle_kib},
                          {"rss_idle_file_kib", out.rss_idle_file_kib},
                          {"rss_peak_anon_kib", out.rss_peak_anon_kib},
                          {"rss_peak_kib", rss_peak},
                          {"rss_after_kib", out.rss_after_kib},
                          {"bot_cpu_ms", out.cpu_ms},
                          {"fake_cpu_ms", out.fake_cpu_ms}}
                         .dump()
                  << "\n";
    }
    std::error_code ec;
    std::filesystem::remove_all(dir / "data", ec);
    return ok ? 0 : 1;
}
