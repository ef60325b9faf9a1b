#include "discord/gateway_session.hpp"

#include <deque>
#include <random>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>

#include "common/http.hpp"
#include "discord/rest.hpp"

namespace nebula::discord {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using nlohmann::json;
using namespace asio::experimental::awaitable_operators;
using std::chrono::milliseconds;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string_view to_string(GatewaySessionState state) {
    switch (state) {
        case GatewaySessionState::idle:
            return "idle";
        case GatewaySessionState::connecting:
            return "connecting";
        case GatewaySessionState::identifying:
            return "identifying";
        case GatewaySessionState::resuming:
            return "resuming";
        case GatewaySessionState::connected:
            return "connected";
        case GatewaySessionState::waiting:
            return "waiting";
        case GatewaySessionState::stopped:
            return "stopped";
        case GatewaySessionState::fatal:
            return "fatal";
    }
    return "unknown";
}

namespace {

/// The privileged intents among `requested`, by the names the Developer Portal's Bot page gives
/// their switches; Discord's 4014 does not say which one is missing, so each requested one is named.
std::string privileged_intent_names(std::uint32_t requested) {
    struct Named {
        std::uint32_t bit;
        const char* name;
    };
    static constexpr Named kPrivileged[] = {{intents::kGuildPresences, "Presence Intent"},
                                            {intents::kGuildMembers, "Server Members Intent"},
                                            {intents::kMessageContent, "Message Content Intent"}};
    std::vector<std::string> names;
    for (const auto& p : kPrivileged) {
        if ((requested & p.bit) != 0) names.emplace_back(p.name);
    }
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
        out += names[i];
    }
    return out;
}

/// The fatal close codes: reconnecting cannot help and burns identifies.
std::optional<std::string> fatal_reason(int code, std::uint32_t requested_intents) {
    switch (code) {
        case 4004:
            return "authentication failed: the bot token is invalid; set a new DISCORD_TOKEN";
        case 4010:
            return "invalid shard sent in Identify";
        case 4011:
            return "sharding required: the bot is in too many guilds for one shard";
        case 4012:
            return "invalid gateway API version";
        case 4013:
            return "invalid intents in Identify";
        case 4014:
            if (const auto names = privileged_intent_names(requested_intents); !names.empty()) {
                return "disallowed intents: this bot asks for the privileged " + names +
                       "; switch on each of them on the Bot page of the Discord Developer Portal "
                       "(Privileged Gateway Intents)";
            }
            return "disallowed intents: the Discord Developer Portal does not allow the intents this bot "
                   "asks "
                   "for";
        default:
            return std::nullopt;
    }
}

/// A websocket over plain TCP or TLS, behind one interface so the session logic is written once.
class Socket {
  public:
    virtual ~Socket() = default;
    virtual asio::awaitable<std::pair<beast::error_code, std::string>> read() = 0;
    virtual asio::awaitable<beast::error_code> write(std::string text) = 0;
    /// Close handshake with `code`, bounded by `timeout`, then the TCP socket is closed.
    virtual asio::awaitable<void> close(std::uint16_t code, milliseconds timeout) = 0;
    /// Closes the TCP socket at once (no close frame): keeps the session resumable.
    virtual void drop() = 0;
    virtual int close_code() const = 0;
};

template <typename Stream>
class BeastSocket final : public Socket {
  public:
    template <typename... Args>
    explicit BeastSocket(Args&&... args) : ws_(std::forward<Args>(args)...) {}

    websocket::stream<Stream>& ws() { return ws_; }

    asio::awaitable<std::pair<beast::error_code, std::string>> read() override {
        buffer_.clear();
        auto [ec, n] = co_await ws_.async_read(buffer_, kTuple);
        (void)n;
        co_return std::pair{ec, beast::buffers_to_string(buffer_.data())};
    }

    asio::awaitable<beast::error_code> write(std::string text) override {
        ws_.text(true);
        auto [ec, n] = co_await ws_.async_write(asio::buffer(text), kTuple);
        (void)n;
        co_return ec;
    }

    asio::awaitable<void> close(std::uint16_t code, milliseconds timeout) override {
        if (ws_.is_open()) {
            asio::steady_timer guard(ws_.get_executor(), timeout);
            guard.async_wait([this](beast::error_code ec) {
                if (!ec) drop();
            });
            co_await ws_.async_close(websocket::close_reason(code), kTuple);
            guard.cancel();
        }
        drop();
    }

    void drop() override {
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().close(ignored);
    }

