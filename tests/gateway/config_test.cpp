#include "gateway/config.hpp"

#include <gtest/gtest.h>

#include "support/tls_cert.hpp"

namespace nebula::gateway {
namespace {

class GatewayConfigTest : public ::testing::Test {
  protected:
    std::map<std::string, std::string> valid() {
        return {{"API_SECRET_KEY", std::string(40, 'k')},
                {"PANEL_URL", "http://127.0.0.1:2053"},
                {"PANEL_USERNAME", "admin"},
                {"PANEL_PASSWORD", "panel-password"},
                {"PUBLIC_HOST", "vpn.example.com"},
                {"ALLOWED_IPS", "203.0.113.7"},
                {"SSL_CERT_PATH", cert.cert_path},
                {"SSL_KEY_PATH", cert.key_path}};
    }
    common::Result<GatewayConfig, std::string> load(std::map<std::string, std::string> values) {
        return load_gateway_config(common::Environment::from_map(std::move(values)));
    }
    testing::TlsCert cert;
};

TEST_F(GatewayConfigTest, ValidConfigurationWithDefaults) {
    auto c = load(valid());
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->port, 8443);
    EXPECT_EQ(c->bind_address, "0.0.0.0");
    EXPECT_EQ(c->rate_limit_per_minute, 100);
    EXPECT_FALSE(c->plain_http);
    EXPECT_EQ(c->sub_url_base, "https://vpn.example.com:2096/sub/");
    EXPECT_EQ(c->max_connections_per_ip, 64u);
    // The server keeps a per-address share of slots for allowlisted peers, at most half.
    const auto server = server_options(*c);
    EXPECT_EQ(server.max_connections, 256u);
    EXPECT_EQ(server.max_connections_per_ip, 64u);
    EXPECT_EQ(server.reserved_connections, 64u);
    c->max_connections = 10;
    EXPECT_EQ(server_options(*c).max_connections_per_ip, 10u);
    EXPECT_EQ(server_options(*c).reserved_connections, 5u);
}

TEST_F(GatewayConfigTest, EmptyEnvironmentNamesEveryRequiredKey) {
    auto c = load({});
    ASSERT_FALSE(c);
    for (const char* key : {"API_SECRET_KEY", "PANEL_URL", "PANEL_USERNAME", "PANEL_PASSWORD", "PUBLIC_HOST",
                            "SSL_CERT_PATH", "SSL_KEY_PATH", "ALLOWED_IPS"}) {
        EXPECT_NE(c.error().find(std::string("- ") + key + " "), std::string::npos) << key << "\n"
                                                                                    << c.error();
    }
}

TEST_F(GatewayConfigTest, InvalidValuesAreEachNamed) {
    auto v = valid();
    v["PORT"] = "http";
    v["API_SECRET_KEY"] = "short";
    v["ALLOWED_IPS"] = "10.0.0.1, nonsense";
    v["RATE_LIMIT_PER_MINUTE"] = "0";
    v["MAX_CONNECTIONS_PER_IP"] = "0";
    v["PANEL_URL"] = "127.0.0.1:2053";
    v["SSL_KEY_PATH"] = "/nonexistent/key.pem";
    auto c = load(v);
    ASSERT_FALSE(c);
    for (const char* key : {"PORT", "API_SECRET_KEY", "ALLOWED_IPS", "RATE_LIMIT_PER_MINUTE",
                            "MAX_CONNECTIONS_PER_IP", "PANEL_URL", "SSL_KEY_PATH"}) {
        EXPECT_NE(c.error().find(std::string("- ") + key + " "), std::string::npos) << key << "\n"
                                                                                    << c.error();
    }
    EXPECT_NE(c.error().find("nonsense"), std::string::npos);
    EXPECT_EQ(c.error().find("short\""), std::string::npos);  // secrets are not echoed
}

TEST_F(GatewayConfigTest, PlainHttpOnlyOnLoopback) {
    auto v = valid();
    v["PLAIN_HTTP"] = "true";
    v.erase("SSL_CERT_PATH");
    v.erase("SSL_KEY_PATH");
    auto public_bind = load(v);
    ASSERT_FALSE(public_bind);
    EXPECT_NE(public_bind.error().find("PLAIN_HTTP"), std::string::npos);
    v["BIND_ADDRESS"] = "127.0.0.1";
    EXPECT_TRUE(load(v));
    v["BIND_ADDRESS"] = "::1";
    EXPECT_TRUE(load(v));
}

TEST_F(GatewayConfigTest, EmptyAllowlistOnlyOnLoopback) {
    auto v = valid();
    v.erase("ALLOWED_IPS");
    EXPECT_FALSE(load(v));
    v["BIND_ADDRESS"] = "127.0.0.1";
    EXPECT_TRUE(load(v));
}

TEST_F(GatewayConfigTest, BenchmarkRouteOnlyOnLoopback) {
    auto v = valid();
    v["BENCH_BASELINE_ROUTE"] = "true";
    EXPECT_FALSE(load(v));
    v["BIND_ADDRESS"] = "127.0.0.1";
    EXPECT_TRUE(load(v));
}

TEST_F(GatewayConfigTest, ApiTokenReplacesUsernameAndPassword) {
    auto v = valid();
    v.erase("PANEL_USERNAME");
    v.erase("PANEL_PASSWORD");
    EXPECT_FALSE(load(v));
    v["PANEL_API_TOKEN"] = "token";
    EXPECT_TRUE(load(v));
}

TEST_F(GatewayConfigTest, PublicHostMustBeBare) {
    auto v = valid();
    for (const char* bad : {"https://vpn.example.com", "vpn.example.com:443", "vpn.example.com/x"}) {
        v["PUBLIC_HOST"] = bad;
        EXPECT_FALSE(load(v)) << bad;
    }
    v["PUBLIC_HOST"] = "2001:db8::5";
    auto c = load(v);
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->sub_url_base, "https://[2001:db8::5]:2096/sub/");
}

