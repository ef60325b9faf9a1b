#include "fakes/discord/fake_discord_gateway.hpp"

#include <deque>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "common/crypto.hpp"

namespace nebula::fakes::discord {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using nlohmann::json;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<TlsStream>;
}  // namespace

struct FakeDiscordGateway::Impl : std::enable_shared_from_this<Impl> {
    struct Conn {
        int index = 0;
        std::variant<PlainWs, TlsWs> ws;  // ws:// or wss://
        std::deque<std::variant<std::string, std::uint16_t>> out;
        asio::steady_timer wake;
        bool live = false;  // identified or resumed: receives dispatches
        bool closed = false;
        template <class Stream>
        Conn(Stream stream, const asio::any_io_executor& ex)
            : ws(std::in_place_type<websocket::stream<Stream>>, std::move(stream)),
              wake(ex, std::chrono::steady_clock::time_point::max()) {}
        /// Calls `f` with the websocket stream, whichever transport it runs on.
        template <class F>
        decltype(auto) visit(F&& f) {
            return std::visit(std::forward<F>(f), ws);
        }
        tcp::socket& socket() {
            return visit([](auto& s) -> tcp::socket& { return beast::get_lowest_layer(s).socket(); });
        }
    };
    struct Stored {
        std::int64_t seq;
        std::string name;
        json data;
    };
    struct IdentifyScript {
        IdentifyReply reply;
        std::uint16_t code;
        int times;
    };

    asio::any_io_executor executor;
    FakeGatewayOptions options;
    tcp::acceptor acceptor;
    std::optional<asio::ssl::context> tls;
    std::size_t tls_failures = 0;
    std::vector<GatewayFrame> frames;
    std::vector<GatewayConnectionInfo> connections;
    std::vector<std::shared_ptr<Conn>> conns;
    std::shared_ptr<Conn> current;
    std::vector<std::shared_ptr<asio::steady_timer>> waiters;
    std::string session_id;
    bool session_valid = false;
    std::int64_t seq = 0;
    std::vector<Stored> events;
    bool acks = true;
    std::deque<IdentifyScript> identify_scripts;
    int refuse = 0;
    bool stopped = false;

    Impl(asio::any_io_executor ex, FakeGatewayOptions opts)
        : executor(ex), options(std::move(opts)), acceptor(ex) {}

    std::string url() const {
        return std::string(tls ? "wss" : "ws") +
               "://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
    }

    void notify() {
        for (auto& w : waiters) w->cancel();
        waiters.clear();
    }

    void send(const std::shared_ptr<Conn>& conn, std::variant<std::string, std::uint16_t> item) {
        if (!conn || conn->closed) return;
        conn->out.push_back(std::move(item));
        conn->wake.cancel();
    }

    void send_dispatch(const std::shared_ptr<Conn>& conn, const Stored& e) {
        send(conn, json{{"op", 0}, {"s", e.seq}, {"t", e.name}, {"d", e.data}}.dump());
    }

    Stored record_event(std::string name, json data) {
        events.push_back(Stored{++seq, std::move(name), std::move(data)});
        return events.back();
    }

    asio::awaitable<void> accept_loop() {
        auto self = shared_from_this();
        while (!stopped) {
            auto [ec, socket] = co_await acceptor.async_accept(kTuple);
            if (ec) break;
            asio::co_spawn(
                executor, [self, s = std::move(socket)]() mutable { return self->serve(std::move(s)); },
                asio::detached);
        }
    }

    asio::awaitable<void> writer(std::shared_ptr<Conn> conn) {
        auto self = shared_from_this();
        while (!conn->closed) {
            if (conn->out.empty()) {
                conn->wake.expires_at(std::chrono::steady_clock::time_point::max());
                co_await conn->wake.async_wait(kTuple);
                continue;
            }
            auto item = std::move(conn->out.front());
            conn->out.pop_front();
            if (auto* text = std::get_if<std::string>(&item)) {
                auto [ec, n] = co_await conn->visit([&](auto& ws) {
                    ws.text(true);
                    return ws.async_write(asio::buffer(*text), kTuple);
                });
                (void)n;
                if (ec) break;
            } else {
                const websocket::close_reason reason(std::get<std::uint16_t>(item));
                co_await conn->visit([&](auto& ws) { return ws.async_close(reason, kTuple); });
                break;
            }
        }
    }

    asio::awaitable<void> serve(tcp::socket socket) {
        auto self = shared_from_this();
        if (!tls) {
            co_await upgrade(beast::tcp_stream(std::move(socket)));
            co_return;
        }
        TlsStream stream(std::move(socket), *tls);
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
        auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
        if (hec) {
            // The client refused the certificate (or spoke no TLS): nothing else happens here.
            ++tls_failures;
            notify();
            co_return;
        }
        co_await upgrade(std::move(stream));
    }

