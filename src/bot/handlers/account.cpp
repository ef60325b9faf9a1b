// My Account: the customer's accounts with their usage (read again from the gateway when stale),
// Show config, the usage chart, and renewal of an account.
#include <map>
#include <memory>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/core/charts.hpp"
#include "bot/domain/accounts.hpp"
#include "bot/domain/usage_history.hpp"
#include "bot/handlers/customer_flows.hpp"
#include "bot/notify/customer.hpp"
#include "bot/ui/qr.hpp"

namespace nebula::bot::handlers::customer {
namespace asio = boost::asio;
using discord::ActionRow;
using discord::Button;
using discord::ButtonStyle;
using discord::Embed;
using discord::MessagePayload;
using ui::Msg;

constexpr std::size_t kMaxAccountsShown = 5;

std::string account_label(const std::optional<domain::Server>& server) {
    return server ? server->spec.name : std::string("?");
}

// ---- My Account and renewal ----

struct AccountView {
    domain::Account account;
    std::optional<domain::Server> server;
};

struct LoadedAccounts {
    std::optional<domain::User> user;  ///< the clicker's row; nothing: not a customer yet
    std::vector<AccountView> views;
};

/// The clicker's row and accounts (with their servers) in one database task.
asio::awaitable<LoadedAccounts> load_clicker_accounts(Call& call) {
    auto& ctx = call.ctx;
    const discord::Snowflake id = call.user().id;
    co_return co_await ctx.db.run([&](db::Connection& c) {
        LoadedAccounts out;
        out.user = ctx.users.find(c, id);
        if (!out.user) return out;
        for (auto& account : domain::accounts::for_user(c, out.user->id)) {
            if (account.status == domain::AccountStatus::deleted) continue;
            auto server = ctx.catalog.server(c, account.server_id);
            out.views.push_back({std::move(account), std::move(server)});
        }
        return out;
    });
}

asio::awaitable<std::vector<AccountView>> load_accounts(Call& call) {
    co_return (co_await load_clicker_accounts(call)).views;
}

/// A usage figure younger than this is shown as it is; an older one is read again first.
constexpr auto kUsageFreshFor = std::chrono::minutes(5);

bool usage_stale(const domain::Account& account, domain::Timestamp now) {
    return !account.traffic_synced_at || *account.traffic_synced_at + kUsageFreshFor <= now;
}

/// Reads the usage of the shown accounts whose stored figure is stale from their gateways, waiting
/// at most ShopSettings::usage_refresh_wait, and puts the figures read in time into `views`. A
/// refresh still running then finishes in the background (the next look finds its figure); a
/// failed one leaves the stored figure.
asio::awaitable<void> refresh_stale_usage(BotContext& ctx, std::vector<AccountView>& views,
                                          domain::Timestamp now) {
    struct Waiting {
        explicit Waiting(const asio::any_io_executor& executor) : timer(executor) {}
        asio::steady_timer timer;
        int pending = 0;
        std::vector<domain::Account> refreshed;
    };
    auto waiting = std::make_shared<Waiting>(ctx.executor);
    for (std::size_t i = 0; i < views.size() && i < kMaxAccountsShown; ++i) {
        const auto& a = views[i].account;
        const bool on_panel =
            a.status == domain::AccountStatus::active || a.status == domain::AccountStatus::disabled;
        if (!on_panel || !views[i].server || !usage_stale(a, now)) continue;
        ++waiting->pending;
        auto refresh = [](BotContext& context, domain::AccountId id,
                          std::shared_ptr<Waiting> state) -> asio::awaitable<void> {
            // Counted as done however it ends (a database error throws), so the wait ends early.
            struct Done {
                std::shared_ptr<Waiting> state;
                ~Done() {
                    if (--state->pending == 0) state->timer.cancel();
                }
            } done{state};
            auto refreshed = co_await context.accounts.refresh_usage(id);
            if (refreshed) {
                state->refreshed.push_back(std::move(*refreshed));
            } else {
                spdlog::warn("account {}: usage not refreshed: {}", id.value, refreshed.error().message);
            }
        };
        ctx.background.spawn("refreshing the usage of account " + std::to_string(a.id.value),
                             refresh(ctx, a.id, waiting));
    }
    if (waiting->pending == 0) co_return;
    waiting->timer.expires_after(ctx.shop.usage_refresh_wait);
    co_await waiting->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    // The figures that arrived in time; no second read of the database for them.
    for (auto& account : waiting->refreshed) {
        for (auto& view : views) {
            if (view.account.id == account.id) view.account = account;
        }
    }
    waiting->refreshed.clear();
}

asio::awaitable<void> my_account(Call& call) {
    auto loaded = co_await load_clicker_accounts(call);
    call.know_clicker(loaded.user, call.ctx.shop.default_locale);
    auto& views = loaded.views;
    if (views.empty()) {
        MessagePayload none;
        none.content = call.tr(Msg::account_none);
        co_await add_referral(call, none);
        co_await add_announcement_toggle(call, none);
        co_await reply_ephemeral_payload(call, std::move(none));
        co_return;
    }
    const auto locale = call.locale;
    const auto now = domain::to_timestamp(call.ctx.clock.now());
    co_await refresh_stale_usage(call.ctx, views, now);
    Embed embed;
    embed.title(call.tr(Msg::account_title)).color(kBrandColour);
    MessagePayload payload;
    for (std::size_t i = 0; i < views.size() && i < kMaxAccountsShown; ++i) {
        const auto& a = views[i].account;
        const std::int64_t used = a.used_up_bytes + a.used_down_bytes;
        const int days = ui::days_left(now, a.expires_at);
        std::string traffic =
            a.traffic_limit_bytes > 0
                ? call.tr(Msg::traffic_used_of, {{"used", ui::format_bytes(used)},
                                                 {"total", ui::format_bytes(a.traffic_limit_bytes)}})
                : call.tr(Msg::traffic_used_unlimited, {{"used", ui::format_bytes(used)}});
        const std::string bar =
            a.traffic_limit_bytes > 0 ? ui::progress_bar(used, a.traffic_limit_bytes) : "";
        if (usage_stale(a, now)) {
            const auto as_of = a.traffic_synced_at.value_or(a.created_at);
            traffic += " " + call.tr(Msg::account_usage_as_of,
                                     {{"time", ui::format_date_time(locale, as_of, call.ctx.zone)}});
        }
        const std::string days_text =
            days > 0
                ? call.tr(Msg::account_days_left, {{"days", ui::format_count(locale, days, ui::Unit::day)}})
                : call.tr(Msg::account_expired_short);
        embed.field(
            call.tr(Msg::account_heading,
                    {{"server", account_label(views[i].server)},
                     {"location", views[i].server ? views[i].server->spec.location : std::string("?")}}),
            call.tr(Msg::account_details, {{"status", call.tr(ui::account_status_msg(a.status))},
                                           {"expiry", ui::format_date(locale, a.expires_at, call.ctx.zone)},
                                           {"days_left", days_text},
                                           {"traffic", traffic},
                                           {"bar", bar},
                                           {"devices", ui::format_device_limit(locale, a.device_limit)}}));
        payload.components.push_back(ActionRow{std::vector<Button>{
            Button::action(ButtonStyle::primary,
                           call.tr(Msg::button_show_config) + " #" + std::to_string(a.id.value),
                           discord::custom_id::make("acct", a.id.value, "config")),
            Button::action(ButtonStyle::success,
                           call.tr(Msg::button_renew) + " #" + std::to_string(a.id.value),
                           discord::custom_id::make("acct", a.id.value, "renew")),
            Button::action(ButtonStyle::secondary,
                           call.tr(Msg::button_usage_chart) + " #" + std::to_string(a.id.value),
                           discord::custom_id::make("acct", a.id.value, "usage"))}});
    }
    payload.embeds.push_back(std::move(embed));
    co_await add_referral(call, payload);
    co_await add_announcement_toggle(call, payload);
    co_await reply_ephemeral_payload(call, std::move(payload));
}

asio::awaitable<void> offer_renewal_plans(Call& call, const AccountView& view) {
    auto& ctx = call.ctx;
    const auto shop = co_await ctx.db.run([&](db::Connection& c) { return ctx.catalog.shop(c); });
    const auto& plans = shop->active_plans;
    if (plans.empty()) {
        co_await reply_ephemeral(call, call.tr(Msg::plans_none));
        co_return;
    }
    const std::string label = account_label(view.server) + " #" + std::to_string(view.account.id.value);
    auto payload = plan_select(call, plans, discord::custom_id::make("renew_plan", view.account.id.value),
                               call.tr(Msg::renew_choose_plan, {{"account", label}}));
    co_await reply_ephemeral_payload(call, std::move(payload));
}

asio::awaitable<void> press_renew(Call& call) {
    auto views = co_await load_accounts(call);
    if (views.empty()) {
        co_await reply_ephemeral(call, call.tr(Msg::renew_none));
        co_return;
    }
    if (views.size() == 1) {
        co_await offer_renewal_plans(call, views.front());
        co_return;
    }
    discord::StringSelect select;
    select.custom_id = "renew_acct";
    select.placeholder = call.tr(Msg::account_select_placeholder);
    for (const auto& view : views) {
        if (select.options.size() == discord::limits::kSelectOptions) break;
        select.options.push_back(
            {call.tr(Msg::account_option_label,
                     {{"server", account_label(view.server) + " #" + std::to_string(view.account.id.value)},
                      {"expiry", ui::format_date(call.locale, view.account.expires_at, call.ctx.zone)}}),
             std::to_string(view.account.id.value),
             {},
             {},
             false});
    }
    MessagePayload payload;
    payload.content = call.tr(Msg::renew_choose_account);
    payload.components.push_back(ActionRow{select});
    co_await reply_ephemeral_payload(call, std::move(payload));
}

/// The account's daily traffic over the last 30 days (today included) as a chart in the
/// customer's language, drawn off the Discord thread.
asio::awaitable<void> show_usage_chart(Call& call, const AccountView& view) {
    auto& ctx = call.ctx;
    constexpr int kDays = 30;
    const auto now = domain::to_timestamp(ctx.clock.now());
    // Noon of each day, so a 23- or 25-hour day (daylight saving) never skips or repeats a date.
    const auto noon_today = ctx.analytics.start_of_day(now) + std::chrono::hours(12);
    std::vector<std::string> keys;
    for (int back = kDays - 1; back >= 0; --back)
        keys.push_back(ctx.analytics.day_of(noon_today - std::chrono::days(back)));
    const auto id = view.account.id;
    auto days = co_await ctx.db.run(
        [&](db::Connection& c) { return domain::usage_history::days(c, id, keys.front(), keys.back()); });
    std::map<std::string, std::int64_t> by_day;
    std::int64_t total = 0;
    for (const auto& day : days) {
        by_day[day.day] = day.used_bytes;
        total += day.used_bytes;
    }
    std::vector<ui::ChartBar> bars;
    for (const auto& key : keys) {
        const auto it = by_day.find(key);
        bars.push_back({std::to_string(std::stoi(key.substr(8, 2))),
                        it == by_day.end() ? 0.0 : static_cast<double>(it->second)});
    }
    auto chart = ui::usage_chart(call.locale, call.tr(Msg::period_30_days), std::move(bars));
    std::string title = chart.title;
    MessagePayload payload;
    payload.content = call.tr(Msg::usage_chart_body,
                              {{"server", account_label(view.server) + " #" + std::to_string(id.value)},
                               {"total", ui::format_bytes(total)}});
    std::string png = co_await core::draw_chart(ctx.db, std::move(chart));
    payload.files.push_back({"usage.png", "image/png", std::move(png), std::move(title)});
    co_await reply_ephemeral_payload(call, std::move(payload));
}

asio::awaitable<void> account_action(Call& call, std::int64_t account_value, std::string action) {
    auto views = co_await load_accounts(call);
    const auto it = std::find_if(views.begin(), views.end(),
                                 [&](const AccountView& v) { return v.account.id.value == account_value; });
    if (it == views.end()) {
        co_await reply_ephemeral(call, call.tr(Msg::error_not_your_account));
        co_return;
    }
    if (action == "renew") {
        co_await offer_renewal_plans(call, *it);
        co_return;
    }
    if (action == "usage") {
        co_await show_usage_chart(call, *it);
        co_return;
    }
    if (action != "config") {
        co_await reply_ephemeral(call, call.tr(Msg::error_stale_button));
        co_return;
    }
    auto config = co_await call.ctx.accounts.show_config(it->account.id);
    if (!config) {
        spdlog::warn("account {}: show config failed: {}", account_value, config.error().message);
        co_await reply_ephemeral(call, call.tr(Msg::error_internal));
        co_return;
    }
    MessagePayload payload;
    payload.content = call.tr(Msg::show_config_body, {{"server", account_label(it->server)},
                                                      {"link", config->links.vless},
                                                      {"subscription_url", config->links.subscription}});
    if (auto png = ui::qr_png(config->links.vless)) {
        payload.files.push_back({"qr.png", "image/png", std::move(*png), "QR"});
    }
    co_await reply_ephemeral_payload(call, std::move(payload));
}

asio::awaitable<void> pick_renewal_account(Call& call) {
    const std::int64_t account = selected_id(call).value_or(0);
    std::string renew = "renew";
    co_await account_action(call, account, std::move(renew));
}

void register_account_routes(Router& router) {
    router.on_component("renew_acct", [](Call& call) { return pick_renewal_account(call); });
    router.on_component<std::int64_t, std::string>("acct",
                                                   [](Call& call, std::int64_t account, std::string action) {
                                                       return account_action(call, account, action);
                                                   });
}

}  // namespace nebula::bot::handlers::customer
