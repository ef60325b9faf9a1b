#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <malloc.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__SANITIZE_ADDRESS__)
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();  // from the ASan runtime
#endif

#include <array>
#include <atomic>
#include <condition_variable>
#include <future>
#include <memory>
#include <random>
#include <vector>

#include "common/http_client.hpp"
#include "common/http_server.hpp"
#include "support/io_thread.hpp"
#include "support/tls_cert.hpp"

namespace nebula::common::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

/// Echoes the request; `/slow` waits until released; `/big` answers a large body.
class EchoHandler : public Handler {
  public:
    std::optional<Response> screen(const Request& head, const Peer&) override {
        if (head.target == "/forbidden") {
            Response r;
            r.status = 403;
            r.body = "no";
            return r;
        }
        return std::nullopt;
    }
    asio::awaitable<Response> handle(Request request, Peer peer) override {
        ++handled;
        if (request.target == "/slow") {
            asio::steady_timer timer(co_await asio::this_coro::executor);
            slow_started.set_value();
            timer.expires_after(release_after);
            co_await timer.async_wait(asio::use_awaitable);
        }
        if (request.target == "/throw") throw std::runtime_error("handler bug");
        Response r;
        r.headers.set("Content-Type", "text/plain");
        r.headers.set("X-Peer", peer.address.to_string());
        r.body = request.method + " " + request.target + " " + request.body;
        if (request.target == "/big") r.body = std::string(2 * 1024 * 1024, 'x');
        co_return r;
    }
    std::atomic<int> handled{0};
    std::promise<void> slow_started;
    std::chrono::milliseconds release_after{300};
};

struct Fixture {
    explicit Fixture(ServerOptions options) {
        server = io.call([&] {
            auto s = Server::create(io.executor(), options, handler);
            if (!s) throw std::runtime_error(s.error());
            (*s)->start();
            return std::move(s.value());
        });
    }
    ~Fixture() {
        io.call([&] { server.reset(); });
    }
    std::unique_ptr<Client> client(ClientOptions options = {}) {
        if (options.base.host.empty()) {
            options.base = *Url::parse(std::string(tls ? "https" : "http") +
                                       "://127.0.0.1:" + std::to_string(server->port()));
        }
        auto c = Client::create(io.executor(), options);
        if (!c) throw std::runtime_error(c.error());
        return std::move(c.value());
    }
    common::Result<Response, ClientError> send(Client& c, Request r) { return io.run(c.send(std::move(r))); }

    bool tls = false;
    EchoHandler handler;
    testing::IoThread io;
    std::unique_ptr<Server> server;
};

Request get(std::string target) {
    Request r;
    r.method = "GET";
    r.target = std::move(target);
    return r;
}

/// Writes raw bytes and reads until the server closes; returns what it sent back.
std::string raw_exchange(std::uint16_t port, const std::string& bytes) {
    asio::io_context io;
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(s, asio::buffer(bytes));
    s.shutdown(tcp::socket::shutdown_send);  // like a client that has nothing more to say
    std::string out;
    boost::system::error_code ec;
    asio::read(s, asio::dynamic_buffer(out), ec);
    return out;
}

TEST(HttpServerClient, RequestAndResponseRoundTripWithKeepAlive) {
    Fixture f(ServerOptions{});
    auto c = f.client();
    Request post;
    post.method = "POST";
    post.target = "/echo?x=1";
    post.body = "hello";
    auto r = f.send(*c, post);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "POST /echo?x=1 hello");
    EXPECT_EQ(r->headers.find("x-peer"), "127.0.0.1");
    auto again = f.send(*c, get("/two"));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->body, "GET /two ");
    EXPECT_EQ(f.io.call([&] { return f.server->connection_count(); }), 1u);  // the connection was reused
}

TEST(HttpServerClient, ScreenAnswersBeforeTheBodyAndCloses) {
    Fixture f(ServerOptions{});
    auto out =
        raw_exchange(f.server->port(), "POST /forbidden HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n");
    EXPECT_NE(out.find("HTTP/1.1 403"), std::string::npos);
    EXPECT_EQ(f.handler.handled, 0);
}

