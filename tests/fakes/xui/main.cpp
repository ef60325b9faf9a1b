// nebula-fake-xui: the fake 3x-ui panel as a process, for the local demo.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "fakes/xui/fake_panel.hpp"

int main(int argc, char** argv) {
    CLI::App app{"A fake 3x-ui panel (HTTP API, cookie session, subscription server) on loopback"};
    nebula::fakes::FakePanelOptions options;
    std::string mode = "v3";
    std::string ready_file;
    app.add_option("--mode", mode, "v2 (panel 2.9.x, legacy client routes) or v3 (panel 3.6.x, clients API)")
        ->check(CLI::IsMember({"v2", "v3"}));
    app.add_option("--address", options.address, "address to listen on");
    app.add_option("--port", options.port, "panel port (0 = any free port)");
    app.add_option("--sub-port", options.sub_port, "subscription server port (0 = any free port)");
    app.add_option("--base-path", options.base_path, "webBasePath, e.g. /AbC12xyz/");
    app.add_option("--username", options.username, "admin user name");
    app.add_option("--password", options.password, "admin password");
    app.add_option("--api-token", options.api_token, "v3 only: accept this Bearer token");
    app.add_option("--sub-domain", options.sub_domain, "host written into share links");
    app.add_option("--ready-file", ready_file, "write the bound ports here as JSON once listening");
    CLI11_PARSE(app, argc, argv);
    options.mode = mode == "v2" ? nebula::fakes::PanelMode::v2 : nebula::fakes::PanelMode::v3;

    // Block the stop signals in every thread so that sigwait below receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    std::unique_ptr<nebula::fakes::FakePanel> panel;
    try {
        panel = nebula::fakes::FakePanel::start(options);
    } catch (const std::exception& e) {
        std::cerr << "nebula-fake-xui: " << e.what() << "\n";
        return 1;
    }
    nlohmann::json ready = {{"mode", mode},
                            {"port", panel->port()},
                            {"sub_port", panel->sub_port()},
                            {"url", panel->url()},
                            {"base_path", panel->options().base_path}};
    if (!ready_file.empty()) {
        const std::string tmp = ready_file + ".tmp";
        std::ofstream(tmp) << ready.dump() << "\n";
        if (std::rename(tmp.c_str(), ready_file.c_str()) != 0) {
            std::cerr << "nebula-fake-xui: cannot write " << ready_file << "\n";
            return 1;
        }
    }
    std::cout << ready.dump() << std::endl;

    int signal = 0;
    sigwait(&stop_signals, &signal);
    panel.reset();
    return 0;
}
