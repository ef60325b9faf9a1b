#include <sqlite3.h>

#include <filesystem>
#include <system_error>

#include "bot/db/backends.hpp"

namespace nebula::bot::db {
namespace {

constexpr int kBusyTimeoutMs = 10'000;

DbErrorCode classify(int extended) {
    switch (extended) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
            return DbErrorCode::unique_violation;
        case SQLITE_CONSTRAINT_FOREIGNKEY:
            return DbErrorCode::foreign_key_violation;
        case SQLITE_CONSTRAINT_CHECK:
        case SQLITE_CONSTRAINT_NOTNULL:
            return DbErrorCode::check_violation;
        default:
            break;
    }
    switch (extended & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return DbErrorCode::busy;
        default:
            return DbErrorCode::other;
    }
}

[[noreturn]] void fail(sqlite3* db, std::string_view what) {
    throw DbError(classify(sqlite3_extended_errcode(db)), std::string(what) + ": " + sqlite3_errmsg(db));
}

class SqliteStatement final : public Statement {
  public:
    SqliteStatement(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
    ~SqliteStatement() override { sqlite3_finalize(statement_); }
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

    void bind_null(int index) override { check(sqlite3_bind_null(statement_, index)); }
    void bind_int64(int index, std::int64_t value) override {
        check(sqlite3_bind_int64(statement_, index, value));
    }
    void bind_double(int index, double value) override {
        check(sqlite3_bind_double(statement_, index, value));
    }
    void bind_text(int index, std::string_view value) override {
        check(sqlite3_bind_text64(statement_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                  SQLITE_UTF8));
    }

    bool step() override {
        if (done_) return false;
        const int rc = sqlite3_step(statement_);
        if (rc == SQLITE_ROW) return true;
        done_ = true;
        if (rc == SQLITE_DONE) {
            changes_ = sqlite3_changes64(db_);
            return false;
        }
        sqlite3_reset(statement_);
        fail(db_, sqlite3_sql(statement_));
    }
    void reset() override {
        sqlite3_reset(statement_);
        sqlite3_clear_bindings(statement_);
        done_ = false;
        changes_ = 0;
    }
    std::int64_t changes() const override { return changes_; }

    int column_count() const override { return sqlite3_column_count(statement_); }
    std::string column_name(int column) const override { return sqlite3_column_name(statement_, column); }
    bool is_null(int column) const override { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
    std::int64_t get_int64(int column) const override { return sqlite3_column_int64(statement_, column); }
    double get_double(int column) const override { return sqlite3_column_double(statement_, column); }
    std::string get_text(int column) const override {
        const auto* text = sqlite3_column_text(statement_, column);
        const int size = sqlite3_column_bytes(statement_, column);
        return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), size);
    }

  private:
    void check(int rc) const {
        if (rc != SQLITE_OK) fail(db_, "bind");
    }

    sqlite3* db_;
    sqlite3_stmt* statement_;
    bool done_ = false;
    std::int64_t changes_ = 0;
};

class SqliteConnection final : public Connection {
  public:
    explicit SqliteConnection(sqlite3* db) : db_(db) {}
    ~SqliteConnection() override { sqlite3_close_v2(db_); }
    SqliteConnection(const SqliteConnection&) = delete;
    SqliteConnection& operator=(const SqliteConnection&) = delete;

    Backend backend() const override { return Backend::sqlite; }

    std::unique_ptr<Statement> prepare(std::string_view sql, Fetch /*fetch*/) override {
        sqlite3_stmt* statement = nullptr;
        const char* tail = nullptr;
        if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &statement, &tail) !=
            SQLITE_OK) {
            fail(db_, std::string("prepare ") + std::string(sql));
        }
        if (statement == nullptr) throw DbError(DbErrorCode::other, "empty statement");
        return std::make_unique<SqliteStatement>(db_, statement);
    }

    void execute_script(std::string_view sql) override {
        const std::string text(sql);
        char* error = nullptr;
        if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
            std::string message = error != nullptr ? error : "unknown error";
            sqlite3_free(error);
            throw DbError(classify(sqlite3_extended_errcode(db_)), "script: " + message);
        }
    }

    void begin() override { execute_script("BEGIN IMMEDIATE"); }
    void commit() override { execute_script("COMMIT"); }
    void rollback() override {
        if (sqlite3_get_autocommit(db_) == 0) execute_script("ROLLBACK");
    }
    bool in_transaction() const override { return sqlite3_get_autocommit(db_) == 0; }

  private:
    sqlite3* db_;
};

}  // namespace

common::Result<std::unique_ptr<Connection>, std::string> open_sqlite(const std::string& path, Access access) {
    const bool in_memory = path == ":memory:";
    const bool read_only = access == Access::read_only;
    if (!in_memory && !read_only) {
        const auto parent = std::filesystem::path(path).parent_path();
        std::error_code error;
        if (!parent.empty()) std::filesystem::create_directories(parent, error);
        if (error)
            return common::unexpected("cannot create directory " + parent.string() + ": " + error.message());
    }
    sqlite3* db = nullptr;
    const int flags =
        (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string message = "cannot open SQLite database " + path + ": " +
                              (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return common::unexpected(std::move(message));
    }
    auto connection = std::make_unique<SqliteConnection>(db);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    sqlite3_extended_result_codes(db, 1);
    try {
        // Switching to WAL writes the file header; a read-only open leaves the mode as it is.
        if (!in_memory && !read_only) connection->execute_script("PRAGMA journal_mode=WAL");
        connection->execute_script("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL");
    } catch (const DbError& error) {
        return common::unexpected("cannot configure SQLite database " + path + ": " + error.what());
    }
    return std::unique_ptr<Connection>(std::move(connection));
}

}  // namespace nebula::bot::db
