#include "bot/db/migrations.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "bot/support/test_database.hpp"

namespace nebula::bot::db {
namespace {

using testing::BackendTest;

class MigrationsTest : public BackendTest {
  protected:
    std::int64_t count(const std::string& table) {
        return *conn().scalar<std::int64_t>("SELECT COUNT(*) FROM " + table);
    }
};

// Tables in the database (PostgreSQL: in the test's own schema), whatever created them.
std::int64_t table_count(Connection& c) {
    return *c.scalar<std::int64_t>(
        c.backend() == Backend::postgres
            ? "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
            : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'");
}

// `nebula-bot migrate --check` only reports: checking a database never migrated must leave it
// without schema_migrations (or anything else), on both backends.
TEST_P(MigrationsTest, CheckingAFreshDatabaseCreatesNothing) {
    ASSERT_EQ(table_count(conn()), 0);
    auto check = check_schema(conn());
    ASSERT_FALSE(check.has_value());
    EXPECT_EQ(check.error().code, MigrationErrorCode::pending);
    EXPECT_EQ(pending_migrations(conn()).size(), migrations_for(GetParam()).size());
    EXPECT_EQ(table_count(conn()), 0);
    // Through a read-only connection (any write would throw) the answer is the same.
    auto read_only = open_connection(db().url(), Access::read_only);
    ASSERT_TRUE(read_only.has_value()) << read_only.error();
    check = check_schema(**read_only);
    ASSERT_FALSE(check.has_value());
    EXPECT_EQ(check.error().code, MigrationErrorCode::pending) << check.error().message;

    // A partly migrated database: checking reports what is pending and writes nothing.
    ASSERT_TRUE(migrate(conn(), 1).has_value());
    const auto tables = table_count(conn());
    const auto applied = count("schema_migrations");
    check = check_schema(conn());
    ASSERT_FALSE(check.has_value());
    EXPECT_EQ(check.error().code, MigrationErrorCode::pending);
    EXPECT_EQ(check.error().message.find("001_initial"), std::string::npos) << check.error().message;
    EXPECT_EQ(table_count(conn()), tables);
    EXPECT_EQ(count("schema_migrations"), applied);
}

TEST_P(MigrationsTest, FreshDatabaseGetsEveryMigrationThenNothing) {
    const auto expected = migrations_for(GetParam());
    ASSERT_GE(expected.size(), 3u);
    auto pending = pending_migrations(conn());
    EXPECT_EQ(pending.size(), expected.size());
    auto check = check_schema(conn());
    ASSERT_FALSE(check.has_value());
    EXPECT_EQ(check.error().code, MigrationErrorCode::pending);
    EXPECT_NE(check.error().message.find("nebula-bot migrate"), std::string::npos);
    EXPECT_NE(check.error().message.find("001_initial"), std::string::npos);

    auto applied = migrate(conn());
    ASSERT_TRUE(applied.has_value()) << applied.error().message;
    ASSERT_EQ(applied->size(), expected.size());
    EXPECT_EQ(applied->front(), "001_initial");
    EXPECT_TRUE(check_schema(conn()).has_value());
    EXPECT_TRUE(pending_migrations(conn()).empty());

    for (const char* table : {"users", "plans", "servers", "orders", "receipts", "vpn_accounts",
                              "payment_methods", "audit_logs", "revenue_snapshots", "settings"}) {
        EXPECT_NO_THROW(count(table)) << table;
    }
    EXPECT_EQ(count("schema_migrations"), static_cast<std::int64_t>(expected.size()));

    auto again = migrate(conn());
    ASSERT_TRUE(again.has_value());
    EXPECT_TRUE(again->empty());
    EXPECT_EQ(count("schema_migrations"), static_cast<std::int64_t>(expected.size()));
}

TEST_P(MigrationsTest, SeedsFivePaymentMethodsWithEmptyAccounts) {
    ASSERT_TRUE(migrate(conn()).has_value());
    auto rows = conn().query(
        "SELECT code, name_en, name_ar, account, enabled FROM payment_methods ORDER BY sort_order");
    std::vector<std::string> codes;
    while (rows->step()) {
        codes.push_back(rows->get<std::string>(0));
        EXPECT_FALSE(rows->get<std::string>(1).empty());
        EXPECT_FALSE(rows->get<std::string>(2).empty());
        EXPECT_EQ(rows->get<std::string>(3), "");
        EXPECT_TRUE(rows->get<bool>(4));
    }
    EXPECT_EQ(codes, (std::vector<std::string>{"vodafone_cash", "orange_cash", "etisalat_cash", "we_pay",
                                               "instapay"}));
    EXPECT_EQ(
        conn().scalar<std::string>("SELECT name_ar FROM payment_methods WHERE code = ?", "vodafone_cash"),
        "فودافون كاش");
}

TEST_P(MigrationsTest, UpgradesFromTheFirstSchemaKeepingData) {
    auto first = migrate(conn(), 1);
    ASSERT_TRUE(first.has_value()) << first.error().message;
    ASSERT_EQ(*first, std::vector<std::string>{"001_initial"});
    conn().exec("INSERT INTO users (discord_id, username, created_at, updated_at) VALUES (?, ?, ?, ?)",
                "1001", "early", 10, 10);
    conn().exec(
        "INSERT INTO plans (name, duration_days, price_piasters, created_at, updated_at) VALUES (?, ?, ?, ?, "
        "?)",
        "Monthly", 30, 15000, 10, 10);
    conn().exec(
        "INSERT INTO orders (user_id, plan_id, kind, status, amount_piasters, created_at, updated_at) "
        "VALUES (1, 1, 'new', 'awaiting_payment', 15000, 10, 10)");
    EXPECT_EQ(count("payment_methods"), 0);

    auto rest = migrate(conn());
    ASSERT_TRUE(rest.has_value()) << rest.error().message;
    EXPECT_EQ(rest->size(), migrations_for(GetParam()).size() - 1);
    EXPECT_EQ(conn().scalar<std::string>("SELECT username FROM users WHERE discord_id = ?", "1001"), "early");
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT amount_piasters FROM orders WHERE user_id = 1"), 15000);
    EXPECT_EQ(count("payment_methods"), 5);
    EXPECT_TRUE(check_schema(conn()).has_value());
}

// 005 widens job_notices' kind check (SQLite by copying the table): queued notices survive, the
// new kinds are accepted and an unknown kind is still refused.
TEST_P(MigrationsTest, OutageNoticeKindsKeepQueuedNotices) {
    ASSERT_TRUE(migrate(conn(), 4).has_value());
    conn().exec("INSERT INTO users (discord_id, username, created_at, updated_at) VALUES (?, ?, ?, ?)",
                "1001", "early", 10, 10);
    conn().exec(
        "INSERT INTO job_notices (notice_key, kind, user_id, level, created_at, attempts, last_error) "
        "VALUES ('reminder:1', 'expiry_reminder', 1, 72, 20, 2, 'DM: closed')");
    EXPECT_THROW(conn().exec("INSERT INTO job_notices (notice_key, kind, user_id, created_at) "
                             "VALUES ('outage:1', 'server_outage', 1, 30)"),
                 DbError);

    auto rest = migrate(conn());
    ASSERT_TRUE(rest.has_value()) << rest.error().message;
    EXPECT_EQ(rest->front(), "005_outage_notices");
    EXPECT_EQ(
        conn().scalar<std::string>("SELECT last_error FROM job_notices WHERE notice_key = 'reminder:1'"),
        "DM: closed");
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT attempts FROM job_notices WHERE notice_key = 'reminder:1'"),
              2);
    for (const char* kind : {"server_outage", "server_restored"}) {
        EXPECT_EQ(conn().exec(
                      "INSERT INTO job_notices (notice_key, kind, user_id, created_at) VALUES (?, ?, 1, 30)",
                      std::string(kind) + ":1", kind),
                  1);
    }
    EXPECT_THROW(conn().exec("INSERT INTO job_notices (notice_key, kind, user_id, created_at) "
                             "VALUES ('x:1', 'no_such_kind', 1, 30)"),
                 DbError);
    EXPECT_THROW(conn().exec("INSERT INTO job_notices (notice_key, kind, user_id, created_at) "
                             "VALUES ('y:1', 'server_outage', 999, 30)"),
                 DbError)
        << "the user foreign key is still there";
    EXPECT_TRUE(check_schema(conn()).has_value());
}

// 007 records each order's channel step: orders from before it count as settled, except an unpaid
// order that never got its channel, which the reconciler then completes.
TEST_P(MigrationsTest, OrderRecoveryColumnsSettleExistingOrders) {
    ASSERT_TRUE(migrate(conn(), 5).has_value());
    conn().exec(
        "INSERT INTO users (discord_id, username, created_at, updated_at) VALUES ('1001', 'a', 10, 10)");
    conn().exec(
        "INSERT INTO plans (name, duration_days, traffic_bytes, device_limit, price_piasters, active, "
        "sort_order, "
        "created_at, updated_at) VALUES ('p', 30, 0, 1, 15000, 1, 0, 10, 10)");
    const char* insert =
        "INSERT INTO orders (user_id, plan_id, kind, status, amount_piasters, channel_id, created_at, "
        "updated_at) "
        "VALUES (1, 1, 'new', ?, 15000, ?, 10, ?)";
    conn().exec(insert, "cancelled", std::optional<std::string>(), 20);
    conn().exec(insert, "fulfilled", std::optional<std::string>("555"), 30);
    conn().exec(insert, "awaiting_payment", std::optional<std::string>(), 40);
    auto rest = migrate(conn(), 7);
    ASSERT_TRUE(rest.has_value()) << rest.error().message;
    EXPECT_EQ(rest->back(), "007_order_recovery");
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT channel_ready_at FROM orders WHERE id = 1"), 20);
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT channel_ready_at FROM orders WHERE id = 2"), 30);
    EXPECT_EQ(
        conn().scalar<std::int64_t>("SELECT COUNT(*) FROM orders WHERE id = 3 AND channel_ready_at IS NULL "
                                    "AND channel_attempt_at IS NULL AND review_reminded_at IS NULL"),
        1);
    ASSERT_TRUE(migrate(conn()).has_value());
    EXPECT_TRUE(check_schema(conn()).has_value());
}

// 006 separates a customer's language choice from the old users.locale, which was 'en' for
// everyone who never pressed Language: 'ar' (only the button set it) stays a choice, 'en' becomes
// "not chosen" so the customer's Discord language decides.
TEST_P(MigrationsTest, LanguageChoiceKeepsArabicAndForgetsTheEnglishDefault) {
    ASSERT_TRUE(migrate(conn(), 5).has_value());
    conn().exec("INSERT INTO users (discord_id, username, created_at, updated_at) VALUES (?, ?, ?, ?)",
                "1001", "never-chose", 10, 10);
    conn().exec(
        "INSERT INTO users (discord_id, username, locale, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        "1002", "chose-arabic", "ar", 10, 20);

    auto rest = migrate(conn());
    ASSERT_TRUE(rest.has_value()) << rest.error().message;
    EXPECT_EQ(rest->front(), "006_language");
    auto choice = [&](const char* id) {
        return conn().scalar<std::string>("SELECT locale_choice FROM users WHERE discord_id = ?", id);
    };
    EXPECT_EQ(choice("1001"), std::nullopt);
    EXPECT_EQ(choice("1002"), "ar");
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT COUNT(*) FROM users WHERE last_locale IS NULL"), 2);
    EXPECT_THROW(conn().exec("UPDATE users SET locale_choice = 'fr' WHERE discord_id = '1001'"), DbError);
    EXPECT_THROW(
        conn().exec("UPDATE users SET last_locale = ? WHERE discord_id = '1001'", std::string(17, 'x')),
        DbError);
    EXPECT_TRUE(check_schema(conn()).has_value());
}

// 006 clears the extra wallet instructions 002 seeded (they told customers to write the reference
// in the note, which USSD transfers cannot), and keeps what an admin wrote.
TEST_P(MigrationsTest, SeededWalletInstructionsMakeWayForTheNewSteps) {
    ASSERT_TRUE(migrate(conn(), 5).has_value());
    conn().exec(
        "UPDATE payment_methods SET instructions_en = 'Ask for Mona.', instructions_ar = 'اسأل عن منى.' "
        "WHERE code = 'we_pay'");
    ASSERT_TRUE(migrate(conn()).has_value());
    EXPECT_EQ(
        *conn().scalar<std::int64_t>("SELECT COUNT(*) FROM payment_methods WHERE instructions_en = '' AND "
                                     "instructions_ar = ''"),
        4);
    EXPECT_EQ(conn().scalar<std::string>("SELECT instructions_ar FROM payment_methods WHERE code = 'we_pay'"),
              "اسأل عن منى.");
}

TEST_P(MigrationsTest, FailedMigrationRollsBackAndIsNotRecorded) {
    const MigrationFile files[] = {
        {"001_ok.sql", "CREATE TABLE a (v BIGINT);"},
        {"002_broken.sql", "CREATE TABLE b (v BIGINT); INSERT INTO nowhere VALUES (1);"},
    };
    auto result = migrate(conn(), std::nullopt, files);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, MigrationErrorCode::failed);
    EXPECT_NE(result.error().message.find("002_broken"), std::string::npos);
    EXPECT_EQ(count("a"), 0);
    EXPECT_THROW(count("b"), DbError);
    EXPECT_EQ(pending_migrations(conn(), files), std::vector<std::string>{"002_broken"});
}

TEST_P(MigrationsTest, EditedOrUnknownMigrationsAreRefused) {
    const MigrationFile original[] = {{"001_a.sql", "CREATE TABLE a (v BIGINT);"}};
    ASSERT_TRUE(migrate(conn(), std::nullopt, original).has_value());
    const MigrationFile edited[] = {{"001_a.sql", "CREATE TABLE a (v BIGINT, w BIGINT);"}};
    auto check = check_schema(conn(), edited);
    ASSERT_FALSE(check.has_value());
    EXPECT_EQ(check.error().code, MigrationErrorCode::checksum);
    EXPECT_FALSE(migrate(conn(), std::nullopt, edited).has_value());
    const MigrationFile none[] = {{"002_other.sql", "SELECT 1;"}};
    auto unknown = check_schema(conn(), std::span<const MigrationFile>(none));
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().code, MigrationErrorCode::unknown_version);
}

TEST_P(MigrationsTest, BackendSpecificFilesAreChosenByBackend) {
    const MigrationFile files[] = {
        {"001_base.sqlite.sql", "CREATE TABLE only_sqlite (v BIGINT);"},
        {"001_base.postgres.sql", "CREATE TABLE only_postgres (v BIGINT);"},
        {"002_shared.sql", "CREATE TABLE shared (v BIGINT);"},
    };
    ASSERT_TRUE(migrate(conn(), std::nullopt, files).has_value());
    EXPECT_EQ(count("shared"), 0);
    EXPECT_EQ(count(GetParam() == Backend::sqlite ? "only_sqlite" : "only_postgres"), 0);
    EXPECT_THROW(count(GetParam() == Backend::sqlite ? "only_postgres" : "only_sqlite"), DbError);
}

NEBULA_INSTANTIATE_FOR_BACKENDS(MigrationsTest);

TEST(MigrationFiles, MisnamedFileIsABuildBug) {
    const MigrationFile files[] = {{"initial.sql", "SELECT 1;"}};
    EXPECT_THROW(migrations_for(Backend::sqlite, files), std::logic_error);
    const MigrationFile twice[] = {{"001_a.sql", "SELECT 1;"}, {"001_b.sql", "SELECT 1;"}};
    EXPECT_THROW(migrations_for(Backend::sqlite, twice), std::logic_error);
}

}  // namespace
}  // namespace nebula::bot::db
