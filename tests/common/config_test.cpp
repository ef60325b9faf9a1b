#include "common/config.hpp"

#include <gtest/gtest.h>

namespace nebula::common {
namespace {

TEST(ConfigReader, TypedValuesAndDefaults) {
    auto env =
        Environment::from_map({{"PORT", "9443"}, {"FLAG", "yes"}, {"LIST", " a, b ,,c "}, {"SECRET", "x"}});
    ConfigReader r(env);
    EXPECT_EQ(r.port("PORT", 1), 9443);
    EXPECT_EQ(r.port("OTHER_PORT", 8443), 8443);
    EXPECT_TRUE(r.boolean("FLAG", false));
    EXPECT_EQ(r.list("LIST"), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(r.optional("MISSING", "dflt"), "dflt");
    EXPECT_TRUE(r.finish());
}

TEST(ConfigReader, NamesEveryProblemInOneMessage) {
    auto env = Environment::from_map({{"PORT", "99999"},
                                      {"FLAG", "maybe"},
                                      {"URL", "ftp://x"},
                                      {"SECRET", "short-secret-value"},
                                      {"N", "12abc"}});
    ConfigReader r(env);
    r.port("PORT", 1);
    r.boolean("FLAG", false);
    r.url("URL");
    r.secret("SECRET", 32);
    r.integer("N", 0, 0, 100);
    r.required("NEEDED");
    auto status = r.finish();
    ASSERT_FALSE(status);
    const std::string& m = status.error();
    for (const char* key : {"PORT", "FLAG", "URL", "SECRET", "N", "NEEDED"}) {
        EXPECT_NE(m.find(std::string("- ") + key + " "), std::string::npos) << key << " missing from: " << m;
    }
    EXPECT_NE(m.find("6 problems"), std::string::npos);
    // The secret's value is never echoed.
    EXPECT_EQ(m.find("short-secret-value"), std::string::npos);
}

TEST(SharedSettings, LogLevelIsReadInAnyCaseAndAnUnknownOneIsRefused) {
    for (const auto& [given, expected] :
         std::vector<std::pair<std::string, std::string>>{{"WARN", "warn"},
                                                          {"Warning", "warn"},
                                                          {"debug", "debug"},
                                                          {" Error ", "error"},
                                                          {"TRACE", "trace"}}) {
        auto env = Environment::from_map({{"LOG_LEVEL", given}});
        ConfigReader r(env);
        EXPECT_EQ(read_shared_settings(r).log_level, expected) << given;
        EXPECT_TRUE(r.finish()) << given;
    }
    for (const std::string given : {"verbose", "off", "all", "2"}) {
        auto env = Environment::from_map({{"LOG_LEVEL", given}});
        ConfigReader r(env);
        read_shared_settings(r);
        auto status = r.finish();
        ASSERT_FALSE(status) << given;
        EXPECT_NE(status.error().find("LOG_LEVEL must be one of trace, debug, info, warn, error (got \"" +
                                      given + "\")"),
                  std::string::npos)
            << status.error();
    }
}

TEST(SharedSettings, DefaultsAndTheMetricsKeys) {
    auto empty = Environment::from_map({});
    ConfigReader defaults(empty);
    const auto d = read_shared_settings(defaults);
    EXPECT_TRUE(defaults.finish());
    EXPECT_EQ(d.log_level, "info");
    EXPECT_EQ(d.log_dir, "logs");
    EXPECT_FALSE(d.metrics_port);
    EXPECT_EQ(d.metrics_bind, "127.0.0.1");

    auto env =
        Environment::from_map({{"METRICS_PORT", "9464"}, {"METRICS_BIND", "::1"}, {"LOG_DIR", "/var/log/x"}});
    ConfigReader r(env);
    const auto s = read_shared_settings(r);
    EXPECT_TRUE(r.finish());
    EXPECT_EQ(s.metrics_port, 9464);
    EXPECT_EQ(s.metrics_bind, "::1");
    EXPECT_EQ(s.log_dir, "/var/log/x");

    auto bad = Environment::from_map({{"METRICS_PORT", "70000"}, {"METRICS_BIND", "0.0.0.0"}});
    ConfigReader b(bad);
    read_shared_settings(b);
    auto status = b.finish();
    ASSERT_FALSE(status);
    EXPECT_NE(status.error().find("METRICS_PORT"), std::string::npos);
    EXPECT_NE(status.error().find("METRICS_BIND must be a loopback address"), std::string::npos);
}

}  // namespace
}  // namespace nebula::common
