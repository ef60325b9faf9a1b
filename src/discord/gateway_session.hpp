#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json_fwd.hpp>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "discord/events.hpp"

namespace nebula::discord {

class RestClient;

/// Gateway intents (bit flags for Identify).
namespace intents {
inline constexpr std::uint32_t kGuilds = 1u << 0;
inline constexpr std::uint32_t kGuildMembers = 1u << 1;    ///< privileged
inline constexpr std::uint32_t kGuildPresences = 1u << 8;  ///< privileged
inline constexpr std::uint32_t kGuildMessages = 1u << 9;
inline constexpr std::uint32_t kDirectMessages = 1u << 12;
inline constexpr std::uint32_t kMessageContent = 1u << 15;  ///< privileged
inline constexpr std::uint32_t kProduct = kGuilds | kGuildMembers | kGuildMessages | kMessageContent;
}  // namespace intents

struct GatewaySessionOptions {
    std::string token;
    std::uint32_t intents = intents::kProduct;
    /// Use this URL (ws:// or wss://) instead of the one from GET /gateway/bot. The session
    /// start limit is still read from /gateway/bot.
    std::string url_override;
    std::string ca_file;                                ///< replaces the system CA store for wss://
    std::chrono::milliseconds connect_timeout{10'000};  ///< TCP + TLS + websocket upgrade
    std::chrono::milliseconds hello_timeout{20'000};    ///< Hello after the upgrade
    std::chrono::milliseconds close_timeout{2'000};     ///< our close handshake
    /// Minimum spacing between identifies, process-wide (max_concurrency 1 means 5 s).
    std::chrono::milliseconds identify_spacing{5'000};
    /// op 9 with d:false: wait a random time in this range before identifying again.
    std::chrono::milliseconds invalid_session_min{1'000};
    std::chrono::milliseconds invalid_session_max{5'000};
    /// Reconnect backoff: exponential with full jitter, reset after READY/RESUMED.
    std::chrono::milliseconds backoff_base{1'000};
    std::chrono::milliseconds backoff_cap{60'000};
    /// Outbound limit per connection; `heartbeat_reserve` of them are kept for heartbeats.
    int send_limit = 120;
    std::chrono::milliseconds send_window{60'000};
    int heartbeat_reserve = 5;
    std::size_t max_payload_bytes = 4096;              ///< outbound, Discord's limit
    std::size_t max_message_bytes = 64 * 1024 * 1024;  ///< inbound (READY can be large)
    /// Reconnects allowed after closes that mean our bug (4001, 4002, 4005) before giving up.
    int max_protocol_error_reconnects = 3;
};

enum class GatewaySessionState {
    idle,
    connecting,
    identifying,
    resuming,
    connected,
    waiting,
    stopped,
    fatal
};
std::string_view to_string(GatewaySessionState state);

/// Why run() ended.
struct GatewaySessionError {
    int close_code = 0;   ///< 4004, 4010-4014, or 0 for other reasons
    std::string message;  ///< actionable, e.g. "enable the privileged intents in the Developer Portal"
};

/// Counters and state for tests and metrics.
struct GatewaySessionStats {
    GatewaySessionState state = GatewaySessionState::idle;
    std::size_t connections = 0;
    std::size_t identifies = 0;
    std::size_t resumes = 0;
    std::size_t heartbeats = 0;
    std::size_t heartbeat_acks = 0;
    std::size_t zombies = 0;
    std::size_t dispatches = 0;
    std::size_t frames_sent = 0;
    std::optional<std::int64_t> seq;
    std::string session_id;
    int last_close_code = 0;
};

/// The v10 gateway over a websocket (wss://, or ws:// for a local fake): Hello, jittered
/// heartbeats with ACK-based zombie detection, Identify/Resume, the reconnect policy by close
/// code and opcode, the identify budget and spacing, and the outbound rate limit. Dispatches
/// are posted to `handler_executor` as typed Events, so a slow handler never delays the socket.
///
/// Thread safety: all members run on the client's own strand; call stop() and send() from any
/// coroutine on the executor passed to create().
class GatewaySession {
  public:
    using Handler = std::function<void(const Event&)>;

    /// `rest` supplies GET /gateway/bot and must outlive the client.
    static common::Result<std::unique_ptr<GatewaySession>, std::string> create(
        boost::asio::any_io_executor executor, GatewaySessionOptions options, RestClient& rest,
        const common::Clock& clock, Handler handler, boost::asio::any_io_executor handler_executor);
    ~GatewaySession();
    GatewaySession(const GatewaySession&) = delete;
    GatewaySession& operator=(const GatewaySession&) = delete;

    /// Connects and stays connected until stop() (returns success) or a fatal close code or an
    /// unusable token (returns the reason; do not restart automatically).
    boost::asio::awaitable<common::Status<GatewaySessionError>> run();

    /// Ends the session: closes with 1000 (the session is gone) or, with `keep_session`, with a
    /// 4xxx code so a new process may resume it.
    void stop(bool keep_session = false);

    /// Queues a gateway payload ({op, d}) under the outbound limit. Fails when it is larger
    /// than 4096 bytes or no connection is open.
    common::Status<std::string> send(const nlohmann::json& payload);

    GatewaySessionStats stats() const;

  private:
    struct Impl;
    explicit GatewaySession(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

}  // namespace nebula::discord
