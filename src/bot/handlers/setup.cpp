#include "bot/handlers/setup.hpp"

#include <optional>

#include <spdlog/spdlog.h>

#include "bot/handlers/customer.hpp"
#include "discord/builders.hpp"

namespace nebula::bot::handlers::setup {
namespace asio = boost::asio;
namespace p = discord::permissions;
using discord::ActionRow;
using discord::Button;
using discord::ButtonStyle;
using discord::MessagePayload;
using discord::OverwriteType;
using discord::PermissionOverwrite;
using discord::Snowflake;
using ui::Msg;

namespace {

/// What the bot needs in a text channel it posts to (as `check` tests it).
constexpr std::uint64_t kBotText =
    p::kViewChannel | p::kSendMessages | p::kEmbedLinks | p::kAttachFiles | p::kReadMessageHistory;
/// What admins do in the staff channels and under the orders category: the same.
constexpr std::uint64_t kStaffText = kBotText;

/// One thing the shop's server needs: which setting holds it, and how it is made.
struct Item {
    Snowflake core::ShopSettings::*id_field = nullptr;  ///< unused for the optional Subscriber role
    domain::DiscordId domain::DiscordLayout::*stored = nullptr;
    Msg describe;
    Msg name;
    enum class Kind { admin_role, subscriber_role, staff_channel, panel_channel, category } kind;
};

const std::vector<Item>& items() {
    static const std::vector<Item> all{
        {&core::ShopSettings::admin_role_id, &domain::DiscordLayout::admin_role, Msg::setup_item_admin_role,
         Msg::setup_name_admin_role, Item::Kind::admin_role},
        {nullptr, &domain::DiscordLayout::subscriber_role, Msg::setup_item_subscriber_role,
         Msg::setup_name_subscriber_role, Item::Kind::subscriber_role},
        {&core::ShopSettings::orders_category_id, &domain::DiscordLayout::orders_category,
         Msg::setup_item_orders_category, Msg::setup_name_orders_category, Item::Kind::category},
        {&core::ShopSettings::review_channel_id, &domain::DiscordLayout::review_channel,
         Msg::setup_item_review_channel, Msg::setup_name_review_channel, Item::Kind::staff_channel},
        {&core::ShopSettings::billing_channel_id, &domain::DiscordLayout::billing_channel,
         Msg::setup_item_billing_channel, Msg::setup_name_billing_channel, Item::Kind::staff_channel},
        {&core::ShopSettings::main_panel_channel_id, &domain::DiscordLayout::main_panel_channel,
         Msg::setup_item_panel_channel, Msg::setup_name_panel_channel, Item::Kind::panel_channel},
    };
    return all;
}

bool missing(const core::ShopSettings& shop, const Item& item) {
    if (item.kind == Item::Kind::subscriber_role) return !shop.subscriber_role_id.has_value();
    return (shop.*item.id_field).empty();
}

/// What to offer: the required ids bot.env and the database leave empty, plus the Subscriber
/// role when anything else is offered (it is optional: a shop configured without it keeps
/// /admin setup as it was).
std::vector<const Item*> missing_items(const core::ShopSettings& shop) {
    std::vector<const Item*> out;
    for (const auto& item : items())
        if (item.kind != Item::Kind::subscriber_role && missing(shop, item)) out.push_back(&item);
    if (!out.empty() && !shop.subscriber_role_id) out.insert(out.begin() + 1, &items()[1]);
    return out;
}

/// The name Discord shows for `item`, in the shop's language (everyone sees the same channel).
std::string discord_name(const BotContext& ctx, const Item& item) {
    return ui::tr(ctx.shop.default_locale, item.name);
}

std::string shown_name(const BotContext& ctx, const Item& item) {
    auto name = discord_name(ctx, item);
    switch (item.kind) {
        case Item::Kind::staff_channel:
        case Item::Kind::panel_channel:
            return "#" + name;
        case Item::Kind::admin_role:
        case Item::Kind::subscriber_role:
            return "@" + name;
        case Item::Kind::category:
            break;
    }
    return name;
}

/// The owner (Discord gives them every permission), Manage Server or the admin role.
bool may_set_up(const Call& call) {
    if (call.admin) return true;
    const auto& i = call.interaction;
    if (!i.member || !i.guild_id || *i.guild_id != call.ctx.shop.guild_id) return false;
    return (i.member->permissions.value_or(0) & (p::kManageGuild | p::kAdministrator)) != 0;
}

/// What the shop still lacks before the first sale: a server, a wallet number, a plan.
asio::awaitable<std::vector<std::string>> still_to_do(Call& call) {
    auto& ctx = call.ctx;
    struct State {
        bool server = false, wallet = false, plan = false;
    };
    const auto state = co_await ctx.db.run([&](db::Connection& c) {
        State s;
        for (const auto& server : ctx.catalog.servers(c)) s.server = s.server || server.enabled;
        for (const auto& method : ctx.catalog.payment_methods(c))
            s.wallet = s.wallet || (method.enabled && !method.account.empty());
        s.plan = !ctx.catalog.plans(c, true).empty();
        return s;
    });
    std::vector<std::string> out;
    if (!state.server) out.push_back(call.tr(Msg::setup_todo_server));
    if (!state.wallet) out.push_back(call.tr(Msg::setup_todo_wallet));
    if (!state.plan) out.push_back(call.tr(Msg::setup_todo_plan));
    co_return out;
}

std::string bullets(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += "\n• " + line;
    return out;
}

/// The panel, the staff-access step and the list of what is left.
asio::awaitable<std::string> panel_and_todo(Call& call) {
    auto& ctx = call.ctx;
    const bool refreshed = co_await post_or_refresh_main_panel(ctx);
    const std::string channel = "<#" + ctx.shop.main_panel_channel_id.str() + ">";
    auto text =
        call.tr(refreshed ? Msg::admin_panel_refreshed : Msg::admin_panel_posted, {{"channel", channel}});
    // /admin is registered for Manage Server; the admin role needs the Integrations override
    // (the bot's token cannot set command permissions: Discord wants the owner's own login).
    text += "\n\n" +
            call.tr(Msg::admin_setup_staff_access, {{"role", "<@&" + ctx.shop.admin_role_id.str() + ">"}});
    const auto todo = co_await still_to_do(call);
    text +=
        "\n\n" + (todo.empty() ? call.tr(Msg::setup_ready) : call.tr(Msg::setup_todo_intro) + bullets(todo));
    co_return text;
}

std::vector<PermissionOverwrite> overwrites(const BotContext& ctx, const Item& item) {
    const Snowflake everyone = ctx.shop.guild_id;
    const Snowflake bot = ctx.shop.bot_user_id;
    const Snowflake admins = ctx.shop.admin_role_id;
    switch (item.kind) {
        case Item::Kind::staff_channel:
            return {{everyone, OverwriteType::role, 0, p::kViewChannel},
                    {admins, OverwriteType::role, kStaffText, 0},
                    {bot, OverwriteType::member, kBotText, 0}};
        case Item::Kind::panel_channel:
            return {
                {everyone, OverwriteType::role, p::kViewChannel | p::kReadMessageHistory, p::kSendMessages},
                {bot, OverwriteType::member, kBotText, 0}};
        case Item::Kind::category:
            return {{everyone, OverwriteType::role, 0, p::kViewChannel},
                    {admins, OverwriteType::role, kStaffText, 0},
                    {bot, OverwriteType::member, kBotText | p::kManageChannels, 0}};
        case Item::Kind::admin_role:
        case Item::Kind::subscriber_role:
            break;
    }
    return {};
}

/// Makes one item in Discord; its id, or Discord's refusal.
asio::awaitable<common::Result<Snowflake, std::string>> create(BotContext& ctx, const Item& item) {
    const std::string reason = "NebulaLinks /admin setup";
    if (item.kind == Item::Kind::admin_role || item.kind == Item::Kind::subscriber_role) {
        nlohmann::json body{
            {"name", discord_name(ctx, item)},
            {"permissions", 0},  // a number, as the API schemas type it (docs/discord-client.md)
            {"hoist", item.kind == Item::Kind::admin_role},
            {"mentionable", false}};
        discord::RequestOptions options;
        options.audit_log_reason = reason;
        auto role = co_await ctx.rest.request("POST", "/guilds/" + ctx.shop.guild_id.str() + "/roles", body,
                                              std::move(options));
        if (!role) co_return common::unexpected(role.error().describe());
        const auto id = role->is_object() && (*role)["id"].is_string()
                            ? Snowflake::parse((*role)["id"].get<std::string>())
                            : std::nullopt;
        if (!id || id->empty()) co_return common::unexpected(std::string("unexpected answer from Discord"));
        co_return *id;
    }
    discord::ChannelCreate channel;
    channel.name = discord_name(ctx, item);
    channel.type = item.kind == Item::Kind::category ? discord::ChannelType::guild_category
                                                     : discord::ChannelType::guild_text;
    channel.permission_overwrites = overwrites(ctx, item);
    auto made = co_await ctx.rest.create_guild_channel(ctx.shop.guild_id, std::move(channel), reason);
    if (!made) co_return common::unexpected(made.error().describe());
    co_return made->id;
}

void set_id(core::ShopSettings& shop, const Item& item, Snowflake id) {
    if (item.kind == Item::Kind::subscriber_role) {
        shop.subscriber_role_id = id;
    } else {
        shop.*item.id_field = id;
    }
}

asio::awaitable<void> create_missing(Call& call) {
    auto& ctx = call.ctx;
    MessagePayload done;
    done.flags = discord::kEphemeralFlag;
    done.clear_components = true;
    if (!may_set_up(call)) {
        done.content = call.tr(Msg::error_not_admin);
        co_await call.responder.update_message(std::move(done));
        co_return;
    }
    const domain::DiscordId guild = ctx.shop.guild_id;
    auto layout = co_await ctx.db.run([&](db::Connection& c) {
        return domain::discord_layout::load(c, guild).value_or(domain::DiscordLayout{});
    });
    std::vector<std::string> made;
    for (const Item* item : missing_items(ctx.shop)) {
        if (!missing(ctx.shop, *item)) continue;  // made meanwhile by another click
        auto id = co_await create(ctx, *item);
        if (!id) {
            spdlog::warn("/admin setup: creating {} failed: {}", shown_name(ctx, *item), id.error());
            done.content =
                call.tr(Msg::setup_failed, {{"item", shown_name(ctx, *item)}, {"error", id.error()}});
            co_await call.responder.update_message(std::move(done));
            co_return;
        }
        // Stored at once: a later failure must not make it again on the next try.
        layout.*item->stored = *id;
        set_id(ctx.shop, *item, *id);
        const auto now = domain::to_timestamp(ctx.clock.now());
        co_await ctx.db.run([&](db::Connection& c) { domain::discord_layout::save(c, guild, layout, now); });
        made.push_back(shown_name(ctx, *item));
    }
    // Whoever set the shop up can approve payments at once.
    const auto& member = call.interaction.member;
    if (member && !member->has_role(ctx.shop.admin_role_id)) {
        auto given = co_await ctx.rest.add_member_role(ctx.shop.guild_id, call.user().id,
                                                       ctx.shop.admin_role_id, "NebulaLinks /admin setup");
        if (!given) spdlog::warn("/admin setup: giving the admin role failed: {}", given.error().describe());
    }
    std::string list;
    for (const auto& name : made) list += (list.empty() ? "" : ", ") + name;
    const std::string rest = co_await panel_and_todo(call);
    // An offer clicked twice finds nothing left to make: only the panel and what is left.
    done.content = made.empty()
                       ? rest
                       : call.tr(Msg::setup_created,
                                 {{"items", list}, {"role", "<@&" + ctx.shop.admin_role_id.str() + ">"}}) +
                             std::string("\n\n") + rest;
    co_await call.responder.update_message(std::move(done));
}

}  // namespace

std::vector<std::string> apply_layout(core::ShopSettings& shop, const domain::DiscordLayout& stored) {
    static const std::vector<std::pair<const char*, const Item*>> keys = [] {
        const auto& all = items();
        return std::vector<std::pair<const char*, const Item*>>{
            {"ADMIN_ROLE_ID", &all[0]},      {"SUBSCRIBER_ROLE_ID", &all[1]},
            {"ORDERS_CATEGORY_ID", &all[2]}, {"REVIEW_CHANNEL_ID", &all[3]},
            {"BILLING_CHANNEL_ID", &all[4]}, {"MAIN_PANEL_CHANNEL_ID", &all[5]}};
    }();
    std::vector<std::string> filled;
    for (const auto& [key, item] : keys) {
        const Snowflake id = stored.*item->stored;
        if (id.empty() || !missing(shop, *item)) continue;
        set_id(shop, *item, id);
        filled.emplace_back(key);
    }
    return filled;
}

asio::awaitable<void> admin_setup(Call& call) {
    if (!may_set_up(call)) {
        co_await reply_ephemeral(call, call.tr(Msg::error_not_admin));
        co_return;
    }
    const auto absent = missing_items(call.ctx.shop);
    if (absent.empty()) {
        std::string text = co_await panel_and_todo(call);
        co_await reply_ephemeral(call, std::move(text));
        co_return;
    }
    std::vector<std::string> lines;
    lines.reserve(absent.size());
    for (const Item* item : absent)
        lines.push_back(call.tr(item->describe, {{"name", shown_name(call.ctx, *item)}}));
    MessagePayload offer;
    offer.content =
        call.tr(Msg::setup_offer_intro) + bullets(lines) + "\n\n" + call.tr(Msg::setup_offer_question);
    offer.components.push_back(ActionRow{std::vector<Button>{
        Button::action(ButtonStyle::success, call.tr(Msg::button_setup_create), "setup:create"),
        Button::action(ButtonStyle::secondary, call.tr(Msg::button_setup_not_now), "setup:cancel")}});
    co_await reply_ephemeral_payload(call, std::move(offer));
}

namespace {

asio::awaitable<void> leave_as_is(Call& call, std::string action) {
    MessagePayload done;
    done.flags = discord::kEphemeralFlag;
    done.clear_components = true;
    done.content = call.tr(action == "cancel" ? Msg::setup_not_now : Msg::error_stale_button);
    co_await call.responder.update_message(std::move(done));
}

}  // namespace

void register_setup_routes(Router& router) {
    router.on_component<std::string>("setup", [](Call& call, std::string action) -> asio::awaitable<void> {
        if (action == "create") return create_missing(call);
        return leave_as_is(call, std::move(action));
    });
}

}  // namespace nebula::bot::handlers::setup
