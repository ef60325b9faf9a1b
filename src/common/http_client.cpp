#include "common/http_client.hpp"

#include <openssl/x509.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <deque>
#include <variant>

#include "common/crypto.hpp"

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

    using Clock = std::chrono::steady_clock;

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

    asio::awaitable<common::Result<Response, ClientError>> send(Request request,
                                                                std::chrono::milliseconds timeout) {
        const auto deadline = Clock::now() + timeout;
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