TEST(HttpServerClient, OversizedBodyIs413WithoutReadingIt) {
    ServerOptions o;
    o.max_body_bytes = 1024;
    Fixture f(o);
    auto out = raw_exchange(f.server->port(), "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n");
    EXPECT_NE(out.find("HTTP/1.1 413"), std::string::npos);
    // Chunked bodies are counted as they arrive.
    std::string chunk(1500, 'a');
    std::ostringstream chunked;
    chunked << "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            << std::hex << chunk.size() << "\r\n"
            << chunk << "\r\n0\r\n\r\n";
    out = raw_exchange(f.server->port(), chunked.str());
    EXPECT_NE(out.find("HTTP/1.1 413"), std::string::npos);
    EXPECT_EQ(f.handler.handled, 0);
}

TEST(HttpServerClient, MalformedRequestIs400) {
    Fixture f(ServerOptions{});
    auto out = raw_exchange(f.server->port(), "NOT HTTP AT ALL\r\n\r\n");
    EXPECT_NE(out.find("HTTP/1.1 400"), std::string::npos);
}

TEST(HttpServerClient, HandlerExceptionIs500AndServerLivesOn) {
    Fixture f(ServerOptions{});
    auto c = f.client();
    auto r = f.send(*c, get("/throw"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500);
    EXPECT_EQ(r->body.find("handler bug"), std::string::npos);  // no internals leak
    auto ok = f.send(*f.client(), get("/ok"));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
}

TEST(HttpServerClient, SlowLorisIsCutOffWhileOthersAreServed) {
    ServerOptions o;
    o.header_timeout = 300ms;
    Fixture f(o);
    const auto port = f.server->port();
    // A client that sends its head one byte at a time, never finishing.
    auto loris = std::async(std::launch::async, [port] {
        asio::io_context io;
        tcp::socket s(io);
        s.connect({asio::ip::make_address("127.0.0.1"), port});
        const std::string head = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        auto started = std::chrono::steady_clock::now();
        boost::system::error_code ec;
        for (std::size_t i = 0; !ec; ++i) {
            asio::write(s, asio::buffer(head.data() + (i % head.size()), 1), ec);
            std::this_thread::sleep_for(20ms);  // the misbehaving peer's own pacing
            if (std::chrono::steady_clock::now() - started > 10s) return false;
        }
        return true;  // the server closed the connection
    });
    // Meanwhile a normal client is answered.
    auto c = f.client();
    auto r = f.send(*c, get("/fine"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(loris.get());
}

TEST(HttpServerClient, ConnectionCapRefusesExtraConnections) {
    ServerOptions o;
    o.max_connections = 1;
    Fixture f(o);
    auto first = f.client();
    ASSERT_TRUE(f.send(*first, get("/a")));  // holds the only slot through keep-alive
    auto second = f.client();
    auto r = f.send(*second, get("/b"));
    EXPECT_FALSE(r);
}

TEST(HttpServerClient, GracefulShutdownFinishesInFlightRequests) {
    Fixture f(ServerOptions{});
    auto c = f.client();
    const auto port = f.server->port();
    auto pending = std::async(std::launch::async, [&] { return f.io.run(c->send(get("/slow"))); });
    f.handler.slow_started.get_future().wait();
    std::promise<void> drained;
    f.io.call([&] { f.server->shutdown(5s, [&] { drained.set_value(); }); });
    auto r = pending.get();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "GET /slow ");
    drained.get_future().wait();
    // No new connections are accepted after shutdown.
    ClientOptions late;
    late.base = *Url::parse("http://127.0.0.1:" + std::to_string(port));
    auto refused = f.send(*f.client(late), get("/late"));
    EXPECT_FALSE(refused);
}

TEST(HttpServerClient, ClientDeadlineOnHungServer) {
    Fixture f(ServerOptions{});
    f.handler.release_after = 5s;
    auto c = f.client();
    auto r = f.io.run(c->send(get("/slow"), 200ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ClientErrorCode::timeout);
}

TEST(HttpServerClient, ConnectRefusedIsConnectError) {
    std::uint16_t port = 0;
    {
        Fixture f(ServerOptions{});
        port = f.server->port();
    }
    testing::IoThread io;
    ClientOptions o;
    o.base = *Url::parse("http://127.0.0.1:" + std::to_string(port));
    auto c = Client::create(io.executor(), o);
    auto r = io.run((*c)->send(get("/")));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ClientErrorCode::connect);
}

TEST(HttpServerClient, ResponseSizeCap) {
    Fixture f(ServerOptions{});
    ClientOptions o;
    o.max_response_bytes = 1024;
    auto c = f.client(o);
    auto r = f.send(*c, get("/big"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ClientErrorCode::too_large);
}

TEST(HttpServerClient, LocalAddressBinding) {
    Fixture f(ServerOptions{});
    ClientOptions o;
    o.local_address = "127.0.0.2";
    auto c = f.client(o);
    auto r = f.send(*c, get("/"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->headers.find("X-Peer"), "127.0.0.2");
}

TEST(HttpServerClient, SurvivesMutatedRequests) {
    ServerOptions o;
    o.header_timeout = 200ms;
    o.body_timeout = 200ms;
    Fixture f(o);
    std::mt19937 rng(42);
    const std::string seed =
        "POST /echo?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    for (int i = 0; i < 300; ++i) {
        std::string bytes = seed;
        for (int e = 0; e < 1 + static_cast<int>(rng() % 6); ++e) {
            bytes[rng() % bytes.size()] = static_cast<char>(rng() % 256);
        }
        (void)raw_exchange(f.server->port(), bytes);
    }
    auto r = f.send(*f.client(), get("/still-alive"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST(HttpServerClient, DestroyedBeforeTheExecutorRuns) {
    asio::io_context io;
    EchoHandler handler;
    {
        auto server = Server::create(io.get_executor(), ServerOptions{}, handler);
        ASSERT_TRUE(server);
        (*server)->start();
    }
    io.run();  // the accept loop starts after its Server is gone and must end cleanly (ASan checks)
    SUCCEED();
}

/// Refuses 127.0.0.2; 127.0.0.1 may use the reserved slots; everyone else is admitted.
class AdmittingHandler : public EchoHandler {
  public:
    Admission admit(const Peer& peer) override {
        ++admitted;
        const auto a = peer.address.to_string();
        if (a == "127.0.0.2") return Admission::refuse;
        return a == "127.0.0.1" ? Admission::reserved : Admission::admit;
    }
    std::atomic<int> admitted{0};
};

struct AdmissionFixture {
    explicit AdmissionFixture(ServerOptions options) {
        server = io.call([&] {
            auto s = Server::create(io.executor(), options, handler);
            if (!s) throw std::runtime_error(s.error());
            (*s)->start();
            return std::move(s.value());
        });
    }
    ~AdmissionFixture() {
        io.call([&] { server.reset(); });
    }
    std::unique_ptr<Client> client(const std::string& local) {
        ClientOptions o;
        o.base = *Url::parse("http://127.0.0.1:" + std::to_string(server->port()));
        o.local_address = local;
        return std::move(Client::create(io.executor(), o).value());
    }
    bool ok(Client& c, const std::string& target) {
        auto r = io.run(c.send(get(target)));
        return r && r->status == 200;
    }
    AdmittingHandler handler;
    testing::IoThread io;
    std::unique_ptr<Server> server;
};

/// A raw connection from `local` that reads until the server closes it (or 30 s pass, a safety
/// net far beyond any deadline under test). True when the server closed it.
bool closed_by_server(std::uint16_t port, const std::string& local, const std::string& send = "") {
    asio::io_context io;
    tcp::socket s(io);
    s.open(tcp::v4());
    s.bind({asio::ip::make_address(local), 0});
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    const timeval safety{30, 0};
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &safety, sizeof safety);
    boost::system::error_code ec;
    if (!send.empty()) asio::write(s, asio::buffer(send), ec);
    std::array<char, 512> sink{};
    for (;;) {
        s.read_some(asio::buffer(sink), ec);
        if (ec) return ec == asio::error::eof || ec == asio::error::connection_reset;
    }
}

TEST(HttpServerAdmission, RefusedPeerIsClosedBeforeAnyByteIsRead) {
    AdmissionFixture f(ServerOptions{});
    EXPECT_TRUE(closed_by_server(f.server->port(), "127.0.0.2", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(f.handler.handled, 0);
    auto c = f.client("127.0.0.1");
    EXPECT_TRUE(f.ok(*c, "/fine"));
    EXPECT_EQ(f.handler.admitted, 2);
}

TEST(HttpServerAdmission, PerAddressCapAndReservedSlots) {
    ServerOptions o;
    o.max_connections = 4;
    o.max_connections_per_ip = 2;
    o.reserved_connections = 2;
    AdmissionFixture f(o);
    // 127.0.0.3 fills its per-address allowance (keep-alive holds each connection).
    auto a1 = f.client("127.0.0.3");
    auto a2 = f.client("127.0.0.3");
    ASSERT_TRUE(f.ok(*a1, "/1"));
    ASSERT_TRUE(f.ok(*a2, "/2"));
    EXPECT_FALSE(f.ok(*f.client("127.0.0.3"), "/3"));  // over the per-address cap
    // Ordinary peers share max_connections - reserved = 2 slots, all taken now.
    EXPECT_FALSE(f.ok(*f.client("127.0.0.4"), "/4"));
    // The reserved peer still finds its slots.
    auto r1 = f.client("127.0.0.1");
    auto r2 = f.client("127.0.0.1");
    EXPECT_TRUE(f.ok(*r1, "/r1"));
    EXPECT_TRUE(f.ok(*r2, "/r2"));
    EXPECT_EQ(f.io.call([&] { return f.server->connection_count(); }), 4u);
}

TEST(HttpServerAdmission, FirstRequestHeadMustArriveWithinTheHeaderDeadlineFromAccept) {
    ServerOptions o;
    o.header_timeout = 200ms;
    o.idle_timeout = 1h;  // a silent new connection must not get this long
    AdmissionFixture f(o);
    EXPECT_TRUE(closed_by_server(f.server->port(), "127.0.0.1"));
    EXPECT_TRUE(closed_by_server(f.server->port(), "127.0.0.1", "GET / HTTP/1.1\r\n"));  // a slow head
    EXPECT_EQ(f.handler.handled, 0);
}

/// Collects warning lines and lets a test wait for the n-th one containing some text.
class WaitableLog : public spdlog::sinks::base_sink<std::mutex> {
  public:
    /// The first `n` lines containing `text`, once there are that many (or after 60 s, a safety net).
    std::vector<std::string> wait_for(std::size_t n, const std::string& text) {
        std::unique_lock lock(lines_mutex_);
        std::vector<std::string> found;
        changed_.wait_for(lock, 60s, [&] {
            found.clear();
            for (const auto& line : lines_) {
                if (line.find(text) != std::string::npos) found.push_back(line);
            }
            return found.size() >= n;
        });
        return found;
    }

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        {
            std::lock_guard lock(lines_mutex_);
            lines_.emplace_back(msg.payload.data(), msg.payload.size());
        }
        changed_.notify_all();
    }
    void flush_() override {}

  private:
    std::mutex lines_mutex_;
    std::condition_variable changed_;
    std::vector<std::string> lines_;
};

TEST(HttpServerAdmission, AcceptErrorsBackOffAndAreLoggedAtMostOnceASecond) {
    auto log = std::make_shared<WaitableLog>();
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", log));
    Fixture f(ServerOptions{});
    asio::io_context io;
    tcp::socket client(io);
    client.open(tcp::v4());  // its descriptor exists before the process runs out
    // No descriptor is left for the server to accept with: every accept fails with EMFILE.
    rlimit limits{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limits), 0);
    const int lowest_free = ::dup(0);
    ASSERT_GE(lowest_free, 0);
    ::close(lowest_free);
    rlimit exhausted = limits;
    exhausted.rlim_cur = static_cast<rlim_t>(lowest_free);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &exhausted), 0);
    client.connect({asio::ip::make_address("127.0.0.1"), f.server->port()});
    // A second line comes only after a second; it counts the failures it stands for. A server
    // that spun would have failed thousands of times by then, one line each.
    const auto lines = log->wait_for(2, "accept failed");
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limits), 0);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[0].find("accept failed 1 time(s)"), std::string::npos) << lines[0];
    const auto at = lines[1].find("accept failed ") + std::string_view("accept failed ").size();
    const int failures = std::stoi(lines[1].substr(at));
    EXPECT_GE(failures, 1) << lines[1];
    EXPECT_LT(failures, 100) << lines[1];
    // Once descriptors are free again, the waiting connection is served.
    asio::write(client,
                asio::buffer(std::string("GET /again HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
    std::string answer;
    boost::system::error_code ec;
    asio::read(client, asio::dynamic_buffer(answer), ec);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
    spdlog::set_default_logger(previous);
}

struct TlsFixture : Fixture {
    explicit TlsFixture(const testing::TlsCert& cert) : Fixture(options(cert)) { tls = true; }
    static ServerOptions options(const testing::TlsCert& cert) {
        ServerOptions o;
        o.tls = TlsFiles{cert.cert_path, cert.key_path};
        return o;
    }
};

TEST(HttpServerClientTls, CaFileAndHostNameVerify) {
    testing::TlsCert cert;
    TlsFixture f(cert);
    ClientOptions o;
    o.ca_file = cert.cert_path;
    auto c = f.client(o);
    auto r = f.send(*c, get("/secure"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "GET /secure ");
    ASSERT_TRUE(f.send(*c, get("/again")));  // keep-alive over TLS
}

TEST(HttpServerClientTls, BodiesLargerThanOneRecordBothWaysOnOneConnection) {
    testing::TlsCert cert;
    ServerOptions o = TlsFixture::options(cert);
    o.max_body_bytes = 512 * 1024;
    Fixture f(o);
    f.tls = true;
    ClientOptions co;
    co.pinned_sha256 = cert.sha256;
    auto c = f.client(co);
    Request post;
    post.method = "POST";
    post.target = "/echo";
    for (std::size_t i = 0; i < 300 * 1024; ++i) post.body.push_back(static_cast<char>('a' + i % 26));
    auto echoed = f.send(*c, post);  // about 19 records in, as many out
    ASSERT_TRUE(echoed) << echoed.error().message;
    EXPECT_EQ(echoed->body, "POST /echo " + post.body);
    auto big = f.send(*c, get("/big"));
    ASSERT_TRUE(big) << big.error().message;
    EXPECT_EQ(big->body, std::string(2 * 1024 * 1024, 'x'));
    auto small = f.send(*c, get("/small"));
    ASSERT_TRUE(small) << small.error().message;
    EXPECT_EQ(small->body, "GET /small ");
    EXPECT_EQ(f.io.call([&] { return f.server->connection_count(); }), 1u);  // all on one connection
}

TEST(HttpServerClientTls, Tls12KeepAliveAndCloseNotify) {
    testing::TlsCert cert;
    TlsFixture f(cert);
    asio::io_context io;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    asio::ssl::stream<tcp::socket> s(io, ctx);
    s.next_layer().connect({asio::ip::make_address("127.0.0.1"), f.server->port()});
    s.handshake(asio::ssl::stream_base::client);
    EXPECT_EQ(SSL_version(s.native_handle()), TLS1_2_VERSION);
    auto exchange = [&](const std::string& target) {
        const std::string head = "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
        asio::write(s, asio::buffer(head));
        std::string in;
        // Read until the whole answer (head and its Content-Length body) is in.
        for (;;) {
            std::array<char, 1024> chunk{};
            in.append(chunk.data(), s.read_some(asio::buffer(chunk)));
            const auto end = in.find("\r\n\r\n");
            const auto length = in.find("Content-Length: ");
            if (end == std::string::npos || length == std::string::npos) continue;
            const auto body = std::stoul(in.substr(length + 16));
            if (in.size() >= end + 4 + body) return in.substr(end + 4);
        }
    };
    EXPECT_EQ(exchange("/one"), "GET /one ");
    EXPECT_EQ(exchange("/two"), "GET /two ");
    boost::system::error_code ec;
    s.shutdown(ec);  // close_notify both ways: the server answers ours with its own
    EXPECT_FALSE(ec) << ec.message();
}

/// Bytes the process has allocated and not freed.
std::size_t heap_in_use() {
#if defined(__SANITIZE_ADDRESS__)
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

/// A child process that reads the server's port from `port_fd`, opens `connections` TLS
/// connections, sends one request on each and keeps them all open until told to finish; 0 on success.
int hold_tls_connections(int connections, int port_fd, int ready_fd, int finish_fd) {
    ::alarm(120);  // never outlive a stuck test
    try {
        std::uint16_t port = 0;
        if (::read(port_fd, &port, sizeof port) != sizeof port) return 4;
        asio::io_context io;
        asio::ssl::context ctx(asio::ssl::context::tls_client);
        std::vector<std::unique_ptr<asio::ssl::stream<tcp::socket>>> held;
        for (int i = 0; i < connections; ++i) {
            auto s = std::make_unique<asio::ssl::stream<tcp::socket>>(io, ctx);
            s->next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
            s->handshake(asio::ssl::stream_base::client);
            const std::string head = "GET /held HTTP/1.1\r\nHost: x\r\n\r\n";
            asio::write(*s, asio::buffer(head));
            std::string in;
            while (in.find("GET /held ") == std::string::npos) {
                std::array<char, 1024> chunk{};
                in.append(chunk.data(), s->read_some(asio::buffer(chunk)));
            }
            held.push_back(std::move(s));
        }
        char byte = 1;
        if (::write(ready_fd, &byte, 1) != 1) return 2;
        if (::read(finish_fd, &byte, 1) < 0) return 3;
        return 0;
    } catch (const std::exception&) {
        return 1;
    }
}

TEST(HttpServerClientTls, AnOpenConnectionHoldsNoRecordBuffers) {
    constexpr int kConnections = 32;
    // The clients run in a child process forked before any thread is started here (a fork while
    // the server's thread holds a lock could leave the child stuck), so only the server's
    // allocations are counted.
    int port_pipe[2];
    int ready[2];
    int finish[2];
    ASSERT_EQ(::pipe(port_pipe), 0);
    ASSERT_EQ(::pipe(ready), 0);
    ASSERT_EQ(::pipe(finish), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(port_pipe[1]);
        ::close(ready[0]);
        ::close(finish[1]);
        _exit(hold_tls_connections(kConnections, port_pipe[0], ready[1], finish[0]));
    }
    ::close(port_pipe[0]);
    ::close(ready[1]);
    ::close(finish[0]);
    struct Reap {
        pid_t child;
        int port_fd, ready_fd, finish_fd;
        int status = 0;
        ~Reap() {
            for (int fd : {port_fd, ready_fd, finish_fd}) ::close(fd);  // the child then finishes
            ::waitpid(child, &status, 0);
        }
    } reap{child, port_pipe[1], ready[0], finish[1]};

    testing::TlsCert cert;
    TlsFixture f(cert);
    // One connection first, so what the server sets up once (OpenSSL's fetched algorithms, the
    // session ticket keys) is not counted below.
    {
        ClientOptions o;
        o.pinned_sha256 = cert.sha256;
        auto c = f.client(o);
        ASSERT_TRUE(f.send(*c, get("/warm")));
    }
    const std::size_t before = heap_in_use();
    const std::uint16_t port = f.server->port();
    ASSERT_EQ(::write(port_pipe[1], &port, sizeof port), static_cast<ssize_t>(sizeof port));
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);  // every connection has had its answer
    const std::size_t held = heap_in_use();
    // The SSL object, the connection's coroutines and a small input buffer: about 20 KiB. No
    // 17 KiB record buffers kept per connection (asio::ssl::stream kept four, over 90 KiB with
    // OpenSSL's own two).
    const auto per_connection =
        (static_cast<long long>(held) - static_cast<long long>(before)) / kConnections;
    RecordProperty("bytes_per_connection", std::to_string(per_connection));
    EXPECT_LT(per_connection, 40 * 1024) << per_connection << " bytes per open TLS connection";
}

TEST(HttpServerClientTls, PinnedFingerprintAcceptsOnlyThatCertificate) {
    testing::TlsCert cert;
    TlsFixture f(cert);
    ClientOptions good;
    good.pinned_sha256 = cert.sha256;
    ASSERT_TRUE(f.send(*f.client(good), get("/")));

    ClientOptions bad;
    bad.pinned_sha256 = std::string(64, 'a');
    auto r = f.send(*f.client(bad), get("/"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ClientErrorCode::pin_mismatch);
    EXPECT_EQ(r.error().message, "certificate does not match the pin (expected " + std::string(64, 'a') +
                                     ", got " + cert.sha256 + ")");
}

TEST(HttpServerClientTls, PinInOpensslsUpperCaseColonFormIsAccepted) {
    testing::TlsCert cert;
    TlsFixture f(cert);
    std::string pasted = "sha256 Fingerprint=";
    for (std::size_t i = 0; i < cert.sha256.size(); i += 2) {
        if (i > 0) pasted += ':';
        pasted += static_cast<char>(std::toupper(static_cast<unsigned char>(cert.sha256[i])));
        pasted += static_cast<char>(std::toupper(static_cast<unsigned char>(cert.sha256[i + 1])));
    }
    ClientOptions o;
    o.pinned_sha256 = pasted;
    auto r = f.send(*f.client(o), get("/"));
    ASSERT_TRUE(r) << r.error().message;
}

/// A plain HTTP server that answers the first request on the first connection, then reads the
/// second request on it whole and closes without answering (as if it failed after acting on
/// it). Requests on later connections are answered. Counts every request it read.
class LosesTheSecondAnswer {
  public:
    LosesTheSecondAnswer() : acceptor_(io_.io(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        io_.call([this] { asio::co_spawn(io_.io(), accept(), asio::detached); });
    }
    ~LosesTheSecondAnswer() {
        io_.call([this] {
            boost::system::error_code ignored;
            acceptor_.close(ignored);
        });
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    testing::IoThread& io() { return io_; }
    std::vector<std::string> requests() {
        return io_.call([this] { return requests_; });
    }

  private:
    asio::awaitable<void> accept() {
        for (int connection = 0;; ++connection) {
            auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            asio::co_spawn(io_.io(), serve(std::move(socket), connection), asio::detached);
        }
    }
    asio::awaitable<void> serve(tcp::socket socket, int connection) {
        namespace bhttp = boost::beast::http;
        boost::beast::flat_buffer buffer;
        for (int n = 0;; ++n) {
            bhttp::request<bhttp::string_body> request;
            auto [ec, read] =
                co_await bhttp::async_read(socket, buffer, request, asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            requests_.push_back(std::string(request.method_string()) + " " + std::string(request.target()) +
                                " " + request.body());
            if (connection == 0 && n == 1) co_return;  // read whole, never answered
            bhttp::response<bhttp::string_body> response{bhttp::status::ok, 11};
            response.body() = "answer on connection " + std::to_string(connection);
            response.keep_alive(true);
            response.prepare_payload();
            auto [wec, written] =
                co_await bhttp::async_write(socket, response, asio::as_tuple(asio::use_awaitable));
            if (wec) co_return;
        }
    }

    testing::IoThread io_;
    tcp::acceptor acceptor_;
    std::vector<std::string> requests_;
};

common::Result<Response, ClientError> send_to(LosesTheSecondAnswer& server, Client& client, Request request) {
    return server.io().run(client.send(std::move(request)));
}

std::unique_ptr<Client> client_of(LosesTheSecondAnswer& server) {
    ClientOptions o;
    o.base = *Url::parse("http://127.0.0.1:" + std::to_string(server.port()));
    return std::move(Client::create(server.io().executor(), o).value());
}

TEST(HttpClientResend, AFullyWrittenPostIsNotSentAgain) {
    LosesTheSecondAnswer server;
    auto client = client_of(server);
    ASSERT_TRUE(send_to(server, *client, get("/first")));
    Request post;
    post.method = "POST";
    post.target = "/clients";
    post.body = "{\"email\":\"a@b\"}";
    auto r = send_to(server, *client, post);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ClientErrorCode::io);
    EXPECT_TRUE(r.error().request_written);
    EXPECT_EQ(server.requests(),
              (std::vector<std::string>{"GET /first ", "POST /clients {\"email\":\"a@b\"}"}))
        << "the POST reached the server once";
    server.io().call([&] { client.reset(); });
}

TEST(HttpClientResend, AFullyWrittenGetIsSentAgainOnAFreshConnection) {
    LosesTheSecondAnswer server;
    auto client = client_of(server);
    ASSERT_TRUE(send_to(server, *client, get("/first")));
    auto r = send_to(server, *client, get("/second"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "answer on connection 1");
    EXPECT_EQ(server.requests(), (std::vector<std::string>{"GET /first ", "GET /second ", "GET /second "}));
    server.io().call([&] { client.reset(); });
}

TEST(HttpClientResend, AClientForOneTimeRequestsLeavesTheRetryToItsCaller) {
    LosesTheSecondAnswer server;
    ClientOptions o;
    o.base = *Url::parse("http://127.0.0.1:" + std::to_string(server.port()));
    o.resend_idempotent = false;
    auto client = std::move(Client::create(server.io().executor(), o).value());
    ASSERT_TRUE(send_to(server, *client, get("/first")));
    auto r = send_to(server, *client, get("/second"));
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().request_written);
    EXPECT_EQ(server.requests().size(), 2u);
    server.io().call([&] { client.reset(); });
}

TEST(HttpServerClientTls, UntrustedCertificateIsRefusedByDefault) {
    testing::TlsCert cert;
    TlsFixture f(cert);
    auto r = f.send(*f.client(), get("/"));  // system CA store: the self-signed cert is unknown
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ClientErrorCode::tls);
}

TEST(HttpServerClientTls, OldProtocolVersionsAreRefused) {
    testing::TlsCert cert;
    TlsFixture f(cert);
    asio::io_context io;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_1_VERSION);
    SSL_CTX_set_security_level(ctx.native_handle(), 0);
    asio::ssl::stream<tcp::socket> s(io, ctx);
    s.next_layer().connect({asio::ip::make_address("127.0.0.1"), f.server->port()});
    boost::system::error_code ec;
    s.handshake(asio::ssl::stream_base::client, ec);
    EXPECT_TRUE(ec);
}

TEST(HttpServerClientTls, Tls12OffersOnlyEcdheWithAeadCiphers) {
    testing::TlsCert cert;
    TlsFixture f(cert);
    auto handshake = [&](const char* ciphers) {
        asio::io_context io;
        asio::ssl::context ctx(asio::ssl::context::tls_client);
        SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_2_VERSION);
        SSL_CTX_set_cipher_list(ctx.native_handle(), ciphers);
        asio::ssl::stream<tcp::socket> s(io, ctx);
        s.next_layer().connect({asio::ip::make_address("127.0.0.1"), f.server->port()});
        boost::system::error_code ec;
        s.handshake(asio::ssl::stream_base::client, ec);
        return !ec;
    };
    EXPECT_TRUE(handshake("ECDHE-ECDSA-AES128-GCM-SHA256"));
    EXPECT_TRUE(handshake("ECDHE-ECDSA-CHACHA20-POLY1305"));
    EXPECT_FALSE(handshake("ECDHE-ECDSA-AES128-SHA"));     // CBC with SHA-1
    EXPECT_FALSE(handshake("ECDHE-ECDSA-AES256-SHA384"));  // CBC
    EXPECT_FALSE(handshake("AES128-GCM-SHA256"));          // no forward secrecy
}

}  // namespace
}  // namespace nebula::common::http
