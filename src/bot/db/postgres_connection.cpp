#include <libpq-fe.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bot/db/backends.hpp"

namespace nebula::bot::db {
namespace {

DbErrorCode classify(const PGresult* result, PGconn* conn) {
    if (PQstatus(conn) != CONNECTION_OK) return DbErrorCode::connection;
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    if (state == nullptr) return DbErrorCode::other;
    const std::string_view code(state);
    if (code == "23505") return DbErrorCode::unique_violation;
    if (code == "23503") return DbErrorCode::foreign_key_violation;
    if (code == "23514" || code == "23502") return DbErrorCode::check_violation;
    if (code == "40001" || code == "40P01") return DbErrorCode::serialization;
    if (code == "55P03") return DbErrorCode::busy;
    if (code.starts_with("08")) return DbErrorCode::connection;
    return DbErrorCode::other;
}

std::string trimmed(const char* message) {
    std::string text = message != nullptr ? message : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

struct ResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

/// Write transactions committed on one connection: a statement that changed rows counts at once
/// when it ran on its own (autocommit), else when its transaction commits.
struct WriteCount {
    std::atomic<std::uint64_t> committed{0};
    bool pending = false;  ///< the open transaction changed rows
};

class PostgresStatement final : public Statement {
  public:
    PostgresStatement(PGconn* conn, std::string sql, Fetch fetch, WriteCount& writes)
        : conn_(conn), sql_(std::move(sql)), fetch_(fetch), writes_(writes) {}
    ~PostgresStatement() override { drain(); }
    PostgresStatement(const PostgresStatement&) = delete;
    PostgresStatement& operator=(const PostgresStatement&) = delete;

    void bind_null(int index) override { slot(index).reset(); }
    void bind_int64(int index, std::int64_t value) override { slot(index) = std::to_string(value); }
    void bind_double(int index, double value) override {
        char buffer[64];
        const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
        slot(index) = std::string(buffer, end);
    }
    void bind_text(int index, std::string_view value) override { slot(index) = std::string(value); }

    bool step() override {
        if (finished_) return false;
        if (!started_) start();
        while (true) {
            if (result_ && row_ + 1 < PQntuples(result_.get())) {
                ++row_;
                return true;
            }
            if (cursor_open_ && PQntuples(result_.get()) == kBatchRows) {
                fetch_batch();
                continue;
            }
            drain();
            finished_ = true;
            return false;
        }
    }

    void reset() override {
        drain();
        result_.reset();
        started_ = false;
        finished_ = false;
        changes_ = 0;
        row_ = -1;
        params_.clear();
    }
    std::int64_t changes() const override { return changes_; }

    int column_count() const override { return result_ ? PQnfields(result_.get()) : 0; }
    std::string column_name(int column) const override {
        return result_ ? PQfname(result_.get(), column) : std::string();
    }
    bool is_null(int column) const override { return PQgetisnull(current(), row_, column) != 0; }
    std::int64_t get_int64(int column) const override {
        const char* text = PQgetvalue(current(), row_, column);
        const std::size_t size = PQgetlength(current(), row_, column);
        std::int64_t value = 0;
        const auto [end, error] = std::from_chars(text, text + size, value);
        if (error == std::errc() && end == text + size) return value;
        if (size == 1 && (*text == 't' || *text == 'f')) return *text == 't' ? 1 : 0;
        // numeric results (SUM over bigint) with a fractional part, or a bug in the caller.
        char* parse_end = nullptr;
        const double as_double = std::strtod(text, &parse_end);
        if (parse_end != text) return static_cast<std::int64_t>(as_double);
        throw DbError(DbErrorCode::other, "column " + column_name(column) + " is not an integer: " + text);
    }
    double get_double(int column) const override {
        return std::strtod(PQgetvalue(current(), row_, column), nullptr);
    }
    std::string get_text(int column) const override {
        return std::string(PQgetvalue(current(), row_, column), PQgetlength(current(), row_, column));
    }

  private:
    std::optional<std::string>& slot(int index) {
        if (index < 1) throw DbError(DbErrorCode::other, "placeholder index starts at 1");
        if (static_cast<std::size_t>(index) > params_.size()) params_.resize(index);
        return params_[index - 1];
    }

    const PGresult* current() const {
        if (!result_ || row_ < 0) throw DbError(DbErrorCode::other, "no current row");
        return result_.get();
    }

    void start() {
        started_ = true;
        std::vector<const char*> values;
        values.reserve(params_.size());
        for (const auto& param : params_) values.push_back(param ? param->c_str() : nullptr);
        const int count = static_cast<int>(values.size());
        if (fetch_ == Fetch::buffered) {
            result_.reset(
                PQexecParams(conn_, sql_.c_str(), count, nullptr, values.data(), nullptr, nullptr, 0));
            const auto status = PQresultStatus(result_.get());
            if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw_error();
            record_changes();
            if (changes_ > 0 && changed_rows()) {
                if (PQtransactionStatus(conn_) == PQTRANS_IDLE) {
                    writes_.committed.fetch_add(1, std::memory_order_relaxed);
                } else {
                    writes_.pending = true;
                }
            }
            row_ = -1;
            return;
        }
        // Streamed: a cursor read in batches keeps memory flat with few round trips; it needs a
        // transaction, which the statement opens itself when none is running.
        own_transaction_ = PQtransactionStatus(conn_) == PQTRANS_IDLE;
        if (own_transaction_) ResultPtr(PQexec(conn_, "BEGIN"));
        cursor_ = "nebula_cursor_" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
        const std::string declare = "DECLARE " + cursor_ + " NO SCROLL CURSOR FOR " + sql_;
        result_.reset(
            PQexecParams(conn_, declare.c_str(), count, nullptr, values.data(), nullptr, nullptr, 0));
        if (PQresultStatus(result_.get()) != PGRES_COMMAND_OK) throw_error();
        cursor_open_ = true;
        fetch_batch();
    }

    void fetch_batch() {
        const std::string fetch = "FETCH " + std::to_string(kBatchRows) + " FROM " + cursor_;
        result_.reset(PQexec(conn_, fetch.c_str()));
        if (PQresultStatus(result_.get()) != PGRES_TUPLES_OK) throw_error();
        row_ = -1;
    }

    /// INSERT, UPDATE, DELETE or MERGE (a SELECT's count of rows is no change).
    bool changed_rows() const {
        const std::string_view command = PQcmdStatus(result_.get());
        return command.starts_with("INSERT") || command.starts_with("UPDATE") ||
               command.starts_with("DELETE") || command.starts_with("MERGE");
    }

    void record_changes() {
        const char* tuples = PQcmdTuples(result_.get());
        changes_ = (tuples != nullptr && *tuples != '\0') ? std::strtoll(tuples, nullptr, 10) : 0;
    }

    [[noreturn]] void throw_error() {
        const auto code = classify(result_.get(), conn_);
        std::string message = trimmed(result_ ? PQresultErrorMessage(result_.get()) : PQerrorMessage(conn_));
        if (message.empty()) message = trimmed(PQerrorMessage(conn_));
        drain();
        finished_ = true;
        throw DbError(code, message + " [" + sql_ + "]");
    }

    // Closes a streamed statement's cursor and the transaction it opened. Never throws: it runs
    // from destructors, and a failed transaction only needs the ROLLBACK.
    void drain() {
        if (cursor_open_) {
            cursor_open_ = false;
            ResultPtr(PQexec(conn_, ("CLOSE " + cursor_).c_str()));
        }
        if (own_transaction_) {
            own_transaction_ = false;
            const bool failed = PQtransactionStatus(conn_) == PQTRANS_INERROR;
            ResultPtr(PQexec(conn_, failed ? "ROLLBACK" : "COMMIT"));
        }
    }

    static constexpr int kBatchRows = 10'000;

    PGconn* conn_;
    std::string sql_;
    Fetch fetch_;
    std::vector<std::optional<std::string>> params_;
    ResultPtr result_;
    int row_ = -1;
    bool started_ = false;
    bool finished_ = false;
    std::string cursor_;
    bool cursor_open_ = false;
    bool own_transaction_ = false;
    std::int64_t changes_ = 0;
    WriteCount& writes_;
};

class PostgresConnection final : public Connection {
  public:
    explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
    ~PostgresConnection() override { PQfinish(conn_); }
    PostgresConnection(const PostgresConnection&) = delete;
    PostgresConnection& operator=(const PostgresConnection&) = delete;

    Backend backend() const override { return Backend::postgres; }

    std::unique_ptr<Statement> prepare(std::string_view sql, Fetch fetch) override {
        return std::make_unique<PostgresStatement>(conn_, to_postgres_placeholders(sql), fetch, writes_);
    }

    void execute_script(std::string_view sql) override {
        ResultPtr result(PQexec(conn_, std::string(sql).c_str()));
        const auto status = PQresultStatus(result.get());
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
            throw DbError(classify(result.get(), conn_),
                          "script: " + trimmed(PQresultErrorMessage(result.get())));
        }
    }

    std::int64_t copy_csv(std::string_view select,
                          const std::function<void(std::string_view)>& sink) override {
        const std::string sql = "COPY (" + std::string(select) + ") TO STDOUT (FORMAT csv)";
        // An export reads every row. With room for Memoize to cache the joined users (instead of
        // one index probe per order) the server's work drops by about a third; and one backend
        // does it, leaving the database's other cores to the live bot (parallel workers did not
        // make it faster on 2 cores). set_config(…, true) lasts until this transaction ends:
        // our own, or the caller's, in which case the previous values are put back below.
        const bool own_transaction = PQtransactionStatus(conn_) == PQTRANS_IDLE;
        if (own_transaction) execute_script("BEGIN");
        ExportSettings settings(*this, own_transaction);
        ResultPtr started(PQexec(conn_, sql.c_str()));
        if (PQresultStatus(started.get()) != PGRES_COPY_OUT) {
            throw DbError(classify(started.get(), conn_),
                          "copy: " + trimmed(PQresultErrorMessage(started.get())) + " [" + sql + "]");
        }
        started.reset();
        CopyOut copy(conn_);
        std::string chunk;
        chunk.reserve(kChunkBytes + kChunkBytes / 4);
        while (true) {
            char* row = nullptr;
            const int size = PQgetCopyData(conn_, &row, 0);
            if (size < 0) break;
            // libpq hands over one whole record per call, ending in the server's LF.
            const bool whole = size > 0 && row[size - 1] == '\n';
            if (whole) {
                chunk.append(row, static_cast<std::size_t>(size) - 1);
                chunk += "\r\n";
            }
            PQfreemem(row);
            if (!whole)
                throw DbError(DbErrorCode::other, "copy: a record without its line end [" + sql + "]");
            if (chunk.size() >= kChunkBytes) {
                sink(chunk);
                chunk.clear();
            }
        }
        copy.finished();
        ResultPtr result(PQgetResult(conn_));
        const bool ok = PQresultStatus(result.get()) == PGRES_COMMAND_OK;
        const auto code = classify(result.get(), conn_);
        const std::string message =
            trimmed(result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn_));
        const char* tuples = ok ? PQcmdTuples(result.get()) : nullptr;
        const std::int64_t records = tuples != nullptr ? std::strtoll(tuples, nullptr, 10) : 0;
        while (ResultPtr(PQgetResult(conn_))) {
        }
        if (!ok) throw DbError(code, "copy: " + message + " [" + sql + "]");
        settings.restore();
        if (own_transaction) execute_script("COMMIT");
        if (!chunk.empty()) sink(chunk);
        return records;
    }

