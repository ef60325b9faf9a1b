#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/clock.hpp"
#include "common/http_server.hpp"
#include "common/metrics.hpp"
#include "common/signing.hpp"
#include "gateway/auth/rate_limiter.hpp"
#include "gateway/auth/refusal_log.hpp"
#include "gateway/auth/replay_cache.hpp"
#include "gateway/config.hpp"
#include "gateway/xui/panel_client.hpp"

namespace nebula::gateway {

/// The gateway's Prometheus metrics, registered in `registry`: requests by route, method and
/// status; requests refused before routing (allowlist, rate limit, signature, replay) by code;
/// the latency of each panel call by operation. Thread-safe (the registry's metrics are).
struct GatewayMetrics {
    explicit GatewayMetrics(common::metrics::Registry& registry);
    common::metrics::Family<common::metrics::Counter>& requests;
    common::metrics::Family<common::metrics::Counter>& auth_failures;
    common::metrics::Family<common::metrics::Histogram>& panel_latency;
};

/// The nebula-gateway HTTP API (docs/api.md): IP allowlist and rate limit on the request head,
/// then the v1 signature and replay check, then the /api routes over the 3x-ui panel.
/// Runs on the HTTP server's executor; not thread-safe.
class GatewayService final : public common::http::Handler {
  public:
    /// `metrics`, when given, must outlive the service.
    GatewayService(const GatewayConfig& config, xui::PanelClient& panel, const common::Clock& clock,
                   GatewayMetrics* metrics = nullptr);

    /// Peers that are not trusted proxies are judged on their own address at once: an address
    /// outside ALLOWED_IPS is closed before the TLS handshake; allowlisted ones may use the
    /// reserved connection slots.
    common::http::Admission admit(const common::http::Peer& peer) override;
    std::optional<common::http::Response> screen(const common::http::Request& head,
                                                 const common::http::Peer& peer) override;
    boost::asio::awaitable<common::http::Response> handle(common::http::Request request,
                                                          common::http::Peer peer) override;

  private:
    struct Health {
        bool panel_up = false;
        std::string panel_version;
        std::chrono::steady_clock::time_point checked{};
        bool valid = false;
    };

    /// The client's address: the peer, or, when the peer is a trusted proxy, the right-most
    /// X-Forwarded-For address (all lines joined in order) that is not a trusted proxy. None when
    /// a trusted proxy's header is missing, malformed or names only trusted proxies.
    std::optional<boost::asio::ip::address> client_address(const common::http::Request& head,
                                                           const common::http::Peer& peer) const;
    /// handle() before the request is counted.
    boost::asio::awaitable<common::http::Response> respond(const common::http::Request& request,
                                                           const common::http::Peer& peer);
    boost::asio::awaitable<common::http::Response> route(const common::http::Request& request);
    boost::asio::awaitable<common::http::Response> health();
    boost::asio::awaitable<common::http::Response> inbounds();
    boost::asio::awaitable<common::http::Response> server_status();
    boost::asio::awaitable<common::http::Response> create_client(const std::string& body);
    boost::asio::awaitable<common::http::Response> get_client(const std::string& email);
    boost::asio::awaitable<common::http::Response> patch_client(const std::string& email,
                                                                const std::string& body);
    boost::asio::awaitable<common::http::Response> delete_client(const std::string& email);
    boost::asio::awaitable<common::http::Response> reset_traffic(const std::string& email);
    boost::asio::awaitable<common::http::Response> traffic();
    boost::asio::awaitable<common::http::Response> disable_clients(const std::string& body);
    boost::asio::awaitable<common::http::Response> online();
    /// Awaits one panel call and records its latency.
    template <typename T>
    boost::asio::awaitable<T> timed(const char* operation, boost::asio::awaitable<T> call);
    void count(const common::http::Request& request, int status);
    void refused(std::string_view code);
    common::http::Response rate_limited(const std::string& source, const std::string& what,
                                        std::chrono::seconds wait);
    /// Allowed by ALLOWED_IPS (loopback only when it is empty).
    bool allowed(const boost::asio::ip::address& address) const;
    std::optional<common::http::Response> screen_request(const common::http::Request& head,
                                                         const common::http::Peer& peer);
    /// {"client":…, "links":…} for a stored client.
    boost::asio::awaitable<common::http::Response> client_response(int status, const xui::Client& client);

    const GatewayConfig& config_;
    xui::PanelClient& panel_;
    const common::Clock& clock_;
    GatewayMetrics* metrics_;
    common::signing::Verifier verifier_;
    RateLimiter rate_limiter_;
    RefusalLog refusal_log_;
    ReplayCache replay_cache_;
    Health health_;
    bool health_refreshing_ = false;
    std::string health_body_;  ///< the last health answer, reused within the same second
    std::int64_t health_body_uptime_ = -1;
    bool health_body_up_ = false;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace nebula::gateway
