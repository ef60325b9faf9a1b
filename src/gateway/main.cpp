// nebula-gateway: the signed HTTPS API in front of one 3x-ui panel.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/clock.hpp"
#include "common/logging.hpp"
#include "common/metrics.hpp"
#include "gateway/check.hpp"
#include "gateway/config.hpp"
#include "gateway/init/init.hpp"
#include "gateway/service.hpp"

namespace asio = boost::asio;
using namespace nebula;

int main(int argc, char** argv) {
    // Before anything can create a file: the database, its WAL, backups, receipts, exports and
    // logs hold secrets and customers' data, readable by this user only (0600, folders 0700),
    // whatever umask sudo or a shell passed on.
    ::umask(0077);
    CLI::App app{"nebula-gateway: the signed HTTPS API in front of a 3x-ui panel"};
    std::string env_file = ".env";
    std::string ready_file;
    bool show_version = false;
    app.add_option("--env", env_file, "configuration file in dotenv syntax (real environment variables win)");
    app.add_option("--ready-file", ready_file, "write {\"port\":N} here once listening");
    app.add_flag("--version", show_version, "print the version and exit");
    auto* check = app.add_subcommand(
        "check",
        "validate the configuration, load the certificate and log in to the panel; exit 1 on a failure");
    gateway::init::InitOptions init_options;
    auto* init = app.add_subcommand(
        "init",
        "set up this VPN server: read 3x-ui's settings, log in to the panel, write gateway.env and the "
        "certificate, add the firewall rule, check, start the service and print the /admin server add line");
    init->add_option("--panel-url", init_options.panel_url,
                     "the panel's address with its web base path (default: from --xui-db)");
    init->add_option("--panel-user", init_options.panel_user, "the panel's user name");
    init->add_option("--panel-password", init_options.panel_password, "the panel's password");
    init->add_option("--panel-token", init_options.panel_token,
                     "a 3x-ui 3.x API token instead of user and password");
    init->add_option("--public-host", init_options.public_host,
                     "this server's public host name or IP address");
    init->add_option("--bot-address", init_options.bot_address,
                     "the bot's public IP address (the only one allowed in)");
    init->add_option("--inbound", init_options.inbound, "the VLESS inbound id new clients go into");
    init->add_option("--name", init_options.name, "the server's name in Discord (default: this host's name)");
    init->add_option("--location", init_options.location, "the location customers see (default: the name)");
    init->add_option("--port", init_options.port,
                     "the gateway's port (default: PORT in gateway.env, else 8443)");
    init->add_option("--config-dir", init_options.config_dir, "where gateway.env and tls/ go")
        ->capture_default_str();
    init->add_option("--xui-db", init_options.xui_db, "3x-ui's database")->capture_default_str();
    std::string firewall;
    init->add_option("--firewall", firewall,
                     "nftables, ufw or none (default: ufw when active, else nftables when installed)")
        ->check(CLI::IsMember({"nftables", "ufw", "none"}));
    init->add_flag("--no-start", init_options.no_start, "do not enable and (re)start the service");
    init->add_flag("--rotate", init_options.rotate,
                   "make a new key and certificate (the old key keeps working)");
    init->add_flag("--yes", init_options.yes, "never ask: a missing value is an error naming its flag");
    CLI11_PARSE(app, argc, argv);
    if (show_version) {
        std::cout << "nebula-gateway " << NEBULA_VERSION << "\n";
        return 0;
    }
    if (init->parsed()) {
        if (firewall == "nftables") init_options.firewall = gateway::init::Firewall::nftables;
        if (firewall == "ufw") init_options.firewall = gateway::init::Firewall::ufw;
        if (firewall == "none") init_options.firewall = gateway::init::Firewall::none;
        spdlog::set_level(spdlog::level::off);  // the steps say what happens; no log lines between
        const bool terminal = ::isatty(STDIN_FILENO) == 1;
        gateway::init::Console console{std::cin, std::cout, terminal && !init_options.yes,
                                       terminal ? STDIN_FILENO : -1};
        common::SystemClock clock;
        return gateway::init::run_init(init_options, console, gateway::init::run_command, clock);
    }

    auto env = common::Environment::load(env_file);
    if (!env) {
        std::cerr << "nebula-gateway: " << env.error() << "\n";
        return 2;
    }
    auto config = gateway::load_gateway_config(*env);
    if (config && !config->previous_secret_key.empty() && !config->previous_key_since) {
        // Without API_SECRET_KEY_PREVIOUS_SINCE the rotation began when the file was last edited.
        std::error_code ec;
        const auto written = std::filesystem::last_write_time(env_file, ec);
        if (!ec)
            config->previous_key_since = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
                std::chrono::file_clock::to_sys(written));
    }
    if (check->parsed()) {
        if (!config) {
            std::cout << "FAIL configuration: " << config.error() << "\n";
            return 1;
        }
        std::cout << "OK   configuration: " << env_file << " and the environment are valid\n";
        spdlog::set_level(spdlog::level::off);  // one line per check, nothing else
        common::SystemClock clock;
        bool ok = true;
        for (const auto& result : gateway::check_gateway(*config, clock)) {
            std::cout << gateway::format_check(result) << "\n";
            ok = ok && result.ok;
        }
        return ok ? 0 : 1;
    }
    if (!config) {
        std::cerr << "nebula-gateway: " << config.error() << "\n";
        return 2;
    }
    const gateway::GatewayConfig& cfg = *config;

    try {
        common::setup_logging({.directory = cfg.log_dir, .level = cfg.log_level}, cfg.secrets());
    } catch (const std::exception& e) {
        std::cerr << "nebula-gateway: cannot open the log files in " << cfg.log_dir << ": " << e.what()
                  << "\n";
        return 2;
    }

    asio::io_context io(1);
    common::SystemClock clock;

    auto panel = gateway::xui::PanelClient::create(io.get_executor(), gateway::panel_options(cfg), clock);
    if (!panel) {
        spdlog::critical("cannot set up the panel client: {}", panel.error());
        return 2;
    }

    common::metrics::Registry registry;
    gateway::GatewayMetrics metrics(registry);
    gateway::GatewayService service(cfg, **panel, clock, &metrics);
    auto server = common::http::Server::create(io.get_executor(), gateway::server_options(cfg), service);
    if (!server) {
        spdlog::critical("cannot start: {}", server.error());
        return 1;
    }
    (*server)->start();
    const auto port = (*server)->port();
    common::metrics::Handler metrics_handler(registry);
    std::unique_ptr<common::http::Server> metrics_server;
    if (cfg.metrics_port) {
        auto started = common::metrics::start_server(io.get_executor(), cfg.metrics_bind, *cfg.metrics_port,
                                                     metrics_handler);
        if (!started) {
            spdlog::critical("cannot start: {}", started.error());
            return 1;
        }
        metrics_server = std::move(*started);
        spdlog::info("metrics on http://{}:{}/metrics", cfg.metrics_bind, metrics_server->port());
    }
    if (!ready_file.empty()) {
        // Written whole, then renamed, so a watcher never reads half a file.
        const std::string tmp = ready_file + ".tmp";
        std::ofstream(tmp) << "{\"port\":" << port << "}\n";
        std::rename(tmp.c_str(), ready_file.c_str());
    }
    spdlog::info(
        "nebula-gateway {} listening on {}://{}:{} (panel {}, allowlist {} entries, {} req/min per client)",
        NEBULA_VERSION, cfg.plain_http ? "http" : "https", cfg.bind_address, port, cfg.panel_url,
        cfg.allowed_ips.size(), cfg.rate_limit_per_minute);
    if (cfg.plain_http) spdlog::warn("PLAIN_HTTP is on: serving without TLS on loopback only");
    if (auto notice = gateway::previous_key_notice(cfg, clock.now())) spdlog::warn("{}", *notice);
    if (cfg.panel_allow_remote && !gateway::is_loopback_url(cfg.panel_url)) {
        spdlog::warn("PANEL_URL {} is on another host (PANEL_ALLOW_REMOTE=true)", cfg.panel_url);
    }

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        spdlog::info("signal {} received: finishing in-flight requests (up to {} s)", signal,
                     cfg.shutdown_grace.count());
        if (metrics_server) metrics_server->shutdown(std::chrono::milliseconds(0));
        (*server)->shutdown(cfg.shutdown_grace, [&] {
            spdlog::info("stopped");
            io.stop();
        });
    });
    io.run();
    spdlog::default_logger()->flush();
    return 0;
}
