#include "common/http_client.hpp"

#include <nghttp2/nghttp2.h>
#include <openssl/x509.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <map>
#include <variant>

#include "common/crypto.hpp"
#include "common/http2.hpp"

namespace nebula::common::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

using TlsStream = asio::ssl::stream<beast::tcp_stream>;

/// One open connection, plain or TLS.
struct Connection {
    std::variant<std::unique_ptr<beast::tcp_stream>, std::unique_ptr<TlsStream>> stream;
    beast::flat_buffer buffer;
    std::chrono::steady_clock::time_point idle_since;
    bool h2 = false;  ///< the server chose HTTP/2 (ALPN "h2")

    beast::tcp_stream& lowest() {
        if (auto* plain = std::get_if<0>(&stream)) return **plain;
        return std::get<1>(stream)->next_layer();
    }
};

struct SessionFree {
    void operator()(SSL_SESSION* session) const { SSL_SESSION_free(session); }
};
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

/// The SSL_CTX slot that points at the client owning the context (for the new-session callback).
int owner_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

/// ALPN offer of a client that speaks HTTP/2: "h2", then "http/1.1" (length-prefixed).
constexpr unsigned char kAlpnH2[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

/// How one HTTP/2 request ended.
enum class StreamEnd { pending, answered, refused, failed };

/// One request sent as an HTTP/2 stream.
struct H2Stream {
    std::int32_t id = -1;
    std::string body;  ///< the request body, sent from `offset` as the flow-control window allows
    std::size_t offset = 0;
    bool headers_sent = false;
    bool request_sent = false;  ///< END_STREAM went out: the server has the whole request
    std::size_t max_bytes = 0;
    StreamEnd end = StreamEnd::pending;
    Response response;
    ClientError error{ClientErrorCode::io, {}};
    std::shared_ptr<asio::steady_timer> wake;  ///< cancelled when the stream ends

    void finish(StreamEnd how) {
        if (end != StreamEnd::pending) return;
        end = how;
        if (wake) wake->cancel();
    }
};

/// One HTTP/2 connection: an nghttp2 client session over the TLS stream. One coroutine reads and
/// feeds the session; whenever the session has frames to send, one coroutine writes them.
struct H2Connection : std::enable_shared_from_this<H2Connection> {
    std::unique_ptr<TlsStream> stream;
    nghttp2_session* session = nullptr;
    std::map<std::int32_t, std::shared_ptr<H2Stream>> streams;
    std::function<void()> on_stream_end;  ///< a slot came free (the owner wakes a waiting request)
    std::function<void()> on_closed;      ///< the connection is gone (the owner counts it)
    bool writing = false;
    bool closed = false;
    bool goaway = false;    ///< the server is closing this connection: no new streams on it
    bool settings = false;  ///< the server's SETTINGS (with its stream limit) have arrived
    std::uint64_t frames_received = 0;
    std::chrono::steady_clock::time_point idle_since = std::chrono::steady_clock::now();
    std::string out;
    std::array<std::uint8_t, 16 * 1024> in{};

    ~H2Connection() {
        if (session != nullptr) nghttp2_session_del(session);
    }

    std::size_t active() const { return streams.size(); }

    /// Streams the server lets this connection carry at once; until its SETTINGS arrive, the 100
    /// that RFC 9113 asks every server to allow at least (more would wait inside the session for a
    /// stream to close, where no other connection can take them).
    std::size_t limit() const {
        if (!settings) return 100;
        return nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    }

    bool usable() const { return !closed && !goaway && nghttp2_session_check_request_allowed(session) != 0; }

    static H2Connection& self(void* user) { return *static_cast<H2Connection*>(user); }

    H2Stream* find(std::int32_t id) {
        const auto it = streams.find(id);
        return it == streams.end() ? nullptr : it->second.get();
    }

    static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                         std::size_t namelen, const std::uint8_t* value, std::size_t valuelen, std::uint8_t,
                         void* user) {
        if (frame->hd.type != NGHTTP2_HEADERS) return 0;
        H2Stream* s = self(user).find(frame->hd.stream_id);
        if (s == nullptr) return 0;
        const std::string_view key(reinterpret_cast<const char*>(name), namelen);
        const std::string_view val(reinterpret_cast<const char*>(value), valuelen);
        if (key == ":status") {
            int status = 0;
            for (char c : val) status = c >= '0' && c <= '9' ? status * 10 + (c - '0') : status;
            if (status >= 200) s->response.status = status;  // 1xx: an interim answer, skipped
            return 0;
        }
        if (s->response.status >= 200) s->response.headers.add(std::string(key), std::string(val));
        return 0;
    }

    static int on_data(nghttp2_session* session, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                       std::size_t len, void* user) {
        H2Stream* s = self(user).find(id);
        if (s == nullptr || s->end != StreamEnd::pending) return 0;
        if (s->response.body.size() + len > s->max_bytes) {
            s->error = ClientError{ClientErrorCode::too_large, "response too large", s->request_sent};
            s->finish(StreamEnd::failed);
            nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
            return 0;
        }
        s->response.body.append(reinterpret_cast<const char*>(data), len);
        return 0;
    }

    static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
        H2Stream* s = self(user).find(frame->hd.stream_id);
        if (s == nullptr) return 0;
        if (frame->hd.type == NGHTTP2_HEADERS) s->headers_sent = true;
        if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0 &&
            (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)) {
            s->request_sent = true;
        }
        return 0;
    }

    static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
        auto& c = self(user);
        ++c.frames_received;
        if (frame->hd.type == NGHTTP2_GOAWAY) c.goaway = true;
        if (frame->hd.type == NGHTTP2_SETTINGS && (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) {
            const bool first = !c.settings;
            c.settings = true;
            // A larger limit than assumed: requests waiting in line may go on this connection.
            if (first && c.on_stream_end) {
                for (std::size_t i = c.active(); i < c.limit() && i < c.active() + 1024; ++i)
                    c.on_stream_end();
            }
        }
        return 0;
    }

    /// A request nghttp2 could not start (the connection is closing): never sent, safe to send again.
    static int on_frame_not_send(nghttp2_session*, const nghttp2_frame* frame, int, void* user) {
        auto& c = self(user);
        if (frame->hd.type != NGHTTP2_HEADERS) return 0;
        if (H2Stream* s = c.find(frame->hd.stream_id); s != nullptr && !s->headers_sent) {
            s->finish(StreamEnd::refused);
            c.release(frame->hd.stream_id);
        }
        return 0;
    }

    static int on_stream_close(nghttp2_session*, std::int32_t id, std::uint32_t code, void* user) {
        auto& c = self(user);
        H2Stream* s = c.find(id);
        if (s == nullptr) return 0;
        if (code == NGHTTP2_NO_ERROR && s->response.status >= 200) {
            s->finish(StreamEnd::answered);
        } else if (code == NGHTTP2_REFUSED_STREAM || !s->headers_sent) {
            // REFUSED_STREAM (also what a GOAWAY's later streams get): the server did not process it.
            s->finish(StreamEnd::refused);
        } else {
            s->error = ClientError{ClientErrorCode::io,
                                   "stream reset by the server: " + std::string(nghttp2_http2_strerror(code)),
                                   s->request_sent};
            s->finish(StreamEnd::failed);
        }
        c.release(id);
        return 0;
    }

    void release(std::int32_t id) {
        if (streams.erase(id) == 0) return;
        if (streams.empty()) idle_since = std::chrono::steady_clock::now();
        if (on_stream_end) on_stream_end();
    }

    /// Creates the session (our SETTINGS go out with the connection preface) and starts reading.
    bool start(asio::any_io_executor executor) {
        nghttp2_session_callbacks* callbacks = nullptr;
        if (nghttp2_session_callbacks_new(&callbacks) != 0) return false;
        nghttp2_session_callbacks_set_on_header_callback(callbacks, &on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &on_data);
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &on_frame_send);
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &on_frame_recv);
        nghttp2_session_callbacks_set_on_frame_not_send_callback(callbacks, &on_frame_not_send);
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &on_stream_close);
        const int rv = nghttp2_session_client_new(&session, callbacks, this);
        nghttp2_session_callbacks_del(callbacks);
        if (rv != 0) return false;
        const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
        nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, std::size(settings));
        nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0, 4 << 20);
        stream->next_layer().expires_never();
        asio::co_spawn(executor, read_loop(shared_from_this()), asio::detached);
        flush();
        return true;
    }

    /// Submits a request; returns the stream id, or nothing when this connection takes no more.
    std::optional<std::int32_t> submit(const std::shared_ptr<H2Stream>& s,
                                       const std::vector<nghttp2_nv>& nva) {
        nghttp2_data_provider provider{};
        provider.source.ptr = s.get();
        provider.read_callback = &h2::read_body<H2Stream>;
        const std::int32_t id = nghttp2_submit_request(session, nullptr, nva.data(), nva.size(),
                                                       s->body.empty() ? nullptr : &provider, nullptr);
        if (id < 0) return std::nullopt;
        s->id = id;
        streams.emplace(id, s);
        flush();
        return id;
    }

    /// Gives up on a stream (its deadline passed): RST_STREAM CANCEL, the other streams go on.
    void cancel(H2Stream& s) {
        if (closed || s.id < 0) return;
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_CANCEL);
        flush();
    }

    /// Writes whatever the session has to send (one writer at a time).
    void flush() {
        if (writing || closed) return;
        if (nghttp2_session_want_write(session) == 0) {
            if (nghttp2_session_want_read(session) == 0) close();  // GOAWAY both ways, nothing left
            return;
        }
        writing = true;
        asio::co_spawn(stream->get_executor(), write_loop(shared_from_this()), asio::detached);
    }

    static asio::awaitable<void> write_loop(std::shared_ptr<H2Connection> self) {
        auto& c = *self;
        while (!c.closed) {
            c.out.clear();
            while (c.out.size() < 64 * 1024) {
                const std::uint8_t* data = nullptr;
                const ssize_t n = nghttp2_session_mem_send(c.session, &data);
                if (n < 0) {
                    c.fail("HTTP/2 error: " + std::string(nghttp2_strerror(static_cast<int>(n))));
                    break;
                }
                if (n == 0) break;
                c.out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
            }
            if (c.out.empty() || c.closed) break;
            auto [ec, written] = co_await asio::async_write(*c.stream, asio::buffer(c.out), kUseTuple);
            if (ec) {
                c.fail("connection lost: " + ec.message());
                break;
            }
        }
        c.writing = false;
        if (!c.closed && nghttp2_session_want_write(c.session) == 0 &&
            nghttp2_session_want_read(c.session) == 0)
            c.close();
    }

    static asio::awaitable<void> read_loop(std::shared_ptr<H2Connection> self) {
        auto& c = *self;
        while (!c.closed) {
            auto [ec, n] = co_await c.stream->async_read_some(asio::buffer(c.in), kUseTuple);
            if (c.closed) break;
            if (ec) {
                c.fail(ec == asio::error::eof || ec == asio::ssl::error::stream_truncated
                           ? "connection closed before the whole answer arrived"
                           : "connection lost: " + ec.message());
                break;
            }
            const ssize_t used = nghttp2_session_mem_recv(c.session, c.in.data(), n);
            if (used < 0) {
                c.fail("malformed HTTP/2 from the server: " +
                       std::string(nghttp2_strerror(static_cast<int>(used))));
                break;
            }
            c.flush();
        }
    }

    /// The connection is gone: streams that never went out may be sent again; the others are in doubt.
    void fail(const std::string& why) {
        if (closed) return;
        auto open = std::move(streams);
        streams.clear();
        for (auto& [id, s] : open) {
            if (!s->headers_sent) {
                s->finish(StreamEnd::refused);
            } else {
                s->error = ClientError{ClientErrorCode::io, why, s->request_sent};
                s->finish(StreamEnd::failed);
            }
        }
        for (std::size_t i = 0; i < open.size(); ++i) {
            if (on_stream_end) on_stream_end();
        }
        close();
    }

    void close() {
        if (closed) return;
        if (!streams.empty()) return fail("connection closed");
        closed = true;
        beast::error_code ignored;
        stream->next_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream->next_layer().socket().close(ignored);
        if (auto done = std::move(on_closed)) done();
        on_stream_end = nullptr;
    }
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