    void begin() override {
        writes_.pending = false;
        execute_script("BEGIN");
    }
    void commit() override {
        execute_script("COMMIT");
        if (writes_.pending) writes_.committed.fetch_add(1, std::memory_order_relaxed);
        writes_.pending = false;
    }
    void rollback() override {
        writes_.pending = false;
        if (PQtransactionStatus(conn_) != PQTRANS_IDLE) execute_script("ROLLBACK");
    }
    std::uint64_t write_transactions() const override {
        return writes_.committed.load(std::memory_order_relaxed);
    }
    bool in_transaction() const override {
        const auto status = PQtransactionStatus(conn_);
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
    }

  private:
    // Plans one statement as a whole-table export; restore() puts the caller's settings back, or
    // ends our own transaction on an early exit.
    class ExportSettings {
      public:
        ExportSettings(PostgresConnection& connection, bool own_transaction)
            : connection_(connection), own_transaction_(own_transaction) {
            if (!own_transaction_) {
                auto row = connection_.query(
                    "SELECT current_setting('work_mem'), current_setting('max_parallel_workers_per_gather')");
                row->step();
                previous_ = {row->get<std::string>(0), row->get<std::string>(1)};
            }
            apply(kExportWorkMem, kExportParallelWorkers);
        }
        ~ExportSettings() {
            if (restored_) return;
            try {
                if (own_transaction_) {
                    connection_.rollback();
                } else if (PQtransactionStatus(connection_.conn_) == PQTRANS_INTRANS) {
                    apply(previous_.first, previous_.second);
                }
            } catch (...) {  // NOLINT(bugprone-empty-catch): a broken connection has nothing to restore
            }
        }
        ExportSettings(const ExportSettings&) = delete;
        ExportSettings& operator=(const ExportSettings&) = delete;
        void restore() {
            restored_ = true;
            if (!own_transaction_) apply(previous_.first, previous_.second);
        }

