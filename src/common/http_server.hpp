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

  private:
    struct Impl;
    explicit Server(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

}  // namespace nebula::common::http
