// nebula-gateway: the signed HTTPS API in front of one 3x-ui panel.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "common/clock.hpp"
#include "common/logging.hpp"
#include "gateway/config.hpp"
#include "gateway/service.hpp"

namespace asio = boost::asio;
using namespace nebula;

int main(int argc, char** argv) {
    CLI::App app{"nebula-gateway: the signed HTTPS API in front of a 3x-ui panel"};
    std::string env_file = ".env";
    std::string ready_file;
    bool show_version = false;
    app.add_option("--env", env_file, "configuration file in dotenv syntax (real environment variables win)");
    app.add_option("--ready-file", ready_file, "write {\"port\":N} here once listening");
    app.add_flag("--version", show_version, "print the version and exit");
    CLI11_PARSE(app, argc, argv);
    if (show_version) {
        std::cout << "nebula-gateway " << NEBULA_VERSION << "\n";
        return 0;
    }

    auto env = common::Environment::load(env_file);
    if (!env) {
        std::cerr << "nebula-gateway: " << env.error() << "\n";
        return 2;
    }
    auto config = gateway::load_gateway_config(*env);
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

    auto panel_url = http::Url::parse(cfg.panel_url);
    gateway::xui::PanelOptions panel_options;
    panel_options.url = *panel_url;
    panel_options.base_path = cfg.panel_base_path;
    panel_options.username = cfg.panel_username;
    panel_options.password = cfg.panel_password;
    panel_options.api_token = cfg.panel_api_token;
    panel_options.ca_file = cfg.panel_ca_file;
    panel_options.timeout = cfg.panel_timeout;
    auto panel = gateway::xui::PanelClient::create(io.get_executor(), panel_options, clock);
    if (!panel) {
        spdlog::critical("cannot set up the panel client: {}", panel.error());
        return 2;
    }

    gateway::GatewayService service(cfg, **panel, clock);
    http::ServerOptions server_options;
    server_options.address = cfg.bind_address;
    server_options.port = cfg.port;
    server_options.max_connections = cfg.max_connections;
    if (!cfg.plain_http) server_options.tls = http::TlsFiles{cfg.cert_path, cfg.key_path};
    auto server = http::Server::create(io.get_executor(), server_options, service);
    if (!server) {
        spdlog::critical("cannot start: {}", server.error());
        return 1;
    }
    (*server)->start();
    const auto port = (*server)->port();
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

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        spdlog::info("signal {} received: finishing in-flight requests (up to {} s)", signal,
                     cfg.shutdown_grace.count());
        (*server)->shutdown(cfg.shutdown_grace, [&] {
            spdlog::info("stopped");
            io.stop();
        });
    });
    io.run();
    spdlog::default_logger()->flush();
    return 0;
}
