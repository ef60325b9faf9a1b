#include "common/http_server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <openssl/ssl.h>
#include <algorithm>
#include <array>
#include <list>
#include <map>
#include <utility>

namespace nebula::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Response plain_error(int status, std::string_view code, std::string_view message) {
    Response r;
    r.status = status;
    r.close = true;
    r.headers.set("Content-Type", "application/json");
    r.body = std::string(R"({"error":{"code":")") + std::string(code) + R"(","message":")" +
             std::string(message) + "\"}}";
    return r;
}

bhttp::response<bhttp::string_body> to_beast(Response& r, unsigned version, bool keep_alive) {
    bhttp::response<bhttp::string_body> res;
    res.version(version);
    res.result(static_cast<unsigned>(r.status));
    for (auto& [name, value] : r.headers.fields()) res.insert(name, value);
    res.body() = std::move(r.body);
    res.keep_alive(keep_alive);
    if (r.status != 204 && !(r.status >= 100 && r.status < 200)) res.prepare_payload();
    return res;
}

/// A warning written at most once a second, with the number of occurrences it stands for.
struct ThrottledWarning {
    std::chrono::steady_clock::time_point last{};
    std::size_t pending = 0;

    /// Counts one occurrence; returns the count to report when a line is due.
    std::optional<std::size_t> due() {
        ++pending;
        const auto now = std::chrono::steady_clock::now();
        if (last != std::chrono::steady_clock::time_point{} && now - last < std::chrono::seconds(1)) {
            return std::nullopt;
        }
        last = now;
        return std::exchange(pending, 0);
    }
};

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Impl> {
    struct Connection {
        beast::tcp_stream* stream = nullptr;  ///< set once the connection's coroutine runs
        bool idle = true;
        asio::ip::address address;
    };

    Impl(asio::any_io_executor ex, ServerOptions opts, Handler& h)
        : executor(ex),
          options(std::move(opts)),
          handler(h),
          acceptor(ex),
          grace_timer(ex),
          backoff_timer(ex) {}

    asio::any_io_executor executor;
    ServerOptions options;
    Handler& handler;
    tcp::acceptor acceptor;
    std::optional<asio::ssl::context> tls;
    std::list<Connection> connections;
    std::map<asio::ip::address, std::size_t> per_address;
    bool stopping = false;
    asio::steady_timer grace_timer;
    asio::steady_timer backoff_timer;
    std::function<void()> on_drained;
    ThrottledWarning accept_warning;
    ThrottledWarning limit_warning;

    void cancel(Connection& c) {
        if (c.stream != nullptr) c.stream->cancel();
    }

    asio::awaitable<void> accept_loop() {
        auto self = shared_from_this();  // kept for the whole loop
        std::chrono::milliseconds backoff{0};
        while (!stopping) {
            auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
            if (ec) {
                if (stopping || ec == asio::error::operation_aborted) break;
                // Out of descriptors (EMFILE, ENFILE) or memory: accepting again at once would fail
                // the same way and spin the I/O thread, so wait, longer each time, up to a second.
                backoff =
                    std::clamp(backoff * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
                if (auto n = accept_warning.due()) {
                    spdlog::warn("http server: accept failed {} time(s): {}; retrying in {} ms", *n,
                                 ec.message(), backoff.count());
                }
                backoff_timer.expires_after(backoff);
                co_await backoff_timer.async_wait(kUseTuple);
                continue;
            }
            backoff = std::chrono::milliseconds(0);
            admit(std::move(socket));
        }
    }

    void admit(tcp::socket socket) {
        beast::error_code ec;
        const auto endpoint = socket.remote_endpoint(ec);
        if (ec) return;
        const Peer peer{endpoint.address(), endpoint.port()};
        const auto admission = handler.admit(peer);
        if (admission == Admission::refuse) {
            // An abortive close: nothing is owed to this peer, not even a TIME_WAIT slot.
            socket.set_option(asio::socket_base::linger(true, 0), ec);
            socket.close(ec);
            return;
        }
        const std::size_t reserved = std::min(options.reserved_connections, options.max_connections);
        const std::size_t limit =
            admission == Admission::reserved ? options.max_connections : options.max_connections - reserved;
        auto held = per_address.find(peer.address);
        const std::size_t from_peer = held == per_address.end() ? 0 : held->second;
        if (options.max_connections_per_ip != 0 && from_peer >= options.max_connections_per_ip) {
            if (auto n = limit_warning.due()) {
                spdlog::warn(
                    "http server: refused {} connection(s) over the per-address limit ({}), the last from {}",
                    *n, options.max_connections_per_ip, peer.address.to_string());
            }
            socket.close(ec);
            return;
        }
        if (connections.size() >= limit) {
            if (auto n = limit_warning.due()) {
                spdlog::warn(
                    "http server: refused {} connection(s) at the connection limit ({} for the last, from "
                    "{})",
                    *n, limit, peer.address.to_string());
            }
            socket.close(ec);
            return;
        }
        // Counted now rather than when the coroutine first runs, so a burst of accepts cannot
        // overshoot the caps.
        connections.push_back({nullptr, true, peer.address});
        ++per_address[peer.address];
        asio::co_spawn(executor, run_connection(std::move(socket), peer, std::prev(connections.end())),
                       asio::detached);
    }

    void unregister(std::list<Connection>::iterator it) {
        if (auto held = per_address.find(it->address); held != per_address.end() && --held->second == 0) {
            per_address.erase(held);
        }
        connections.erase(it);
        maybe_drained();
    }

    asio::awaitable<void> run_connection(tcp::socket socket, Peer peer, std::list<Connection>::iterator it) {
        auto self = shared_from_this();
        struct Unregister {
            Impl& impl;
            std::list<Connection>::iterator it;
            ~Unregister() { impl.unregister(it); }
        } unregister{*this, it};
        if (stopping) co_return;
        try {
            if (tls) {
                asio::ssl::stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
                co_await connection(stream, stream.next_layer(), peer, *it);
            } else {
                beast::tcp_stream stream(std::move(socket));
                co_await connection(stream, stream, peer, *it);
            }
        } catch (const std::exception& e) {
            spdlog::error("http server: connection from {} failed: {}", peer.address.to_string(), e.what());
        }
    }

    template <typename Stream>
    asio::awaitable<void> connection(Stream& stream, beast::tcp_stream& lowest, const Peer& peer,
                                     Connection& state) {
        state.stream = &lowest;
        struct Detach {
            Connection& state;
            ~Detach() { state.stream = nullptr; }
        } detach{state};

        // One deadline from the accept covers the TLS handshake and the whole first request head.
        lowest.expires_after(options.header_timeout);
        if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
            auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kUseTuple);
            if (hec) co_return;
        }
        co_await serve(stream, peer, state);
        if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
            if (!stopping) {
                lowest.expires_after(std::chrono::seconds(2));
                co_await stream.async_shutdown(kUseTuple);
            }
        }
        // Lingering close: stop sending, then discard what the peer still sends for a moment, so
        // an error response is not destroyed by a reset when unread request bytes remain.
        beast::error_code ignored;
        lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
        if (!stopping) {
            lowest.expires_after(std::chrono::milliseconds(500));
            std::array<char, 4096> sink{};
            for (std::size_t drained = 0; drained < 256 * 1024;) {
                auto [ec, n] = co_await lowest.async_read_some(asio::buffer(sink), kUseTuple);
                if (ec) break;
                drained += n;
            }
        }
        lowest.close();
    }

    template <typename Stream>
    asio::awaitable<void> send(Stream& stream, beast::tcp_stream& lowest, Response response, unsigned version,
                               bool keep_alive, bool& ok) {
        auto res = to_beast(response, version, keep_alive);
        lowest.expires_after(options.write_timeout);
        auto [ec, n] = co_await bhttp::async_write(stream, res, kUseTuple);
        ok = !ec;
    }

    template <typename Stream>
    asio::awaitable<void> serve(Stream& stream, const Peer& peer, Connection& state) {
        beast::tcp_stream& lowest = *state.stream;
        beast::flat_buffer buffer;
        for (bool first = true;; first = false) {
            state.idle = true;
            if (stopping) co_return;
            // Between requests a connection may wait up to the idle timeout for the first byte;
            // from then on the whole head must arrive within the header timeout (slow clients
            // that trickle bytes are cut off). The first request keeps the deadline set at accept.
            if (buffer.size() == 0) {
                if (!first) lowest.expires_after(options.idle_timeout);
                auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kUseTuple);
                if (ec) co_return;
                buffer.commit(n);
            }
            state.idle = false;
            bhttp::request_parser<bhttp::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
            parser.body_limit(options.max_body_bytes);
            if (!first) lowest.expires_after(options.header_timeout);
            auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kUseTuple);
            bool ok = true;
            if (hec) {
                if (hec == bhttp::error::body_limit) {
                    co_await send(stream, lowest,
                                  plain_error(413, "payload_too_large", "request body too large"), 11, false,
                                  ok);
                } else if (hec == bhttp::error::header_limit) {
                    co_await send(stream, lowest,
                                  plain_error(431, "headers_too_large", "request head too large"), 11, false,
                                  ok);
                } else if (hec != beast::error::timeout && hec != asio::error::eof &&
                           hec != asio::error::operation_aborted && hec != asio::error::connection_reset) {
                    co_await send(stream, lowest, plain_error(400, "bad_request", "malformed HTTP request"),
                                  11, false, ok);
                }
                co_return;
            }
            auto& head = parser.get();
            Request request;
            request.method = std::string(head.method_string());
            request.target = std::string(head.target());
            for (const auto& field : head) {
                request.headers.add(std::string(field.name_string()), std::string(field.value()));
            }
            const unsigned version = head.version();

            if (auto length = parser.content_length(); length && *length > options.max_body_bytes) {
                co_await send(stream, lowest, plain_error(413, "payload_too_large", "request body too large"),
                              version, false, ok);
                co_return;
            }
            if (auto early = handler.screen(request, peer)) {
                co_await send(stream, lowest, std::move(*early), version, false, ok);
                co_return;
            }
            if (!parser.is_done()) {
                lowest.expires_after(options.body_timeout);
                auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kUseTuple);
                if (bec) {
                    if (bec == bhttp::error::body_limit) {
                        co_await send(stream, lowest,
                                      plain_error(413, "payload_too_large", "request body too large"),
                                      version, false, ok);
                    }
                    co_return;
                }
            }
            const bool keep_alive = parser.get().keep_alive();
            request.body = std::move(parser.get().body());
            Response response;
            try {
                response = co_await handler.handle(std::move(request), peer);
            } catch (const std::exception& e) {
                spdlog::error("http server: handler failed for a request from {}: {}",
                              peer.address.to_string(), e.what());
                response = plain_error(500, "internal", "internal error");
            }
            if (response.abandon) co_return;
            const bool again = keep_alive && !response.close && !stopping;
            co_await send(stream, lowest, std::move(response), version, again, ok);
            if (!ok || !again) co_return;
        }
    }

    void maybe_drained() {
        if (stopping && connections.empty()) {
            grace_timer.cancel();
            if (on_drained) {
                auto done = std::move(on_drained);
                on_drained = nullptr;
                done();
            }
        }
    }
};

