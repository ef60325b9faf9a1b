#include <cctype>
#include <charconv>
#include <cmath>

#include "bot/handlers/admin_internal.hpp"

namespace nebula::bot::handlers {

std::optional<double> AdminCommands::Invocation::number(std::string_view name) const {
    const auto* option = data.option(name);
    if (option == nullptr) return std::nullopt;
    if (const auto* d = std::get_if<double>(&option->value)) return *d;
    if (const auto* i = std::get_if<std::int64_t>(&option->value)) return static_cast<double>(*i);
    return std::nullopt;
}

namespace admin {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool all_digits(std::string_view text) {
    return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

discord::MessagePayload text_reply(std::string content) {
    discord::MessagePayload payload;
    payload.content = std::move(content);
    payload.flags = discord::kEphemeralFlag;
    return payload;
}

discord::MessagePayload embed_reply(discord::Embed embed) {
    discord::MessagePayload payload;
    payload.embeds.push_back(std::move(embed));
    payload.flags = discord::kEphemeralFlag;
    return payload;
}

discord::MessagePayload failure(const AdminCommands::Invocation& call, std::string_view message) {
    return text_reply(call.t(ui::Msg::admin_failed, {{"error", message}}));
}

common::Result<domain::Piasters, std::string> price_from_egp(double egp) {
    if (!std::isfinite(egp)) return common::unexpected(std::string("price must be a number"));
    if (egp < 0) return common::unexpected(std::string("price cannot be negative"));
    if (egp > 1'000'000) return common::unexpected(std::string("price must be at most 1,000,000 EGP"));
    const double piasters = egp * 100.0;
    const double rounded = std::round(piasters);
    if (std::fabs(piasters - rounded) > 1e-6) {
        return common::unexpected(std::string("price can have at most two decimals (piasters)"));
    }
    return domain::Piasters{static_cast<std::int64_t>(rounded)};
}

common::Result<std::int64_t, std::string> traffic_from_gb(double gb) {
    if (!std::isfinite(gb)) return common::unexpected(std::string("traffic must be a number"));
    if (gb < 0) return common::unexpected(std::string("traffic cannot be negative (0 means unlimited)"));
    if (gb > 1024.0 * 1024.0) return common::unexpected(std::string("traffic must be at most 1,048,576 GB"));
    return static_cast<std::int64_t>(std::llround(gb * static_cast<double>(std::int64_t{1} << 30)));
}

std::optional<std::int64_t> parse_record_id(std::string_view text) {
    if (text.starts_with('#')) text.remove_prefix(1);
    if (!all_digits(text) || text.size() > 18) return std::nullopt;
    std::int64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    if (value <= 0) return std::nullopt;
    return value;
}

common::Result<std::string, std::string> normalise_payment_account(std::string_view method_code,
                                                                   std::string_view text) {
    std::string compact;
    for (char c : text) {
        if (c != ' ' && c != '-' && c != '\t') compact += c;
    }
    const bool phone = compact.size() == 11 && compact.starts_with("01") && all_digits(compact);
    if (method_code == "instapay") {
        const auto at = compact.find('@');
        const bool handle = at != std::string::npos && at > 0 && at + 1 < compact.size() &&
                            compact.find('@', at + 1) == std::string::npos;
        if (phone || handle) return compact;
        return common::unexpected(
            std::string("an InstaPay account is a handle like name@instapay or an 11-digit phone "
                        "number starting with 01"));
    }
    if (phone) return compact;
    return common::unexpected(std::string("a wallet number is 11 digits starting with 01, e.g. 01012345678"));
}

bool same_name(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

bool contains_text(std::string_view haystack, std::string_view needle) {
    if (needle.empty()) return true;
    if (needle.size() > haystack.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
        if (same_name(haystack.substr(i, needle.size()), needle)) return true;
    }
    return false;
}

std::optional<domain::Plan> find_plan(db::Connection& connection, domain::CatalogService& catalog,
                                      std::string_view text) {
    if (const auto id = parse_record_id(text)) {
        if (auto plan = catalog.plan(connection, domain::PlanId{*id})) return plan;
    }
    for (auto& plan : catalog.plans(connection, false)) {
        if (same_name(plan.spec.name, text)) return std::move(plan);
    }
    return std::nullopt;
}

std::optional<domain::Server> find_server(db::Connection& connection, domain::CatalogService& catalog,
                                          std::string_view text) {
    if (const auto id = parse_record_id(text)) {
        if (auto server = catalog.server(connection, domain::ServerId{*id})) return server;
    }
    for (auto& server : catalog.servers(connection)) {
        if (same_name(server.spec.name, text)) return std::move(server);
    }
    return std::nullopt;
}

std::optional<domain::Account> find_account(db::Connection& connection, std::string_view text) {
    if (const auto id = parse_record_id(text))
        return domain::accounts::get(connection, domain::AccountId{*id});
    std::string email(text);
    for (auto& c : email) c = lower(c);
    return domain::accounts::by_email(connection, email);
}

std::optional<domain::Order> find_order(db::Connection& connection, domain::OrderService& orders,
                                        std::string_view text) {
    if (const auto id = parse_record_id(text)) return orders.get(connection, domain::OrderId{*id});
    if (const auto id = domain::parse_order_reference(text)) return orders.get(connection, *id);
    return std::nullopt;
}

std::string account_label(const domain::Account& account) {
    return "#" + std::to_string(account.id.value) + " (" + account.client_email + ")";
}

std::string actor_label(std::string_view actor) {
    if (all_digits(actor)) return "<@" + std::string(actor) + ">";
    return std::string(actor);
}

}  // namespace admin
}  // namespace nebula::bot::handlers
