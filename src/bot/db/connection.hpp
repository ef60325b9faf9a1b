#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "bot/db/database_url.hpp"
#include "common/result.hpp"
#include "common/snowflake.hpp"

namespace nebula::bot::db {

enum class DbErrorCode {
    unique_violation,       ///< a UNIQUE or PRIMARY KEY constraint refused the row
    foreign_key_violation,  ///< a referenced row does not exist (or is still referenced)
    check_violation,        ///< a CHECK or NOT NULL constraint refused the row
    busy,                   ///< the database stayed locked past the busy timeout
    serialization,          ///< a concurrent transaction conflicted (deadlock, serialization failure)
    connection,             ///< the connection to the server broke
    other,                  ///< anything else: a bug in the SQL, a full disk, …
};

std::string_view to_string(DbErrorCode code);

/// Thrown by every database operation that fails. Constraint violations are the ones callers
/// sometimes expect (and catch by code); everything else is a surprise.
class DbError : public std::runtime_error {
  public:
    DbError(DbErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    DbErrorCode code() const { return code_; }

  private:
    DbErrorCode code_;
};

/// Strong types (ids, money) expose `.value`; they bind and read as their underlying integer.
/// Discord ids bind and read as their decimal text.
/// Time points bind as Unix epoch seconds; enums bind as the text of their to_string().
template <typename T>
concept StrongInteger = requires(T t) {
    { t.value } -> std::convertible_to<std::int64_t>;
}
&&std::is_class_v<T>;

/// One SQL statement with `?` placeholders (numbered from 1 when binding). Binding and reading
/// are typed; text is UTF-8. Columns are numbered from 0. After `step()` returns false the
/// statement is finished; `reset()` makes it ready to run again with new bindings.
/// A Statement belongs to its Connection and must not outlive it; not thread-safe.
class Statement {
  public:
    virtual ~Statement() = default;

    virtual void bind_null(int index) = 0;
    virtual void bind_int64(int index, std::int64_t value) = 0;
    virtual void bind_double(int index, double value) = 0;
    virtual void bind_text(int index, std::string_view value) = 0;

    /// Runs the statement (on first call) and moves to the next row; false when there are no
    /// more rows. Throws DbError.
    virtual bool step() = 0;
    virtual void reset() = 0;
    /// Rows changed by the statement once it has finished (INSERT/UPDATE/DELETE).
    virtual std::int64_t changes() const = 0;

    virtual int column_count() const = 0;
    virtual std::string column_name(int column) const = 0;
    virtual bool is_null(int column) const = 0;
    virtual std::int64_t get_int64(int column) const = 0;
    virtual double get_double(int column) const = 0;
    virtual std::string get_text(int column) const = 0;

    template <typename T>
    Statement& bind(int index, const T& value) {
        if constexpr (std::is_same_v<T, std::nullptr_t> || std::is_same_v<T, std::nullopt_t>) {
            bind_null(index);
        } else if constexpr (std::is_same_v<T, bool>) {
            bind_int64(index, value ? 1 : 0);
        } else if constexpr (std::is_integral_v<T>) {
            bind_int64(index, static_cast<std::int64_t>(value));
        } else if constexpr (std::is_floating_point_v<T>) {
            bind_double(index, static_cast<double>(value));
        } else if constexpr (std::is_enum_v<T>) {
            bind_text(index, to_string(value));
        } else if constexpr (requires { value.time_since_epoch(); }) {
            bind_int64(index,
                       std::chrono::duration_cast<std::chrono::seconds>(value.time_since_epoch()).count());
        } else if constexpr (std::is_same_v<T, common::Snowflake>) {
            bind_text(index, value.str());
        } else if constexpr (StrongInteger<T>) {
            bind_int64(index, static_cast<std::int64_t>(value.value));
        } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
            bind_text(index, std::string_view(value));
        } else {
            // std::optional<U>
            if (value.has_value()) {
                bind(index, *value);
            } else {
                bind_null(index);
            }
        }
        return *this;
    }

