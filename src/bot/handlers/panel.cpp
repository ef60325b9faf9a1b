// The main panel: its message (posted or refreshed by /admin setup), Help and the language choice.
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "bot/domain/settings.hpp"
#include "bot/domain/trials.hpp"
#include "bot/handlers/customer.hpp"
#include "bot/handlers/customer_flows.hpp"
#include "bot/handlers/setup.hpp"

namespace nebula::bot::handlers {
namespace asio = boost::asio;
using customer::kBrandColour;
using discord::ActionRow;
using discord::Button;
using discord::ButtonStyle;
using discord::Embed;
using discord::MessagePayload;
using discord::Snowflake;
using ui::Msg;

discord::MessagePayload main_panel(const BotContext& ctx, bool trial_offered) {
    // Everyone sees the same panel, so it speaks both languages, the shop's default first.
    const auto first = ctx.shop.default_locale;
    const auto second = first == ui::Locale::ar ? ui::Locale::en : ui::Locale::ar;
    const auto both = [&](Msg msg) { return ui::tr(first, msg) + " · " + ui::tr(second, msg); };
    const auto section = [&](ui::Locale locale) {
        return "**" + ui::tr(locale, Msg::panel_title, {{"shop", ctx.shop.shop_name}}) + "**\n" +
               ui::tr(locale, Msg::panel_description);
    };
    MessagePayload payload;
    payload.embeds.push_back(
        Embed()
            .title(ctx.shop.shop_name)
            .description(section(first) + "\n\n" + section(second))
            .footer(ui::tr(first, Msg::panel_footer) + "\n" + ui::tr(second, Msg::panel_footer))
            .color(kBrandColour));
    payload.components.push_back(ActionRow{std::vector<Button>{
        Button::action(ButtonStyle::success, both(Msg::button_buy), "panel:buy"),
        Button::action(ButtonStyle::primary, both(Msg::button_my_account), "panel:account"),
        Button::action(ButtonStyle::primary, both(Msg::button_renew), "panel:renew"),
        Button::action(ButtonStyle::secondary, both(Msg::button_help), "panel:help"),
        Button::action(ButtonStyle::secondary, "🌐 " + both(Msg::button_language), "panel:language")}});
    if (trial_offered) {
        // A row of its own: a row holds five buttons. One gift emoji, then both languages.
        const auto trial = ui::tr(first, Msg::button_free_trial) + " · " + ui::tr(second, Msg::label_trial);
        payload.components.push_back(
            ActionRow{std::vector<Button>{Button::action(ButtonStyle::success, trial, "panel:trial")}});
    }
    return payload;
}

namespace {

asio::awaitable<bool> trial_offered(BotContext& ctx) {
    co_return co_await ctx.db.run([](db::Connection& c) { return domain::trials::offered(c).has_value(); });
}

}  // namespace

asio::awaitable<void> refresh_main_panel(BotContext& ctx) {
    auto stored = co_await ctx.db.run(
        [](db::Connection& c) { return domain::settings::get(c, domain::settings::kMainPanelMessage); });
    const auto message = stored ? Snowflake::parse(*stored) : std::nullopt;
    if (!message) co_return;
    const bool trial = co_await trial_offered(ctx);
    auto edited =
        co_await ctx.rest.edit_message(ctx.shop.main_panel_channel_id, *message, main_panel(ctx, trial));
    if (!edited) spdlog::warn("main panel not refreshed: {}", edited.error().describe());
}

asio::awaitable<bool> post_or_refresh_main_panel(BotContext& ctx) {
    const auto channel = ctx.shop.main_panel_channel_id;
    const bool trial = co_await trial_offered(ctx);
    auto stored = co_await ctx.db.run(
        [](db::Connection& c) { return domain::settings::get(c, domain::settings::kMainPanelMessage); });
    if (stored) {
        if (auto message = Snowflake::parse(*stored)) {
            auto edited = co_await ctx.rest.edit_message(channel, *message, main_panel(ctx, trial));
            if (edited) co_return true;
            if (edited.error().code != discord::RestErrorCode::not_found) {
                throw std::runtime_error("main panel not refreshed: " + edited.error().describe());
            }
        }
    }
    auto posted = co_await ctx.rest.create_message(channel, main_panel(ctx, trial));
    if (!posted) throw std::runtime_error("main panel not posted: " + posted.error().describe());
    const std::string id = posted->id.str();
    const auto now = domain::to_timestamp(ctx.clock.now());
    co_await ctx.db.run(
        [&](db::Connection& c) { domain::settings::set(c, domain::settings::kMainPanelMessage, id, now); });
    co_return false;
}

namespace customer {

// ---- the main panel ----

asio::awaitable<void> show_help(Call& call) {
    MessagePayload payload;
    payload.embeds.push_back(
        Embed()
            .title(call.tr(Msg::help_title))
            .description(call.tr(
                Msg::help_body,
                {{"duration", ui::format_duration(call.locale, call.ctx.orders.options().unpaid_timeout)}}))
            .color(kBrandColour));
    co_await reply_ephemeral_payload(call, std::move(payload));
}

/// The Language button: a choice of Arabic, English, or following the Discord language again.
asio::awaitable<void> offer_languages(Call& call) {
    MessagePayload payload;
    // In both languages: whoever pressed it may not read the one they are answered in.
    payload.content =
        ui::tr(ui::Locale::ar, Msg::language_prompt) + "\n" + ui::tr(ui::Locale::en, Msg::language_prompt);
    payload.components.push_back(ActionRow{std::vector<Button>{
        Button::action(ButtonStyle::primary, ui::tr(ui::Locale::ar, Msg::button_language_arabic),
                       "language:ar"),
        Button::action(ButtonStyle::primary, ui::tr(ui::Locale::en, Msg::button_language_english),
                       "language:en"),
        Button::action(ButtonStyle::secondary, call.tr(Msg::button_language_follow), "language:discord")}});
    co_await reply_ephemeral_payload(call, std::move(payload));
}

asio::awaitable<void> choose_language(Call& call, std::string choice) {
    auto& ctx = call.ctx;
    std::optional<std::string> chosen;
    if (choice == "ar" || choice == "en") {
        chosen = choice;
    } else if (choice != "discord") {
        co_await reply_ephemeral(call, call.tr(Msg::error_stale_button));
        co_return;
    }
    const discord::Snowflake id = call.user().id;
    const std::string name = call.user().username;
    co_await ctx.db.run([&](db::Connection& c) {
        // The same choice again (or "follow Discord" from someone who never chose) changes nothing.
        const auto known = ctx.users.find(c, id);
        if (known ? known->locale_choice == chosen : !chosen) return true;
        const auto user = ctx.users.ensure(c, id, name);
        return ctx.users.choose_locale(c, user.id, chosen).has_value();
    });
    const ui::Locale now =
        ui::choose_locale(chosen.value_or(""), call.interaction.locale, ctx.shop.default_locale);
    MessagePayload done;
    done.content = ui::tr(now, chosen ? Msg::language_set : Msg::language_follow_set);
    done.flags = discord::kEphemeralFlag;
    done.clear_components = true;
    co_await call.responder.update_message(std::move(done));
}

void register_panel_routes(Router& router) {
    discord::Command admin;
    admin.name = "admin";
    admin.description = "Shop administration";
    admin.default_member_permissions = discord::permissions::kManageGuild;
    admin.options.push_back(
        discord::CommandOption::subcommand("setup", "Post or refresh the main panel", {}));
    router.define_command(std::move(admin));
    router.on_command("admin setup", [](Call& call) { return setup::admin_setup(call); });
    setup::register_setup_routes(router);

    // Buy Access and My Account read the clicker's row in their one database task.
    router.reads_clicker("panel:buy");
    router.reads_clicker("panel:account");
    router.on_component<std::string>("panel", [](Call& call, std::string action) -> asio::awaitable<void> {
        if (action == "buy") return press_buy(call);
        if (action == "account") return my_account(call);
        if (action == "renew") return press_renew(call);
        if (action == "help") return show_help(call);
        if (action == "language") return offer_languages(call);
        if (action == "trial") return press_trial(call);
        return reply_ephemeral(call, call.tr(Msg::error_stale_button));
    });
    router.on_component<std::string>(
        "language", [](Call& call, std::string choice) { return choose_language(call, std::move(choice)); });
}

}  // namespace customer
}  // namespace nebula::bot::handlers
