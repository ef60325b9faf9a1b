#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/http.hpp"
#include "common/result.hpp"

namespace nebula::common::http {

struct ClientOptions {
    Url base;  ///< scheme, host and port to talk to (its path is not used)
    std::chrono::milliseconds connect_timeout{5'000};
    std::chrono::milliseconds request_timeout{15'000};  ///< whole exchange, connect included
    /// Connections open at once (busy and idle); a request that finds all of them busy waits, in
    /// arrival order, for one to come free (within its own deadline).
    std::size_t max_connections = 16;
    std::size_t max_idle_connections = 16;           ///< kept-alive connections reused by later requests
    std::chrono::milliseconds idle_timeout{55'000};  ///< an idle connection older than this is closed
    std::size_t max_response_bytes = 16 * 1024 * 1024;
    /// HTTPS trust: by default the system CA store and host name check. `ca_file` replaces the
    /// store; `pinned_sha256` (hex SHA-256 of the leaf certificate's DER) accepts exactly that
    /// certificate instead of any CA check. Never "accept anything".
    /// `pinned_sha256` is read with common::normalize_sha256_pin (any pasted form works).
    std::string ca_file;
    std::string pinned_sha256;
    std::string local_address;  ///< bind the client socket (tests use 127.0.0.x)
    /// Resend a fully written idempotent request after a reused connection failed. Off for callers
    /// whose requests carry one-time values (signed nonces): they retry with fresh ones themselves.
    bool resend_idempotent = true;
    std::string user_agent = "NebulaLinks/" NEBULA_VERSION;
    /// HTTPS only: offer HTTP/2 through ALPN ("h2", then "http/1.1"). When the server picks h2,
    /// requests go as concurrent streams over one connection (a further one, up to
    /// `max_connections`, only while every open one is at the server's stream limit); when it
    /// picks HTTP/1.1 the pool above is used exactly as without this option.
    bool http2 = false;
};

/// pin_mismatch: the server's certificate is not the pinned one; the message is "certificate does
/// not match the pin (expected …, got …)".
enum class ClientErrorCode { resolve, connect, tls, timeout, io, protocol, too_large, pin_mismatch };

struct ClientError {
    ClientErrorCode code;
    std::string message;
    /// The whole request reached the peer before the failure: it may have acted on it.
    bool request_written = false;
};

std::string_view to_string(ClientErrorCode code);

/// What a client has done so far (for metrics and benchmarks).
struct ClientStats {
    std::uint64_t connections_opened = 0;  ///< TCP connections made
    std::uint64_t tls_full_handshakes = 0;
    std::uint64_t tls_resumed = 0;     ///< handshakes that resumed an earlier TLS session
    std::uint64_t queued = 0;          ///< requests that waited for a free connection
    std::size_t open = 0;              ///< connections open now (busy and idle)
    std::uint64_t h2_connections = 0;  ///< connections on which the server chose HTTP/2
    std::uint64_t h2_streams = 0;      ///< requests sent as HTTP/2 streams (retries included)
    std::uint64_t h2_retries = 0;      ///< streams sent again because the server never processed them
};

/// An HTTP/1.1 (and, with `http2`, HTTP/2) client for one origin with a bounded keep-alive pool: at most
/// `max_connections` open, idle ones reused newest first and closed after `idle_timeout`, TLS sessions
/// resumed. Each call has a deadline, which also bounds its wait for a free connection. A request that fails
/// on a reused idle connection before any response byte is sent again once on a fresh connection (the peer
/// had closed it) only when that is safe: the request was not fully written, or its method is idempotent
/// (GET, HEAD, PUT, DELETE, OPTIONS) and `resend_idempotent` is on. A POST or PATCH that was fully written is
/// never sent twice: the caller gets the error with `request_written` set. Over HTTP/2 the same promise
/// holds: a stream the server refused (RST_STREAM REFUSED_STREAM), or one above the last stream id of its
/// GOAWAY, was never processed and is sent again (on another connection when this one is closing); a stream
/// lost with its connection after the request went out is returned with `request_written` set. A stream past
/// its deadline is cancelled (RST_STREAM CANCEL) while the others on the connection go on. Use from one
/// executor; not thread-safe.
class Client {
  public:
    static common::Result<std::unique_ptr<Client>, std::string> create(boost::asio::any_io_executor executor,
                                                                       ClientOptions options);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// Sends `request` (Host, User-Agent and Content-Length are filled in). `timeout` overrides
    /// the default request timeout.
    boost::asio::awaitable<common::Result<Response, ClientError>> send(
        Request request, std::optional<std::chrono::milliseconds> timeout = std::nullopt);

    const ClientOptions& options() const;
    ClientStats stats() const;

  private:
    struct Impl;
    explicit Client(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

}  // namespace nebula::common::http