Server::Server(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
    if (impl_) {
        impl_->stopping = true;
        beast::error_code ignored;
        impl_->acceptor.close(ignored);
        impl_->backoff_timer.cancel();
        for (auto& c : impl_->connections) impl_->cancel(c);
    }
}

Result<std::unique_ptr<Server>, std::string> Server::create(asio::any_io_executor executor,
                                                            ServerOptions options, Handler& handler) {
    auto impl = std::make_shared<Impl>(executor, std::move(options), handler);
    beast::error_code ec;
    auto address = asio::ip::make_address(impl->options.address, ec);
    if (ec) return unexpected("invalid bind address \"" + impl->options.address + "\"");

    if (impl->options.tls) {
        try {
            asio::ssl::context ctx(asio::ssl::context::tls_server);
            ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                            asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                            asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
            SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
            // TLS 1.2: forward secrecy and AEAD only (no CBC, no SHA-1 MACs). TLS 1.3 suites are
            // all of that kind and keep OpenSSL's defaults.
            if (SSL_CTX_set_cipher_list(ctx.native_handle(), kTls12Ciphers) != 1) {
                throw std::runtime_error("the TLS 1.2 cipher list is not supported by this OpenSSL");
            }
            ctx.use_certificate_chain_file(impl->options.tls->cert_path);
            ctx.use_private_key_file(impl->options.tls->key_path, asio::ssl::context::pem);
            impl->tls.emplace(std::move(ctx));
        } catch (const std::exception& e) {
            return unexpected("cannot load the TLS certificate or key (" + impl->options.tls->cert_path +
                              ", " + impl->options.tls->key_path + "): " + e.what());
        }
    }

    tcp::endpoint endpoint(address, impl->options.port);
    impl->acceptor.open(endpoint.protocol(), ec);
    if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) impl->acceptor.bind(endpoint, ec);
    if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        return unexpected("cannot listen on " + impl->options.address + ":" +
                          std::to_string(impl->options.port) + ": " + ec.message());
    }
    return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::uint16_t Server::port() const {
    beast::error_code ec;
    return impl_->acceptor.local_endpoint(ec).port();
}

void Server::start() {
    // The coroutine holds the state alive from the start, even if the Server object is destroyed
    // before the executor first runs it.
    asio::co_spawn(
        impl_->executor, [self = impl_]() { return self->accept_loop(); }, asio::detached);
}

void Server::shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
    auto& impl = *impl_;
    impl.stopping = true;
    impl.on_drained = std::move(done);
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    impl.backoff_timer.cancel();
    for (auto& c : impl.connections) {
        if (c.idle) impl.cancel(c);
    }
    if (impl.connections.empty()) {
        impl.maybe_drained();
        return;
    }
    impl.grace_timer.expires_after(grace);
    impl.grace_timer.async_wait([weak = std::weak_ptr<Impl>(impl_)](beast::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || self->connections.empty()) return;
        spdlog::warn("http server: closing {} connection(s) still busy after the grace period",
                     self->connections.size());
        for (auto& c : self->connections) self->cancel(c);
    });
}

std::size_t Server::connection_count() const { return impl_->connections.size(); }

}  // namespace nebula::http
