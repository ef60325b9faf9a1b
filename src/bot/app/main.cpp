// nebula-bot: the Discord bot. This entry point wires configuration to the database; the
// Discord client, handlers and jobs attach here as they are built.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "bot/db/connection.hpp"
#include "bot/db/database_url.hpp"
#include "bot/db/migrations.hpp"
#include "common/dotenv.hpp"

namespace {

using namespace nebula;

int run_migrate(const std::string& env_file, bool check_only) {
    auto environment = common::Environment::load(env_file);
    if (!environment) {
        std::fprintf(stderr, "nebula-bot: %s\n", environment.error().c_str());
        return 2;
    }
    const std::string* configured = environment->find("DATABASE_URL");
    const std::string text = configured != nullptr ? *configured : std::string(bot::db::kDefaultDatabaseUrl);
    auto url = bot::db::parse_database_url(text);
    if (!url) {
        std::fprintf(stderr, "nebula-bot: %s\n", url.error().c_str());
        return 2;
    }
    auto connection = bot::db::open_connection(*url);
    if (!connection) {
        std::fprintf(stderr, "nebula-bot: %s\n", connection.error().c_str());
        return 1;
    }
    if (check_only) {
        auto status = bot::db::check_schema(**connection);
        if (!status) {
            std::fprintf(stderr, "nebula-bot: %s\n", status.error().message.c_str());
            return 1;
        }
        std::printf("database %s is up to date\n", url->redacted().c_str());
        return 0;
    }
    auto applied = bot::db::migrate(**connection);
    if (!applied) {
        std::fprintf(stderr, "nebula-bot: %s\n", applied.error().message.c_str());
        return 1;
    }
    if (applied->empty()) {
        std::printf("database %s is up to date; nothing to apply\n", url->redacted().c_str());
    } else {
        for (const auto& name : *applied) std::printf("applied %s\n", name.c_str());
        std::printf("database %s: %zu migration(s) applied\n", url->redacted().c_str(), applied->size());
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"nebula-bot: sells NebulaLinks VPN access through Discord"};
    app.set_version_flag("--version", std::string("nebula-bot ") + NEBULA_VERSION);
    std::string env_file = ".env";
    app.add_option("--env-file", env_file, "dotenv file read before the environment")->capture_default_str();
    auto* migrate = app.add_subcommand("migrate", "apply pending database migrations and list them");
    bool check_only = false;
    migrate->add_flag("--check", check_only, "only report whether migrations are pending (exit 1 if so)");
    app.require_subcommand(1);
    CLI11_PARSE(app, argc, argv);
    try {
        if (migrate->parsed()) return run_migrate(env_file, check_only);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "nebula-bot: %s\n", error.what());
        return 1;
    }
    return 0;
}
