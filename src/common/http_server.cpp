#include "common/http_server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <algorithm>
#include <array>
#include <cstring>
#include <list>
#include <map>
#include <utility>
#include <vector>

namespace nebula::common::http {

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

/// TLS on top of a beast::tcp_stream, with OpenSSL reading and writing through a small BIO of
/// our own. asio::ssl::stream keeps four 17 KiB buffers per connection for the connection's whole
/// life (its own input and output buffers and both halves of a BIO pair): about 70 KiB, touched
/// page by page as records pass, for every open connection. Here a connection holds the SSL object,
/// a 4 KiB input buffer and the ciphertext of the response being sent; OpenSSL's record buffers
/// are released between records (SSL_MODE_RELEASE_BUFFERS on the context). Deadlines and
/// cancellation stay those of the tcp_stream underneath. One operation at a time: the server reads
/// a request, then writes its response.
class TlsStream {
  public:
    using executor_type = beast::tcp_stream::executor_type;

    // in_ is left unset on purpose: each read fills it before OpenSSL sees a byte of it.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
    TlsStream(tcp::socket socket, SSL_CTX* ctx) : next_(std::move(socket)), ssl_(SSL_new(ctx)) {
        BIO* bio = ssl_ == nullptr ? nullptr : BIO_new(method());
        if (bio == nullptr) {
            SSL_free(ssl_);
            throw std::runtime_error("out of memory for a TLS connection");
        }
        BIO_set_data(bio, this);
        BIO_set_init(bio, 1);
        SSL_set_bio(ssl_, bio, bio);  // one reference, owned by the SSL object
        SSL_set_accept_state(ssl_);
    }
    ~TlsStream() { SSL_free(ssl_); }
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    executor_type get_executor() { return next_.get_executor(); }
    beast::tcp_stream& next_layer() { return next_; }

    asio::awaitable<beast::error_code> handshake() {
        for (;;) {
            ERR_clear_error();
            const int r = SSL_do_handshake(ssl_);
            const int code = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
            // Whatever OpenSSL produced goes out first: the next flight, or the alert of a refusal.
            if (!out_.empty()) {
                auto [ec, n] = co_await asio::async_write(next_, asio::buffer(out_), kUseTuple);
                sent();
                if (ec) co_return ec;
            }
            if (code == SSL_ERROR_NONE) co_return beast::error_code{};
            if (code != SSL_ERROR_WANT_READ) co_return failure(code);
            auto [ec, n] = co_await next_.async_read_some(asio::buffer(in_), kUseTuple);
            if (ec) co_return ec;
            received(n);
        }
    }

    /// Sends close_notify; the peer's own close_notify is not awaited (the connection closes next).
    asio::awaitable<void> shutdown() {
        if (failed_ || SSL_is_init_finished(ssl_) == 0) co_return;
        ERR_clear_error();
        SSL_shutdown(ssl_);
        if (!out_.empty()) {
            co_await asio::async_write(next_, asio::buffer(out_), kUseTuple);
            sent();
        }
    }

    template <typename MutableBuffers, typename Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return asio::async_compose<Token, void(beast::error_code, std::size_t)>(
            ReadOp<MutableBuffers>{*this, buffers}, token, next_);
    }