    int close_code() const override { return ws_.reason().code; }

  private:
    websocket::stream<Stream> ws_;
    beast::flat_buffer buffer_;
};

using PlainSocket = BeastSocket<beast::tcp_stream>;
using TlsSocket = BeastSocket<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace

struct GatewaySession::Impl : std::enable_shared_from_this<Impl> {
    enum class EndKind { transport, closed, reconnect, invalid_session, zombie, hello_timeout, stopped };
    struct End {
        EndKind kind = EndKind::transport;
        int code = 0;
        bool resumable = false;
        std::string detail;
    };

    /// One websocket connection's shared state between its read, heartbeat and write loops.
    struct Connection {
        Socket* socket = nullptr;
        asio::steady_timer wake;           // writer wakes when cancelled
        asio::steady_timer hello;          // heartbeat loop waits on it for Hello
        std::deque<std::string> priority;  // heartbeats ("" = build at send time), identify, resume
        std::deque<std::string> normal;
        std::deque<std::chrono::steady_clock::time_point> sent;
        milliseconds interval{0};
        bool got_hello = false;
        bool ack_outstanding = false;
        std::optional<End> end;
        explicit Connection(const asio::any_io_executor& ex)
            : wake(ex, std::chrono::steady_clock::time_point::max()),
              hello(ex, std::chrono::steady_clock::time_point::max()) {}
        void finish(End e) {
            if (!end) end = std::move(e);
        }
    };

    asio::any_io_executor executor;
    GatewaySessionOptions options;
    RestClient& rest;
    const common::Clock& clock;
    Handler handler;
    asio::any_io_executor handler_executor;
    asio::ssl::context tls{asio::ssl::context::tls_client};
    std::mt19937_64 random{std::random_device{}()};

    GatewaySessionStats stats;
    std::string gateway_url;
    std::string resume_url;
    int session_remaining = 0;
    milliseconds session_reset{0};
    std::optional<std::chrono::steady_clock::time_point> last_identify;
    int backoff_attempt = 0;
    int protocol_errors = 0;
    int failed_resume_connects = 0;
    bool stopped = false;
    std::uint16_t stop_code = 1000;
    std::shared_ptr<Connection> current;
    asio::steady_timer idle;

    Impl(asio::any_io_executor ex, GatewaySessionOptions opts, RestClient& r, const common::Clock& c,
         Handler h, asio::any_io_executor hex)
        : executor(ex),
          options(std::move(opts)),
          rest(r),
          clock(c),
          handler(std::move(h)),
          handler_executor(std::move(hex)),
          idle(ex) {}

    milliseconds uniform(milliseconds low, milliseconds high) {
        if (high <= low) return low;
        std::uniform_int_distribution<long long> pick(low.count(), high.count());
        return milliseconds(pick(random));
    }

    // Sleeps unless stop() interrupts; returns false when stopped.
    asio::awaitable<bool> sleep(milliseconds duration) {
        if (stopped) co_return false;
        if (duration.count() > 0) {
            idle.expires_after(duration);
            co_await idle.async_wait(kTuple);
        }
        co_return !stopped;
    }

    asio::awaitable<bool> backoff() {
        const long long ceiling = std::min<long long>(
            options.backoff_cap.count(), options.backoff_base.count() << std::min(backoff_attempt, 20));
        ++backoff_attempt;
        stats.state = GatewaySessionState::waiting;
        co_return co_await sleep(uniform(milliseconds(0), milliseconds(ceiling)));
    }

    void clear_session() {
        stats.session_id.clear();
        stats.seq.reset();
        resume_url.clear();
    }

    // GET /gateway/bot: the URL (unless overridden) and the session start budget.
    asio::awaitable<std::optional<GatewaySessionError>> discover() {
        while (!stopped) {
            auto info = co_await rest.get_gateway_bot();
            if (info) {
                if (options.url_override.empty()) gateway_url = info->url;
                session_remaining = info->session_start_remaining;
                session_reset = info->session_start_reset_after;
                co_return std::nullopt;
            }
            if (info.error().code == RestErrorCode::unauthorized) {
                co_return GatewaySessionError{0, "the bot token was rejected by GET /gateway/bot"};
            }
            spdlog::warn("discord gateway: GET /gateway/bot failed ({}); retrying", info.error().describe());
            if (!co_await backoff()) break;
        }
        co_return std::nullopt;
    }