    /// Binds each argument in order, starting at placeholder 1.
    template <typename... Args>
    Statement& bind_all(const Args&... args) {
        int index = 0;
        (bind(++index, args), ...);
        return *this;
    }

    /// Reads a column as T: integers, bool, double, std::string, strong integer types, Discord ids
    /// (stored as decimal text),
    /// std::chrono::sys_seconds (stored as epoch seconds), or
    /// std::optional of those (empty for NULL). Reading NULL as a non-optional is a bug (throws).
    template <typename T>
    T get(int column) const {
        if constexpr (requires { typename T::value_type; } && !std::is_same_v<T, std::string>) {
            if (is_null(column)) return std::nullopt;
            return get<typename T::value_type>(column);
        } else {
            if (is_null(column)) throw DbError(DbErrorCode::other, "NULL in column " + column_name(column));
            if constexpr (std::is_same_v<T, bool>) {
                return get_int64(column) != 0;
            } else if constexpr (std::is_integral_v<T>) {
                return static_cast<T>(get_int64(column));
            } else if constexpr (std::is_floating_point_v<T>) {
                return static_cast<T>(get_double(column));
            } else if constexpr (std::is_same_v<T, std::string>) {
                return get_text(column);
            } else if constexpr (std::is_same_v<T, common::Snowflake>) {
                const auto id = common::Snowflake::parse(get_text(column));
                if (!id)
                    throw DbError(DbErrorCode::other, "not a Discord id in column " + column_name(column));
                return *id;
            } else if constexpr (requires { typename T::duration; }) {
                return T{std::chrono::seconds{get_int64(column)}};
            } else {
                return T{get_int64(column)};
            }
        }
    }
};

/// Whether a query's rows are fetched all at once (the default) or in batches for exports of
/// millions of rows, keeping memory flat (PostgreSQL: a cursor read 10,000 rows at a time, inside
/// a transaction the statement opens itself when none is running; SQLite: plain stepping).
/// Streamed is for SELECT only; finish or destroy the statement before using the connection
/// for anything else.
enum class Fetch { buffered, streamed };

/// One database session. Portable SQL uses `?` placeholders (translated to $n for PostgreSQL),
/// `INSERT … RETURNING id`, integers for booleans and epoch seconds for times.
/// A Connection is used by one thread at a time (the DbExecutor hands connections out).
class Connection {
  public:
    virtual ~Connection() = default;

    virtual Backend backend() const = 0;
    virtual std::unique_ptr<Statement> prepare(std::string_view sql, Fetch fetch = Fetch::buffered) = 0;
    /// Runs several `;`-separated statements without parameters (migrations).
    virtual void execute_script(std::string_view sql) = 0;

    /// Runs `select` (a SELECT without parameters) and hands its rows to `sink` as CSV records,
    /// in chunks of whole records so memory stays flat for millions of rows. The format is
    /// PostgreSQL's `COPY … (FORMAT csv)` with CRLF record ends, byte for byte on both backends:
    /// a field is quoted when it holds a comma, a double quote, CR or LF (quotes doubled) or when
    /// it is an empty string; NULL is an empty, unquoted field; numbers as the database prints
    /// integers. No header. PostgreSQL lets the server format the rows (COPY … TO STDOUT), so
    /// its work overlaps ours; SQLite formats them while stepping. Returns the number of records.
    /// Throws DbError; an exception from `sink` propagates and the connection stays usable (on
    /// PostgreSQL inside the caller's transaction, that transaction can then only roll back).
    virtual std::int64_t copy_csv(std::string_view select, const std::function<void(std::string_view)>& sink);

    /// BEGIN (SQLite: BEGIN IMMEDIATE, so writers queue on the busy timeout instead of failing
    /// on lock upgrade). Prefer Transaction over calling these directly.
    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() = 0;
    /// True between begin() and commit()/rollback().
    virtual bool in_transaction() const = 0;

