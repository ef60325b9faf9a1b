#include "bot/domain/promos.hpp"

#include <algorithm>
#include <cctype>

#include "bot/domain/audit.hpp"

namespace nebula::bot::domain {
namespace {

constexpr std::string_view kSelect =
    "SELECT id, code, percent_off, amount_off_piasters, max_uses, per_customer, expires_at, uses, enabled, "
    "created_by, created_at FROM promo_codes ";

std::vector<PromoCode> read_codes(db::Connection& connection, db::Statement& rows) {
    std::vector<PromoCode> codes;
    while (rows.step()) {
        PromoCode p;
        p.id = rows.get<std::int64_t>(0);
        p.code = rows.get<std::string>(1);
        p.percent_off = rows.get<std::optional<int>>(2);
        p.amount_off = rows.get<std::optional<Piasters>>(3);
        p.max_uses = rows.get<std::optional<int>>(4);
        p.per_customer = rows.get<std::optional<int>>(5);
        p.expires_at = rows.get<std::optional<Timestamp>>(6);
        p.uses = rows.get<int>(7);
        p.enabled = rows.get<bool>(8);
        p.created_by = rows.get<std::string>(9);
        p.created_at = rows.get<Timestamp>(10);
        codes.push_back(std::move(p));
    }
    for (auto& p : codes) {
        auto plans = connection.query(
            "SELECT plan_id FROM promo_code_plans WHERE promo_code_id = ? ORDER BY plan_id", p.id);
        while (plans->step()) p.plans.push_back(plans->get<PlanId>(0));
    }
    return codes;
}

std::optional<PromoCode> by_id(db::Connection& connection, std::int64_t id) {
    auto rows = connection.query(std::string(kSelect) + "WHERE id = ?", id);
    auto codes = read_codes(connection, *rows);
    if (codes.empty()) return std::nullopt;
    return std::move(codes.front());
}

/// The customer's approved orders (other than `except`) that used the code.
std::int64_t customer_uses(db::Connection& connection, std::int64_t code, UserId user, OrderId except) {
    return *connection.scalar<std::int64_t>(
        "SELECT COUNT(*) FROM orders WHERE promo_code_id = ? AND user_id = ? AND id <> ? AND status IN "
        "('approved', 'fulfilled')",
        code, user, except);
}

}  // namespace

nlohmann::json to_json(const PromoCode& p) {
    nlohmann::json plans = nlohmann::json::array();
    for (const auto plan : p.plans) plans.push_back(plan.value);
    const auto opt = [](const auto& value) -> nlohmann::json {
        if (!value) return nullptr;
        if constexpr (requires { value->value; }) {
            return value->value;
        } else if constexpr (requires { value->time_since_epoch(); }) {
            return epoch_seconds(*value);
        } else {
            return *value;
        }
    };
    return {{"id", p.id},
            {"code", p.code},
            {"percent_off", opt(p.percent_off)},
            {"amount_off_piasters", opt(p.amount_off)},
            {"plans", plans},
            {"max_uses", opt(p.max_uses)},
            {"per_customer", opt(p.per_customer)},
            {"expires_at", opt(p.expires_at)},
            {"uses", p.uses},
            {"enabled", p.enabled}};
}

std::string_view to_string(PromoRefusal refusal) {
    switch (refusal) {
        case PromoRefusal::unknown_code:
            return "unknown_code";
        case PromoRefusal::expired:
            return "expired";
        case PromoRefusal::used_up:
            return "used_up";
        case PromoRefusal::not_for_plan:
            return "not_for_plan";
        case PromoRefusal::per_customer:
            return "per_customer";
        case PromoRefusal::not_your_order:
            return "not_your_order";
        case PromoRefusal::too_late:
            return "too_late";
    }
    return "unknown";
}

namespace promos {

std::optional<std::string> normalise(std::string_view typed) {
    while (!typed.empty() && std::isspace(static_cast<unsigned char>(typed.front()))) typed.remove_prefix(1);
    while (!typed.empty() && std::isspace(static_cast<unsigned char>(typed.back()))) typed.remove_suffix(1);
    if (typed.empty() || typed.size() > 32) return std::nullopt;
    std::string code;
    for (const char c : typed) {
        const auto u = static_cast<unsigned char>(c);
        if (!(std::isalnum(u) || c == '-' || c == '_') || u >= 0x80) return std::nullopt;
        code += static_cast<char>(std::toupper(u));
    }
    return code;
}

Piasters discount_on(const PromoCode& code, Piasters price) {
    std::int64_t off = 0;
    if (code.percent_off) off = price.value * *code.percent_off / 100;
    if (code.amount_off) off = code.amount_off->value;
    return Piasters{std::clamp<std::int64_t>(off, 0, price.value)};
}

Outcome<PromoCode> create(db::Connection& connection, const Actor& actor, const PromoInput& input,
                          Timestamp now) {
    const auto code = normalise(input.code);
    if (!code) return fail(ErrorCode::validation, "a code is 1 to 32 letters, digits, - or _");
    if (input.percent_off.has_value() == input.amount_off.has_value())
        return fail(ErrorCode::validation, "give either a percent or an amount off, not both");
    if (input.percent_off && (*input.percent_off < 1 || *input.percent_off > 100))
        return fail(ErrorCode::validation, "percent must be 1 to 100");
    if (input.amount_off && input.amount_off->value <= 0)
        return fail(ErrorCode::validation, "the amount off must be more than 0");
    if (input.max_uses && *input.max_uses < 1)
        return fail(ErrorCode::validation, "max_uses must be at least 1");
    if (input.per_customer && *input.per_customer < 1)
        return fail(ErrorCode::validation, "per_customer must be at least 1");
    if (input.expires_at && *input.expires_at <= now)
        return fail(ErrorCode::validation, "the expiry must be in the future");
    try {
        return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<PromoCode> {
            if (c.scalar<std::int64_t>("SELECT id FROM promo_codes WHERE code = ?", *code))
                return fail(ErrorCode::validation, "the code " + *code + " exists already");
            for (const auto plan : input.plans) {
                if (!c.scalar<std::int64_t>("SELECT id FROM plans WHERE id = ?", plan))
                    return fail(ErrorCode::not_found, "no plan #" + std::to_string(plan.value));
            }
            const auto id = *c.scalar<std::int64_t>(
                "INSERT INTO promo_codes (code, percent_off, amount_off_piasters, max_uses, per_customer, "
                "expires_at, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                *code, input.percent_off, input.amount_off, input.max_uses, input.per_customer,
                input.expires_at, actor.text(), now, now);
            auto plans = input.plans;
            std::sort(plans.begin(), plans.end());
            plans.erase(std::unique(plans.begin(), plans.end()), plans.end());
            for (const auto plan : plans)
                c.exec("INSERT INTO promo_code_plans (promo_code_id, plan_id) VALUES (?, ?)", id, plan);
            auto created = *by_id(c, id);
            record_audit(c,
                         {actor.text(), "promo.created", "promo_code", std::to_string(id), std::nullopt,
                          to_json(created)},
                         now);
            return created;
        });
    } catch (const db::DbError& error) {
        // The same code created by two admins at once.
        if (error.code() != db::DbErrorCode::unique_violation) throw;
        return fail(ErrorCode::validation, "the code " + *code + " exists already");
    }
}

std::vector<PromoCode> list(db::Connection& connection) {
    auto rows = connection.query(std::string(kSelect) + "ORDER BY id DESC LIMIT 200");
    return read_codes(connection, *rows);
}

bool any_enabled(db::Connection& connection, Timestamp now) {
    return connection
        .scalar<std::int64_t>(
            "SELECT id FROM promo_codes WHERE enabled = 1 AND (expires_at IS NULL OR expires_at > ?) LIMIT 1",
            now)
        .has_value();
}

std::optional<PromoCode> get(db::Connection& connection, std::int64_t id) { return by_id(connection, id); }

std::optional<PromoCode> find(db::Connection& connection, std::string_view typed) {
    const auto code = normalise(typed);
    if (!code) return std::nullopt;
    auto rows = connection.query(std::string(kSelect) + "WHERE code = ?", *code);
    auto codes = read_codes(connection, *rows);
    if (codes.empty()) return std::nullopt;
    return std::move(codes.front());
}

Outcome<PromoCode> disable(db::Connection& connection, const Actor& actor, std::string_view typed,
                           Timestamp now) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<PromoCode> {
        auto before = find(c, typed);
        if (!before) return fail(ErrorCode::not_found, "no promo code " + std::string(typed));
        if (!before->enabled)
            return fail(ErrorCode::validation, "the code " + before->code + " is disabled already");
        c.exec("UPDATE promo_codes SET enabled = 0, updated_at = ? WHERE id = ?", now, before->id);
        auto after = *by_id(c, before->id);
        record_audit(c,
                     {actor.text(), "promo.disabled", "promo_code", std::to_string(before->id),
                      to_json(*before), to_json(after)},
                     now);
        return after;
    });
}

