// The backup job: SQLite online backup (or pg_dump) into DATA_DIR/backups, the newest BACKUP_KEEP
// kept, and an encrypted copy sent off the machine (BACKUP_CHANNEL_ID, BACKUP_COMMAND).
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>
#include <system_error>

#include <spdlog/spdlog.h>

#include "bot/db/backup_archive.hpp"
#include "bot/db/sqlite_backup.hpp"
#include "bot/jobs/jobs.hpp"

extern char** environ;

namespace nebula::bot::jobs {
namespace asio = boost::asio;
namespace fs = std::filesystem;
using domain::Timestamp;
using ui::Msg;

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

/// Runs `argv` (argv[0] looked up on PATH) with the bot's environment plus `extra_env`
/// ("NAME=value"), its output going where the bot's goes, and waits for it; killed when it
/// outlives `timeout`. Blocking: call on a database thread. Returns "" on exit status 0, else
/// what went wrong.
std::string run_program(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                        std::chrono::seconds timeout) {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    std::vector<char*> env;
    for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
    for (const auto& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);
    // The child gets stdin, stdout and stderr only, never the bot's sockets or database files.
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    pid_t pid = 0;
    const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), env.data());
    ::posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return "cannot start " + argv[0] + ": " + std::strerror(spawned);
    // A pidfd becomes readable when the process ends: wait for that or the deadline, no polling.
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    bool timed_out = false;
    if (pidfd >= 0) {
        pollfd ready{pidfd, POLLIN, 0};
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            const int n = ::poll(&ready, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
            if (n > 0) break;
            if (n == 0) {
                timed_out = true;
                ::kill(pid, SIGKILL);
                break;
            }
            if (errno != EINTR) break;
        }
        ::close(pidfd);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) return argv[0] + " did not finish within " + std::to_string(timeout.count() / 60) + " min";
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
    if (WIFEXITED(status)) return argv[0] + " exited with status " + std::to_string(WEXITSTATUS(status));
    return argv[0] + " was killed by signal " + std::to_string(WTERMSIG(status));
}

/// pg_dump's arguments for `url`, with the password (if any) moved to PGPASSWORD so it never
/// shows in the process list.
common::Result<std::pair<std::string, std::string>, std::string> pg_dump_target(const std::string& url) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
    if (options == nullptr) {
        std::string message = error != nullptr ? error : "bad DATABASE_URL";
        PQfreemem(error);
        return common::unexpected(message);
    }
    std::string conninfo;
    std::string password;
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (o->val == nullptr || *o->val == '\0') continue;
        if (std::strcmp(o->keyword, "password") == 0) {
            password = o->val;
            continue;
        }
        std::string value;
        for (const char* c = o->val; *c != '\0'; ++c) {
            if (*c == '\'' || *c == '\\') value += '\\';
            value += *c;
        }
        conninfo += std::string(conninfo.empty() ? "" : " ") + o->keyword + "='" + value + "'";
    }
    PQconninfoFree(options);
    return std::pair{conninfo, password};
}