    /// The HTTP/1.1 websocket upgrade on a connected (and, over TLS, handshaken) stream, then
    /// the session's frames until the connection ends.
    template <class Stream>
    asio::awaitable<void> upgrade(Stream stream) {
        auto self = shared_from_this();
        beast::flat_buffer buffer;
        beast::http::request<beast::http::string_body> request;
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
        auto [rec, rn] = co_await beast::http::async_read(stream, buffer, request, kTuple);
        (void)rn;
        if (rec) co_return;
        if (refuse > 0 || !websocket::is_upgrade(request)) {
            --refuse;
            beast::http::response<beast::http::string_body> response{beast::http::status::service_unavailable,
                                                                     11};
            response.body() = "unavailable";
            response.prepare_payload();
            co_await beast::http::async_write(stream, response, kTuple);
            beast::error_code ignored;
            beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
            co_return;
        }
        beast::get_lowest_layer(stream).expires_never();
        auto conn = std::make_shared<Conn>(std::move(stream), executor);
        auto [aec] = co_await conn->visit([&](auto& ws) {
            ws.read_message_max(1 << 20);
            return ws.async_accept(request, kTuple);
        });
        if (aec) co_return;
        conn->index = static_cast<int>(connections.size());
        connections.push_back(
            GatewayConnectionInfo{std::string(request.target()), std::chrono::steady_clock::now()});
        conns.push_back(conn);
        current = conn;
        asio::co_spawn(
            executor, [self, conn] { return self->writer(conn); }, asio::detached);
        send(conn,
             json{{"op", 10}, {"d", {{"heartbeat_interval", options.heartbeat_interval.count()}}}}.dump());
        notify();

        beast::flat_buffer in;
        while (true) {
            in.clear();
            auto [ec, n] = co_await conn->visit([&](auto& ws) { return ws.async_read(in, kTuple); });
            (void)n;
            if (ec) {
                if (ec == websocket::error::closed)
                    connections[conn->index].client_close_code =
                        conn->visit([](auto& ws) { return ws.reason().code; });
                break;
            }
            const json payload = json::parse(beast::buffers_to_string(in.data()), nullptr, false);
            GatewayFrame frame;
            frame.connection = conn->index;
            frame.payload = payload;
            frame.at = std::chrono::steady_clock::now();
            if (payload.is_object() && payload.contains("op") && payload["op"].is_number_integer()) {
                frame.op = payload["op"].get<int>();
            }
            frames.push_back(frame);
            handle(conn, frame.op, payload.is_object() && payload.contains("d") ? payload["d"] : json());
            notify();
        }
        conn->closed = true;
        conn->wake.cancel();
        connections[conn->index].open = false;
        if (current == conn) current.reset();
        notify();
    }

    void handle(const std::shared_ptr<Conn>& conn, int op, const json& d) {
        switch (op) {
            case 1:
                if (acks) send(conn, json{{"op", 11}}.dump());
                break;
            case 2: {
                if (!d.is_object() || d.value("token", "") != options.token) {
                    send(conn, std::uint16_t{4004});
                    return;
                }
                if (!identify_scripts.empty()) {
                    IdentifyScript& script = identify_scripts.front();
                    const IdentifyScript copy = script;
                    if (--script.times <= 0) identify_scripts.pop_front();
                    if (copy.reply == IdentifyReply::close) send(conn, copy.code);
                    if (copy.reply != IdentifyReply::ready) return;
                }
                session_id = common::random_hex(16);
                session_valid = true;
                seq = 0;
                events.clear();
                conn->live = true;
                const std::string resume = url() + "/resume";
                send_dispatch(
                    conn, record_event("READY", json{{"v", 10},
                                                     {"session_id", session_id},
                                                     {"resume_gateway_url", resume},
                                                     {"user",
                                                      {{"id", std::to_string(options.bot_user_id)},
                                                       {"username", "nebula"},
                                                       {"bot", true}}},
                                                     {"guilds", json::array()},
                                                     {"application",
                                                      {{"id", std::to_string(options.application_id)}}}}));
                break;
            }
            case 6: {
                const bool ok = d.is_object() && session_valid && d.value("session_id", "") == session_id &&
                                d.value("token", "") == options.token && d.contains("seq") &&
                                d["seq"].is_number_integer();
                if (!ok) {
                    send(conn, json{{"op", 9}, {"d", false}}.dump());
                    return;
                }
                const std::int64_t from = d["seq"].get<std::int64_t>();
                for (const auto& e : events) {
                    if (e.seq > from) send_dispatch(conn, e);
                }
                conn->live = true;
                send_dispatch(conn, record_event("RESUMED", json::object()));
                break;
            }
            default:
                break;
        }
    }
};

