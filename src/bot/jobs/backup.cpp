// The backup job: SQLite online backup into DATA_DIR/backups, the newest BACKUP_KEEP kept.
#include <algorithm>
#include <cstdio>
#include <system_error>

#include <spdlog/spdlog.h>

#include "bot/db/sqlite_backup.hpp"
#include "bot/jobs/jobs.hpp"

namespace nebula::bot::jobs {
namespace asio = boost::asio;
using domain::Timestamp;

namespace {

std::string backup_stamp(Timestamp t) {
    const auto day = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss hms{t - day};
    char text[32];
    std::snprintf(text, sizeof text, "%04d%02u%02u-%02d%02d%02d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return text;
}

}  // namespace

// ---- backup ----

asio::awaitable<JobResult> Jobs::backup() {
    if (database_.backend == db::Backend::postgres) {
        spdlog::info("backup: PostgreSQL is backed up with pg_dump (docs/operations.md); nothing to do here");
        co_return "skipped: PostgreSQL is backed up with pg_dump";
    }
    if (database_.sqlite_path == ":memory:") co_return "skipped: in-memory database";
    const auto directory = ctx_.shop.data_dir / "backups";
    const std::string name = "bot-" + backup_stamp(clock_now()) + ".db";
    const int keep = config_.backup_keep;
    const std::string source = database_.sqlite_path;
    // Blocking file work runs on a database thread, never on the Discord executor.
    auto outcome = co_await ctx_.db.run([&](db::Connection&) -> common::Result<int, std::string> {
        std::error_code ec;
        std::filesystem::create_directories(directory, ec);
        if (ec) return common::unexpected("creating " + directory.string() + ": " + ec.message());
        const auto partial = directory / (name + ".partial");
        if (auto copied = db::backup_sqlite(source, partial); !copied) {
            std::filesystem::remove(partial, ec);
            return common::unexpected(copied.error());
        }
        std::filesystem::rename(partial, directory / name, ec);
        if (ec) return common::unexpected("renaming the backup: " + ec.message());
        std::vector<std::filesystem::path> backups;
        for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
            const std::string file = entry.path().filename().string();
            if (file.rfind("bot-", 0) != 0) continue;
            // A copy left half-written by a crash is never a backup.
            if (file.ends_with(".partial") && file != name + ".partial") {
                std::filesystem::remove(entry.path(), ec);
                continue;
            }
            if (file.ends_with(".db")) backups.push_back(entry.path());
        }
        std::sort(backups.begin(), backups.end());
        int removed = 0;
        while (static_cast<int>(backups.size()) > keep) {
            std::filesystem::remove(backups.front(), ec);
            backups.erase(backups.begin());
            ++removed;
        }
        return removed;
    });
    if (!outcome) co_return common::unexpected(outcome.error());
    co_return "written " + (directory / name).string() + ", " + std::to_string(*outcome) +
        " old backup(s) removed";
}

}  // namespace nebula::bot::jobs
