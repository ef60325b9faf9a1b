#include "bot/db/database_url.hpp"

#include <gtest/gtest.h>

#include "bot/db/backends.hpp"

namespace nebula::bot::db {
namespace {

TEST(DatabaseUrl, DefaultIsSqliteUnderData) {
    auto url = parse_database_url(kDefaultDatabaseUrl);
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(url->backend, Backend::sqlite);
    EXPECT_EQ(url->sqlite_path, "./data/bot.db");
}

TEST(DatabaseUrl, SqliteWithSlashesAndAbsolutePath) {
    auto url = parse_database_url("sqlite:///var/lib/nebula/bot.db");
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(url->sqlite_path, "/var/lib/nebula/bot.db");
    EXPECT_FALSE(parse_database_url("sqlite:").has_value());
}

TEST(DatabaseUrl, PostgresBothSchemes) {
    for (const char* text :
         {"postgres://bot:s3cret@db.example:5433/nebula", "postgresql://bot:s3cret@db.example/nebula"}) {
        auto url = parse_database_url(text);
        ASSERT_TRUE(url.has_value()) << text;
        EXPECT_EQ(url->backend, Backend::postgres);
        EXPECT_EQ(url->postgres_url, text);
        EXPECT_EQ(url->redacted().find("s3cret"), std::string::npos);
        EXPECT_NE(url->redacted().find("bot:***@db.example"), std::string::npos);
    }
}

TEST(DatabaseUrl, RedactionHidesEveryFormOfThePassword) {
    const std::pair<const char*, const char*> cases[] = {
        {"postgres://bot:p@ss@db.example/nebula", "postgres://bot:***@db.example/nebula"},
        {"postgres://bot:p%40ss@db.example/nebula", "postgres://bot:***@db.example/nebula"},
        {"postgres://bot@db.example/nebula?password=s3cret", "postgres://bot@db.example/nebula?password=***"},
        {"postgresql://db.example/nebula?sslmode=require&password=s3cret&user=bot",
         "postgresql://db.example/nebula?sslmode=require&password=***&user=bot"},
        {"postgres://bot:s3cret@db.example/nebula?password=other",
         "postgres://bot:***@db.example/nebula?password=***"},
        {"postgres://db.example/nebula", "postgres://db.example/nebula"},
    };
    for (const auto& [text, expected] : cases) {
        DatabaseUrl url;
        url.backend = Backend::postgres;
        url.postgres_url = text;
        EXPECT_EQ(url.redacted(), expected) << text;
    }
}

// Found by fuzz/database_url.cpp (its corpus keeps these inputs): the password in the query and
// a password holding '@' were written to the logs.
TEST(DatabaseUrl, RedactionCoversQueryPasswordsAndPasswordsWithAt) {
    struct Case {
        const char* url;
        const char* redacted;
    };
    // A NUL ends the URL for libpq but not for the log line: control characters are refused.
    using namespace std::string_view_literals;
    auto nul = parse_database_url("postgres://bot@db.example/nebula?x=1\0?password=s3cret"sv);
    ASSERT_FALSE(nul.has_value());
    EXPECT_EQ(nul.error().find("s3cret"), std::string::npos);
    EXPECT_FALSE(parse_database_url("postgres://bot@db.example/nebula\n").has_value());
    for (const auto& c : {
             Case{"postgresql://nebula@localhost/nebula?password=s3cret-pass",
                  "postgresql://nebula@localhost/nebula?password=***"},
             Case{"postgres://localhost/nebula?sslmode=require&pass%77ord=s3cret-pass&application_name=bot",
                  "postgres://localhost/nebula?sslmode=require&pass%77ord=***&application_name=bot"},
             Case{"postgres://bot:s3cret@pass@db.example:5432/nebula",
                  "postgres://bot:***@db.example:5432/nebula"},
             Case{"postgresql://nebula?@localhost/nebula?password=s3cret-pass",
                  "postgresql://nebula?@localhost/nebula?password=***"},
             Case{"postgres://db.example:5432/nebula?application_name=a@b",
                  "postgres://db.example:5432/nebula?application_name=a@b"},
         }) {
        auto url = parse_database_url(c.url);
        ASSERT_TRUE(url.has_value()) << c.url;
        EXPECT_EQ(url->redacted(), c.redacted);
        EXPECT_EQ(url->redacted().find("s3c"), std::string::npos) << c.url;
    }
}

TEST(DatabaseUrl, RejectsOtherSchemesAndMissingDatabase) {
    EXPECT_FALSE(parse_database_url("mysql://a:b@c/d").has_value());
    EXPECT_FALSE(parse_database_url("").has_value());
    auto no_db = parse_database_url("postgres://bot:s3cret@db.example:5432");
    ASSERT_FALSE(no_db.has_value());
    EXPECT_EQ(no_db.error().find("s3cret"), std::string::npos);
    auto bad_port = parse_database_url("postgres://bot:s3cret@db.example:notaport/db");
    ASSERT_FALSE(bad_port.has_value());
    EXPECT_EQ(bad_port.error().find("s3cret"), std::string::npos);
}

TEST(Placeholders, NumberedOutsideLiteralsAndComments) {
    EXPECT_EQ(to_postgres_placeholders("SELECT ? , ?"), "SELECT $1 , $2");
    EXPECT_EQ(to_postgres_placeholders("SELECT '?', \"a?b\", ? -- what?\n, ? /* ? */"),
              "SELECT '?', \"a?b\", $1 -- what?\n, $2 /* ? */");
    EXPECT_EQ(to_postgres_placeholders("SELECT 'it''s ?', ?"), "SELECT 'it''s ?', $1");
}

}  // namespace
}  // namespace nebula::bot::db
