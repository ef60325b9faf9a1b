#include "bot/app/restore.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <system_error>

#include "bot/db/backup_archive.hpp"
#include "bot/db/sqlite_backup.hpp"

namespace nebula::bot::app {
namespace {

namespace fs = std::filesystem;

// Exit status of a shell command run with its output discarded (-1 when it could not run).
int quiet_status(const std::string& command) {
    const int status = std::system((command + " >/dev/null 2>&1").c_str());
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string quoted(const std::string& text) {
    std::string out = "'";
    for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

common::Result<std::string, std::string> check_sqlite(const fs::path& path) {
    auto restored = db::inspect_restored_sqlite(path);
    if (!restored) return common::unexpected(restored.error());
    std::string report = "checked: integrity ok; " + std::to_string(restored->users) + " users, " +
                         std::to_string(restored->orders) + " orders, " + std::to_string(restored->accounts) +
                         " accounts\n";
    report += restored->schema_current
                  ? "schema: up to date\n"
                  : "schema: older than this nebula-bot; run `nebula-bot migrate` once it is in place\n";
    report +=
        "next: stop nebula-bot, move it to the DATABASE_URL path (or point DATABASE_URL at it), start "
        "nebula-bot";
    return report;
}

}  // namespace

common::Result<std::string, std::string> restore_backup(const fs::path& archive, fs::path output,
                                                        std::string_view passphrase) {
    if (passphrase.empty()) {
        return common::unexpected(
            std::string("BACKUP_PASSPHRASE is not set (in the --env-file or the environment)"));
    }
    if (output.empty()) {
        output = archive.filename();
        if (output.extension() == ".nlbk") {
            output.replace_extension();
        } else {
            output += ".restored";
        }
    }
    auto content = db::open_backup(archive, output, passphrase);
    if (!content) return common::unexpected(content.error());
    std::string report = "restored " + archive.string() + " into " + output.string() + "\n";
    if (*content == db::BackupContent::sqlite_database) {
        auto checked = check_sqlite(output);
        if (!checked) {
            std::error_code ec;
            fs::remove(output, ec);
            return common::unexpected(checked.error() + " (removed " + output.string() + ")");
        }
        return report + *checked;
    }
    const int listed = quiet_status("pg_restore --list " + quoted(output.string()));
    if (listed == 0) {
        report += "checked: pg_restore reads the dump\n";
    } else if (listed == 127) {
        report += "not checked: pg_restore is not installed here\n";
    } else {
        return common::unexpected("pg_restore --list cannot read " + output.string() +
                                  " (kept for inspection)");
    }
    report +=
        "next: create a new, empty database, then\n  pg_restore --no-owner --dbname=\"postgres://…/newdb\" " +
        quoted(output.string());
    return report;
}

}  // namespace nebula::bot::app