    // Never identify without budget, and never faster than the spacing.
    asio::awaitable<std::optional<GatewaySessionError>> identify_budget() {
        while (!stopped && session_remaining <= 0) {
            spdlog::warn("discord gateway: no session starts left; waiting {} ms for the budget to reset",
                         session_reset.count());
            stats.state = GatewaySessionState::waiting;
            if (!co_await sleep(std::max(session_reset, milliseconds(1)))) co_return std::nullopt;
            if (auto fatal = co_await discover()) co_return fatal;
        }
        if (last_identify) {
            const auto ready = *last_identify + options.identify_spacing;
            const auto now = clock.steady_now();
            if (ready > now) co_await sleep(std::chrono::duration_cast<milliseconds>(ready - now));
        }
        co_return std::nullopt;
    }

    asio::awaitable<std::variant<std::unique_ptr<Socket>, std::string>> connect(const std::string& url) {
        std::string as_http = url;
        if (as_http.rfind("wss://", 0) == 0)
            as_http = "https://" + as_http.substr(6);
        else if (as_http.rfind("ws://", 0) == 0)
            as_http = "http://" + as_http.substr(5);
        else
            co_return std::string("gateway URL must start with ws:// or wss://");
        auto parsed = common::http::Url::parse(as_http);
        if (!parsed) co_return "gateway URL " + parsed.error();
        const std::string target = parsed->path + "?v=10&encoding=json";

        tcp::resolver resolver(executor);
        asio::steady_timer deadline(executor, options.connect_timeout);
        deadline.async_wait([&resolver](beast::error_code ec) {
            if (!ec) resolver.cancel();
        });
        auto [rec, endpoints] =
            co_await resolver.async_resolve(parsed->host, std::to_string(parsed->port), kTuple);
        deadline.cancel();
        if (rec) co_return "resolve " + parsed->host + ": " + rec.message();

        auto configure = [&](auto& ws) {
            ws.read_message_max(options.max_message_bytes);
            ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
                req.set(beast::http::field::user_agent,
                        "DiscordBot (https://github.com/nebulalinks, " NEBULA_VERSION ")");
            }));
        };
        const std::string host_header = parsed->authority();
        if (!parsed->tls()) {
            auto socket = std::make_unique<PlainSocket>(executor);
            auto& ws = socket->ws();
            auto& stream = beast::get_lowest_layer(ws);
            stream.expires_after(options.connect_timeout);
            auto [cec, ep] = co_await stream.async_connect(endpoints, kTuple);
            (void)ep;
            if (cec) co_return "connect: " + cec.message();
            configure(ws);
            auto [hec] = co_await ws.async_handshake(host_header, target, kTuple);
            if (hec) co_return "websocket handshake: " + hec.message();
            stream.expires_never();
            co_return std::unique_ptr<Socket>(std::move(socket));
        }
        auto socket = std::make_unique<TlsSocket>(executor, tls);
        auto& ws = socket->ws();
        auto& stream = beast::get_lowest_layer(ws);
        stream.expires_after(options.connect_timeout);
        auto [cec, ep] = co_await stream.async_connect(endpoints, kTuple);
        (void)ep;
        if (cec) co_return "connect: " + cec.message();
        if (!SSL_set_tlsext_host_name(ws.next_layer().native_handle(), parsed->host.c_str())) {
            co_return std::string("TLS: cannot set SNI");
        }
        ws.next_layer().set_verify_callback(asio::ssl::host_name_verification(parsed->host));
        auto [tec] = co_await ws.next_layer().async_handshake(asio::ssl::stream_base::client, kTuple);
        if (tec) co_return "TLS handshake: " + tec.message();
        configure(ws);
        auto [hec] = co_await ws.async_handshake(host_header, target, kTuple);
        if (hec) co_return "websocket handshake: " + hec.message();
        stream.expires_never();
        co_return std::unique_ptr<Socket>(std::move(socket));
    }

    void enqueue(Connection& conn, std::string payload, bool priority) {
        (priority ? conn.priority : conn.normal).push_back(std::move(payload));
        conn.wake.cancel();
    }

    json heartbeat_payload() const {
        return json{{"op", 1}, {"d", stats.seq ? json(*stats.seq) : json(nullptr)}};
    }

    asio::awaitable<void> read_loop(std::shared_ptr<Connection> conn, bool resume) {
        while (!conn->end) {
            auto [ec, text] = co_await conn->socket->read();
            if (ec) {
                if (ec == websocket::error::closed) {
                    conn->finish(
                        End{EndKind::closed, conn->socket->close_code(), false, "closed by Discord"});
                } else {
                    conn->finish(End{EndKind::transport, 0, false, ec.message()});
                }
                break;
            }
            json payload = json::parse(text, nullptr, false);
            if (!payload.is_object() || !payload.contains("op") || !payload["op"].is_number_integer()) {
                spdlog::warn("discord gateway: ignoring a malformed payload ({} bytes)", text.size());
                continue;
            }
            const int op = payload["op"].get<int>();
            const json& d = payload.contains("d") ? payload["d"] : json();
            switch (op) {
                case 10: {
                    long long interval = 0;
                    if (d.is_object() && d.contains("heartbeat_interval") &&
                        d["heartbeat_interval"].is_number()) {
                        interval = d["heartbeat_interval"].get<long long>();
                    }
                    if (interval <= 0) {
                        conn->finish(End{EndKind::transport, 0, false, "Hello without a heartbeat interval"});
                        conn->socket->drop();
                        co_return;
                    }
                    conn->interval = milliseconds(interval);
                    conn->got_hello = true;
                    conn->hello.cancel();
                    if (resume) {
                        stats.state = GatewaySessionState::resuming;
                        ++stats.resumes;
                        enqueue(*conn,
                                json{{"op", 6},
                                     {"d",
                                      {{"token", options.token},
                                       {"session_id", stats.session_id},
                                       {"seq", *stats.seq}}}}
                                    .dump(),
                                true);
                    } else {
                        stats.state = GatewaySessionState::identifying;
                        ++stats.identifies;
                        --session_remaining;
                        enqueue(*conn,
                                json{{"op", 2},
                                     {"d",
                                      {{"token", options.token},
                                       {"intents", options.intents},
                                       {"properties",
                                        {{"os", "linux"},
                                         {"browser", "nebulalinks"},
                                         {"device", "nebulalinks"}}}}}}
                                    .dump(),
                                true);
                    }
                    break;
                }
                case 11:
                    conn->ack_outstanding = false;
                    ++stats.heartbeat_acks;
                    break;
                case 1:
                    enqueue(*conn, "", true);
                    break;
                case 7:
                    conn->finish(End{EndKind::reconnect, 0, true, "op 7 reconnect"});
                    co_return;
                case 9:
                    conn->finish(End{EndKind::invalid_session, 0, d.is_boolean() && d.get<bool>(),
                                     "op 9 invalid session"});
                    co_return;
                case 0:
                    dispatch(payload);
                    break;
                default:
                    break;
            }
        }
    }

    void dispatch(const json& payload) {
        // The sequence is stored before handlers run: a failing handler cannot lose it.
        if (payload.contains("s") && payload["s"].is_number_integer())
            stats.seq = payload["s"].get<std::int64_t>();
        if (!payload.contains("t") || !payload["t"].is_string()) return;
        ++stats.dispatches;
        Event event = make_event(payload["t"].get<std::string>(), stats.seq.value_or(0),
                                 payload.contains("d") ? payload["d"] : json());
        if (event.error) {
            spdlog::warn("discord gateway: {} did not parse: {}", event.name, event.error->describe());
        }
        if (const auto* ready = std::get_if<Ready>(&event.typed)) {
            stats.session_id = ready->session_id;
            resume_url = ready->resume_gateway_url;
            stats.state = GatewaySessionState::connected;
            backoff_attempt = 0;
            failed_resume_connects = 0;
            protocol_errors = 0;
            spdlog::info("discord gateway: ready as {} ({} guilds)", ready->user.username,
                         ready->guilds.size());
        } else if (event.name == "RESUMED") {
            stats.state = GatewaySessionState::connected;
            backoff_attempt = 0;
            failed_resume_connects = 0;
            spdlog::info("discord gateway: resumed at seq {}", stats.seq.value_or(0));
        }
        asio::post(handler_executor, [handler = handler, event = std::move(event)] { handler(event); });
    }

    asio::awaitable<void> heartbeat_loop(std::shared_ptr<Connection> conn) {
        if (!conn->got_hello) {
            conn->hello.expires_after(options.hello_timeout);
            co_await conn->hello.async_wait(kTuple);
            if (conn->end) co_return;
            if (!conn->got_hello) {
                conn->finish(End{EndKind::hello_timeout, 0, false, "no Hello"});
                conn->socket->drop();
                co_return;
            }
        }
        asio::steady_timer timer(executor);
        // The first beat is jittered so a fleet of reconnecting clients does not beat in step.
        timer.expires_after(uniform(milliseconds(0), conn->interval));
        while (!conn->end) {
            auto [ec] = co_await timer.async_wait(kTuple);
            if (ec || conn->end) co_return;
            if (conn->ack_outstanding) {
                ++stats.zombies;
                spdlog::warn("discord gateway: no heartbeat ACK within {} ms; dropping the zombie connection",
                             conn->interval.count());
                conn->finish(End{EndKind::zombie, 0, true, "zombie connection"});
                conn->socket->drop();
                co_return;
            }
            conn->ack_outstanding = true;
            enqueue(*conn, "", true);
            timer.expires_after(conn->interval);
        }
    }

    asio::awaitable<void> write_loop(std::shared_ptr<Connection> conn) {
        while (!conn->end) {
            if (stopped) {
                conn->finish(End{EndKind::stopped, stop_code, stop_code != 1000, "stopped"});
                co_await conn->socket->close(stop_code, options.close_timeout);
                co_return;
            }
            if (conn->priority.empty() && conn->normal.empty()) {
                conn->wake.expires_at(std::chrono::steady_clock::time_point::max());
                co_await conn->wake.async_wait(kTuple);
                continue;
            }
            const auto now = clock.steady_now();
            while (!conn->sent.empty() && conn->sent.front() + options.send_window <= now)
                conn->sent.pop_front();
            const bool priority = !conn->priority.empty();
            const std::size_t limit = static_cast<std::size_t>(
                priority ? options.send_limit : std::max(1, options.send_limit - options.heartbeat_reserve));
            if (conn->sent.size() >= limit) {
                // Wait for the oldest send in the window to age out (or for a priority payload).
                conn->wake.expires_after(
                    std::chrono::duration_cast<milliseconds>(conn->sent[conn->sent.size() - limit] +
                                                             options.send_window - now) +
                    milliseconds(1));
                co_await conn->wake.async_wait(kTuple);
                continue;
            }
            std::string text = priority ? std::move(conn->priority.front()) : std::move(conn->normal.front());
            (priority ? conn->priority : conn->normal).pop_front();
            const bool is_identify = text.ends_with(",\"op\":2}");
            if (text.empty()) {
                text = heartbeat_payload().dump();
                ++stats.heartbeats;
            }
            conn->sent.push_back(now);
            auto ec = co_await conn->socket->write(std::move(text));
            if (ec) {
                conn->finish(End{EndKind::transport, 0, false, "write: " + ec.message()});
                conn->socket->drop();
                co_return;
            }
            ++stats.frames_sent;
            // Identify spacing counts from when the identify actually left.
            if (is_identify) last_identify = clock.steady_now();
        }
    }

    asio::awaitable<End> session(Socket& socket, bool resume) {
        auto conn = std::make_shared<Connection>(executor);
        conn->socket = &socket;
        current = conn;
        co_await (read_loop(conn, resume) || heartbeat_loop(conn) || write_loop(conn));
        current.reset();
        End end = conn->end.value_or(End{EndKind::transport, 0, false, "connection ended"});
        if (end.kind == EndKind::reconnect || end.kind == EndKind::invalid_session) {
            // Any code but 1000/1001 keeps the session alive for a resume.
            co_await socket.close(4000, options.close_timeout);
        }
        socket.drop();
        co_return end;
    }

    static asio::awaitable<common::Status<GatewaySessionError>> run_owned(std::shared_ptr<Impl> self) {
        co_return co_await self->run();
    }

    asio::awaitable<common::Status<GatewaySessionError>> run() {
        stats.state = GatewaySessionState::connecting;
        if (!options.url_override.empty()) gateway_url = options.url_override;
        if (auto fatal = co_await discover()) {
            stats.state = GatewaySessionState::fatal;
            co_return common::unexpected(*fatal);
        }
        while (!stopped) {
            const bool resume = !stats.session_id.empty() && stats.seq.has_value();
            if (!resume) {
                if (auto fatal = co_await identify_budget()) {
                    stats.state = GatewaySessionState::fatal;
                    co_return common::unexpected(*fatal);
                }
                if (stopped) break;
            }
            const std::string url = resume && !resume_url.empty() ? resume_url : gateway_url;
            stats.state = GatewaySessionState::connecting;
            ++stats.connections;
            auto connected = co_await connect(url);
            if (auto* error = std::get_if<std::string>(&connected)) {
                spdlog::warn("discord gateway: cannot connect: {}", *error);
                // A resume URL that keeps failing is given up for the cached URL.
                if (resume && !resume_url.empty() && ++failed_resume_connects >= 2) resume_url.clear();
                if (!co_await backoff()) break;
                continue;
            }
            auto socket = std::move(std::get<std::unique_ptr<Socket>>(connected));
            if (stopped) {
                co_await socket->close(stop_code, options.close_timeout);
                break;
            }
            const End end = co_await session(*socket, resume);
            socket.reset();
            if (stopped || end.kind == EndKind::stopped) break;
            stats.last_close_code = end.code;
            spdlog::info("discord gateway: connection ended ({}, code {})", end.detail, end.code);

            switch (end.kind) {
                case EndKind::closed: {
                    if (auto reason = fatal_reason(end.code, options.intents)) {
                        spdlog::critical("discord gateway: fatal close {}: {}", end.code, *reason);
                        stats.state = GatewaySessionState::fatal;
                        co_return common::unexpected(GatewaySessionError{end.code, *reason});
                    }
                    if (end.code == 4001 || end.code == 4002 || end.code == 4005) {
                        spdlog::error("discord gateway: close {} means a bug in this client", end.code);
                        if (++protocol_errors > options.max_protocol_error_reconnects) {
                            stats.state = GatewaySessionState::fatal;
                            co_return common::unexpected(GatewaySessionError{
                                end.code,
                                "repeated protocol errors (close " + std::to_string(end.code) + ")"});
                        }
                    }
                    if (end.code == 4003 || end.code == 4007 || end.code == 4009) clear_session();
                    if (!co_await backoff()) break;
                    break;
                }
                case EndKind::reconnect:
                    break;  // resume at once
                case EndKind::invalid_session:
                    if (!end.resumable) {
                        clear_session();
                        if (!co_await sleep(
                                uniform(options.invalid_session_min, options.invalid_session_max)))
                            break;
                    }
                    break;
                case EndKind::zombie:
                case EndKind::transport:
                case EndKind::hello_timeout:
                    if (!co_await backoff()) break;
                    break;
                case EndKind::stopped:
                    break;
            }
        }
        stats.state = GatewaySessionState::stopped;
        co_return common::Status<GatewaySessionError>{};
    }
};