std::string_view to_string(ClientErrorCode code) {
    switch (code) {
        case ClientErrorCode::resolve:
            return "resolve";
        case ClientErrorCode::connect:
            return "connect";
        case ClientErrorCode::tls:
            return "tls";
        case ClientErrorCode::timeout:
            return "timeout";
        case ClientErrorCode::io:
            return "io";
        case ClientErrorCode::protocol:
            return "protocol";
        case ClientErrorCode::too_large:
            return "too_large";
        case ClientErrorCode::pin_mismatch:
            return "pin_mismatch";
    }
    return "io";
}

struct Client::Impl {
    asio::any_io_executor executor;
    ClientOptions options;
    std::optional<asio::ssl::context> tls;
    std::vector<std::unique_ptr<Connection>> idle;  ///< newest last
    std::string pin;     ///< options.pinned_sha256 in its normal form; empty = CA trust
    SessionPtr session;  ///< the latest TLS session the server gave, offered by new connections
    std::deque<std::shared_ptr<asio::steady_timer>> waiters;  ///< requests waiting for a connection
    ClientStats stats;

    /// What the origin speaks over TLS, once a connection has told (with `http2`).
    enum class Protocol { unknown, http1, h2 };
    Protocol protocol = Protocol::unknown;
    bool connecting = false;  ///< an HTTP/2 connection (or the first probe) is being opened
    std::vector<std::shared_ptr<H2Connection>> h2;

