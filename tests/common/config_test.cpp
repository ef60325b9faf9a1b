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

}  // namespace
}  // namespace nebula::common
