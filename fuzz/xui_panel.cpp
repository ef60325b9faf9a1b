// The 3x-ui client JSON readers (inbounds, clients, traffic, server status, online list), fed
// through the real PanelClient over a loopback HTTP panel. Input: first line the panel version
// the panel reports when the gateway detects its API generation ("" for a legacy panel, "3.1.0"
// for the clients API); the rest is the body of every later answer. Each input runs list_inbounds,
// get_inbound, server_status, find_client, list_clients, online_emails, update_client and
// delete_client. Properties: no crash, no sanitizer report, no hang; each call ends with a value
// or a PanelError with a message.
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "common/clock.hpp"
#include "common/http_server.hpp"
#include "fuzz_util.hpp"
#include "gateway/xui/panel_client.hpp"

using namespace nebula;
namespace asio = boost::asio;
namespace xui = gateway::xui;

namespace {

class FakePanel final : public common::http::Handler {
  public:
    std::string version;
    std::string body;
    bool detected = false;

    std::optional<common::http::Response> screen(const common::http::Request&,
                                                 const common::http::Peer&) override {
        return std::nullopt;
    }
    asio::awaitable<common::http::Response> handle(common::http::Request request,
                                                   common::http::Peer) override {
        common::http::Response r;
        r.headers.set("Content-Type", "application/json");
        if (!detected && request.target.ends_with("server/status")) {
            detected = true;
            r.body =
                nlohmann::json{{"success", true}, {"msg", ""}, {"obj", {{"panelVersion", version}}}}.dump(
                    -1, ' ', false, nlohmann::json::error_handler_t::replace);
        } else {
            r.body = body;
        }
        co_return r;
    }
};

struct World {
    asio::io_context io;
    common::ManualClock clock;
    FakePanel panel;
    std::unique_ptr<common::http::Server> server;
    xui::PanelOptions options;

    World() {
        spdlog::set_level(spdlog::level::off);
        common::http::ServerOptions o;
        o.address = "127.0.0.1";
        o.max_body_bytes = 1 << 20;
        server = common::http::Server::create(io.get_executor(), o, panel).value();
        server->start();
        options.url = common::http::Url::parse("http://127.0.0.1:" + std::to_string(server->port())).value();
        options.api_token = "fuzz-token";
    }
};

template <typename T>
void expect(const common::Result<T, xui::PanelError>& result) {
    if (!result) fuzz::check(!result.error().message.empty(), "a panel error has a message");
}

asio::awaitable<void> calls(xui::PanelClient& client, bool& done) {
    expect(co_await client.list_inbounds());
    expect(co_await client.get_inbound(1));
    expect(co_await client.server_status());
    expect(co_await client.find_client("user@example.com"));
    expect(co_await client.list_clients());
    expect(co_await client.online_emails());
    expect(
        co_await client.update_client("user@example.com", xui::ClientPatch{.expiry_ms = 1, .enable = false}));
    auto deleted = co_await client.delete_client("user@example.com");
    if (!deleted) fuzz::check(!deleted.error().message.empty(), "a panel error has a message");
    done = true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World world;
    std::string_view rest = fuzz::as_text(data, size);
    world.panel.version = std::string(fuzz::take_line(rest));
    world.panel.body = std::string(rest);
    world.panel.detected = false;
    bool done = false;
    {
        auto client = xui::PanelClient::create(world.io.get_executor(), world.options, world.clock).value();
        asio::co_spawn(world.io, calls(*client, done), asio::detached);
        while (!done) world.io.run_one();
    }
    while (world.server->connection_count() > 0) world.io.run_one();
    return 0;
}
