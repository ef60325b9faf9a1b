#pragma once

#include <memory>
#include <string>

#include "common/clock.hpp"
#include "common/http_client.hpp"
#include "common/http_server.hpp"
#include "common/signing.hpp"
#include "fakes/xui/fake_panel.hpp"
#include "gateway/config.hpp"
#include "gateway/service.hpp"
#include "support/io_thread.hpp"
#include "support/tls_cert.hpp"

namespace nebula::testing {

inline const std::string kGatewayKey = "gateway-test-key-0123456789abcdef0123456789";
inline const std::string kPreviousKey = "previous-key-0123456789abcdef01234567890";

/// A manual clock whose wall time can also be stepped on its own (an administrator or NTP
/// setting the time) while the steady clock stays put.
class SteppableClock final : public common::Clock {
  public:
    explicit SteppableClock(const common::ManualClock& base) : base_(base) {}
    std::chrono::system_clock::time_point now() const override { return base_.now() + step_; }
    std::chrono::steady_clock::time_point steady_now() const override { return base_.steady_now(); }
    void step_wall(std::chrono::seconds by) { step_ += by; }

  private:
    const common::ManualClock& base_;
    std::chrono::system_clock::duration step_{0};
};

/// A real nebula-gateway (service + HTTPS server) on 127.0.0.1 in front of a fake 3x-ui panel,
/// with a signing client. Everything runs on real sockets with a throw-away certificate.
class GatewayHarness {
  public:
    /// With `manual_clock` the gateway and the signer share a clock that only moves when the test
    /// says so (the rate limiter's refill, for instance); otherwise real time.
    explicit GatewayHarness(
        fakes::FakePanelOptions panel_options,
        std::function<void(gateway::GatewayConfig&, common::http::ServerOptions&)> tweak = {},
        bool manual_clock = false)
        : clock(manual_clock ? static_cast<common::Clock&>(stepped) : static_cast<common::Clock&>(system)) {
        panel = fakes::FakePanel::start(panel_options);
        config.bind_address = "127.0.0.1";
        config.port = 0;
        config.cert_path = cert.cert_path;
        config.key_path = cert.key_path;
        config.secret_key = kGatewayKey;
        config.previous_secret_key = kPreviousKey;
        config.panel_url = panel->url();
        config.panel_base_path = panel_options.base_path;
        config.panel_username = panel_options.username;
        config.panel_password = panel_options.password;
        config.panel_api_token = panel_options.api_token;
        config.panel_timeout = std::chrono::milliseconds(10'000);  // the default: a loaded machine is slow
        config.public_host = "vpn.example.com";
        config.sub_url_base = "https://vpn.example.com:2096/sub/";
        config.allowed_ips = *gateway::IpAllowlist::parse({"127.0.0.1"});
        config.health_cache = std::chrono::seconds(0);
        // The tweak shapes the configuration, then the server options derived from it.
        common::http::ServerOptions server_options;
        if (tweak) tweak(config, server_options);
        server_options = gateway::server_options(config);
        if (tweak) tweak(config, server_options);

        io.call([&] {
            gateway::xui::PanelOptions po;
            po.url = *common::http::Url::parse(config.panel_url);
            po.base_path = config.panel_base_path;
            po.username = config.panel_username;
            po.password = config.panel_password;
            po.api_token = config.panel_api_token;
            po.timeout = config.panel_timeout;
            panel_client = std::move(*gateway::xui::PanelClient::create(io.executor(), po, clock));
            service = std::make_unique<gateway::GatewayService>(config, *panel_client, clock);
            auto s = common::http::Server::create(io.executor(), server_options, *service);
            if (!s) throw std::runtime_error(s.error());
            server = std::move(s.value());
            server->start();
        });
        port = server->port();
    }

    ~GatewayHarness() {
        io.call([&] {
            clients.clear();
            server.reset();
        });
        // A second turn lets the cancelled connections unwind before what they refer to goes.
        io.call([&] {
            service.reset();
            panel_client.reset();
        });
    }

    /// A fresh HTTPS client that trusts the test certificate (by pin), optionally bound to `local`.
    common::http::Client& client(const std::string& local = "") {
        common::http::ClientOptions o;
        o.base = *common::http::Url::parse("https://127.0.0.1:" + std::to_string(port));
        o.pinned_sha256 = cert.sha256;
        o.local_address = local;
        o.request_timeout = std::chrono::seconds(10);
        auto c = common::http::Client::create(io.executor(), o);
        clients.push_back(std::move(c.value()));
        return *clients.back();
    }

    struct Call {
        std::string method = "GET";
        std::string target;
        std::string body;
        std::string key = kGatewayKey;
        std::int64_t skew = 0;  ///< added to the signing time
        std::string nonce;      ///< fixed nonce (for replays); random when empty
        bool sign = true;
        std::string signed_target;  ///< sign this path instead of `target` (tampering)
        std::string signed_body;    ///< sign this body instead of `body` (tampering)
        std::string local_address;
        std::vector<std::pair<std::string, std::string>> headers;
        common::http::Client* via =
            nullptr;  ///< send on this client (its kept-alive connection); a fresh one when null
    };

    common::http::Response send(const Call& call) {
        auto result = try_send(call);
        if (!result) throw std::runtime_error("request failed: " + result.error().message);
        return std::move(result.value());
    }

    /// As send(), but a connection or TLS failure is returned.
    common::Result<common::http::Response, common::http::ClientError> try_send(const Call& call) {
        common::http::Request r;
        r.method = call.method;
        r.target = call.target;
        r.body = call.body;
        if (!call.body.empty()) r.headers.set("Content-Type", "application/json");
        if (call.sign) {
            const auto now = clock.unix_seconds() + call.skew;
            const auto& t = call.signed_target.empty() ? call.target : call.signed_target;
            const auto& b = call.signed_body.empty() ? call.body : call.signed_body;
            auto h = call.nonce.empty()
                         ? common::signing::sign(call.key, call.method, t, now, b)
                         : common::signing::sign_with_nonce(call.key, call.method, t, now, call.nonce, b);
            r.headers.set(std::string(common::signing::kTimestampHeader), h.timestamp);
            r.headers.set(std::string(common::signing::kNonceHeader), h.nonce);
            r.headers.set(std::string(common::signing::kSignatureHeader), h.signature);
        }
        for (const auto& [k, v] : call.headers) r.headers.add(k, v);  // repeated names: several lines
        auto& c = call.via != nullptr ? *call.via : client(call.local_address);
        return io.run(c.send(std::move(r)));
    }

    common::http::Response get(const std::string& target) {
        return send({.method = "GET", .target = target});
    }
    common::http::Response post(const std::string& target, const std::string& body) {
        return send({.method = "POST", .target = target, .body = body});
    }

    common::SystemClock system;
    common::ManualClock manual{std::chrono::system_clock::now()};
    SteppableClock stepped{manual};
    common::Clock& clock;
    TlsCert cert;
    std::unique_ptr<fakes::FakePanel> panel;
    gateway::GatewayConfig config;
    IoThread io;
    std::unique_ptr<gateway::xui::PanelClient> panel_client;
    std::unique_ptr<gateway::GatewayService> service;
    std::unique_ptr<common::http::Server> server;
    std::vector<std::unique_ptr<common::http::Client>> clients;
    std::uint16_t port = 0;
};

}  // namespace nebula::testing
