#pragma once

#include <string>
#include <vector>

#include "bot/app/config.hpp"
#include "common/clock.hpp"

namespace nebula::bot::app {

/// One line of `nebula-bot check`: what was checked, whether it passed, and what was found or
/// what to fix.
struct CheckResult {
    std::string name;
    bool ok = false;
    std::string detail;
};

/// "OK   name: detail" or "FAIL name: detail".
std::string format_check(const CheckResult& result);

/// Reaches every dependency of a validated configuration, in order: the database and its
/// migrations, Discord REST with the token (GET /users/@me), the application and the server
/// when bot.env leaves them out (read from Discord as the bot does), where each id came from
/// (bot.env, Discord, or the database for the roles and channels /admin setup made; a line
/// fails while one is still missing), the bot's place in the server (a
/// member; its roles grant what `invite-url` asks for; the admin and Subscriber roles exist and
/// the Subscriber role is below the bot's; the admin role can see /admin, from the command's
/// permission overwrites set in Integrations; each configured channel is in the server, of the
/// right type, and its permission overwrites let the bot work there), then the signed /api/health of
/// every enabled server's gateway (the servers table, plus API_GATEWAY_URL when it is not in
/// the table yet). Blocking: runs its own event loop for the network checks, each with a
/// deadline. Never throws for a failing dependency; each failure is a result with the fix.
std::vector<CheckResult> check_bot(const BotConfig& config, const common::Clock& clock);

}  // namespace nebula::bot::app
