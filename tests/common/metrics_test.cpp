// The metrics registry: exposition text checked line by line against the Prometheus text format
// 0.0.4, thread safety, and a real scrape over a loopback port.
#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/http_client.hpp"
#include "common/metrics.hpp"
#include "support/io_thread.hpp"

namespace nebula::common::metrics {
namespace {

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

TEST(Metrics, CounterAndGaugeRenderHelpTypeAndSamples) {
    Registry registry;
    auto& requests = registry.counter("nebula_requests_total", "Requests served.", {"route", "status"});
    auto& up = registry.gauge("nebula_up", "1 while serving.");
    requests.labels({"/api/health", "200"}).inc();
    requests.labels({"/api/health", "200"}).inc(2);
    requests.labels({"/api/clients", "404"}).inc();
    up.get().set(1);

    const std::string text = registry.render();
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    const std::vector<std::string> expected{
        "# HELP nebula_requests_total Requests served.",
        "# TYPE nebula_requests_total counter",
        "nebula_requests_total{route=\"/api/clients\",status=\"404\"} 1",
        "nebula_requests_total{route=\"/api/health\",status=\"200\"} 3",
        "# HELP nebula_up 1 while serving.",
        "# TYPE nebula_up gauge",
        "nebula_up 1",
    };
    EXPECT_EQ(lines(text), expected);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
    Registry registry;
    auto& latency = registry.histogram("nebula_latency_seconds", "Latency.", {"op"}, {0.01, 0.1, 1});
    auto& h = latency.labels({"login"});
    h.observe(0.005);
    h.observe(0.01);  // on the bound: counted in le="0.01"
    h.observe(0.5);
    h.observe(7);
    const std::vector<std::string> expected{
        "# HELP nebula_latency_seconds Latency.",
        "# TYPE nebula_latency_seconds histogram",
        "nebula_latency_seconds_bucket{op=\"login\",le=\"0.01\"} 2",
        "nebula_latency_seconds_bucket{op=\"login\",le=\"0.1\"} 2",
        "nebula_latency_seconds_bucket{op=\"login\",le=\"1\"} 3",
        "nebula_latency_seconds_bucket{op=\"login\",le=\"+Inf\"} 4",
        "nebula_latency_seconds_sum{op=\"login\"} 7.515",
        "nebula_latency_seconds_count{op=\"login\"} 4",
    };
    EXPECT_EQ(lines(registry.render()), expected);
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
    Registry registry;
    auto& c = registry.counter("odd_total", "Back\\slash and\nnewline.", {"v"});
    c.labels({"a\"b\\c\nd"}).inc();
    const auto out = lines(registry.render());
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0], "# HELP odd_total Back\\\\slash and\\nnewline.");
    EXPECT_EQ(out[2], "odd_total{v=\"a\\\"b\\\\c\\nd\"} 1");
}

TEST(Metrics, FormatsValuesAsPrometheusSpellsThem) {
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(42), "42");
    EXPECT_EQ(format_value(0.005), "0.005");
    EXPECT_EQ(format_value(-1.5), "-1.5");
    EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(Metrics, RefusesBadNamesLabelsAndMisuse) {
    Registry registry;
    EXPECT_THROW(registry.counter("9starts_with_digit", "x"), std::invalid_argument);
    EXPECT_THROW(registry.counter("has-dash", "x"), std::invalid_argument);
    EXPECT_THROW(registry.counter("ok_total", "x", {"__reserved"}), std::invalid_argument);
    EXPECT_THROW(registry.histogram("h", "x", {"le"}, {1}), std::invalid_argument);
    EXPECT_THROW(registry.histogram("h2", "x", {}, {2, 1}), std::invalid_argument);
    auto& c = registry.counter("ok_total", "x", {"a"});
    EXPECT_THROW(registry.counter("ok_total", "again"), std::invalid_argument);
    EXPECT_THROW(c.labels({}), std::invalid_argument);
    EXPECT_THROW(c.labels({"1"}).inc(-1), std::invalid_argument);
}

TEST(Metrics, SetTotalMirrorsACountWithoutGoingDown) {
    Registry registry;
    auto& c = registry.counter("mirrored_total", "x").get();
    c.set_total(5);
    c.set_total(3);
    EXPECT_EQ(c.value(), 5);
    c.set_total(8);
    EXPECT_EQ(c.value(), 8);
}