    template <typename ConstBuffers, typename Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return asio::async_compose<Token, void(beast::error_code, std::size_t)>(
            WriteOp<ConstBuffers>{*this, buffers}, token, next_);
    }

  private:
    /// Largest plaintext taken by one read or write: one full TLS record.
    static constexpr std::size_t kMaxWrite = 16 * 1024;
    /// Output capacity kept between responses; a larger one (a big response) is given back.
    static constexpr std::size_t kKeptOutput = 8 * 1024;

    enum class Step { start, flushed, received, done };

    template <typename MutableBuffers>
    struct ReadOp {
        TlsStream& s;
        MutableBuffers buffers;
        Step step = Step::start;
        bool io = false;
        beast::error_code result{};
        std::size_t bytes = 0;

        template <typename Self>
        void operator()(Self& self, beast::error_code ec = {}, std::size_t n = 0) {
            switch (step) {
                case Step::done:
                    if (io) s.sent();
                    return self.complete(result, bytes);
                case Step::flushed:
                    s.sent();
                    if (ec) return self.complete(ec, 0);
                    break;
                case Step::received:
                    if (ec) return self.complete(ec, 0);
                    s.received(n);
                    break;
                case Step::start:
                    break;
            }
            const asio::mutable_buffer target = beast::buffers_front(buffers);
            if (target.size() == 0) return finish(self, {}, 0);
            ERR_clear_error();
            const int r = SSL_read(s.ssl_, target.data(),
                                   static_cast<int>(std::min<std::size_t>(target.size(), kMaxWrite)));
            const int code = r > 0 ? SSL_ERROR_NONE : SSL_get_error(s.ssl_, r);
            if (!s.out_.empty()) {  // an alert, or the answer to a key update: sent first
                if (code == SSL_ERROR_WANT_READ) {
                    step = Step::flushed;
                } else {
                    step = Step::done;
                    result = code == SSL_ERROR_NONE ? beast::error_code{} : s.failure(code);
                    bytes = code == SSL_ERROR_NONE ? static_cast<std::size_t>(r) : 0;
                }
                io = true;
                return asio::async_write(s.next_, asio::buffer(s.out_), std::move(self));
            }
            if (code == SSL_ERROR_NONE) return finish(self, {}, static_cast<std::size_t>(r));
            if (code == SSL_ERROR_WANT_READ) {
                step = Step::received;
                io = true;
                return s.next_.async_read_some(asio::buffer(s.in_), std::move(self));
            }
            return finish(self, s.failure(code), 0);
        }

        template <typename Self>
        void finish(Self& self, beast::error_code ec, std::size_t n) {
            if (io) return self.complete(ec, n);
            // Nothing was waited for: complete as if posted, never inside the initiating call.
            step = Step::done;
            result = ec;
            bytes = n;
            asio::post(s.next_.get_executor(), std::move(self));
        }
    };

    template <typename ConstBuffers>
    struct WriteOp {
        TlsStream& s;
        ConstBuffers buffers;
        Step step = Step::start;
        beast::error_code result{};
        std::size_t bytes = 0;

        template <typename Self>
        void operator()(Self& self, beast::error_code ec = {}, std::size_t = 0) {
            if (step == Step::flushed) {
                s.sent();
                return self.complete(ec, ec ? 0 : bytes);
            }
            if (step == Step::done) return self.complete(result, bytes);
            // The buffers of the sequence (an HTTP head and its body), up to one record's worth,
            // go into one record: gathered first when there are several.
            const asio::const_buffer first = beast::buffers_front(buffers);
            asio::const_buffer plain = first;
            if (first.size() < kMaxWrite && beast::buffer_bytes(buffers) > first.size()) {
                s.gathered_.resize(std::min(beast::buffer_bytes(buffers), kMaxWrite));
                plain =
                    asio::buffer(s.gathered_.data(), asio::buffer_copy(asio::buffer(s.gathered_), buffers));
            }
            if (plain.size() > 0) {
                ERR_clear_error();
                const int r =
                    SSL_write(s.ssl_, plain.data(), static_cast<int>(std::min(plain.size(), kMaxWrite)));
                if (r <= 0) {
                    result = s.failure(SSL_get_error(s.ssl_, r));
                } else {
                    bytes = static_cast<std::size_t>(r);
                }
            }
            if (s.gathered_.capacity() > kKeptOutput) {
                std::string().swap(s.gathered_);
            } else {
                s.gathered_.clear();
            }
            if (result && bytes == 0) {
                s.out_.clear();
                step = Step::done;
                return asio::post(s.next_.get_executor(), std::move(self));
            }
            if (s.out_.empty()) {  // nothing to send: an empty buffer sequence
                step = Step::done;
                return asio::post(s.next_.get_executor(), std::move(self));
            }
            step = Step::flushed;
            asio::async_write(s.next_, asio::buffer(s.out_), std::move(self));
        }
    };

    void received(std::size_t n) {
        in_begin_ = 0;
        in_end_ = n;
    }

    void sent() {
        if (out_.capacity() > kKeptOutput) {
            std::string().swap(out_);
        } else {
            out_.clear();
        }
    }

    beast::error_code failure(int code) {
        if (code == SSL_ERROR_ZERO_RETURN) return asio::error::eof;  // the peer's close_notify
        failed_ = true;
        if (const auto e = ERR_get_error(); e != 0) {
            return {static_cast<int>(e), asio::error::get_ssl_category()};
        }
        return asio::ssl::error::stream_truncated;
    }

    static int bio_write(BIO* bio, const char* data, int size) {
        BIO_clear_retry_flags(bio);
        auto& self = *static_cast<TlsStream*>(BIO_get_data(bio));
        self.out_.append(data, static_cast<std::size_t>(size));
        return size;
    }

    static int bio_read(BIO* bio, char* data, int size) {
        BIO_clear_retry_flags(bio);
        auto& self = *static_cast<TlsStream*>(BIO_get_data(bio));
        const std::size_t n = std::min(static_cast<std::size_t>(size), self.in_end_ - self.in_begin_);
        if (n == 0) {
            BIO_set_retry_read(bio);
            return -1;
        }
        std::memcpy(data, self.in_.data() + self.in_begin_, n);
        self.in_begin_ += n;
        return static_cast<int>(n);
    }

    static long bio_ctrl(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH ? 1 : 0; }

    static BIO_METHOD* method() {
        static BIO_METHOD* const instance = [] {
            BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "nebula tls stream");
            if (m == nullptr) throw std::runtime_error("out of memory for the TLS BIO method");
            BIO_meth_set_write(m, &bio_write);
            BIO_meth_set_read(m, &bio_read);
            BIO_meth_set_ctrl(m, &bio_ctrl);
            return m;
        }();
        return instance;
    }

    beast::tcp_stream next_;
    SSL* ssl_;
    bool failed_ = false;
    std::string out_;       ///< ciphertext OpenSSL produced, not yet sent
    std::string gathered_;  ///< plaintext of several buffers, gathered for one record
    std::size_t in_begin_ = 0;
    std::size_t in_end_ = 0;
    std::array<char, 4096> in_;  ///< ciphertext received, not yet read by OpenSSL
};

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
                TlsStream stream(std::move(socket), tls->native_handle());
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
            if (auto hec = co_await stream.handshake()) co_return;
        }
        co_await serve(stream, peer, state);
        if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
            if (!stopping) {
                lowest.expires_after(std::chrono::seconds(2));
                co_await stream.shutdown();
            }
        }
        // Lingering close: stop sending, then discard what the peer still sends for a moment, so
        // an error response is not destroyed by a reset when unread request bytes remain.
        beast::error_code ignored;
        lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
        if (!stopping) {
            lowest.expires_after(std::chrono::milliseconds(500));
            // On the heap, only while draining: an array here would sit in the coroutine frame,
            // and so in every open connection, for the connection's whole life.
            std::vector<char> sink(4096);
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

common::Result<std::unique_ptr<Server>, std::string> Server::create(asio::any_io_executor executor,
                                                                    ServerOptions options, Handler& handler) {
    auto impl = std::make_shared<Impl>(executor, std::move(options), handler);
    beast::error_code ec;
    auto address = asio::ip::make_address(impl->options.address, ec);
    if (ec) return common::unexpected("invalid bind address \"" + impl->options.address + "\"");

    if (impl->options.tls) {
        try {
            asio::ssl::context ctx(asio::ssl::context::tls_server);
            ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                            asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                            asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
            SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
            // OpenSSL's 17 KiB read and write record buffers only while a record passes, not for
            // every open connection.
            SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
            // TLS 1.2: forward secrecy and AEAD only (no CBC, no SHA-1 MACs). TLS 1.3 suites are
            // all of that kind and keep OpenSSL's defaults.
            if (SSL_CTX_set_cipher_list(ctx.native_handle(), kTls12Ciphers) != 1) {
                throw std::runtime_error("the TLS 1.2 cipher list is not supported by this OpenSSL");
            }
            ctx.use_certificate_chain_file(impl->options.tls->cert_path);
            ctx.use_private_key_file(impl->options.tls->key_path, asio::ssl::context::pem);
            impl->tls.emplace(std::move(ctx));
        } catch (const std::exception& e) {
            return common::unexpected("cannot load the TLS certificate or key (" +
                                      impl->options.tls->cert_path + ", " + impl->options.tls->key_path +
                                      "): " + e.what());
        }
    }

    tcp::endpoint endpoint(address, impl->options.port);
    impl->acceptor.open(endpoint.protocol(), ec);
    if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) impl->acceptor.bind(endpoint, ec);
    if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        return common::unexpected("cannot listen on " + impl->options.address + ":" +
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

}  // namespace nebula::common::http