common::Result<std::unique_ptr<FakeDiscordGateway>, std::string> FakeDiscordGateway::create(
    asio::any_io_executor executor, FakeGatewayOptions options) {
    auto impl = std::make_shared<Impl>(executor, std::move(options));
    if (impl->options.tls) {
        try {
            asio::ssl::context ctx(asio::ssl::context::tls_server);
            SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
            ctx.use_certificate_chain_file(impl->options.tls->cert_path);
            ctx.use_private_key_file(impl->options.tls->key_path, asio::ssl::context::pem);
            impl->tls.emplace(std::move(ctx));
        } catch (const std::exception& e) {
            return common::unexpected("fake gateway: cannot load the TLS certificate or key (" +
                                      impl->options.tls->cert_path + ", " + impl->options.tls->key_path +
                                      "): " + e.what());
        }
    }
    beast::error_code ec;
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), impl->options.port);
    impl->acceptor.open(endpoint.protocol(), ec);
    if (!ec) impl->acceptor.bind(endpoint, ec);
    if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return common::unexpected("fake gateway listen: " + ec.message());
    asio::co_spawn(
        executor, [impl] { return impl->accept_loop(); }, asio::detached);
    return std::unique_ptr<FakeDiscordGateway>(new FakeDiscordGateway(std::move(impl)));
}

FakeDiscordGateway::FakeDiscordGateway(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
FakeDiscordGateway::~FakeDiscordGateway() { stop(); }

std::string FakeDiscordGateway::url() const { return impl_->url(); }
std::uint16_t FakeDiscordGateway::port() const { return impl_->acceptor.local_endpoint().port(); }

void FakeDiscordGateway::dispatch(std::string name, json data) {
    const auto stored = impl_->record_event(std::move(name), std::move(data));
    if (impl_->current && impl_->current->live) impl_->send_dispatch(impl_->current, stored);
}

void FakeDiscordGateway::send_reconnect() {
    impl_->send(impl_->current, json{{"op", 7}, {"d", nullptr}}.dump());
}
void FakeDiscordGateway::send_invalid_session(bool resumable) {
    if (!resumable) impl_->session_valid = false;
    impl_->send(impl_->current, json{{"op", 9}, {"d", resumable}}.dump());
}
void FakeDiscordGateway::request_heartbeat() {
    impl_->send(impl_->current, json{{"op", 1}, {"d", nullptr}}.dump());
}
void FakeDiscordGateway::close(std::uint16_t code) { impl_->send(impl_->current, code); }

void FakeDiscordGateway::drop() {
    if (!impl_->current) return;
    auto& socket = impl_->current->socket();
    beast::error_code ignored;
    socket.set_option(asio::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
}

void FakeDiscordGateway::set_acks(bool enabled) { impl_->acks = enabled; }
void FakeDiscordGateway::set_heartbeat_interval(std::chrono::milliseconds interval) {
    impl_->options.heartbeat_interval = interval;
}
void FakeDiscordGateway::on_identify(IdentifyReply reply, std::uint16_t close_code, int times) {
    impl_->identify_scripts.push_back(Impl::IdentifyScript{reply, close_code, times});
}
void FakeDiscordGateway::expire_session() { impl_->session_valid = false; }
void FakeDiscordGateway::refuse_connections(int times) { impl_->refuse = times; }

const std::vector<GatewayFrame>& FakeDiscordGateway::frames() const { return impl_->frames; }
std::vector<GatewayFrame> FakeDiscordGateway::frames_with_op(int op) const {
    std::vector<GatewayFrame> out;
    for (const auto& f : impl_->frames) {
        if (f.op == op) out.push_back(f);
    }
    return out;
}
const std::vector<GatewayConnectionInfo>& FakeDiscordGateway::connections() const {
    return impl_->connections;
}
std::string FakeDiscordGateway::session_id() const { return impl_->session_id; }
std::int64_t FakeDiscordGateway::seq() const { return impl_->seq; }
std::size_t FakeDiscordGateway::tls_failures() const { return impl_->tls_failures; }

asio::awaitable<bool> FakeDiscordGateway::wait_until(std::function<bool()> predicate,
                                                     std::chrono::milliseconds timeout) {
    auto impl = impl_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!predicate()) {
        if (std::chrono::steady_clock::now() >= deadline || impl->stopped) co_return false;
        auto timer = std::make_shared<asio::steady_timer>(impl->executor, deadline);
        impl->waiters.push_back(timer);
        co_await timer->async_wait(kTuple);
    }
    co_return true;
}

void FakeDiscordGateway::stop() {
    if (impl_->stopped) return;
    impl_->stopped = true;
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    for (auto& conn : impl_->conns) {
        conn->closed = true;
        conn->wake.cancel();
        conn->socket().close(ignored);
    }
    impl_->notify();
}

}  // namespace nebula::fakes::discord