TEST(Metrics, CollectHooksRunBeforeEachRender) {
    Registry registry;
    auto& g = registry.gauge("seen", "x").get();
    int calls = 0;
    registry.on_collect([&] { g.set(++calls); });
    EXPECT_NE(registry.render().find("seen 1\n"), std::string::npos);
    EXPECT_NE(registry.render().find("seen 2\n"), std::string::npos);
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
    Registry registry;
    auto& family = registry.counter("hits_total", "x", {"thread"});
    auto& hist = registry.histogram("obs", "x", {}, {1}).get();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10'000; ++i) {
                family.labels({std::to_string(t % 2)}).inc();
                hist.observe(0.5);
                if (i % 1000 == 0) (void)registry.render();
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(family.labels({"0"}).value() + family.labels({"1"}).value(), 40'000);
    EXPECT_EQ(hist.snapshot().count, 40'000u);
    EXPECT_EQ(hist.snapshot().sum, 20'000);
}

TEST(Metrics, LoopbackCheck) {
    EXPECT_TRUE(is_loopback_literal("127.0.0.1"));
    EXPECT_TRUE(is_loopback_literal("127.3.2.1"));
    EXPECT_TRUE(is_loopback_literal("::1"));
    EXPECT_FALSE(is_loopback_literal("0.0.0.0"));
    EXPECT_FALSE(is_loopback_literal("10.0.0.1"));
    EXPECT_FALSE(is_loopback_literal("localhost"));
    EXPECT_FALSE(is_loopback_literal(""));
}

class MetricsServer : public ::testing::Test {
  protected:
    common::http::Response get(const std::string& target, const std::string& method = "GET") {
        common::http::ClientOptions o;
        o.base = *common::http::Url::parse("http://127.0.0.1:" + std::to_string(port_));
        o.request_timeout = std::chrono::seconds(10);
        auto client = std::move(*common::http::Client::create(io_.executor(), o));
        common::http::Request r;
        r.method = method;
        r.target = target;
        auto result = io_.run(client->send(std::move(r)));
        io_.call([&] { client.reset(); });
        if (!result) throw std::runtime_error(result.error().message);
        return std::move(*result);
    }
    void start(Handler::Refresh refresh = {}) {
        handler_ = std::make_unique<Handler>(registry_, std::move(refresh));
        io_.call([&] {
            auto s = start_server(io_.executor(), "127.0.0.1", 0, *handler_);
            if (!s) throw std::runtime_error(s.error());
            server_ = std::move(*s);
        });
        port_ = server_->port();
    }
    void TearDown() override {
        io_.call([&] { server_.reset(); });
    }

    Registry registry_;
    testing::IoThread io_;
    std::unique_ptr<Handler> handler_;
    std::unique_ptr<common::http::Server> server_;
    std::uint16_t port_ = 0;
};

TEST_F(MetricsServer, ScrapeOverARealPortRunsTheRefreshFirst) {
    auto& orders = registry_.gauge("nebula_orders", "Orders by status.", {"status"});
    int scrapes = 0;
    start([&]() -> boost::asio::awaitable<void> {
        // The refresh is a coroutine on the server's executor, as a database query would be.
        co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
        orders.labels({"fulfilled"}).set(++scrapes);
    });
    auto r = get("/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.find("Content-Type").value_or(""), kContentType);
    EXPECT_NE(r.body.find("# TYPE nebula_orders gauge\nnebula_orders{status=\"fulfilled\"} 1\n"),
              std::string::npos)
        << r.body;
    EXPECT_NE(get("/metrics").body.find("nebula_orders{status=\"fulfilled\"} 2\n"), std::string::npos);
}

TEST_F(MetricsServer, OtherPathsAndMethodsAreRefused) {
    start();
    EXPECT_EQ(get("/").status, 404);
    EXPECT_EQ(get("/metrics/x").status, 404);
    auto post = get("/metrics", "POST");
    EXPECT_EQ(post.status, 405);
    EXPECT_EQ(post.headers.find("Allow").value_or(""), "GET");
}

TEST_F(MetricsServer, AFailingRefreshStillServesTheRegistry) {
    registry_.counter("still_total", "x").get().inc();
    start([]() -> boost::asio::awaitable<void> {
        throw std::runtime_error("database is locked");
        co_return;
    });
    auto r = get("/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("still_total 1\n"), std::string::npos);
}

TEST(MetricsServerBind, RefusesANonLoopbackAddress) {
    Registry registry;
    Handler handler(registry);
    testing::IoThread io;
    auto refused = io.call([&] { return start_server(io.executor(), "0.0.0.0", 0, handler); });
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("loopback"), std::string::npos);
}

}  // namespace
}  // namespace nebula::common::metrics
