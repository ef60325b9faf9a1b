// /admin trial …, /admin promo …
#include <charconv>

#include "bot/domain/promos.hpp"
#include "bot/domain/trials.hpp"
#include "bot/handlers/admin_commands.hpp"
#include "bot/handlers/admin_internal.hpp"
#include "bot/handlers/customer.hpp"

namespace nebula::bot::handlers {
namespace {

namespace asio = boost::asio;
using admin::failure;
using admin::text_reply;
using ui::Msg;

std::string trial_summary(const AdminCommands::Invocation& call, const domain::TrialOffer& offer,
                          const std::optional<domain::Plan>& plan) {
    return call.t(Msg::admin_trial_current,
                  {{"plan", plan ? plan->spec.name : std::string("?")},
                   {"duration", ui::format_count(call.locale, offer.duration_days, ui::Unit::day)},
                   {"traffic", ui::format_traffic_limit(call.locale, offer.traffic_bytes)},
                   {"state", call.t(offer.enabled ? Msg::state_enabled : Msg::state_disabled)}});
}

/// "2025-03-31" → the first second after that day in the shop's time zone.
std::optional<domain::Timestamp> end_of_local_day(std::string_view text, const ui::TimeZone& zone) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    const auto number = [](std::string_view part, auto& value) {
        const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
        return error == std::errc{} && end == part.data() + part.size();
    };
    if (!number(text.substr(0, 4), y) || !number(text.substr(5, 2), m) || !number(text.substr(8, 2), d))
        return std::nullopt;
    const std::chrono::year_month_day day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
    if (!day.ok()) return std::nullopt;
    // Local midnight of the next day, as UTC: subtract the zone's offset at that instant.
    const domain::Timestamp local{std::chrono::sys_days{day}.time_since_epoch() + std::chrono::days(1)};
    const auto guess = local - zone.offset_at(local);
    return local - zone.offset_at(guess);
}

/// The plans named in "Monthly, 3, Weekly" (names or ids); the first unknown one otherwise.
common::Result<std::vector<domain::PlanId>, std::string> read_plans(db::Connection& c,
                                                                    domain::CatalogService& catalog,
                                                                    std::string_view text) {
    std::vector<domain::PlanId> plans;
    while (!text.empty()) {
        const auto comma = text.find(',');
        std::string_view part = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (part.empty()) continue;
        auto plan = admin::find_plan(c, catalog, part);
        if (!plan) return common::unexpected("no plan matches \"" + std::string(part) + "\"");
        plans.push_back(plan->id);
    }
    return plans;
}

std::string promo_line(const AdminCommands::Invocation& call, const domain::PromoCode& code,
                       const std::vector<domain::Plan>& catalogue, const ui::TimeZone& zone) {
    std::string plans;
    for (const auto id : code.plans) {
        std::string name = "#" + std::to_string(id.value);
        for (const auto& plan : catalogue) {
            if (plan.id == id) name = plan.spec.name;
        }
        plans += (plans.empty() ? "" : ", ") + name;
    }
    const std::string no_limit = call.t(Msg::promo_no_limit);
    return call.t(
        Msg::admin_promo_line,
        {{"code", code.code},
         {"discount", code.percent_off
                          ? std::to_string(*code.percent_off) + "%"
                          : ui::format_money(call.locale, code.amount_off.value_or(domain::Piasters{}))},
         {"plans", plans.empty() ? call.t(Msg::promo_all_plans) : plans},
         {"uses", std::to_string(code.uses)},
         {"max_uses", code.max_uses ? std::to_string(*code.max_uses) : no_limit},
         {"per_customer", code.per_customer ? std::to_string(*code.per_customer) : no_limit},
         {"expires", code.expires_at ? ui::format_date_time(call.locale, *code.expires_at, zone)
                                     : call.t(Msg::promo_never)},
         {"state", call.t(code.enabled ? Msg::state_enabled : Msg::state_disabled)}});
}

}  // namespace

