// nebula-gateway operations: `check` against the fake panel and throw-away certificates (healthy,
// wrong password, mismatched key, expired certificate, panel down), and the gateway's metrics
// scraped over a real port after real signed, unsigned and forbidden requests.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "common/http_client.hpp"
#include "common/metrics.hpp"
#include "gateway/check.hpp"
#include "integration/gateway/gateway_harness.hpp"

namespace nebula::gateway {
namespace {

class GatewayCheck : public ::testing::Test {
  protected:
    void SetUp() override {
        panel_ = fakes::FakePanel::start({});
        config_.cert_path = cert_.cert_path;
        config_.key_path = cert_.key_path;
        config_.panel_url = panel_->url();
        config_.panel_username = "admin";
        config_.panel_password = "admin";
        config_.panel_timeout = std::chrono::milliseconds(5000);
    }

    const CheckResult& find(std::string_view prefix) {
        auto it = std::find_if(results_.begin(), results_.end(),
                               [&](const CheckResult& r) { return r.name.starts_with(prefix); });
        if (it == results_.end()) throw std::runtime_error("no check named " + std::string(prefix));
        return *it;
    }

    common::SystemClock clock_;
    testing::TlsCert cert_;
    std::unique_ptr<fakes::FakePanel> panel_;
    GatewayConfig config_;
    std::vector<CheckResult> results_;
};

TEST_F(GatewayCheck, HealthyPanelAndCertificateAreOk) {
    results_ = check_gateway(config_, clock_);
    ASSERT_EQ(results_.size(), 2u);
    EXPECT_TRUE(find("tls").ok) << format_check(find("tls"));
    EXPECT_NE(find("tls").detail.find("expires in"), std::string::npos);
    const auto& panel = find("panel");
    EXPECT_TRUE(panel.ok) << format_check(panel);
    EXPECT_NE(panel.detail.find("1 reality-tcp"), std::string::npos) << panel.detail;
    EXPECT_TRUE(format_check(panel).starts_with("OK   panel http://127.0.0.1:"));
}

TEST_F(GatewayCheck, AWrongPanelPasswordNamesTheKeysToFix) {
    config_.panel_password = "wrong-password";
    results_ = check_gateway(config_, clock_);
    EXPECT_TRUE(find("tls").ok);
    EXPECT_FALSE(find("panel").ok);
    EXPECT_NE(find("panel").detail.find("PANEL_PASSWORD"), std::string::npos) << find("panel").detail;
    EXPECT_TRUE(format_check(find("panel")).starts_with("FAIL panel "));
}

TEST_F(GatewayCheck, APanelThatIsDownFails) {
    panel_->set_down(true);
    results_ = check_gateway(config_, clock_);
    EXPECT_FALSE(find("panel").ok);
    EXPECT_NE(find("panel").detail.find("PANEL_URL"), std::string::npos) << find("panel").detail;
}

TEST_F(GatewayCheck, AKeyThatIsNotTheCertificatesFails) {
    testing::TlsCert other;
    config_.key_path = other.key_path;
    results_ = check_gateway(config_, clock_);
    EXPECT_FALSE(find("tls").ok);
    EXPECT_NE(find("tls").detail.find("not the key of SSL_CERT_PATH"), std::string::npos)
        << find("tls").detail;
}

TEST_F(GatewayCheck, AnUnreadableCertificateFails) {
    const auto garbage =
        std::filesystem::temp_directory_path() / ("nebula-garbage-" + common::uuid_v4() + ".pem");
    std::ofstream(garbage) << "not a certificate\n";
    config_.cert_path = garbage.string();
    results_ = check_gateway(config_, clock_);
    std::filesystem::remove(garbage);
    EXPECT_FALSE(find("tls").ok);
    EXPECT_NE(find("tls").detail.find("SSL_CERT_PATH"), std::string::npos);
}

TEST_F(GatewayCheck, PlainHttpNeedsNoCertificate) {
    config_.plain_http = true;
    config_.cert_path = config_.key_path = "";
    results_ = check_gateway(config_, clock_);
    EXPECT_TRUE(find("tls").ok);
}

/// The harness's gateway, rebuilt with metrics, plus a metrics server on the same executor.
class GatewayMetricsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        h_ = std::make_unique<testing::GatewayHarness>(fakes::FakePanelOptions{});
        metrics_ = std::make_unique<GatewayMetrics>(registry_);
        h_->io.call([&] {
            h_->clients.clear();
            h_->server.reset();
        });
        h_->io.call([&] {
            h_->service =
                std::make_unique<GatewayService>(h_->config, *h_->panel_client, h_->clock, metrics_.get());
            common::http::ServerOptions options;
            options.address = "127.0.0.1";
            options.tls = common::http::TlsFiles{h_->cert.cert_path, h_->cert.key_path};
            h_->server = std::move(*common::http::Server::create(h_->io.executor(), options, *h_->service));
            h_->server->start();
            auto started = common::metrics::start_server(h_->io.executor(), "127.0.0.1", 0, handler_);
            if (!started) throw std::runtime_error(started.error());
            metrics_server_ = std::move(*started);
        });
        h_->port = h_->server->port();
    }
    void TearDown() override {
        h_->io.call([&] { metrics_server_.reset(); });
        h_.reset();
    }