    using Clock = std::chrono::steady_clock;

    ~Impl() {
        for (auto& c : h2) {
            c->on_stream_end = nullptr;
            c->on_closed = nullptr;
            c->close();
        }
    }

    static int remember_session(SSL* ssl, SSL_SESSION* session) {
        auto* self = static_cast<Impl*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), owner_index()));
        if (self == nullptr || !SSL_SESSION_is_resumable(session)) return 0;
        // A copy: OpenSSL marks the connection's own session not resumable when that connection
        // is closed without a TLS shutdown, as idle connections are.
        if (SSL_SESSION* copy = SSL_SESSION_dup(session)) self->session.reset(copy);
        return 0;  // the connection keeps its own reference
    }

    /// A connection was closed or handed back: the first waiting request may go on.
    void wake_one() {
        if (waiters.empty()) return;
        auto next = std::move(waiters.front());
        waiters.pop_front();
        next->cancel();
    }

    void closed() {
        --stats.open;
        wake_one();
    }

    void give_back(std::unique_ptr<Connection> conn, bool keep) {
        if (keep && idle.size() < options.max_idle_connections) {
            conn->idle_since = Clock::now();
            idle.push_back(std::move(conn));
            wake_one();
            return;
        }
        conn.reset();
        closed();
    }

    struct Acquired {
        std::unique_ptr<Connection> conn;
        bool reused = false;
    };

    /// An idle connection (when `reuse`), else a new one while fewer than `max_connections` are
    /// open, else waits in line for one of those until the deadline.
    asio::awaitable<common::Result<Acquired, ClientError>> acquire(Clock::time_point deadline, bool reuse) {
        for (;;) {
            const auto now = Clock::now();
            // Idle connections past their time are closed (the server may already have).
            std::erase_if(idle, [&](const std::unique_ptr<Connection>& c) {
                if (now - c->idle_since < options.idle_timeout) return false;
                --stats.open;
                return true;
            });
            if (reuse && !idle.empty()) {
                auto conn = std::move(idle.back());
                idle.pop_back();
                co_return Acquired{std::move(conn), true};
            }
            if (stats.open < std::max<std::size_t>(options.max_connections, 1)) {
                ++stats.open;
                auto fresh = co_await connect(deadline);
                if (!fresh) {
                    closed();
                    co_return common::unexpected(fresh.error());
                }
                co_return Acquired{std::move(fresh.value()), false};
            }
            if (!reuse && !idle.empty()) {
                // Full, and a fresh connection is wanted: make room by closing an idle one.
                idle.erase(idle.begin());
                --stats.open;
                continue;
            }
            ++stats.queued;
            auto timer = std::make_shared<asio::steady_timer>(executor);
            timer->expires_at(deadline);
            waiters.push_back(timer);
            auto [ec] = co_await timer->async_wait(kUseTuple);
            if (!ec) {  // the deadline passed in line
                // Woken just as the deadline passed: the connection that came free goes to the
                // next request in line instead.
                if (std::erase(waiters, timer) == 0) wake_one();
                co_return common::unexpected(ClientError{
                    ClientErrorCode::timeout,
                    "no free connection to " + options.base.authority() + " before the deadline"});
            }
        }
    }

    static ClientError timeout_or(ClientErrorCode code, const beast::error_code& ec, std::string_view what) {
        if (ec == beast::error::timeout || ec == asio::error::operation_aborted) {
            return {ClientErrorCode::timeout, std::string(what) + " timed out"};
        }
        return {code, std::string(what) + " failed: " + ec.message()};
    }

    asio::awaitable<common::Result<std::unique_ptr<Connection>, ClientError>> connect(
        Clock::time_point deadline) {
        std::vector<tcp::endpoint> endpoints;
        beast::error_code ec;
        auto literal = asio::ip::make_address(options.base.host, ec);
        if (!ec) {
            endpoints.emplace_back(literal, options.base.port);
        } else {
            auto resolver = std::make_shared<tcp::resolver>(executor);
            asio::steady_timer timer(executor);
            timer.expires_at(deadline);
            timer.async_wait([resolver](beast::error_code tec) {
                if (!tec) resolver->cancel();
            });
            auto [rec, results] = co_await resolver->async_resolve(
                options.base.host, std::to_string(options.base.port), kUseTuple);
            timer.cancel();
            if (rec)
                co_return common::unexpected(
                    timeout_or(ClientErrorCode::resolve, rec, "resolving " + options.base.host));
            for (const auto& r : results) endpoints.push_back(r.endpoint());
        }

        ++stats.connections_opened;
        auto tcp_stream = std::make_unique<beast::tcp_stream>(executor);
        const auto connect_deadline = std::min(deadline, Clock::now() + options.connect_timeout);
        beast::error_code last = asio::error::host_not_found;
        bool connected = false;
        for (const auto& endpoint : endpoints) {
            beast::error_code oec;
            tcp_stream->socket().close(oec);
            tcp_stream->socket().open(endpoint.protocol(), oec);
            if (!options.local_address.empty()) {
                auto local = asio::ip::make_address(options.local_address, oec);
                if (!oec) tcp_stream->socket().bind(tcp::endpoint(local, 0), oec);
                if (oec)
                    co_return common::unexpected(
                        ClientError{ClientErrorCode::connect, "cannot bind local address"});
            }
            tcp_stream->expires_at(connect_deadline);
            auto [cec] = co_await tcp_stream->async_connect(endpoint, kUseTuple);
            if (!cec) {
                connected = true;
                break;
            }
            last = cec;
        }
        if (!connected) {
            co_return common::unexpected(
                timeout_or(ClientErrorCode::connect, last, "connecting to " + options.base.authority()));
        }
        tcp_stream->socket().set_option(tcp::no_delay(true), ec);

        auto conn = std::make_unique<Connection>();
        if (!tls) {
            conn->stream = std::move(tcp_stream);
            co_return conn;
        }
        auto stream = std::make_unique<TlsStream>(std::move(*tcp_stream), *tls);
        asio::ip::make_address(options.base.host, ec);
        if (ec) {
            // SNI and host name verification apply to names, not to IP literals.
            SSL_set_tlsext_host_name(stream->native_handle(), options.base.host.c_str());
        }
        // The leaf certificate's fingerprint as the pin check saw it (empty: not seen).
        auto seen = std::make_shared<std::string>();
        if (pin.empty()) {
            stream->set_verify_callback(asio::ssl::host_name_verification(options.base.host));
        } else {
            // Pinning replaces CA trust: only the leaf certificate with this SHA-256 is accepted.
            stream->set_verify_callback([pin = pin, seen](bool, asio::ssl::verify_context& vc) {
                X509_STORE_CTX* store = vc.native_handle();
                if (X509_STORE_CTX_get_error_depth(store) > 0) return true;
                X509* cert = X509_STORE_CTX_get_current_cert(store);
                if (cert == nullptr) return false;
                unsigned char* der = nullptr;
                int length = i2d_X509(cert, &der);
                if (length <= 0) return false;
                *seen = common::sha256_hex(
                    std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(length)));
                OPENSSL_free(der);
                return common::constant_time_equal(*seen, pin);
            });
        }
        if (session) SSL_set_session(stream->native_handle(), session.get());
        // HTTP/2 is offered until the origin has once answered with HTTP/1.1; from then on no ALPN
        // is offered, as without the `http2` option.
        if (options.http2 && protocol != Protocol::http1) {
            SSL_set_alpn_protos(stream->native_handle(), kAlpnH2, sizeof(kAlpnH2));
        }
        stream->next_layer().expires_at(deadline);
        auto [hec] = co_await stream->async_handshake(asio::ssl::stream_base::client, kUseTuple);
        if (hec && !seen->empty() && *seen != pin) {
            co_return common::unexpected(
                ClientError{ClientErrorCode::pin_mismatch,
                            "certificate does not match the pin (expected " + pin + ", got " + *seen + ")"});
        }
        if (hec) co_return common::unexpected(timeout_or(ClientErrorCode::tls, hec, "TLS handshake"));
        if (SSL_session_reused(stream->native_handle()) == 1) {
            ++stats.tls_resumed;
            // A resumed session skips the certificate check: the pin is checked on the
            // certificate the session was made with.
            if (!pin.empty()) {
                const std::string fingerprint = peer_fingerprint(stream->native_handle());
                if (!common::constant_time_equal(fingerprint, pin)) {
                    session.reset();
                    co_return common::unexpected(ClientError{
                        ClientErrorCode::pin_mismatch, "certificate does not match the pin (expected " + pin +
                                                           ", got " + fingerprint + ")"});
                }
            }
        } else {
            ++stats.tls_full_handshakes;
        }
        const unsigned char* alpn = nullptr;
        unsigned alpn_length = 0;
        SSL_get0_alpn_selected(stream->native_handle(), &alpn, &alpn_length);
        conn->h2 = alpn_length == 2 && alpn[0] == 'h' && alpn[1] == '2';
        conn->stream = std::move(stream);
        co_return conn;
    }

    static std::string peer_fingerprint(SSL* ssl) {
        X509* cert = SSL_get_peer_certificate(ssl);
        if (cert == nullptr) return {};
        unsigned char* der = nullptr;
        const int length = i2d_X509(cert, &der);
        X509_free(cert);
        if (length <= 0) return {};
        std::string out = common::sha256_hex(
            std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(length)));
        OPENSSL_free(der);
        return out;
    }

    /// Writes the request, then reads the response; `written` tells whether the whole request went out.
    template <typename Stream>
    static asio::awaitable<beast::error_code> exchange(Stream& stream, beast::tcp_stream& lowest,
                                                       beast::flat_buffer& buffer,
                                                       bhttp::request<bhttp::string_body>& req,
                                                       bhttp::response_parser<bhttp::string_body>& parser,
                                                       Clock::time_point deadline, bool& written) {
        lowest.expires_at(deadline);
        auto [wec, wn] = co_await bhttp::async_write(stream, req, kUseTuple);
        if (wec) co_return wec;
        written = true;
        lowest.expires_at(deadline);
        auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, kUseTuple);
        co_return rec;
    }

    static bool idempotent(std::string_view method) {
        return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
               method == "OPTIONS";
    }

    void wake_all() {
        while (!waiters.empty()) wake_one();
    }

    /// An HTTP/2 connection with a free stream: an open one, else a new one while fewer than
    /// `max_connections` are open (one opened at a time), else waits in line. Null when the
    /// origin turned out to speak HTTP/1.1 (the new connection is then left idle for that path).
    asio::awaitable<common::Result<std::shared_ptr<H2Connection>, ClientError>> acquire_h2(
        Clock::time_point deadline) {
        for (;;) {
            const auto now = Clock::now();
            std::erase_if(h2, [&](const std::shared_ptr<H2Connection>& c) {
                if (!c->closed && c->active() == 0 &&
                    (!c->usable() || now - c->idle_since >= options.idle_timeout)) {
                    c->close();
                }
                return c->closed;
            });
            if (protocol == Protocol::http1) co_return nullptr;
            for (auto& c : h2) {
                if (c->usable() && c->active() < c->limit()) co_return c;
            }
            if (!connecting && stats.open < std::max<std::size_t>(options.max_connections, 1)) {
                connecting = true;
                ++stats.open;
                auto fresh = co_await connect(deadline);
                connecting = false;
                if (!fresh) {
                    closed();
                    wake_all();
                    co_return common::unexpected(fresh.error());
                }
                if (!fresh.value()->h2) {
                    protocol = Protocol::http1;
                    fresh.value()->idle_since = Clock::now();
                    idle.push_back(std::move(fresh.value()));
                    wake_all();
                    co_return nullptr;
                }
                protocol = Protocol::h2;
                ++stats.h2_connections;
                auto conn = std::make_shared<H2Connection>();
                conn->stream = std::move(std::get<1>(fresh.value()->stream));
                conn->on_stream_end = [this] { wake_one(); };
                conn->on_closed = [this] { closed(); };
                if (!conn->start(executor)) {
                    conn->close();
                    wake_all();
                    co_return common::unexpected(
                        ClientError{ClientErrorCode::protocol, "cannot start an HTTP/2 session"});
                }
                h2.push_back(conn);
                wake_all();
                co_return conn;
            }
            ++stats.queued;
            auto timer = std::make_shared<asio::steady_timer>(executor);
            timer->expires_at(deadline);
            waiters.push_back(timer);
            auto [ec] = co_await timer->async_wait(kUseTuple);
            if (!ec) {
                if (std::erase(waiters, timer) == 0) wake_one();
                co_return common::unexpected(ClientError{
                    ClientErrorCode::timeout,
                    "no free connection to " + options.base.authority() + " before the deadline"});
            }
        }
    }

    /// Sends the request as an HTTP/2 stream. Nothing when the origin speaks HTTP/1.1.
    asio::awaitable<std::optional<common::Result<Response, ClientError>>> send_h2(
        const Request& request, Clock::time_point deadline) {
        h2::Fields fields;
        fields.emplace_back(":method", request.method);
        fields.emplace_back(":scheme", "https");
        fields.emplace_back(":authority",
                            std::string(request.headers.find("Host").value_or(options.base.authority())));
        fields.emplace_back(":path", request.target);
        for (const auto& [name, value] : request.headers.fields()) {
            std::string key = h2::lower(name);
            if (!h2::connection_specific(key)) fields.emplace_back(std::move(key), value);
        }
        if (!request.headers.find("User-Agent")) fields.emplace_back("user-agent", options.user_agent);
        if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
            request.method == "PATCH") {
            fields.emplace_back("content-length", std::to_string(request.body.size()));
        }
        const std::vector<nghttp2_nv> nva = h2::name_values(fields);

        for (int attempt = 0;; ++attempt) {
            auto acquired = co_await acquire_h2(deadline);
            if (!acquired) co_return common::unexpected(acquired.error());
            std::shared_ptr<H2Connection> conn = std::move(*acquired);
            if (!conn) co_return std::nullopt;
            auto s = std::make_shared<H2Stream>();
            s->body = request.body;
            s->max_bytes = options.max_response_bytes;
            s->wake = std::make_shared<asio::steady_timer>(executor);
            s->wake->expires_at(deadline);
            if (!conn->submit(s, nva)) {
                conn->goaway = true;  // out of stream ids or closing: the next request opens another
                continue;
            }
            ++stats.h2_streams;
            const auto frames = conn->frames_received;
            co_await s->wake->async_wait(kUseTuple);
            switch (s->end) {
                case StreamEnd::answered:
                    co_return std::move(s->response);
                case StreamEnd::failed:
                    co_return common::unexpected(std::move(s->error));
                case StreamEnd::refused:
                    // The server never processed it: safe to send again, while the deadline allows.
                    if (attempt < 8 && Clock::now() < deadline) {
                        ++stats.h2_retries;
                        continue;
                    }
                    co_return common::unexpected(
                        ClientError{ClientErrorCode::io, "the server refused the request", false});
                case StreamEnd::pending:
                    break;
            }
            // The deadline passed: this stream is cancelled, the others on the connection go on.
            s->end = StreamEnd::failed;
            const bool written = s->request_sent;
            conn->cancel(*s);
            // Nothing at all came back since the request went out: the connection may be dead, so
            // no new request is put on it (it closes once its streams are done).
            if (conn->frames_received == frames) conn->goaway = true;
            co_return common::unexpected(ClientError{ClientErrorCode::timeout, "request timed out", written});
        }
    }

    asio::awaitable<common::Result<Response, ClientError>> send(Request request,
                                                                std::chrono::milliseconds timeout) {
        const auto deadline = Clock::now() + timeout;
        if (tls && options.http2 && protocol != Protocol::http1) {
            auto answered = co_await send_h2(request, deadline);
            if (answered) co_return std::move(*answered);
        }
        bhttp::request<bhttp::string_body> req;
        req.method_string(request.method);
        req.target(request.target);
        req.version(11);
        for (const auto& [name, value] : request.headers.fields()) req.insert(name, value);
        if (!request.headers.find("Host")) req.set(bhttp::field::host, options.base.authority());
        if (!request.headers.find("User-Agent")) req.set(bhttp::field::user_agent, options.user_agent);
        req.body() = std::move(request.body);
        req.keep_alive(true);
        req.prepare_payload();

        for (int attempt = 0; attempt < 2; ++attempt) {
            // The second attempt, after a reused connection turned out closed, takes a new one.
            auto acquired = co_await acquire(deadline, attempt == 0);
            if (!acquired) co_return common::unexpected(acquired.error());
            std::unique_ptr<Connection> conn = std::move(acquired->conn);
            const bool reused = acquired->reused;
            bhttp::response_parser<bhttp::string_body> parser;
            parser.header_limit(64 * 1024);
            parser.body_limit(options.max_response_bytes);
            beast::error_code ec;
            bool written = false;
            if (auto* plain = std::get_if<0>(&conn->stream)) {
                ec = co_await exchange(**plain, **plain, conn->buffer, req, parser, deadline, written);
            } else {
                auto& secure = *std::get<1>(conn->stream);
                ec = co_await exchange(secure, secure.next_layer(), conn->buffer, req, parser, deadline,
                                       written);
            }
            if (ec) {
                give_back(std::move(conn), false);
                // A kept-alive connection the server has meanwhile closed fails before any
                // response byte. A request not fully written cannot have run; a fully written one
                // may have (the server can read it and then fail), so only an idempotent one is
                // sent again.
                const bool safe = !written || (options.resend_idempotent && idempotent(request.method));
                if (reused && !parser.got_some() && ec != beast::error::timeout && safe) continue;
                auto fail = [&](ClientErrorCode code, std::string message) {
                    return common::unexpected(ClientError{code, std::move(message), written});
                };
                if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
                    co_return fail(ClientErrorCode::too_large, "response too large");
                }
                if (ec == beast::error::timeout)
                    co_return fail(ClientErrorCode::timeout, "request timed out");
                if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
                    co_return fail(ClientErrorCode::io, "connection closed before the whole answer arrived");
                }
                if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
                    co_return fail(ClientErrorCode::protocol, "malformed response: " + ec.message());
                }
                co_return fail(ClientErrorCode::io, "request failed: " + ec.message());
            }
            auto& res = parser.get();
            Response out;
            out.status = static_cast<int>(res.result_int());
            for (const auto& field : res)
                out.headers.add(std::string(field.name_string()), std::string(field.value()));
            out.body = std::move(res.body());
            const bool keep =
                res.keep_alive() && lower(out.headers.find("Connection").value_or("")) != "close";
            give_back(std::move(conn), keep);
            co_return out;
        }
        co_return common::unexpected(ClientError{ClientErrorCode::io, "connection closed by the server"});
    }
};