      private:
        void apply(std::string_view work_mem, std::string_view parallel_workers) {
            connection_.exec(
                "SELECT set_config('work_mem', ?, true), set_config('max_parallel_workers_per_gather', ?, "
                "true)",
                work_mem, parallel_workers);
        }

        PostgresConnection& connection_;
        bool own_transaction_;
        std::pair<std::string, std::string> previous_;
        bool restored_ = false;
    };

    static constexpr std::string_view kExportWorkMem = "64MB";
    static constexpr std::string_view kExportParallelWorkers = "0";

    // Leaves the connection usable when the copy stops early (the sink threw, a record was
    // malformed): cancels the query and reads what the server still sends.
    class CopyOut {
      public:
        explicit CopyOut(PGconn* conn) : conn_(conn) {}
        ~CopyOut() {
            if (done_) return;
            if (PGcancel* cancel = PQgetCancel(conn_); cancel != nullptr) {
                char error[256];
                PQcancel(cancel, error, sizeof error);
                PQfreeCancel(cancel);
            }
            char* row = nullptr;
            while (PQgetCopyData(conn_, &row, 0) > 0) PQfreemem(row);
            while (ResultPtr(PQgetResult(conn_))) {
            }
        }
        CopyOut(const CopyOut&) = delete;
        CopyOut& operator=(const CopyOut&) = delete;
        void finished() { done_ = true; }

