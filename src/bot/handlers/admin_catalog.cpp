// /admin plan …, /admin server …, /admin payment …
#include "bot/domain/load_balancer.hpp"
#include "bot/handlers/admin_commands.hpp"
#include "bot/handlers/admin_internal.hpp"
#include "bot/handlers/admin_store.hpp"

namespace nebula::bot::handlers {
namespace {

namespace asio = boost::asio;
using admin::failure;
using admin::text_reply;
using ui::Msg;

std::string state_text(const AdminCommands::Invocation& call, bool on) {
    return call.t(on ? Msg::state_enabled : Msg::state_disabled);
}

// Fills `input` from the plan options present; the problem with the first bad value otherwise.
std::optional<std::string> read_plan_options(const AdminCommands::Invocation& call,
                                             domain::PlanInput& input) {
    if (auto name = call.string("name")) input.name = *name;
    if (auto name_ar = call.string("name_ar")) input.name_ar = *name_ar;
    if (auto price = call.number("price")) {
        auto piasters = admin::price_from_egp(*price);
        if (!piasters) return piasters.error();
        input.price = *piasters;
    }
    if (auto days = call.integer("days")) {
        if (*days <= 0) return std::string("duration must be at least 1 day");
        if (*days > 3650) return std::string("duration must be at most 3650 days");
        input.duration_days = static_cast<int>(*days);
    }
    if (auto gb = call.number("traffic_gb")) {
        auto bytes = admin::traffic_from_gb(*gb);
        if (!bytes) return bytes.error();
        input.traffic_bytes = *bytes;
    }
    if (auto devices = call.integer("devices")) {
        if (*devices < 0 || *devices > 100) return std::string("devices must be 0 (unlimited) to 100");
        input.device_limit = static_cast<int>(*devices);
    }
    if (auto sort = call.integer("sort")) {
        if (*sort < -1000 || *sort > 1000) return std::string("sort must be between -1000 and 1000");
        input.sort_order = static_cast<int>(*sort);
    }
    return std::nullopt;
}

std::optional<std::string> read_server_options(const AdminCommands::Invocation& call,
                                               domain::ServerInput& input) {
    if (auto name = call.string("name")) input.name = *name;
    if (auto location = call.string("location")) input.location = *location;
    if (auto url = call.string("url")) input.gateway_url = *url;
    if (auto key = call.string("key")) input.gateway_key = *key;
    if (auto pin = call.string("pin")) input.tls_pin_sha256 = *pin;
    const auto positive = [&](std::string_view name, int& field) -> std::optional<std::string> {
        if (auto value = call.integer(name)) {
            if (*value <= 0 || *value > 1'000'000)
                return std::string(name) + " must be between 1 and 1000000";
            field = static_cast<int>(*value);
        }
        return std::nullopt;
    };
    if (auto problem = positive("inbound", input.inbound_id)) return problem;
    if (auto problem = positive("capacity", input.capacity)) return problem;
    if (auto problem = positive("weight", input.weight)) return problem;
    return std::nullopt;
}

std::string plan_line(const AdminCommands::Invocation& call, const domain::Plan& plan) {
    return "`#" + std::to_string(plan.id.value) + "` " +
           call.t(Msg::admin_plan_line,
                  {{"name", plan.spec.name},
                   {"price", ui::format_money(call.locale, plan.spec.price)},
                   {"duration", ui::format_count(call.locale, plan.spec.duration_days, ui::Unit::day)},
                   {"traffic", ui::format_traffic_limit(call.locale, plan.spec.traffic_bytes)},
                   {"devices", ui::format_device_limit(call.locale, plan.spec.device_limit)},
                   {"state", state_text(call, plan.active)}});
}

std::string method_name(const AdminCommands::Invocation& call, const domain::PaymentMethod& method) {
    if (auto msg = ui::payment_method_msg(method.code)) return call.t(*msg);
    return call.locale == ui::Locale::ar ? method.name_ar : method.name_en;
}

}  // namespace

asio::awaitable<discord::MessagePayload> AdminCommands::plan(const Invocation& call, std::string action) {
    auto& catalog = ctx_.catalog;
    if (action == "list") {
        auto plans = co_await ctx_.db.run([&](db::Connection& c) { return catalog.plans(c, false); });
        if (plans.empty()) co_return text_reply(call.t(Msg::admin_plans_empty));
        std::string lines;
        for (const auto& plan : plans) lines += plan_line(call, plan) + "\n";
        discord::Embed embed;
        embed.title(call.t(Msg::admin_plans_title)).description(lines).color(kAdminColor);
        co_return admin::embed_reply(std::move(embed));
    }
    if (action == "create") {
        domain::PlanInput input;
        if (auto problem = read_plan_options(call, input)) co_return failure(call, *problem);
        auto created = co_await ctx_.db.run(
            [&](db::Connection& c) { return catalog.create_plan(c, call.actor, input); });
        if (!created) co_return failure(call, created.error().message);
        const auto& spec = created->spec;
        co_return text_reply(
            call.t(Msg::admin_plan_created,
                   {{"name", spec.name},
                    {"price", ui::format_money(call.locale, spec.price)},
                    {"duration", ui::format_count(call.locale, spec.duration_days, ui::Unit::day)},
                    {"traffic", ui::format_traffic_limit(call.locale, spec.traffic_bytes)},
                    {"devices", ui::format_device_limit(call.locale, spec.device_limit)}}));
    }
    // edit, enable, disable: the plan option names an existing plan.
    const std::string wanted = call.string("plan").value_or("");
    std::optional<std::string> problem;
    auto changed = co_await ctx_.db.run([&](db::Connection& c) -> domain::Outcome<domain::Plan> {
        auto plan = admin::find_plan(c, catalog, wanted);
        if (!plan) return domain::fail(domain::ErrorCode::not_found, "no plan matches \"" + wanted + "\"");
        if (action == "enable" || action == "disable") {
            return catalog.set_plan_active(c, call.actor, plan->id, action == "enable");
        }
        auto input = plan->spec;
        if ((problem = read_plan_options(call, input)))
            return domain::fail(domain::ErrorCode::validation, *problem);
        if (call.data.leaf_options().size() <= 1) {
            return domain::fail(domain::ErrorCode::validation, "give at least one field to change");
        }
        return catalog.update_plan(c, call.actor, plan->id, input);
    });
    if (!changed) co_return failure(call, changed.error().message);
    const Msg done = action == "enable"    ? Msg::admin_plan_enabled
                     : action == "disable" ? Msg::admin_plan_disabled
                                           : Msg::admin_plan_updated;
    co_return text_reply(call.t(done, {{"name", changed->spec.name}}));
}

asio::awaitable<discord::MessagePayload> AdminCommands::server(const Invocation& call, std::string action) {
    auto& catalog = ctx_.catalog;
    if (action == "list") {
        struct Row {
            domain::Server server;
            std::int64_t used = 0;
        };
        auto rows = co_await ctx_.db.run([&](db::Connection& c) {
            std::vector<Row> out;
            const auto loads = domain::server_loads(c);
            for (auto& server : catalog.servers(c)) {
                Row row{std::move(server), 0};
                for (const auto& load : loads) {
                    if (load.id == row.server.id) row.used = load.used;
                }
                out.push_back(std::move(row));
            }
            return out;
        });
        if (rows.empty()) co_return text_reply(call.t(Msg::admin_servers_empty));
        std::string lines;
        for (const auto& row : rows) {
            lines +=
                "`#" + std::to_string(row.server.id.value) + "` " +
                call.t(Msg::admin_server_line,
                       {{"name", row.server.spec.name},
                        {"location", row.server.spec.location},
                        {"health", call.t(ui::server_health_msg(row.server.health))},
                        {"load", std::to_string(row.used) + "/" + std::to_string(row.server.spec.capacity)},
                        {"state", state_text(call, row.server.enabled)}}) +
                "\n";
        }
        discord::Embed embed;
        embed.title(call.t(Msg::admin_servers_title)).description(lines).color(kAdminColor);
        co_return admin::embed_reply(std::move(embed));
    }
    if (action == "add") {
        domain::ServerInput input;
        if (auto problem = read_server_options(call, input)) co_return failure(call, *problem);
        auto created = co_await ctx_.db.run(
            [&](db::Connection& c) { return catalog.create_server(c, call.actor, input); });
        if (!created) co_return failure(call, created.error().message);
        co_return text_reply(call.t(Msg::admin_server_added,
                                    {{"name", created->spec.name}, {"location", created->spec.location}}));
    }

    const std::string wanted = call.string("server").value_or("");
    auto found =
        co_await ctx_.db.run([&](db::Connection& c) { return admin::find_server(c, catalog, wanted); });
    if (!found) co_return failure(call, "no server matches \"" + wanted + "\"");

    if (action == "test") {
        auto& gateway = ctx_.gateways.gateway_for(*found);
        const auto started = ctx_.clock.steady_now();
        auto health = co_await gateway.health();
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.clock.steady_now() - started);
        const bool up = health && health->status == "ok";
        // The check doubles as a health probe: the load balancer skips servers marked down.
        auto recorded = co_await ctx_.db.run([&](db::Connection& c) {
            return catalog.set_server_health(c, found->id,
                                             up ? domain::ServerHealth::up : domain::ServerHealth::down);
        });
        if (!recorded) co_return failure(call, recorded.error().message);
        if (!health) {
            co_return text_reply(
                call.t(Msg::admin_server_test_failed,
                       {{"name", found->spec.name}, {"error", domain::describe(health.error())}}));
        }
        if (!up) {
            co_return text_reply(
                call.t(Msg::admin_server_test_failed,
                       {{"name", found->spec.name},
                        {"error", "gateway " + health->status + ", panel " + health->panel}}));
        }
        co_return text_reply(
            call.t(Msg::admin_server_test_ok,
                   {{"name", found->spec.name}, {"latency", std::to_string(elapsed.count()) + " ms"}}));
    }
    if (action == "remove") {
        const auto now = domain::to_timestamp(ctx_.clock.now());
        auto removed = co_await ctx_.db.run(
            [&](db::Connection& c) { return admin::remove_server(c, catalog, call.actor, found->id, now); });
        if (!removed && removed.error().code == domain::ErrorCode::conflict) {
            co_return text_reply(call.t(Msg::admin_server_remove_busy,
                                        {{"name", found->spec.name}, {"count", removed.error().message}}));
        }
        if (!removed) co_return failure(call, removed.error().message);
        co_return text_reply(call.t(Msg::admin_server_removed, {{"name", removed->spec.name}}));
    }
    // edit
    auto input = found->spec;
    if (auto problem = read_server_options(call, input)) co_return failure(call, *problem);
    const auto enabled = call.boolean("enabled");
    if (call.data.leaf_options().size() <= 1) co_return failure(call, "give at least one field to change");
    auto updated = co_await ctx_.db.run([&](db::Connection& c) -> domain::Outcome<domain::Server> {
        return db::in_transaction(c, [&](db::Connection& tx) -> domain::Outcome<domain::Server> {
            auto result = catalog.update_server(tx, call.actor, found->id, input);
            if (result && enabled && *enabled != result->enabled) {
                result = catalog.set_server_enabled(tx, call.actor, found->id, *enabled);
            }
            return result;
        });
    });
    if (!updated) co_return failure(call, updated.error().message);
    co_return text_reply(call.t(Msg::admin_server_updated, {{"name", updated->spec.name}}));
}

