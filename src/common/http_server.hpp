#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include "common/http.hpp"
#include "common/result.hpp"

namespace nebula::common::http {

struct TlsFiles {
    std::string cert_path;
    std::string key_path;
};

struct ServerOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;                    ///< 0 picks a free port (see Server::port)
    std::optional<TlsFiles> tls;               ///< HTTPS (TLS 1.2+) when set
    std::size_t max_body_bytes = 64 * 1024;    ///< larger bodies get 413 before they are read
    std::size_t max_header_bytes = 16 * 1024;  ///< larger heads get 431
    /// The whole head must arrive in this time; a new connection's first head (TLS handshake
    /// included) within this time of the accept.
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{10'000};
    std::chrono::milliseconds write_timeout{10'000};
    std::chrono::milliseconds idle_timeout{60'000};  ///< keep-alive wait for the next request
    std::size_t max_connections = 1024;              ///< further connections are closed at once
    std::size_t max_connections_per_ip = 0;          ///< per source address; 0: no per-address cap
    /// Slots out of `max_connections` that only peers admitted as `Admission::reserved` may take.
    std::size_t reserved_connections = 0;
    /// With `tls`, what the server picks when a client offers protocols through ALPN: nothing
    /// (HTTP/1.1 without ALPN), "http/1.1" only, or "h2" when offered (HTTP/2, many requests at
    /// once on one connection, each answered as soon as its handler returns).
    enum class Alpn { none, http1, h2 };
    Alpn alpn = Alpn::none;
    std::uint32_t http2_max_streams = 256;  ///< SETTINGS_MAX_CONCURRENT_STREAMS of an HTTP/2 connection
};

/// Faults HTTP/2 connections show on purpose (tests of clients); no effect on HTTP/1.1.
struct Http2Faults {
    /// The next this many requests are reset with REFUSED_STREAM before they reach the handler.
    int refuse_streams = 0;
    /// After this many more requests reach the handler, the connection of the last one sends
    /// GOAWAY naming it as the last stream processed: the requests after it on that connection
    /// never reach the handler, and the connection closes once the rest are answered. 0: never.
    std::size_t goaway_after = 0;
};

/// What the server's HTTP/2 connections have done.
struct Http2Stats {
    std::uint64_t connections = 0;      ///< connections on which the client and server chose h2
    std::uint64_t streams = 0;          ///< requests that reached the handler
    std::uint64_t resets_received = 0;  ///< streams the client cancelled (RST_STREAM)
};

struct Peer {
    boost::asio::ip::address address;
    std::uint16_t port = 0;
};

/// What Handler::admit decides for a new connection.
enum class Admission {
    refuse,    ///< closed at once, before any byte is read (and before the TLS handshake)
    admit,     ///< served, within `max_connections - reserved_connections`
    reserved,  ///< served, and may also take the reserved slots
};

/// What the server calls for each connection and request. Every function runs on the server's executor.
class Handler {
  public:
    virtual ~Handler() = default;
    /// Called right after accept, before the per-address and total connection caps are applied.
    virtual Admission admit(const Peer& /*peer*/) { return Admission::admit; }
    /// Called once the head is read, before any of the body: a response returned here is sent
    /// without reading the body, and the connection is closed afterwards. `head.body` is empty.
    virtual std::optional<Response> screen(const Request& head, const Peer& peer) = 0;
    /// Produces the response to a complete request. Exceptions are logged and answered 500.
    virtual boost::asio::awaitable<Response> handle(Request request, Peer peer) = 0;
};

/// An HTTP/1.1 server (optionally TLS) with keep-alive, deadlines on every read and write, a
/// body limit, a connection cap and graceful shutdown. Runs on one executor; not thread-safe:
/// call its functions from that executor (or before it runs).
class Server {
  public:
    /// Binds and listens. Errors (bad address, port in use, unreadable certificate) are returned.
    static common::Result<std::unique_ptr<Server>, std::string> create(boost::asio::any_io_executor executor,
                                                                       ServerOptions options,
                                                                       Handler& handler);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// The bound port (useful with port 0).
    std::uint16_t port() const;
    /// Starts accepting.
    void start();
    /// Stops accepting, closes idle keep-alive connections, lets in-flight requests finish and
    /// force-closes whatever is left after `grace`. `done` is called when no connection remains.
    void shutdown(std::chrono::milliseconds grace, std::function<void()> done = {});
    std::size_t connection_count() const;
    void set_http2_faults(Http2Faults faults);
    Http2Stats http2_stats() const;
    /// Closes every open connection at once (answers still due are lost): a network failure.
    void drop_connections();

  private:
    struct Impl;
    explicit Server(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

}  // namespace nebula::common::http
