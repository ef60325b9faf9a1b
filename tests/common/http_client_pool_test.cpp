// The client's connection pool as a caller sees it: a burst of concurrent requests shares a
// bounded number of connections, a request waits in line for a free one within its deadline,
// idle connections are dropped after their time, and new TLS connections resume the session.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "common/http_client.hpp"
#include "common/http_server.hpp"
#include "support/io_thread.hpp"
#include "support/tls_cert.hpp"

namespace nebula::common::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// Counts the connections it admits; `/hold` answers only when released, everything else at once.
class CountingHandler : public Handler {
  public:
    Admission admit(const Peer&) override {
        ++connections;
        return Admission::admit;
    }
    std::optional<Response> screen(const Request&, const Peer&) override { return std::nullopt; }
    asio::awaitable<Response> handle(Request request, Peer) override {
        if (request.target == "/hold") {
            const auto executor = co_await asio::this_coro::executor;
            auto gate = std::make_shared<asio::steady_timer>(executor);
            gate->expires_at(asio::steady_timer::time_point::max());
            held.push_back(gate);
            ++holding;
            co_await gate->async_wait(asio::as_tuple(asio::use_awaitable));
        }
        Response r;
        r.body = request.target;
        co_return r;
    }
    /// Answers every held request (on the io thread).
    void release() {
        for (auto& gate : held) gate->cancel();
        held.clear();
    }
    std::atomic<int> connections{0};
    std::atomic<int> holding{0};
    std::vector<std::shared_ptr<asio::steady_timer>> held;
};

struct Pool {
    explicit Pool(bool tls = false) : tls_(tls) {
        ServerOptions options;
        if (tls) options.tls = TlsFiles{cert.cert_path, cert.key_path};
        server = io.call([&] {
            auto s = Server::create(io.executor(), options, handler);
            if (!s) throw std::runtime_error(s.error());
            (*s)->start();
            return std::move(s.value());
        });
    }
    ~Pool() {
        io.call([&] {
            handler.release();
            client.reset();
            server.reset();
        });
    }
    void make_client(ClientOptions options) {
        options.base = *Url::parse(std::string(tls_ ? "https" : "http") +
                                   "://127.0.0.1:" + std::to_string(server->port()));
        if (tls_) options.pinned_sha256 = cert.sha256;
        auto c = Client::create(io.executor(), options);
        if (!c) throw std::runtime_error(c.error());
        client = std::move(c.value());
    }
    common::Result<Response, ClientError> get(
        std::string target, std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
        Request r;
        r.method = "GET";
        r.target = std::move(target);
        return io.run(client->send(std::move(r), timeout));
    }
    ClientStats stats() {
        return io.call([&] { return client->stats(); });
    }

    bool tls_;
    testing::TlsCert cert;
    CountingHandler handler;
    testing::IoThread io;
    std::unique_ptr<Server> server;
    std::unique_ptr<Client> client;
};

/// Sends `n` requests at once and waits for all answers; returns how many succeeded.
int burst(Pool& pool, int n, std::string target) {
    auto all = [&]() -> asio::awaitable<int> {
        auto ok = std::make_shared<int>(0);
        auto left = std::make_shared<int>(n);
        const auto executor = co_await asio::this_coro::executor;
        auto done = std::make_shared<asio::steady_timer>(executor);
        done->expires_at(asio::steady_timer::time_point::max());
        for (int i = 0; i < n; ++i) {
            Request r;
            r.method = "GET";
            r.target = target;
            asio::co_spawn(
                executor,
                [&pool, r, ok, left, done]() mutable -> asio::awaitable<void> {
                    auto answer = co_await pool.client->send(std::move(r));
                    if (answer && answer->status == 200) ++*ok;
                    if (--*left == 0) done->cancel();
                },
                asio::detached);
        }
        co_await done->async_wait(asio::as_tuple(asio::use_awaitable));
        co_return *ok;
    };
    return pool.io.run(all());
}