    /// Write transactions committed on this connection so far (a lone INSERT/UPDATE/DELETE counts
    /// as one; reads never count). SQLite counts the commits that wrote; PostgreSQL the commits
    /// after an INSERT, UPDATE, DELETE or MERGE that changed rows. Any thread may read it while
    /// another uses the connection.
    virtual std::uint64_t write_transactions() const { return 0; }

    /// SQLite: commits stop checkpointing the WAL themselves (the fsync would land on whoever
    /// committed); instead `due` is called on the committing thread each time a commit leaves the
    /// WAL at 1,000 pages or more (SQLite's own threshold), and someone else runs checkpoint().
    /// Other backends: nothing.
    virtual void hand_off_checkpoints(std::function<void()> /*due*/) {}
    /// SQLite: a passive WAL checkpoint (never waits for readers or writers). Other backends: nothing.
    virtual void checkpoint() {}

    /// Runs one statement with the given arguments; returns the number of rows changed.
    template <typename... Args>
    std::int64_t exec(std::string_view sql, const Args&... args) {
        auto statement = prepare(sql);
        statement->bind_all(args...);
        while (statement->step()) {
        }
        return statement->changes();
    }

    /// Prepares `sql` and binds the arguments; iterate with step().
    template <typename... Args>
    std::unique_ptr<Statement> query(std::string_view sql, const Args&... args) {
        auto statement = prepare(sql);
        statement->bind_all(args...);
        return statement;
    }

    /// The first column of the first row, or nothing when there is no row (or it is NULL).
    template <typename T, typename... Args>
    std::optional<T> scalar(std::string_view sql, const Args&... args) {
        auto statement = query(sql, args...);
        if (!statement->step() || statement->is_null(0)) return std::nullopt;
        return statement->template get<T>(0);
    }
};

/// How open_connection() opens the database.
enum class Access {
    read_write,  ///< SQLite creates the file (and its directory) when missing and turns on WAL
    read_only,   ///< creates and changes nothing (`migrate --check`): a missing SQLite file is an
                 ///< error, the file is opened read-only; PostgreSQL transactions are read-only
};

/// Opens a connection: SQLite with WAL, foreign keys on, a busy timeout and the file's
/// directory created; PostgreSQL through libpq with a connect timeout.
/// Errors (unreachable server, bad credentials, unwritable path) never contain the password.
common::Result<std::unique_ptr<Connection>, std::string> open_connection(const DatabaseUrl& url,
                                                                         Access access = Access::read_write);

/// Commits on commit(); rolls back when destroyed without commit (an exception unwinding).
/// Opened while a transaction is already running, it joins that one: commit and rollback are
/// left to the outer transaction, so services compose into one atomic unit.
class Transaction {
  public:
    explicit Transaction(Connection& connection)
        : connection_(connection), nested_(connection.in_transaction()) {
        if (!nested_) connection_.begin();
    }
    ~Transaction() {
        if (!done_ && !nested_) {
            try {
                connection_.rollback();
            } catch (...) {  // NOLINT(bugprone-empty-catch): a broken connection already rolled back
            }
        }
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void commit() {
        done_ = true;
        if (!nested_) connection_.commit();
    }

  private:
    Connection& connection_;
    bool nested_;
    bool done_ = false;
};

/// Runs fn(connection) inside one transaction and returns its result; commits when fn returns
/// and rolls back when it throws. A Result-returning fn whose result holds an error is also
/// rolled back, so "refused" outcomes leave no partial writes. Inside an outer transaction it
/// joins it (the outer one must then also refuse on error).
template <typename F>
auto in_transaction(Connection& connection, F&& fn) -> std::invoke_result_t<F&, Connection&> {
    using R = std::invoke_result_t<F&, Connection&>;
    Transaction transaction(connection);
    if constexpr (std::is_void_v<R>) {
        fn(connection);
        transaction.commit();
    } else {
        R result = fn(connection);
        if constexpr (requires { result.has_value(); }) {
            if (!result.has_value()) return result;  // destructor rolls back
        }
        transaction.commit();
        return result;
    }
}

}  // namespace nebula::bot::db