    std::string scrape() {
        common::http::ClientOptions o;
        o.base = *common::http::Url::parse("http://127.0.0.1:" + std::to_string(metrics_server_->port()));
        auto client = std::move(*common::http::Client::create(h_->io.executor(), o));
        common::http::Request r;
        r.method = "GET";
        r.target = "/metrics";
        auto response = h_->io.run(client->send(std::move(r)));
        h_->io.call([&] { client.reset(); });
        if (!response || response->status != 200) throw std::runtime_error("scrape failed");
        EXPECT_EQ(response->headers.find("Content-Type").value_or(""), common::metrics::kContentType);
        return response->body;
    }

    common::metrics::Registry registry_;
    common::metrics::Handler handler_{registry_};
    std::unique_ptr<GatewayMetrics> metrics_;
    std::unique_ptr<testing::GatewayHarness> h_;
    std::unique_ptr<common::http::Server> metrics_server_;
};

TEST_F(GatewayMetricsTest, CountsRequestsRefusalsAndPanelLatency) {
    EXPECT_EQ(h_->get("/api/health").status, 200);
    EXPECT_EQ(h_->get("/api/health").status, 200);
    EXPECT_EQ(h_->get("/api/clients/nobody%40example").status, 404);
    EXPECT_EQ(h_->send({.target = "/api/health", .sign = false}).status, 401);
    EXPECT_EQ(h_->send({.target = "/api/health", .key = "wrong-key-0123456789abcdef0123456789abcdef"}).status,
              401);
    // An address outside ALLOWED_IPS is closed before the TLS handshake: no request, one refusal.
    EXPECT_FALSE(h_->try_send({.target = "/api/health", .local_address = "127.0.0.2"}));

    const auto text = scrape();
    auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
    EXPECT_TRUE(has("nebula_gateway_requests_total{route=\"/api/health\",method=\"GET\",status=\"200\"} 2"))
        << text;
    EXPECT_TRUE(
        has("nebula_gateway_requests_total{route=\"/api/clients/{email}\",method=\"GET\",status=\"404\"} 1"));
    EXPECT_TRUE(has("nebula_gateway_requests_total{route=\"/api/health\",method=\"GET\",status=\"401\"} 2"));
    EXPECT_TRUE(has("nebula_gateway_auth_failures_total{code=\"missing_signature\"} 1"));
    EXPECT_TRUE(has("nebula_gateway_auth_failures_total{code=\"bad_signature\"} 1"));
    EXPECT_TRUE(has("nebula_gateway_auth_failures_total{code=\"forbidden\"} 1"));
    // The harness turns the health cache off: each healthy check asked the panel.
    EXPECT_TRUE(has("nebula_gateway_panel_request_duration_seconds_count{operation=\"server_status\"} 2"))
        << text;
    EXPECT_TRUE(has(
        "nebula_gateway_panel_request_duration_seconds_bucket{operation=\"server_status\",le=\"+Inf\"} 2"));
    EXPECT_TRUE(has("nebula_gateway_panel_request_duration_seconds_count{operation=\"find_client\"} 1"));
}

}  // namespace
}  // namespace nebula::gateway

namespace nebula::gateway {
namespace {

/// Runs a command, returning its exit status and standard output.
std::pair<int, std::string> run_command(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("popen failed");
    std::string out;
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(GatewayCheckBinary, PrintsOneLinePerCheckAndExitsNonZeroOnAFailure) {
    testing::TlsCert cert;
    auto panel = fakes::FakePanel::start({});
    const auto env =
        std::filesystem::temp_directory_path() / ("nebula-gw-check-" + common::uuid_v4() + ".env");
    auto write_env = [&](const std::string& password) {
        std::ofstream(env) << "BIND_ADDRESS=127.0.0.1\nPORT=0\nSSL_CERT_PATH=" << cert.cert_path
                           << "\nSSL_KEY_PATH=" << cert.key_path
                           << "\nAPI_SECRET_KEY=" << testing::kGatewayKey << "\nPANEL_URL=" << panel->url()
                           << "\nPANEL_USERNAME=admin\nPANEL_PASSWORD=" << password
                           << "\nPUBLIC_HOST=vpn.example.com\nLOG_DIR=/nonexistent-not-needed-by-check\n";
    };
    const std::string command = std::string(NEBULA_GATEWAY_BINARY) + " --env " + env.string() + " check";

    write_env("admin");
    auto [ok_status, ok_out] = run_command("env -i " + command);
    EXPECT_EQ(ok_status, 0) << ok_out;
    EXPECT_TRUE(ok_out.starts_with("OK   configuration: ")) << ok_out;
    EXPECT_NE(ok_out.find("\nOK   tls: "), std::string::npos) << ok_out;
    EXPECT_NE(ok_out.find("\nOK   panel "), std::string::npos) << ok_out;
    EXPECT_EQ(std::count(ok_out.begin(), ok_out.end(), '\n'), 3) << ok_out;

    write_env("wrong");
    auto [bad_status, bad_out] = run_command("env -i " + command);
    EXPECT_EQ(bad_status, 1) << bad_out;
    EXPECT_NE(bad_out.find("\nFAIL panel "), std::string::npos) << bad_out;

    std::ofstream(env) << "PORT=not-a-port\n";
    auto [config_status, config_out] = run_command("env -i " + command);
    EXPECT_EQ(config_status, 1) << config_out;
    EXPECT_TRUE(config_out.starts_with("FAIL configuration: ")) << config_out;
    std::filesystem::remove(env);
}

}  // namespace
}  // namespace nebula::gateway
