#include "common/http_server.hpp"

#include "common/http2.hpp"

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

#include <nghttp2/nghttp2.h>
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
/// cancellation stay those of the tcp_stream underneath. One read and one write may be under way
/// at the same time (HTTP/2 reads while it writes).
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
    SSL* native_handle() { return ssl_; }

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
                    if (io) s.sent(s.read_out_);
                    return self.complete(result, bytes);
                case Step::flushed:
                    s.sent(s.read_out_);
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
                s.read_out_.swap(s.out_);
                return asio::async_write(s.next_, asio::buffer(s.read_out_), std::move(self));
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
                s.sent(s.write_out_);
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
            s.write_out_.swap(s.out_);
            asio::async_write(s.next_, asio::buffer(s.write_out_), std::move(self));
        }
    };

    void received(std::size_t n) {
        in_begin_ = 0;
        in_end_ = n;
    }

    void sent() { sent(out_); }
    static void sent(std::string& buffer) {
        if (buffer.capacity() > kKeptOutput) {
            std::string().swap(buffer);
        } else {
            buffer.clear();
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
    std::string out_;  ///< ciphertext OpenSSL produced, not yet sent
    // Ciphertext being sent by a read (an alert, a key update's answer) and by a write: apart, so
    // an HTTP/2 connection may read and write at the same time.
    std::string read_out_;
    std::string write_out_;
    std::string gathered_;  ///< plaintext of several buffers, gathered for one record
    std::size_t in_begin_ = 0;
    std::size_t in_end_ = 0;
    std::array<char, 4096> in_;  ///< ciphertext received, not yet read by OpenSSL
};

/// ALPN: the server's pick from the client's offer (length-prefixed names): "h2" when `h2` and
/// offered, else "http/1.1" when offered, else no protocol.
int select_protocol(const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                    bool h2) {
    const unsigned char* http1 = nullptr;
    for (unsigned i = 0; i < inlen;) {
        const unsigned length = in[i];
        if (i + 1 + length > inlen) break;
        const std::string_view name(reinterpret_cast<const char*>(in + i + 1), length);
        if (h2 && name == "h2") {
            *out = in + i + 1;
            *outlen = static_cast<unsigned char>(length);
            return SSL_TLSEXT_ERR_OK;
        }
        if (name == "http/1.1") http1 = in + i;
        i += 1 + length;
    }
    if (http1 == nullptr) return SSL_TLSEXT_ERR_NOACK;
    *out = http1 + 1;
    *outlen = http1[0];
    return SSL_TLSEXT_ERR_OK;
}

int select_h2(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
              void*) {
    return select_protocol(out, outlen, in, inlen, true);
}

int select_http1(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                 unsigned inlen, void*) {
    return select_protocol(out, outlen, in, inlen, false);
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
    Http2Faults faults;
    Http2Stats h2stats;

    /// One HTTP/2 connection: an nghttp2 server session over the TLS stream. The connection's
    /// coroutine reads and feeds the session; each complete request runs its handler in a
    /// coroutine of its own, and the answer goes out when the handler returns, holding only its
    /// stream; one coroutine at a time writes what the session has to send.
    struct H2Session : std::enable_shared_from_this<H2Session> {
        struct Stream {
            Request request;
            bool too_large = false;
            std::string body;  ///< the response body being sent
            std::size_t offset = 0;
        };

        std::shared_ptr<Impl> server;
        TlsStream* stream = nullptr;  ///< null once the connection is over
        Peer peer;
        Connection* state = nullptr;
        nghttp2_session* session = nullptr;
        std::map<std::int32_t, Stream> streams;
        std::size_t handling = 0;       ///< handlers still running
        std::int32_t goaway_last = -1;  ///< after a GOAWAY: the last stream processed
        bool writing = false;
        bool closed = false;
        std::string out;
        std::shared_ptr<asio::steady_timer> writer_done;

        ~H2Session() {
            if (session != nullptr) nghttp2_session_del(session);
        }

        static H2Session& self(void* user) { return *static_cast<H2Session*>(user); }

        static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
            if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
                auto& h = self(user);
                h.streams[frame->hd.stream_id];
                if (h.state != nullptr) h.state->idle = false;
            }
            return 0;
        }

        static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                             std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                             std::uint8_t, void* user) {
            auto& h = self(user);
            const auto it = h.streams.find(frame->hd.stream_id);
            if (it == h.streams.end()) return 0;
            std::string key(reinterpret_cast<const char*>(name), namelen);
            std::string val(reinterpret_cast<const char*>(value), valuelen);
            auto& request = it->second.request;
            if (key == ":method") {
                request.method = std::move(val);
            } else if (key == ":path") {
                request.target = std::move(val);
            } else if (key == ":authority") {
                request.headers.add("host", std::move(val));
            } else if (!key.empty() && key[0] != ':') {
                request.headers.add(std::move(key), std::move(val));
            }
            return 0;
        }

        static int on_data(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                           std::size_t len, void* user) {
            auto& h = self(user);
            const auto it = h.streams.find(id);
            if (it == h.streams.end()) return 0;
            auto& entry = it->second;
            if (entry.too_large || entry.request.body.size() + len > h.server->options.max_body_bytes) {
                entry.too_large = true;
                std::string().swap(entry.request.body);
                return 0;
            }
            entry.request.body.append(reinterpret_cast<const char*>(data), len);
            return 0;
        }

        static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
            auto& h = self(user);
            if (frame->hd.type == NGHTTP2_RST_STREAM) ++h.server->h2stats.resets_received;
            if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
                (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
                h.dispatch(frame->hd.stream_id);
            }
            return 0;
        }

        static int on_stream_close(nghttp2_session*, std::int32_t id, std::uint32_t, void* user) {
            auto& h = self(user);
            h.streams.erase(id);
            if (h.state != nullptr) h.state->idle = h.streams.empty();
            return 0;
        }

        /// A complete request: to the handler, unless a fault or a limit says otherwise.
        void dispatch(std::int32_t id) {
            const auto it = streams.find(id);
            if (it == streams.end()) return;
            if (goaway_last >= 0 && id > goaway_last) return;  // after our GOAWAY: never processed
            auto& faults = server->faults;
            if (faults.refuse_streams > 0) {
                --faults.refuse_streams;
                nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
                return;
            }
            Request request = std::move(it->second.request);
            if (it->second.too_large) {
                respond(id, plain_error(413, "payload_too_large", "request body too large"));
                return;
            }
            if (auto early = server->handler.screen(request, peer)) {
                respond(id, std::move(*early));
                return;
            }
            ++server->h2stats.streams;
            if (faults.goaway_after > 0 && --faults.goaway_after == 0) {
                goaway_last = id;
                nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR, nullptr, 0);
                // Requests after this one already under way are never processed.
                for (auto& [other, entry] : streams) {
                    if (other > id)
                        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, other, NGHTTP2_REFUSED_STREAM);
                }
            }
            ++handling;
            asio::co_spawn(server->executor, handle(shared_from_this(), id, std::move(request)),
                           asio::detached);
        }

        static asio::awaitable<void> handle(std::shared_ptr<H2Session> self, std::int32_t id,
                                            Request request) {
            Response response;
            try {
                response = co_await self->server->handler.handle(std::move(request), self->peer);
            } catch (const std::exception& e) {
                spdlog::error("http server: handler failed for a request from {}: {}",
                              self->peer.address.to_string(), e.what());
                response = plain_error(500, "internal", "internal error");
            }
            --self->handling;
            if (self->closed) co_return;
            if (response.abandon) {  // an answer lost on the way: the connection goes
                self->close();
                co_return;
            }
            const bool close = response.close;
            self->respond(id, std::move(response));
            if (close && self->goaway_last < 0) {
                self->goaway_last = nghttp2_session_get_last_proc_stream_id(self->session);
                nghttp2_submit_goaway(self->session, NGHTTP2_FLAG_NONE, self->goaway_last, NGHTTP2_NO_ERROR,
                                      nullptr, 0);
                self->flush();
            }
        }

        void respond(std::int32_t id, Response response) {
            const auto it = streams.find(id);
            if (closed || it == streams.end()) return;
            h2::Fields fields;
            fields.emplace_back(":status", std::to_string(response.status));
            for (const auto& [name, value] : response.headers.fields()) {
                std::string key = h2::lower(name);
                if (!h2::connection_specific(key)) fields.emplace_back(std::move(key), value);
            }
            if (response.status != 204 && response.status != 304) {
                fields.emplace_back("content-length", std::to_string(response.body.size()));
            }
            const std::vector<nghttp2_nv> nva = h2::name_values(fields);
            auto& entry = it->second;
            entry.body = std::move(response.body);
            entry.offset = 0;
            nghttp2_data_provider provider{};
            provider.source.ptr = &entry;
            provider.read_callback = &h2::read_body<Stream>;
            nghttp2_submit_response(session, id, nva.data(), nva.size(),
                                    entry.body.empty() ? nullptr : &provider);
            flush();
        }

        void flush() {
            if (writing || closed) return;
            if (nghttp2_session_want_write(session) == 0) {
                if (done()) close();
                return;
            }
            writing = true;
            asio::co_spawn(server->executor, write_loop(shared_from_this()), asio::detached);
        }

        /// Nothing more to read or write: both sides said GOAWAY, or ours did and its streams are answered.
        bool done() const {
            if (nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0)
                return true;
            if (nghttp2_session_want_write(session) != 0) return false;
            if (server->stopping) return streams.empty() && handling == 0;
            if (goaway_last < 0) return false;
            for (const auto& [id, entry] : streams) {
                if (id <= goaway_last) return false;
            }
            return handling == 0;
        }

        static asio::awaitable<void> write_loop(std::shared_ptr<H2Session> self) {
            auto& h = *self;
            while (!h.closed) {
                h.out.clear();
                while (h.out.size() < 64 * 1024) {
                    const std::uint8_t* data = nullptr;
                    const ssize_t n = nghttp2_session_mem_send(h.session, &data);
                    if (n < 0) {
                        h.close();
                        break;
                    }
                    if (n == 0) break;
                    h.out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
                }
                if (h.out.empty() || h.closed) break;
                h.stream->next_layer().expires_after(h.server->options.write_timeout);
                auto [ec, written] = co_await asio::async_write(*h.stream, asio::buffer(h.out), kUseTuple);
                if (ec) {
                    h.close();
                    break;
                }
                if (!h.closed) h.stream->next_layer().expires_after(h.server->options.idle_timeout);
            }
            h.writing = false;
            if (h.writer_done) h.writer_done->cancel();
            if (!h.closed && h.done()) h.close();
        }

        void close() {
            if (closed) return;
            closed = true;
            beast::error_code ignored;
            if (stream != nullptr)
                stream->next_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
            if (stream != nullptr) stream->next_layer().cancel();
        }
    };

    /// Serves an HTTP/2 connection until it closes.
    asio::awaitable<void> serve_h2(TlsStream& stream, const Peer& peer, Connection& state) {
        auto h = std::make_shared<H2Session>();
        h->server = shared_from_this();
        h->stream = &stream;
        h->peer = peer;
        h->state = &state;
        nghttp2_session_callbacks* callbacks = nullptr;
        if (nghttp2_session_callbacks_new(&callbacks) != 0) co_return;
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &H2Session::on_begin_headers);
        nghttp2_session_callbacks_set_on_header_callback(callbacks, &H2Session::on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &H2Session::on_data);
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &H2Session::on_frame_recv);
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &H2Session::on_stream_close);
        const int rv = nghttp2_session_server_new(&h->session, callbacks, h.get());
        nghttp2_session_callbacks_del(callbacks);
        if (rv != 0) co_return;
        ++h2stats.connections;
        const nghttp2_settings_entry settings[] = {
            {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options.http2_max_streams}};
        nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, settings, std::size(settings));
        h->flush();
        std::array<std::uint8_t, 16 * 1024> in{};
        while (!h->closed && !stopping) {
            if (!h->writing) stream.next_layer().expires_after(options.idle_timeout);
            auto [ec, n] = co_await stream.async_read_some(asio::buffer(in), kUseTuple);
            if (ec || h->closed) break;
            if (nghttp2_session_mem_recv(h->session, in.data(), n) < 0) break;
            h->flush();
        }
        h->close();
        if (h->writing) {  // the stream lives in this frame: the writer finishes first
            h->writer_done =
                std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
            co_await h->writer_done->async_wait(kUseTuple);
        }
        h->stream = nullptr;
        h->state = nullptr;
    }

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
            const unsigned char* alpn = nullptr;
            unsigned alpn_length = 0;
            SSL_get0_alpn_selected(stream.native_handle(), &alpn, &alpn_length);
            if (alpn_length == 2 && alpn[0] == 'h' && alpn[1] == '2') {
                co_await serve_h2(stream, peer, state);
                beast::error_code ignored;
                lowest.socket().close(ignored);
                co_return;
            }
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
            if (impl->options.alpn == ServerOptions::Alpn::h2) {
                SSL_CTX_set_alpn_select_cb(ctx.native_handle(), &select_h2, nullptr);
            } else if (impl->options.alpn == ServerOptions::Alpn::http1) {
                SSL_CTX_set_alpn_select_cb(ctx.native_handle(), &select_http1, nullptr);
            }
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

void Server::set_http2_faults(Http2Faults faults) { impl_->faults = faults; }

Http2Stats Server::http2_stats() const { return impl_->h2stats; }

void Server::drop_connections() {
    for (auto& c : impl_->connections) {
        if (c.stream == nullptr) continue;
        beast::error_code ignored;
        c.stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
        c.stream->cancel();
    }
}

}  // namespace nebula::common::http