asio::awaitable<discord::MessagePayload> AdminCommands::trial(const Invocation& call, std::string action) {
    const auto now = domain::to_timestamp(ctx_.clock.now());
    if (action == "show") {
        struct Current {
            std::optional<domain::TrialOffer> offer;
            std::optional<domain::Plan> plan;
        };
        auto current = co_await ctx_.db.run([&](db::Connection& c) {
            Current out{domain::trials::current(c), std::nullopt};
            if (out.offer) out.plan = ctx_.catalog.plan(c, out.offer->plan_id);
            return out;
        });
        if (!current.offer) co_return text_reply(call.t(Msg::admin_trial_none));
        co_return text_reply(trial_summary(call, *current.offer, current.plan));
    }
    if (action == "disable") {
        auto disabled = co_await ctx_.db.run(
            [&](db::Connection& c) { return domain::trials::disable(c, call.actor, now); });
        if (!disabled) co_return failure(call, disabled.error().message);
        co_await refresh_main_panel(ctx_);
        co_return text_reply(call.t(Msg::admin_trial_disabled));
    }
    // set
    const std::string wanted = call.string("plan").value_or("");
    const auto days = call.integer("days").value_or(0);
    auto bytes = admin::traffic_from_gb(call.number("traffic_gb").value_or(0));
    if (!bytes) co_return failure(call, bytes.error());
    if (days < 1 || days > 365) co_return failure(call, "a trial lasts 1 to 365 days");
    struct Set {
        domain::Outcome<domain::TrialOffer> offer;
        std::optional<domain::Plan> plan;
    };
    auto set = co_await ctx_.db.run([&](db::Connection& c) -> Set {
        auto plan = admin::find_plan(c, ctx_.catalog, wanted);
        if (!plan)
            return {domain::fail(domain::ErrorCode::not_found, "no plan matches \"" + wanted + "\""), plan};
        return {domain::trials::set(c, call.actor, plan->id, static_cast<int>(days), *bytes, now), plan};
    });
    if (!set.offer) co_return failure(call, set.offer.error().message);
    co_await refresh_main_panel(ctx_);
    co_return text_reply(
        call.t(Msg::admin_trial_set,
               {{"plan", set.plan->spec.name},
                {"duration", ui::format_count(call.locale, set.offer->duration_days, ui::Unit::day)},
                {"traffic", ui::format_traffic_limit(call.locale, set.offer->traffic_bytes)}}));
}

asio::awaitable<discord::MessagePayload> AdminCommands::promo(const Invocation& call, std::string action) {
    const auto now = domain::to_timestamp(ctx_.clock.now());
    auto& catalog = ctx_.catalog;
    if (action == "list") {
        auto listed = co_await ctx_.db.run([&](db::Connection& c) {
            return std::make_pair(domain::promos::list(c), catalog.plans(c, false));
        });
        if (listed.first.empty()) co_return text_reply(call.t(Msg::admin_promos_empty));
        std::string lines;
        for (const auto& code : listed.first) {
            auto line = promo_line(call, code, listed.second, ctx_.zone) + "\n";
            if (lines.size() + line.size() > 4000) break;  // an embed description holds 4096
            lines += line;
        }
        discord::Embed embed;
        embed.title(call.t(Msg::admin_promos_title)).description(lines).color(kAdminColor);
        co_return admin::embed_reply(std::move(embed));
    }
    if (action == "disable") {
        const std::string code = call.string("code").value_or("");
        auto disabled = co_await ctx_.db.run(
            [&](db::Connection& c) { return domain::promos::disable(c, call.actor, code, now); });
        if (!disabled) co_return failure(call, disabled.error().message);
        co_return text_reply(call.t(Msg::admin_promo_disabled, {{"code", disabled->code}}));
    }
    // create
    domain::PromoInput input;
    input.code = call.string("code").value_or("");
    if (auto percent = call.integer("percent")) input.percent_off = static_cast<int>(*percent);
    if (auto amount = call.number("amount")) {
        auto piasters = admin::price_from_egp(*amount);
        if (!piasters) co_return failure(call, piasters.error());
        input.amount_off = *piasters;
    }
    if (auto uses = call.integer("max_uses")) input.max_uses = static_cast<int>(*uses);
    if (auto per = call.integer("per_customer")) input.per_customer = static_cast<int>(*per);
    if (auto expires = call.string("expires")) {
        input.expires_at = end_of_local_day(*expires, ctx_.zone);
        if (!input.expires_at) co_return failure(call, "expires must be a date like 2025-12-31");
    }
    const std::string plans_text = call.string("plans").value_or("");
    struct Created {
        domain::Outcome<domain::PromoCode> code;
        std::vector<domain::Plan> catalogue;
    };
    auto created = co_await ctx_.db.run([&](db::Connection& c) -> Created {
        auto plans = read_plans(c, catalog, plans_text);
        if (!plans) return {domain::fail(domain::ErrorCode::not_found, plans.error()), {}};
        input.plans = *plans;
        return {domain::promos::create(c, call.actor, input, now), catalog.plans(c, false)};
    });
    if (!created.code) co_return failure(call, created.code.error().message);
    co_return text_reply(call.t(Msg::admin_promo_created,
                                {{"line", promo_line(call, *created.code, created.catalogue, ctx_.zone)}}));
}

}  // namespace nebula::bot::handlers