/// Sends a GET of `target` without waiting; the future tells whether its answer echoed the target.
std::future<bool> send_in_background(Pool& pool, std::string target) {
    auto done = std::make_shared<std::promise<bool>>();
    auto future = done->get_future();
    pool.io.call([&pool, done, target] {
        Request r;
        r.method = "GET";
        r.target = target;
        asio::co_spawn(
            pool.io.io(),
            [&pool, r, done]() mutable -> asio::awaitable<void> {
                const std::string wanted = r.target;
                auto answer = co_await pool.client->send(std::move(r));
                done->set_value(answer && answer->body == wanted);
            },
            asio::detached);
        return 0;
    });
    return future;
}

TEST(HttpClientPool, ABurstSharesAtMostMaxConnections) {
    Pool pool;
    ClientOptions options;
    options.max_connections = 4;
    pool.make_client(options);
    EXPECT_EQ(burst(pool, 200, "/burst"), 200);
    const auto stats = pool.stats();
    EXPECT_LE(pool.handler.connections.load(), 4);
    EXPECT_LE(stats.connections_opened, 4u);
    EXPECT_GT(stats.queued, 0u);
    EXPECT_LE(stats.open, 4u);
    // The connections stay open for the next burst: no new ones.
    EXPECT_EQ(burst(pool, 50, "/again"), 50);
    EXPECT_EQ(pool.stats().connections_opened, stats.connections_opened);
}

TEST(HttpClientPool, ARequestWaitsInLineAndGivesUpAtItsDeadline) {
    Pool pool;
    ClientOptions options;
    options.max_connections = 1;
    pool.make_client(options);
    // One request holds the only connection until the server answers it.
    auto first_done = send_in_background(pool, "/hold");
    while (pool.handler.holding.load() == 0) std::this_thread::sleep_for(5ms);

    auto waited = pool.get("/second", 300ms);
    ASSERT_FALSE(waited);
    EXPECT_EQ(waited.error().code, ClientErrorCode::timeout);
    EXPECT_NE(waited.error().message.find("no free connection"), std::string::npos) << waited.error().message;
    EXPECT_FALSE(waited.error().request_written);

    // Once the held answer goes out, the connection serves the next request in line.
    auto third_done = send_in_background(pool, "/third");
    pool.io.call([&] {
        pool.handler.release();
        return 0;
    });
    EXPECT_TRUE(first_done.get());
    EXPECT_TRUE(third_done.get());
    EXPECT_EQ(pool.stats().connections_opened, 1u);
}

TEST(HttpClientPool, AnIdleConnectionPastItsTimeIsNotReused) {
    Pool pool;
    ClientOptions options;
    options.idle_timeout = 0ms;  // every idle connection is already too old
    pool.make_client(options);
    ASSERT_TRUE(pool.get("/one"));
    ASSERT_TRUE(pool.get("/two"));
    EXPECT_EQ(pool.stats().connections_opened, 2u);
    EXPECT_EQ(pool.stats().open, 1u);

    Pool keeps;
    keeps.make_client(ClientOptions{});
    ASSERT_TRUE(keeps.get("/one"));
    ASSERT_TRUE(keeps.get("/two"));
    EXPECT_EQ(keeps.stats().connections_opened, 1u);
}

TEST(HttpClientPool, NewTlsConnectionsResumeTheSessionOfThePinnedServer) {
    Pool pool(true);
    ClientOptions options;
    options.idle_timeout = 0ms;  // each request on a new connection
    pool.make_client(options);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.get("/secure")) << i;
    const auto stats = pool.stats();
    EXPECT_EQ(stats.connections_opened, 3u);
    EXPECT_EQ(stats.tls_full_handshakes, 1u);
    EXPECT_EQ(stats.tls_resumed, 2u);
}

}  // namespace
}  // namespace nebula::common::http