TEST_F(GatewayConfigTest, APanelOnAnotherHostNeedsPanelAllowRemote) {
    auto v = valid();
    v["PANEL_URL"] = "http://203.0.113.9:2053";
    auto refused = load(v);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("PANEL_URL is not on this machine"), std::string::npos) << refused.error();
    EXPECT_NE(refused.error().find("PANEL_ALLOW_REMOTE=true"), std::string::npos) << refused.error();

    v["PANEL_ALLOW_REMOTE"] = "true";
    auto allowed = load(v);
    ASSERT_TRUE(allowed) << allowed.error();
    EXPECT_TRUE(allowed->panel_allow_remote);

    for (const std::string local :
         {"http://127.0.0.1:2053", "http://localhost:2053", "https://[::1]:2053", "http://127.0.0.2:2053"}) {
        auto c = valid();
        c["PANEL_URL"] = local;
        EXPECT_TRUE(load(c)) << local;
    }
}

TEST_F(GatewayConfigTest, LogLevelIsCaseInsensitiveAndUnknownOnesAreRefused) {
    auto v = valid();
    v["LOG_LEVEL"] = "WARN";
    auto c = load(v);
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->log_level, "warn");
    v["LOG_LEVEL"] = "verbose";
    auto refused = load(v);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("LOG_LEVEL must be one of"), std::string::npos);
}

TEST_F(GatewayConfigTest, APreviousKeyLeftTooLongIsNoticed) {
    auto v = valid();
    v["API_SECRET_KEY_PREVIOUS"] = std::string(40, 'p');
    v["API_SECRET_KEY_PREVIOUS_SINCE"] = "2026-03-01";
    auto c = load(v);
    ASSERT_TRUE(c) << c.error();
    ASSERT_TRUE(c->previous_key_since);
    const auto since = *c->previous_key_since;
    EXPECT_FALSE(previous_key_notice(*c, since + std::chrono::days(6)));
    const auto notice = previous_key_notice(*c, since + std::chrono::days(9));
    ASSERT_TRUE(notice);
    EXPECT_NE(notice->find("API_SECRET_KEY_PREVIOUS is still set 9 days"), std::string::npos) << *notice;
    c->previous_secret_key.clear();
    EXPECT_FALSE(previous_key_notice(*c, since + std::chrono::days(90)));

    v["API_SECRET_KEY_PREVIOUS_SINCE"] = "last tuesday";
    auto bad = load(v);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("API_SECRET_KEY_PREVIOUS_SINCE must be a date YYYY-MM-DD"), std::string::npos);
}

TEST_F(GatewayConfigTest, RotationKeyMustDiffer) {
    auto v = valid();
    v["API_SECRET_KEY_PREVIOUS"] = v["API_SECRET_KEY"];
    EXPECT_FALSE(load(v));
    v["API_SECRET_KEY_PREVIOUS"] = std::string(40, 'p');
    auto c = load(v);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->previous_secret_key, std::string(40, 'p'));
}

}  // namespace
}  // namespace nebula::gateway
