#include "bot/db/sqlite_backup.hpp"

#include <sqlite3.h>

namespace nebula::bot::db {

common::Status<std::string> backup_sqlite(const std::string& source, const std::filesystem::path& target) {
    sqlite3* from = nullptr;
    sqlite3* to = nullptr;
    auto close = [&] {
        sqlite3_close(from);
        sqlite3_close(to);
    };
    if (sqlite3_open_v2(source.c_str(), &from, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string error = "opening " + source + ": " + sqlite3_errmsg(from);
        close();
        return common::unexpected(error);
    }
    sqlite3_busy_timeout(from, 5000);
    if (sqlite3_open_v2(target.c_str(), &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
        std::string error = "creating " + target.string() + ": " + sqlite3_errmsg(to);
        close();
        return common::unexpected(error);
    }
    sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
    if (backup == nullptr) {
        std::string error = std::string("starting the backup: ") + sqlite3_errmsg(to);
        close();
        return common::unexpected(error);
    }
    int rc = SQLITE_OK;
    // Small steps, so writers of the live database are never blocked for long.
    do {
        rc = sqlite3_backup_step(backup, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(10);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(backup);
    std::string error = rc == SQLITE_DONE ? std::string() : std::string("backup step: ") + sqlite3_errstr(rc);
    close();
    if (!error.empty()) return common::unexpected(error);
    return {};
}

}  // namespace nebula::bot::db
