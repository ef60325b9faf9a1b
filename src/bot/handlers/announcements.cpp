// Announcements: /admin announce send|status with the preview's Confirm / Cancel buttons, the DMs'
// Stop announcements button and My Account's "Announcements by DM" toggle.
#include "bot/domain/announcements.hpp"
#include "bot/handlers/admin_commands.hpp"
#include "bot/handlers/admin_internal.hpp"
#include "bot/handlers/customer_flows.hpp"
#include "bot/notify/announcements.hpp"
#include "discord/custom_id.hpp"

namespace nebula::bot::handlers {
namespace {

namespace asio = boost::asio;
using discord::ActionRow;
using discord::Button;
using discord::ButtonStyle;
using discord::MessagePayload;
using domain::Announcement;
using domain::AnnouncementStatus;
using domain::Audience;
using ui::Msg;

constexpr int kStatusShown = 5;

std::string audience_label(ui::Locale locale, Audience audience, const std::string& server) {
    switch (audience) {
        case Audience::all:
            return ui::tr(locale, Msg::announce_audience_all);
        case Audience::active:
            return ui::tr(locale, Msg::announce_audience_active);
        case Audience::expired:
            return ui::tr(locale, Msg::announce_audience_expired);
        case Audience::server:
            return ui::tr(locale, Msg::announce_audience_server, {{"server", server}});
    }
    return {};
}

Msg state_msg(AnnouncementStatus status) {
    switch (status) {
        case AnnouncementStatus::draft:
            return Msg::announce_state_draft;
        case AnnouncementStatus::sending:
            return Msg::announce_state_sending;
        case AnnouncementStatus::done:
            return Msg::announce_state_done;
        case AnnouncementStatus::cancelled:
            return Msg::announce_state_cancelled;
    }
    return Msg::announce_state_draft;
}

std::string progress_text(ui::Locale locale, const domain::AnnouncementProgress& p) {
    return ui::tr(locale, Msg::announce_progress,
                  {{"sent", std::to_string(p.sent + p.unknown)},
                   {"failed", std::to_string(p.failed)},
                   {"remaining", std::to_string(p.remaining)},
                   {"dropped", std::to_string(p.dropped)}});
}

/// Where the post goes and whom it mentions, for the preview.
std::string channel_line(const BotContext& ctx, ui::Locale locale, const Announcement& announcement) {
    const auto& channel = ctx.shop.announce_channel_id;
    if (!channel) return ui::tr(locale, Msg::announce_no_channel);
    const std::string where = "<#" + channel->str() + ">";
    if (const auto role = notify::announcement_role(ctx.shop, announcement))
        return ui::tr(locale, Msg::announce_channel_mention,
                      {{"channel", where}, {"role", "<@&" + role->str() + ">"}});
    return ui::tr(locale, Msg::announce_channel_no_mention, {{"channel", where}});
}

/// A refusal of the domain in the admin's words.
std::string refusal(ui::Locale locale, const domain::Error& error,
                    const std::optional<Announcement>& current) {
    if (error.code == domain::ErrorCode::forbidden) return ui::tr(locale, Msg::announce_not_author);
    if (error.code == domain::ErrorCode::invalid_transition && current)
        return ui::tr(locale, Msg::announce_already,
                      {{"id", std::to_string(current->id.value)},
                       {"state", ui::tr(locale, state_msg(current->status))}});
    return error.message;
}

asio::awaitable<void> confirm(Call& call, domain::AnnouncementId id) {
    if (!co_await require_admin(call)) co_return;
    auto& ctx = call.ctx;
    const domain::DiscordId actor = call.user().id;
    const auto now = domain::to_timestamp(ctx.clock.now());
    struct Confirmed {
        domain::Outcome<std::int64_t> queued;
        std::optional<Announcement> announcement;
    };
    auto done = co_await ctx.db.run([&](db::Connection& c) {
        auto queued = domain::announcements::confirm(c, id, actor, now);
        return Confirmed{std::move(queued), domain::announcements::get(c, id)};
    });
    if (!done.queued) {
        co_await reply_ephemeral(call, refusal(call.locale, done.queued.error(), done.announcement));
        co_return;
    }
    std::string posted = call.tr(Msg::announce_no_channel);
    if (ctx.shop.announce_channel_id) {
        const std::string where = "<#" + ctx.shop.announce_channel_id->str() + ">";
        const auto error = co_await notify::post_announcement(ctx, *done.announcement);
        posted = error ? call.tr(Msg::announce_post_failed, {{"channel", where}, {"error", *error}})
                       : call.tr(Msg::announce_posted, {{"channel", where}});
    }
    MessagePayload payload;
    payload.content = call.tr(
        Msg::announce_confirmed,
        {{"id", std::to_string(id.value)}, {"posted", posted}, {"count", std::to_string(*done.queued)}});
    payload.clear_components = true;
    co_await call.responder.update_message(std::move(payload));
}

asio::awaitable<void> cancel(Call& call, domain::AnnouncementId id) {
    if (!co_await require_admin(call)) co_return;
    auto& ctx = call.ctx;
    const domain::DiscordId actor = call.user().id;
    const auto now = domain::to_timestamp(ctx.clock.now());
    struct Cancelled {
        domain::Outcome<domain::AnnouncementProgress> progress;
        std::optional<Announcement> announcement;
    };
    auto done = co_await ctx.db.run([&](db::Connection& c) {
        auto progress = domain::announcements::cancel(c, id, actor, now);
        return Cancelled{std::move(progress), domain::announcements::get(c, id)};
    });
    if (!done.progress) {
        co_await reply_ephemeral(call, refusal(call.locale, done.progress.error(), done.announcement));
        co_return;
    }
    MessagePayload payload;
    payload.content =
        call.tr(Msg::announce_cancelled,
                {{"id", std::to_string(id.value)}, {"progress", progress_text(call.locale, *done.progress)}});
    payload.clear_components = true;
    co_await call.responder.update_message(std::move(payload));
}

/// The customer's choice; `on` is what they asked for.
asio::awaitable<void> set_dms(Call& call, bool on) {
    auto& ctx = call.ctx;
    const domain::DiscordId id = call.user().id;
    const std::string name = call.user().username;
    const auto now = domain::to_timestamp(ctx.clock.now());
    co_await ctx.db.run([&](db::Connection& c) {
        const auto user = ctx.users.ensure(c, id, name);
        domain::announcements::set_dm_opt_in(c, user.id, on, now);
    });
    co_await reply_ephemeral(call, call.tr(on ? Msg::announce_dm_started : Msg::announce_dm_stopped));
}

}  // namespace

asio::awaitable<MessagePayload> AdminCommands::announce(const Invocation& call, std::string action) {
    if (action == "status") {
        struct Line {
            Announcement announcement;
            domain::AnnouncementProgress progress;
            std::string server;
        };
        auto lines = co_await ctx_.db.run([&](db::Connection& c) {
            std::vector<Line> out;
            for (auto& a : domain::announcements::recent(c, kStatusShown)) {
                auto progress = domain::announcements::progress(c, a.id);
                std::string server;
                if (a.server) {
                    const auto found = ctx_.catalog.server(c, *a.server);
                    server = found ? found->spec.name : "#" + std::to_string(a.server->value);
                }
                out.push_back({std::move(a), progress, std::move(server)});
            }
            return out;
        });
        if (lines.empty()) co_return admin::text_reply(call.t(Msg::announce_status_none));
        MessagePayload payload;
        payload.content = call.t(Msg::announce_status_title);
        std::vector<Button> buttons;
        for (const auto& line : lines) {
            const auto& a = line.announcement;
            payload.content +=
                "\n\n" + call.t(Msg::announce_status_line,
                                {{"id", std::to_string(a.id.value)},
                                 {"audience", audience_label(call.locale, a.audience, line.server)},
                                 {"state", call.t(state_msg(a.status))},
                                 {"progress", progress_text(call.locale, line.progress)}});
            if (a.status == AnnouncementStatus::sending)
                buttons.push_back(
                    Button::action(ButtonStyle::danger,
                                   call.t(Msg::button_announce_cancel) + " #" + std::to_string(a.id.value),
                                   discord::custom_id::make("announce", a.id.value, "cancel")));
        }
        if (!buttons.empty()) payload.components.push_back(ActionRow{std::move(buttons)});
        payload.flags = discord::kEphemeralFlag;
        co_return payload;
    }
    // send
    const auto audience = domain::parse_audience(call.string("audience").value_or(""));
    if (!audience) co_return admin::failure(call, "audience must be all, active, expired or server");
    const auto server_text = call.string("server");
    if ((*audience == Audience::server) != server_text.has_value())
        co_return admin::failure(call, "name a server (server:) with the audience Server, and only then");
    const std::string message = call.string("message").value_or("");
    const auto now = domain::to_timestamp(ctx_.clock.now());
    struct Draft {
        domain::Outcome<Announcement> announcement;
        std::string server;
        std::int64_t recipients = 0;
    };
    auto draft = co_await ctx_.db.run([&](db::Connection& c) {
        std::optional<domain::ServerId> server;
        std::string server_name;
        if (server_text) {
            const auto found = admin::find_server(c, ctx_.catalog, *server_text);
            if (!found)
                return Draft{
                    domain::fail(domain::ErrorCode::not_found, "no server matches \"" + *server_text + "\""),
                    {},
                    0};
            server = found->id;
            server_name = found->spec.name;
        }
        auto made = domain::announcements::create(c, call.actor, *audience, server, message, now);
        const auto recipients = made ? domain::announcements::dm_recipients(c, *audience, server) : 0;
        return Draft{std::move(made), std::move(server_name), recipients};
    });
    if (!draft.announcement) co_return admin::failure(call, draft.announcement.error().message);
    const auto& a = *draft.announcement;
    MessagePayload payload;
    payload.content =
        call.t(Msg::announce_preview, {{"id", std::to_string(a.id.value)},
                                       {"audience", audience_label(call.locale, a.audience, draft.server)},
                                       {"message", a.message},
                                       {"channel", channel_line(ctx_, call.locale, a)},
                                       {"count", std::to_string(draft.recipients)}});
    payload.components.push_back(ActionRow{
        std::vector<Button>{Button::action(ButtonStyle::success, call.t(Msg::button_announce_confirm),
                                           discord::custom_id::make("announce", a.id.value, "confirm")),
                            Button::action(ButtonStyle::secondary, call.t(Msg::button_announce_cancel),
                                           discord::custom_id::make("announce", a.id.value, "cancel"))}});
    payload.flags = discord::kEphemeralFlag;
    co_return payload;
}

namespace customer {

asio::awaitable<void> add_announcement_toggle(Call& call, MessagePayload& payload) {
    auto& ctx = call.ctx;
    const domain::DiscordId id = call.user().id;
    // The row the click read already, when the handler handed it over: no second database hop.
    bool on = false;
    if (call.clicker) {
        on = *call.clicker && (*call.clicker)->announcements_dm;
    } else {
        on = co_await ctx.db.run([&](db::Connection& c) {
            const auto user = ctx.users.find(c, id);
            return user && user->announcements_dm;
        });
    }
    auto button = Button::action(ButtonStyle::secondary,
                                 call.tr(on ? Msg::button_announce_dm_on : Msg::button_announce_dm_off),
                                 discord::custom_id::make("announce_dm", on ? "off" : "on"));
    // A message holds five rows of five buttons.
    if (payload.components.size() < discord::limits::kActionRows) {
        payload.components.push_back(ActionRow{std::vector<Button>{std::move(button)}});
        co_return;
    }
    auto* buttons = std::get_if<std::vector<Button>>(&payload.components.back().content);
    if (buttons != nullptr && buttons->size() < 5) buttons->push_back(std::move(button));
}

void register_announcement_routes(Router& router) {
    router.on_component<std::int64_t, std::string>(
        "announce", [](Call& call, std::int64_t id, std::string action) -> asio::awaitable<void> {
            if (action == "confirm") return confirm(call, domain::AnnouncementId{id});
            if (action == "cancel") return cancel(call, domain::AnnouncementId{id});
            return reply_ephemeral(call, call.tr(Msg::error_stale_button));
        });
    router.on_component<std::string>(
        "announce_dm", [](Call& call, std::string want) { return set_dms(call, want == "on"); });
    router.on_component("announce_stop", [](Call& call) { return set_dms(call, false); });
}

}  // namespace customer
}  // namespace nebula::bot::handlers
