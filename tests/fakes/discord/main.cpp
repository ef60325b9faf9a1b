// nebula-fake-discord: the fake Discord as a process, for the local demo and manual testing.
// Prints one JSON line with its URLs, then serves until SIGINT/SIGTERM. Scripting over HTTP:
//   POST /_fake/interaction {"type":2,"user":"<id>","roles":["<id>"],"data":{...}[,"locale","channel"]}
//   POST /_fake/dispatch    {"t":"MESSAGE_CREATE","d":{...}}
//   POST /_fake/member      {"user":"<id>","roles":["<id>"]}  a guild member (role grants need one)
//   POST /_fake/join        {"guild":"<id>","name":"…","owner":"<id>","permissions":"<n>"}  the invite
//                           link opened: the bot joins a new server (GUILD_CREATE); {"bot_role":"<id>"}
//   PUT  /_fake/cdn/<path>  the body becomes a file served at /cdn/<path> with its Content-Type
//   GET  /_fake/requests[?since=N&wait_ms=M]  REST requests from index N (waits for a new answered one)
//   GET  /_fake/gateway[?wait_ms=M]           the gateway session (waits until a client identified)
// Files the client uploads are served by the CDN at the "url" each request's files list shows.
#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <nlohmann/json.hpp>

#include "fakes/discord/fake_discord.hpp"

int main(int argc, char** argv) {
    nebula::fakes::discord::FakeDiscordOptions options;
    int heartbeat_ms = 41'250;
    CLI::App app{"Fake Discord (REST, CDN and v10 gateway) on 127.0.0.1"};
    app.add_option("--http-port", options.http_port, "REST/CDN/control port (0: any free port)");
    app.add_option("--gateway-port", options.gateway_port, "websocket gateway port (0: any free port)");
    app.add_option("--token", options.token, "the bot token the fake accepts");
    app.add_option("--application-id", options.application_id, "the application id");
    app.add_option("--heartbeat-ms", heartbeat_ms, "heartbeat interval sent in Hello");
    app.add_option("--record-dir", options.record_dir, "append every JSON request body here (JSON lines)");
    CLI11_PARSE(app, argc, argv);
    options.heartbeat_interval = std::chrono::milliseconds(heartbeat_ms);

    boost::asio::io_context io;
    auto fake = nebula::fakes::discord::FakeDiscord::create(io.get_executor(), options);
    if (!fake) {
        std::cerr << "nebula-fake-discord: " << fake.error() << "\n";
        return 1;
    }
    std::cout << nlohmann::json{{"api_base", (*fake)->api_base()},
                                {"gateway_url", (*fake)->gateway().url()},
                                {"cdn_base", (*fake)->cdn_base()},
                                {"token", options.token},
                                {"application_id", std::to_string(options.application_id)},
                                {"bot_user_id", std::to_string(options.bot_user_id)}}
                     .dump()
              << std::endl;
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { (*fake)->stop([&] { io.stop(); }); });
    io.run();
    return 0;
}
