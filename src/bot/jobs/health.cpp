// The health job: every server's gateway probed, admins alerted on each change, customers told
// when a server they were told was down is back.
#include <spdlog/spdlog.h>

#include "bot/domain/server_health.hpp"
#include "bot/jobs/jobs.hpp"
#include "discord/custom_id.hpp"

namespace nebula::bot::jobs {
namespace asio = boost::asio;
using discord::MessagePayload;
using domain::Timestamp;
using ui::Msg;

// ---- health ----

asio::awaitable<JobResult> Jobs::check_health() {
    auto servers = co_await ctx_.db.run([&](db::Connection& c) { return ctx_.catalog.servers(c); });
    int up = 0, down = 0, alerts = 0, alert_failures = 0, restored = 0;
    for (const auto& server : servers) {
        if (!server.enabled) continue;
        auto probe = co_await ctx_.gateways.gateway_for(server).health();
        std::string problem;
        if (!probe) {
            problem = domain::describe(probe.error());
        } else if (probe->status != "ok") {
            problem = "panel " + probe->panel;
        }
        const auto health = problem.empty() ? domain::ServerHealth::up : domain::ServerHealth::down;
        health == domain::ServerHealth::up ? ++up : ++down;
        const auto now = clock_now();
        // A down server takes no new accounts from its first failed check; admins hear of it once
        // it failed HEALTH_ALERT_AFTER_FAILURES checks in a row, so one lost probe is not an alarm.
        // The alert state is kept apart from the health itself, so an alert that could not be
        // posted (Discord down) is posted by the next run instead of being forgotten.
        const auto seen = co_await ctx_.db.run([&](db::Connection& c) {
            return domain::server_health::record_check(c, ctx_.catalog, server.id, health, now);
        });
        restored += seen.restored;
        if (seen.alerted == health) continue;
        if (health == domain::ServerHealth::down && seen.failures < config_.health_alert_after_failures)
            continue;
        const auto locale = ctx_.shop.default_locale;
        MessagePayload payload;
        if (health == domain::ServerHealth::down) {
            payload.content =
                ui::tr(locale, Msg::job_server_down, {{"server", server.spec.name}, {"error", problem}});
            payload.components.push_back(
                discord::ActionRow{std::vector<discord::Button>{discord::Button::action(
                    discord::ButtonStyle::secondary, ui::tr(locale, Msg::job_tell_customers),
                    discord::custom_id::make("outage", server.id.value, domain::epoch_seconds(now)))}});
        } else {
            payload.content = ui::tr(locale, Msg::job_server_up, {{"server", server.spec.name}});
        }
        auto posted = co_await ctx_.rest.create_message(ctx_.shop.review_channel_id, std::move(payload));
        if (!posted) {
            ++alert_failures;
            spdlog::warn("health: alert for {} not posted: {}", server.spec.name, posted.error().describe());
            continue;
        }
        ++alerts;
        co_await ctx_.db.run(
            [&](db::Connection& c) { domain::server_health::record_alert(c, server.id, health); });
    }
    std::string summary = std::to_string(up) + " up, " + std::to_string(down) + " down, " +
                          std::to_string(alerts) + " alert(s) posted";
    if (restored > 0) {
        auto notices = co_await deliver_notices();
        summary += ", " + std::to_string(restored) + " customer(s) told a server is back (" +
                   std::to_string(notices.failed) + " not delivered yet)";
    }
    if (alert_failures > 0)
        co_return common::unexpected(summary + ", " + std::to_string(alert_failures) + " not posted");
    co_return summary;
}

asio::awaitable<std::optional<int>> Jobs::queue_outage_notices(domain::ServerId server, std::int64_t incident,
                                                               domain::Actor actor) {
    const auto now = clock_now();
    co_return co_await ctx_.db.run([&](db::Connection& c) {
        return domain::server_health::queue_outage_notices(c, ctx_.catalog, server, incident, actor, now);
    });
}

}  // namespace nebula::bot::jobs