Client::Client(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

common::Result<std::unique_ptr<Client>, std::string> Client::create(asio::any_io_executor executor,
                                                                    ClientOptions options) {
    auto impl = std::make_shared<Impl>();
    impl->executor = executor;
    impl->options = std::move(options);
    if (impl->options.base.tls()) {
        try {
            asio::ssl::context ctx(asio::ssl::context::tls_client);
            SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
            ctx.set_verify_mode(asio::ssl::verify_peer);
            const auto pin = common::normalize_sha256_pin(impl->options.pinned_sha256);
            if (!pin) {
                return common::unexpected("the pinned certificate fingerprint must be " +
                                          std::string(common::kPinFormatHint));
            }
            impl->pin = *pin;
            if (!impl->pin.empty()) {
                // Checked per connection (see connect()), so a mismatch can name both fingerprints.
            } else if (!impl->options.ca_file.empty()) {
                ctx.load_verify_file(impl->options.ca_file);
            } else {
                ctx.set_default_verify_paths();
            }
            // Sessions the server offers are kept (the newest one) and offered again by new
            // connections, which then skip the full handshake.
            SSL_CTX_set_session_cache_mode(ctx.native_handle(),
                                           SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
            SSL_CTX_sess_set_new_cb(ctx.native_handle(), &Impl::remember_session);
            SSL_CTX_set_ex_data(ctx.native_handle(), owner_index(), impl.get());
            // ALPN (HTTP/2 first) is offered per connection, see connect().
            impl->tls.emplace(std::move(ctx));
        } catch (const std::exception& e) {
            return common::unexpected("cannot set up TLS: " + std::string(e.what()));
        }
    }
    return std::unique_ptr<Client>(new Client(std::move(impl)));
}

asio::awaitable<common::Result<Response, ClientError>> Client::send(
    Request request, std::optional<std::chrono::milliseconds> timeout) {
    auto impl = impl_;
    co_return co_await impl->send(std::move(request), timeout.value_or(impl->options.request_timeout));
}

const ClientOptions& Client::options() const { return impl_->options; }

ClientStats Client::stats() const { return impl_->stats; }

}  // namespace nebula::common::http