      private:
        PGconn* conn_;
        bool done_ = false;
    };

    static constexpr std::size_t kChunkBytes = 64 * 1024;

    PGconn* conn_;
    WriteCount writes_;
};

void ignore_notice(void* /*arg*/, const char* /*message*/) {}

}  // namespace

std::string to_postgres_placeholders(std::string_view sql) {
    std::string out;
    out.reserve(sql.size() + 16);
    int next = 0;
    std::size_t i = 0;
    auto copy_until = [&](char close) {
        out += sql[i++];
        while (i < sql.size()) {
            out += sql[i];
            if (sql[i++] == close) {
                if (i < sql.size() && sql[i] == close) {  // doubled quote inside the literal
                    out += sql[i++];
                    continue;
                }
                return;
            }
        }
    };
    while (i < sql.size()) {
        const char c = sql[i];
        if (c == '\'' || c == '"') {
            copy_until(c);
        } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            while (i < sql.size() && sql[i] != '\n') out += sql[i++];
        } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
            const auto end = sql.find("*/", i + 2);
            const auto stop = end == std::string_view::npos ? sql.size() : end + 2;
            out.append(sql.substr(i, stop - i));
            i = stop;
        } else if (c == '?') {
            out += '$';
            out += std::to_string(++next);
            ++i;
        } else {
            out += c;
            ++i;
        }
    }
    return out;
}

common::Result<std::unique_ptr<Connection>, std::string> open_postgres(const std::string& url,
                                                                       Access access) {
    // connect_timeout bounds the connect; the URL's own parameters win when given.
    const char* keywords[] = {"dbname", "connect_timeout", nullptr};
    const char* values[] = {url.c_str(), "10", nullptr};
    PGconn* conn = PQconnectdbParams(keywords, values, 1);
    if (conn == nullptr) return common::unexpected(std::string("cannot allocate a PostgreSQL connection"));
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string message = "cannot connect to PostgreSQL: " + trimmed(PQerrorMessage(conn));
        PQfinish(conn);
        return common::unexpected(std::move(message));
    }
    PQsetNoticeProcessor(conn, ignore_notice, nullptr);
    auto connection = std::make_unique<PostgresConnection>(conn);
    try {
        connection->execute_script("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'");
        if (access == Access::read_only) connection->execute_script("SET default_transaction_read_only = on");
    } catch (const DbError& error) {
        return common::unexpected(std::string("cannot configure PostgreSQL session: ") + error.what());
    }
    return std::unique_ptr<Connection>(std::move(connection));
}

}  // namespace nebula::bot::db
