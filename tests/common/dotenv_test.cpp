#include "common/dotenv.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/crypto.hpp"

namespace nebula::common {
namespace {

TEST(Dotenv, ParsesKeysCommentsBlankLinesAndExport) {
    auto r = parse_dotenv(
        "# a comment\n\nPORT=8443\nexport PANEL_URL=http://127.0.0.1:2053\n  SPACED = value  \n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->at("PORT"), "8443");
    EXPECT_EQ(r->at("PANEL_URL"), "http://127.0.0.1:2053");
    EXPECT_EQ(r->at("SPACED"), "value");
    EXPECT_EQ(r->size(), 3u);
}

TEST(Dotenv, QuotesAndInlineComments) {
    auto r = parse_dotenv(
        "A='single # not a comment'\n"
        "B=\"double \\\"q\\\" \\n line\"\n"
        "C=plain # trailing comment\n"
        "D=pa#ss\n"
        "E=\"\"\n"
        "F=\"multi\nline\" # done\n"
        "G=\"ends with backslash \\\\\"\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->at("A"), "single # not a comment");
    EXPECT_EQ(r->at("B"), "double \"q\" \n line");
    EXPECT_EQ(r->at("C"), "plain");
    EXPECT_EQ(r->at("D"), "pa#ss");
    EXPECT_EQ(r->at("E"), "");
    EXPECT_EQ(r->at("F"), "multi\nline");
    EXPECT_EQ(r->at("G"), "ends with backslash \\");
}

TEST(Dotenv, WindowsLineEndings) {
    auto r = parse_dotenv("A=1\r\nB='two'\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->at("A"), "1");
    EXPECT_EQ(r->at("B"), "two");
}

TEST(Dotenv, ReportsEveryBadLineWithItsNumber) {
    auto r = parse_dotenv("GOOD=1\nno equals here\n=missing key\nQ='unterminated\nX=\"open\n");
    ASSERT_FALSE(r);
    const auto& errors = r.error();
    ASSERT_EQ(errors.size(), 4u);
    EXPECT_EQ(errors[0].line, 2);
    EXPECT_EQ(errors[1].line, 3);
    EXPECT_EQ(errors[2].line, 4);
    EXPECT_NE(errors[2].message.find("unterminated single quote"), std::string::npos);
    EXPECT_EQ(errors[3].line, 5);
    EXPECT_NE(errors[3].message.find("unterminated double quote"), std::string::npos);
}

TEST(Dotenv, TextAfterClosingQuoteIsAnError) {
    auto r = parse_dotenv("A='x' y\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error()[0].line, 1);
}

TEST(Environment, RealEnvironmentWinsOverTheFile) {
    const std::string key = "NEBULA_TEST_" + random_hex(4);
    const std::string path = ::testing::TempDir() + "/env-" + random_hex(4);
    std::ofstream(path) << key << "=from-file\n" << key << "_ONLY=file-only\n";
    ::setenv(key.c_str(), "from-env", 1);
    auto env = Environment::load(path);
    ::unsetenv(key.c_str());
    ASSERT_TRUE(env);
    EXPECT_EQ(*env->find(key), "from-env");
    EXPECT_EQ(*env->find(key + "_ONLY"), "file-only");
    std::remove(path.c_str());
}

TEST(Environment, MissingFileIsFineAndBadFileNamesLines) {
    EXPECT_TRUE(Environment::load("/nonexistent/.env"));
    const std::string path = ::testing::TempDir() + "/bad-env-" + random_hex(4);
    std::ofstream(path) << "OK=1\nbroken line\n";
    auto env = Environment::load(path);
    ASSERT_FALSE(env);
    EXPECT_NE(env.error().find("line 2"), std::string::npos);
    std::remove(path.c_str());
}

TEST(Environment, EmptyValueCountsAsUnset) {
    auto env = Environment::from_map({{"A", ""}, {"B", "x"}});
    EXPECT_EQ(env.find("A"), nullptr);
    EXPECT_EQ(*env.find("B"), "x");
}

}  // namespace
}  // namespace nebula::common