common::Result<std::unique_ptr<GatewaySession>, std::string> GatewaySession::create(
    asio::any_io_executor executor, GatewaySessionOptions options, RestClient& rest,
    const common::Clock& clock, Handler handler, asio::any_io_executor handler_executor) {
    if (options.token.empty()) return common::unexpected(std::string("the bot token is empty"));
    if (!options.url_override.empty() && options.url_override.rfind("ws://", 0) != 0 &&
        options.url_override.rfind("wss://", 0) != 0) {
        return common::unexpected(std::string("DISCORD_GATEWAY_URL must start with ws:// or wss://"));
    }
    auto impl = std::make_shared<Impl>(executor, std::move(options), rest, clock, std::move(handler),
                                       std::move(handler_executor));
    impl->tls.set_verify_mode(asio::ssl::verify_peer);
    beast::error_code ec;
    if (!impl->options.ca_file.empty()) {
        impl->tls.load_verify_file(impl->options.ca_file, ec);
        if (ec) return common::unexpected("gateway CA file: " + ec.message());
    } else {
        impl->tls.set_default_verify_paths(ec);
        if (ec) return common::unexpected("system CA store: " + ec.message());
    }
    return std::unique_ptr<GatewaySession>(new GatewaySession(std::move(impl)));
}

GatewaySession::GatewaySession(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
GatewaySession::~GatewaySession() = default;

asio::awaitable<common::Status<GatewaySessionError>> GatewaySession::run() {
    // Not a coroutine: the shared_ptr is copied into the coroutine frame now, so the session
    // survives even when this object is destroyed before the coroutine first runs.
    return Impl::run_owned(impl_);
}

void GatewaySession::stop(bool keep_session) {
    impl_->stopped = true;
    impl_->stop_code = keep_session ? 4000 : 1000;
    impl_->idle.cancel();
    if (impl_->current) {
        impl_->current->wake.cancel();
        impl_->current->hello.cancel();
    }
}

common::Status<std::string> GatewaySession::send(const json& payload) {
    std::string text = payload.dump();
    if (text.size() > impl_->options.max_payload_bytes) {
        return common::unexpected("payload of " + std::to_string(text.size()) +
                                  " bytes exceeds the gateway's 4096");
    }
    if (!impl_->current) return common::unexpected(std::string("not connected"));
    impl_->enqueue(*impl_->current, std::move(text), false);
    return {};
}

GatewaySessionStats GatewaySession::stats() const { return impl_->stats; }

}  // namespace nebula::discord