asio::awaitable<discord::MessagePayload> AdminCommands::payment(const Invocation& call, std::string action) {
    auto& catalog = ctx_.catalog;
    if (action == "list") {
        auto methods = co_await ctx_.db.run([&](db::Connection& c) { return catalog.payment_methods(c); });
        std::string lines;
        for (const auto& method : methods) {
            lines += call.t(Msg::admin_payment_line,
                            {{"method", method_name(call, method)},
                             {"account",
                              method.account.empty() ? call.t(Msg::payment_account_unset) : method.account},
                             {"state", state_text(call, method.enabled)}}) +
                     "\n";
        }
        discord::Embed embed;
        embed.title(call.t(Msg::admin_payments_title)).description(lines).color(kAdminColor);
        co_return admin::embed_reply(std::move(embed));
    }
    // set
    const std::string code = call.string("method").value_or("");
    domain::PaymentMethodUpdate update;
    if (auto account = call.string("account")) {
        auto normalised = admin::normalise_payment_account(code, *account);
        if (!normalised) co_return failure(call, normalised.error());
        update.account = *normalised;
    }
    update.instructions_en = call.string("instructions_en");
    update.instructions_ar = call.string("instructions_ar");
    const auto enabled = call.boolean("enabled");
    if (!update.account && !update.instructions_en && !update.instructions_ar && !enabled) {
        co_return failure(call, "give an account, instructions or enabled to change");
    }
    auto changed = co_await ctx_.db.run([&](db::Connection& c) -> domain::Outcome<domain::PaymentMethod> {
        std::optional<domain::PaymentMethod> method;
        for (auto& m : catalog.payment_methods(c)) {
            if (m.code == code) method = std::move(m);
        }
        if (!method) return domain::fail(domain::ErrorCode::not_found, "unknown payment method " + code);
        return db::in_transaction(c, [&](db::Connection& tx) -> domain::Outcome<domain::PaymentMethod> {
            domain::Outcome<domain::PaymentMethod> result = *method;
            if (update.account || update.instructions_en || update.instructions_ar) {
                result = catalog.update_payment_method(tx, call.actor, method->id, update);
            }
            if (result && enabled && *enabled != result->enabled) {
                result = catalog.set_payment_method_enabled(tx, call.actor, method->id, *enabled);
            }
            return result;
        });
    });
    if (!changed) co_return failure(call, changed.error().message);
    const std::string name = method_name(call, *changed);
    std::string lines;
    if (update.account)
        lines += call.t(Msg::admin_payment_set, {{"method", name}, {"account", changed->account}});
    if (enabled) {
        if (!lines.empty()) lines += "\n";
        lines +=
            call.t(*enabled ? Msg::admin_payment_enabled : Msg::admin_payment_disabled, {{"method", name}});
    }
    if (lines.empty())
        lines = call.t(
            Msg::admin_payment_line,
            {{"method", name},
             {"account", changed->account.empty() ? call.t(Msg::payment_account_unset) : changed->account},
             {"state", state_text(call, changed->enabled)}});
    co_return text_reply(std::move(lines));
}

}  // namespace nebula::bot::handlers