common::Result<Order, PromoRefusal> apply(db::Connection& connection, OrderService& orders, OrderId id,
                                          UserId user, std::string_view typed, Timestamp now) {
    return db::in_transaction(connection, [&](db::Connection& c) -> common::Result<Order, PromoRefusal> {
        auto before = orders.get(c, id);
        if (!before || before->user_id != user) return common::unexpected(PromoRefusal::not_your_order);
        if (before->status != OrderStatus::awaiting_payment || before->trial)
            return common::unexpected(PromoRefusal::too_late);
        auto code = find(c, typed);
        if (!code || !code->enabled) return common::unexpected(PromoRefusal::unknown_code);
        if (code->expires_at && *code->expires_at <= now) return common::unexpected(PromoRefusal::expired);
        if (!code->plans.empty() &&
            std::find(code->plans.begin(), code->plans.end(), before->plan_id) == code->plans.end())
            return common::unexpected(PromoRefusal::not_for_plan);
        if (code->max_uses && code->uses >= *code->max_uses) return common::unexpected(PromoRefusal::used_up);
        if (code->per_customer && customer_uses(c, code->id, user, id) >= *code->per_customer)
            return common::unexpected(PromoRefusal::per_customer);
        const Piasters list_price = before->list_price.value_or(before->amount);
        const Piasters discount = discount_on(*code, list_price);
        c.exec(
            "UPDATE orders SET promo_code_id = ?, list_price_piasters = ?, discount_piasters = ?, "
            "amount_piasters = ?, updated_at = ? WHERE id = ? AND status = 'awaiting_payment'",
            code->id, list_price, discount, list_price - discount, now, id);
        auto after = *orders.get(c, id);
        record_audit(c,
                     {"user:" + std::to_string(user.value), "order.promo_applied", "order",
                      std::to_string(id.value), to_json(*before), to_json(after)},
                     now);
        return after;
    });
}

Done consume(db::Connection& connection, const Order& order, Timestamp now) {
    if (!order.promo_code_id) return {};
    const auto code = by_id(connection, *order.promo_code_id);
    if (!code) return {};
    if (code->per_customer &&
        customer_uses(connection, code->id, order.user_id, order.id) >= *code->per_customer) {
        return fail(ErrorCode::conflict,
                    "the customer used promo code " + code->code +
                        " as often as it allows; decline the order or ask for the full price");
    }
    // Guarded by the count itself: concurrent approvals wait for each other's row lock (PostgreSQL)
    // or the write lock (SQLite), and the one that finds no use left is refused.
    if (connection.exec(
            "UPDATE promo_codes SET uses = uses + 1, updated_at = ? WHERE id = ? AND (max_uses IS NULL "
            "OR uses < max_uses)",
            now, code->id) == 0) {
        return fail(
            ErrorCode::conflict,
            "promo code " + code->code + " has no uses left; decline the order or ask for the full price");
    }
    return {};
}

}  // namespace promos
}  // namespace nebula::bot::domain
