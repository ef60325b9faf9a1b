#include "bot/handlers/outage.hpp"

#include <spdlog/spdlog.h>

#include "bot/domain/server_health.hpp"
#include "bot/notify/notices.hpp"

namespace nebula::bot::handlers {
namespace asio = boost::asio;
using ui::Msg;

namespace {

// (Not inside the coroutine: g++ 12 mishandles braced argument lists in coroutine bodies.)
std::string outage_reply(const Call& call, std::optional<int> queued, const std::string& server) {
    if (!queued) return call.tr(Msg::job_outage_over, {{"server", server}});
    return call.tr(Msg::job_outage_queued, {{"count", *queued}, {"server", server}});
}

asio::awaitable<void> tell_outage(Call& call, std::optional<discord::Snowflake> pointer_channel,
                                  std::int64_t server_value, std::int64_t incident) {
    if (!co_await require_admin(call)) co_return;
    const domain::ServerId id{server_value};
    auto& ctx = call.ctx;
    auto server = co_await ctx.db.run([&](db::Connection& c) { return ctx.catalog.server(c, id); });
    if (!server) {
        co_await reply_ephemeral(call, call.tr(Msg::error_stale_button));
        co_return;
    }
    const discord::Snowflake actor = call.user().id;
    const auto now = domain::to_timestamp(ctx.clock.now());
    auto queued = co_await ctx.db.run([&](db::Connection& c) {
        return domain::server_health::queue_outage_notices(c, ctx.catalog, id, incident, actor, now);
    });
    co_await reply_ephemeral(call, outage_reply(call, queued, server->spec.name));
    if (!queued) co_return;
    const auto report = co_await notify::deliver_notices(ctx, pointer_channel);
    spdlog::info("outage of {}: {} customer(s) queued by {}, {} notice(s) sent, {} not delivered yet",
                 server->spec.name, *queued, actor.str(), report.sent, report.failed);
}

}  // namespace

void register_outage_handlers(Router& router, BotContext&,
                              std::optional<discord::Snowflake> pointer_channel) {
    router.on_component<std::int64_t, std::int64_t>(
        "outage", [pointer_channel](Call& call, std::int64_t server, std::int64_t incident) {
            return tell_outage(call, pointer_channel, server, incident);
        });
}

}  // namespace nebula::bot::handlers