/// Whether `program` can be run: an executable path, or a name found on PATH.
bool installed(const std::string& program) {
    if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
    const char* path = std::getenv("PATH");
    std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
    while (!dirs.empty()) {
        const auto end = dirs.find(':');
        const std::string dir(dirs.substr(0, end));
        if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
        dirs = end == std::string_view::npos ? std::string_view{} : dirs.substr(end + 1);
    }
    return false;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

// ---- backup ----

asio::awaitable<JobResult> Jobs::backup() {
    const bool postgres = database_.backend == db::Backend::postgres;
    if (!postgres && database_.sqlite_path == ":memory:") co_return "skipped: in-memory database";
    const bool off_machine = config_.backup_channel || !config_.backup_command.empty();
    if (postgres && !installed(config_.pg_dump)) {
        const std::string why = config_.pg_dump + " is not installed (sudo apt install postgresql-client)";
        if (off_machine) co_return common::unexpected("PostgreSQL backup: " + why);
        spdlog::info("backup: skipped: {}", why);
        co_return "skipped: " + why;
    }
    const auto directory = ctx_.shop.data_dir / "backups";
    const std::string extension = postgres ? ".dump" : ".db";
    const std::string name = "bot-" + backup_stamp(clock_now()) + extension;
    const int keep = config_.backup_keep;
    const db::DatabaseUrl database = database_;
    const JobsConfig& config = config_;
    // Blocking file work runs on a database thread, never on the Discord executor.
    auto outcome = co_await ctx_.db.run([&](db::Connection& connection) -> common::Result<int, std::string> {
        std::error_code ec;
        std::filesystem::create_directories(directory, ec);
        if (ec) return common::unexpected("creating " + directory.string() + ": " + ec.message());
        const auto partial = directory / (name + ".partial");
        if (postgres) {
            auto target = pg_dump_target(database.postgres_url);
            if (!target) return common::unexpected(target.error());
            // Only the shop's own schema (the one its DATABASE_URL's search_path names, usually
            // public): other schemas in the same database belong to someone else, and may be
            // dropped while the dump runs.
            const auto schema = connection.scalar<std::string>("SELECT current_schema()");
            if (!schema || schema->empty())
                return common::unexpected(std::string("pg_dump: no current schema"));
            std::vector<std::string> env;
            if (!target->second.empty()) env.push_back("PGPASSWORD=" + target->second);
            const std::string failed =
                run_program({config.pg_dump, "--format=custom", "--file=" + partial.string(),
                             "--schema=" + *schema, "--dbname=" + target->first},
                            env, config.backup_command_timeout);
            if (!failed.empty()) {
                std::filesystem::remove(partial, ec);
                return common::unexpected("pg_dump: " + failed);
            }
        } else if (auto copied = db::backup_sqlite(database.sqlite_path, partial); !copied) {
            std::filesystem::remove(partial, ec);
            return common::unexpected(copied.error());
        }
        std::filesystem::rename(partial, directory / name, ec);
        if (ec) return common::unexpected("renaming the backup: " + ec.message());
        std::vector<std::filesystem::path> backups;
        for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
            const std::string file = entry.path().filename().string();
            if (file.rfind("bot-", 0) != 0) continue;
            // A copy left half-written by a crash is never a backup, nor is an archive left by one.
            if ((file.ends_with(".partial") && file != name + ".partial") || file.ends_with(".nlbk")) {
                std::filesystem::remove(entry.path(), ec);
                continue;
            }
            if (file.ends_with(extension)) backups.push_back(entry.path());
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
    const fs::path copy = directory / name;
    std::string report =
        "written " + copy.string() + ", " + std::to_string(*outcome) + " old backup(s) removed";
    if (!off_machine) co_return report;

    // Off the machine: sealed into an encrypted archive, uploaded and/or handed to the command.
    const fs::path archive = directory / (name + ".nlbk");
    struct Sealed {
        std::string error;
        std::uintmax_t size = 0;
        std::string bytes;  // read only when it will be uploaded
    };
    const auto content = postgres ? db::BackupContent::postgres_dump : db::BackupContent::sqlite_database;
    auto sealed = co_await ctx_.db.run([&](db::Connection&) {
        Sealed s;
        if (auto status =
                db::seal_backup(copy, archive, content, config.backup_passphrase, config.backup_cost);
            !status) {
            s.error = status.error();
            return s;
        }
        std::error_code ec;
        s.size = fs::file_size(archive, ec);
        if (config.backup_channel && s.size <= config.backup_upload_limit) s.bytes = read_file(archive);
        return s;
    });
    std::vector<std::string> problems;
    if (!sealed.error.empty()) {
        std::error_code ec;
        fs::remove(archive, ec);
        co_return common::unexpected(report + "; not sent off the machine: " + sealed.error);
    }
    const auto locale = ctx_.shop.default_locale;
    const std::string file_name = archive.filename().string();
    if (config_.backup_channel) {
        const auto size = static_cast<std::int64_t>(sealed.size);
        if (sealed.size <= config_.backup_upload_limit) {
            discord::MessagePayload payload;
            payload.content =
                ui::tr(locale, Msg::backup_uploaded, {{"file", file_name}, {"size", ui::format_bytes(size)}});
            payload.files.push_back({file_name, "application/octet-stream", std::move(sealed.bytes), ""});
            auto posted = co_await ctx_.rest.create_message(*config_.backup_channel, std::move(payload));
            if (posted) {
                report += "; uploaded to the backup channel";
            } else {
                problems.push_back("upload failed: " + posted.error().describe());
            }
        } else {
            discord::MessagePayload payload;
            payload.content =
                ui::tr(locale, Msg::backup_too_large,
                       {{"file", file_name},
                        {"size", ui::format_bytes(size)},
                        {"limit", ui::format_bytes(static_cast<std::int64_t>(config_.backup_upload_limit))},
                        {"path", copy.string()}});
            auto posted = co_await ctx_.rest.create_message(ctx_.shop.review_channel_id, std::move(payload));
            report += "; too large to upload (" + ui::format_bytes(size) + "), admins told";
            if (!posted) problems.push_back("telling the admins failed: " + posted.error().describe());
        }
    }
    if (!config_.backup_command.empty()) {
        // `sh -c COMMAND sh PATH`: the command sees the archive's path as "$1".
        const std::string failed = co_await ctx_.db.run([&](db::Connection&) {
            return run_program({"/bin/sh", "-c", config.backup_command, "sh", archive.string()},
                               {"NEBULA_BACKUP_FILE=" + archive.string()}, config.backup_command_timeout);
        });
        if (failed.empty()) {
            report += "; BACKUP_COMMAND done";
        } else {
            problems.push_back("BACKUP_COMMAND: " + failed);
        }
    }
    std::error_code ec;
    fs::remove(archive, ec);
    if (!problems.empty()) {
        std::string text = report;
        for (const auto& problem : problems) text += "; " + problem;
        spdlog::error("backup: {}", text);
        co_return common::unexpected(text);
    }
    co_return report;
}

}  // namespace nebula::bot::jobs
