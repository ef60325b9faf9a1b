#include "bot/support/test_database.hpp"

#include <cstdlib>
#include <stdexcept>

#include "bot/db/migrations.hpp"
#include "common/crypto.hpp"

namespace nebula::bot::testing {

std::unique_ptr<TestDatabase> TestDatabase::create(db::Backend backend) {
    std::unique_ptr<TestDatabase> database(new TestDatabase());
    database->directory_ =
        std::filesystem::temp_directory_path() / ("nebula-bot-test-" + common::random_hex(8));
    std::filesystem::create_directories(database->directory_);
    if (backend == db::Backend::sqlite) {
        database->url_.backend = db::Backend::sqlite;
        database->url_.sqlite_path = (database->directory_ / "data" / "bot.db").string();
        return database;
    }
    const char* base = std::getenv("NEBULA_TEST_POSTGRES_URL");
    if (base == nullptr || *base == '\0') {
        throw std::runtime_error(
            "NEBULA_TEST_POSTGRES_URL is not set: start a server with scripts/start-postgres.sh "
            "(scripts/test.sh does this)");
    }
    database->base_postgres_url_ = base;
    database->schema_ = "t_" + common::random_hex(8);
    auto admin = db::open_connection(db::DatabaseUrl{db::Backend::postgres, {}, base});
    if (!admin) throw std::runtime_error(admin.error());
    (*admin)->execute_script("CREATE SCHEMA " + database->schema_);
    const std::string separator = std::string(base).find('?') == std::string::npos ? "?" : "&";
    database->url_.backend = db::Backend::postgres;
    database->url_.postgres_url =
        std::string(base) + separator + "options=-csearch_path%3D" + database->schema_;
    return database;
}

TestDatabase::~TestDatabase() {
    if (!schema_.empty()) {
        auto admin = db::open_connection(db::DatabaseUrl{db::Backend::postgres, {}, base_postgres_url_});
        if (admin) {
            try {
                (*admin)->execute_script("DROP SCHEMA " + schema_ + " CASCADE");
            } catch (const db::DbError& error) {
                ADD_FAILURE() << "dropping test schema: " << error.what();
            }
        }
    }
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
}

std::unique_ptr<db::Connection> TestDatabase::connect() const {
    auto connection = db::open_connection(url_);
    if (!connection) throw std::runtime_error(connection.error());
    return std::move(connection).value();
}

void BackendTest::SetUp() {
    try {
        database_ = TestDatabase::create(GetParam());
        connection_ = database_->connect();
    } catch (const std::exception& error) {
        FAIL() << "cannot prepare a " << db::to_string(GetParam()) << " test database: " << error.what();
    }
}

void BackendTest::TearDown() {
    connection_.reset();
    database_.reset();
}

void MigratedBackendTest::SetUp() {
    BackendTest::SetUp();
    if (HasFatalFailure()) return;
    auto applied = db::migrate(conn());
    ASSERT_TRUE(applied.has_value()) << applied.error().message;
}

std::string backend_name(const ::testing::TestParamInfo<db::Backend>& info) {
    return std::string(db::to_string(info.param));
}

}  // namespace nebula::bot::testing
