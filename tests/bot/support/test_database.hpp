#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "bot/db/connection.hpp"
#include "bot/db/database_url.hpp"

namespace nebula::bot::testing {

/// A fresh, empty database for one test: a new SQLite file in its own temporary directory, or a
/// new schema in the PostgreSQL server named by NEBULA_TEST_POSTGRES_URL (connections made
/// through `url` see only that schema). Removed on destruction. PostgreSQL tests fail — never
/// skip — when the variable is missing or the server is unreachable.
class TestDatabase {
  public:
    /// Throws std::runtime_error with the reason when the database cannot be made.
    static std::unique_ptr<TestDatabase> create(db::Backend backend);
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    const db::DatabaseUrl& url() const { return url_; }
    /// A scratch directory removed with the database (receipts, exports).
    const std::filesystem::path& directory() const { return directory_; }
    std::unique_ptr<db::Connection> connect() const;

  private:
    TestDatabase() = default;

    db::DatabaseUrl url_;
    std::filesystem::path directory_;
    std::string base_postgres_url_;
    std::string schema_;
};

/// Base fixture for tests that run once per backend: `db()` is a fresh database, `conn()` an
/// open connection to it.
class BackendTest : public ::testing::TestWithParam<db::Backend> {
  protected:
    void SetUp() override;
    void TearDown() override;

    TestDatabase& db() { return *database_; }
    db::Connection& conn() { return *connection_; }

    std::unique_ptr<TestDatabase> database_;
    std::unique_ptr<db::Connection> connection_;
};

/// Like BackendTest, with every migration applied.
class MigratedBackendTest : public BackendTest {
  protected:
    void SetUp() override;
};

std::string backend_name(const ::testing::TestParamInfo<db::Backend>& info);

}  // namespace nebula::bot::testing

/// Runs every TEST_P of `suite` on SQLite and on PostgreSQL.
#define NEBULA_INSTANTIATE_FOR_BACKENDS(suite)                                                       \
    INSTANTIATE_TEST_SUITE_P(                                                                        \
        Backends, suite,                                                                             \
        ::testing::Values(::nebula::bot::db::Backend::sqlite, ::nebula::bot::db::Backend::postgres), \
        ::nebula::bot::testing::backend_name)
