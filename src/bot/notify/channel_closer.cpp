#include "bot/notify/channel_closer.hpp"

#include <spdlog/spdlog.h>

#include "bot/domain/order_channels.hpp"
#include "discord/permissions.hpp"

namespace nebula::bot::notify {
namespace asio = boost::asio;
using core::BotContext;
using discord::Snowflake;
using domain::ChannelClose;

namespace {

std::vector<discord::PermissionOverwrite> archived_overwrites(const core::ShopSettings& shop,
                                                              Snowflake customer) {
    namespace p = discord::permissions;
    const std::uint64_t read = p::kViewChannel | p::kReadMessageHistory;
    const std::uint64_t write = p::kSendMessages | p::kAttachFiles;
    std::vector<discord::PermissionOverwrite> out{
        {shop.guild_id, discord::OverwriteType::role, 0, p::kViewChannel},
        {customer, discord::OverwriteType::member, read, write},
        {shop.admin_role_id, discord::OverwriteType::role, read | write, 0},
    };
    if (!shop.bot_user_id.empty()) {
        out.push_back(
            {shop.bot_user_id, discord::OverwriteType::member, read | write | p::kManageChannels, 0});
    }
    return out;
}

asio::awaitable<void> wait_until(BotContext& ctx, domain::Timestamp when) {
    const auto now = ctx.clock.now();
    if (when <= now) co_return;
    co_await ctx.sleeper.sleep_until(ctx.clock.steady_now() + (when - now));
}

/// The channel's stored schedule: the truth, as another closer (after a restart, or of another
/// process) may have moved it on or finished it.
asio::awaitable<std::optional<ChannelClose>> stored_schedule(BotContext& ctx, Snowflake channel) {
    co_return co_await ctx.db.run(
        [&](db::Connection& c) { return domain::order_channels::close_of(c, channel); });
}

asio::awaitable<void> run_closer(BotContext& ctx, Snowflake channel, ChannelClose schedule) {
    const Snowflake customer = schedule.customer;
    if (!schedule.archived) {
        co_await wait_until(ctx, schedule.archive_at);
        auto stored = co_await stored_schedule(ctx, channel);
        if (!stored) co_return;  // closed meanwhile
        schedule = *stored;
        co_await wait_until(ctx, schedule.archive_at);  // a no-op unless it was moved later
    }
    if (!schedule.archived) {
        discord::ChannelEdit edit;
        edit.permission_overwrites = archived_overwrites(ctx.shop, customer);
        auto edited = co_await ctx.rest.edit_channel(channel, std::move(edit), "order finished: archived");
        if (!edited && edited.error().code == discord::RestErrorCode::not_found) {
            co_await ctx.db.run([&](db::Connection& c) { domain::order_channels::forget(c, channel); });
            co_return;
        }
        schedule.archived = true;
        const auto now = domain::to_timestamp(ctx.clock.now());
        co_await ctx.db.run(
            [&](db::Connection& c) { domain::order_channels::mark_archived(c, channel, now); });
    }
    co_await wait_until(ctx, schedule.delete_at);
    const bool still_scheduled = (co_await stored_schedule(ctx, channel)).has_value();
    if (!still_scheduled) co_return;
    auto deleted = co_await ctx.rest.delete_channel(channel, "order finished: channel closed");
    if (!deleted && deleted.error().code != discord::RestErrorCode::not_found) {
        spdlog::warn("order channel {} not deleted: {}", channel.str(), deleted.error().describe());
        co_return;  // still scheduled: the reconciler's next run retries
    }
    co_await ctx.db.run([&](db::Connection& c) { domain::order_channels::forget(c, channel); });
}

void spawn_closer(BotContext& ctx, Snowflake channel, const ChannelClose& schedule) {
    std::string name = "closing order channel " + channel.str();
    // One closer per channel: resuming the stored schedules again (the reconciler does, for
    // channels that a `nebula-bot jobs run` process scheduled) leaves the running ones alone.
    if (ctx.background.running(name)) return;
    ctx.background.spawn(std::move(name), run_closer(ctx, channel, schedule));
}

asio::awaitable<void> resume_closers(BotContext& ctx) {
    auto schedules =
        co_await ctx.db.run([](db::Connection& c) { return domain::order_channels::scheduled_closes(c); });
    for (const auto& schedule : schedules) {
        spawn_closer(ctx, schedule.channel, schedule);
    }
}

}  // namespace

void record_channel_close(const BotContext& ctx, db::Connection& connection, Snowflake channel,
                          Snowflake customer, std::chrono::seconds archive_after) {
    const auto now = domain::to_timestamp(ctx.clock.now());
    domain::order_channels::schedule_close(connection,
                                           {channel, customer, now + archive_after,
                                            now + archive_after + ctx.shop.order_channel_delete_after, false},
                                           now);
}

asio::awaitable<void> schedule_channel_close(BotContext& ctx, Snowflake channel, Snowflake customer,
                                             std::chrono::seconds archive_after) {
    auto schedule = co_await ctx.db.run([&](db::Connection& c) {
        record_channel_close(ctx, c, channel, customer, archive_after);
        return domain::order_channels::close_of(c, channel);
    });
    if (schedule) spawn_closer(ctx, channel, *schedule);
}

void resume_channel_closers(BotContext& ctx) {
    ctx.background.spawn("resuming order channel closers", resume_closers(ctx));
}

}  // namespace nebula::bot::notify
