#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/http_server.hpp"
#include "common/result.hpp"

namespace nebula::fakes::discord {

/// A frame the fake received from the client.
struct GatewayFrame {
    int connection = 0;  ///< index into connections()
    int op = -1;
    nlohmann::json payload;
    std::chrono::steady_clock::time_point at;
};

struct GatewayConnectionInfo {
    std::string target;  ///< request target, e.g. "/resume?v=10&encoding=json"
    std::chrono::steady_clock::time_point opened;
    bool open = true;
    int client_close_code = 0;  ///< the code of a close frame from the client, 0 if none
};

/// What the fake does with the next Identify.
enum class IdentifyReply { ready, close, nothing };

struct FakeGatewayOptions {
    std::string token = "fake-bot-token";
    std::uint64_t application_id = 900000000000000001ULL;
    std::uint64_t bot_user_id = 900000000000000002ULL;
    std::chrono::milliseconds heartbeat_interval{45'000};
    std::uint16_t port = 0;  ///< 0 picks a free port
    /// wss:// with this certificate (the client trusts it through its CA file, e.g.
    /// DISCORD_CA_FILE): the TLS handshake, then the HTTP/1.1 upgrade; plain ws:// when unset.
    std::optional<common::http::TlsFiles> tls;
};

/// Discord's v10 gateway websocket on 127.0.0.1 (ws://, or wss:// with FakeGatewayOptions::tls).
/// New sessions connect to url(); READY's resume_gateway_url points at url() + "/resume". It
/// tracks one session (id and sequence), keeps every dispatch for replay on Resume, answers
/// heartbeats (unless told not to), and records every frame received. Tests script it: dispatch
/// events, send op 7 / op 9 / op 1, close with any code, drop the TCP connection, withhold ACKs.
/// One executor; not thread-safe.
class FakeDiscordGateway {
  public:
    static common::Result<std::unique_ptr<FakeDiscordGateway>, std::string> create(
        boost::asio::any_io_executor executor, FakeGatewayOptions options = {});
    ~FakeDiscordGateway();

    std::string url() const;  ///< ws://127.0.0.1:port, or wss:// over TLS
    std::uint16_t port() const;

    // --- scripting ---
    /// Sends a dispatch on the live session (or keeps it for replay when the client is away).
    void dispatch(std::string name, nlohmann::json data);
    void send_reconnect();                      ///< op 7
    void send_invalid_session(bool resumable);  ///< op 9
    void request_heartbeat();                   ///< op 1
    void close(std::uint16_t code);             ///< close frame on the live connection
    void drop();                                ///< TCP reset of the live connection, no close frame
    void set_acks(bool enabled);                ///< withhold heartbeat ACKs when false
    void set_heartbeat_interval(std::chrono::milliseconds interval);
    /// The next `times` Identifies get `reply` (close with `close_code`, or no answer at all).
    void on_identify(IdentifyReply reply, std::uint16_t close_code = 0, int times = 1);
    /// Resumes fail with op 9 d:false from now on (the session expired).
    void expire_session();
    /// Refuses the next `times` websocket upgrades with HTTP 503.
    void refuse_connections(int times);

    // --- observation ---
    const std::vector<GatewayFrame>& frames() const;
    std::vector<GatewayFrame> frames_with_op(int op) const;
    const std::vector<GatewayConnectionInfo>& connections() const;
    std::string session_id() const;
    std::int64_t seq() const;
    /// TLS handshakes that failed (e.g. the client did not trust the certificate): no upgrade
    /// was read on those connections.
    std::size_t tls_failures() const;
    /// Waits until `predicate()` holds, re-checking after every received frame or connection
    /// change; false on timeout.
    boost::asio::awaitable<bool> wait_until(std::function<bool()> predicate,
                                            std::chrono::milliseconds timeout);

    void stop();

  private:
    struct Impl;
    explicit FakeDiscordGateway(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

}  // namespace nebula::fakes::discord
