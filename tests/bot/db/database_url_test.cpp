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
