#include "bot/domain/types.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <stdexcept>

namespace nebula::bot::domain {
namespace {

template <typename E, std::size_t N>
E parse_enum(std::string_view text, const E (&values)[N], const char* what) {
    for (E value : values) {
        if (to_string(value) == text) return value;
    }
    throw std::invalid_argument(std::string("unknown ") + what + ": " + std::string(text));
}

}  // namespace

std::string Piasters::to_pounds_string() const {
    const std::int64_t magnitude = value < 0 ? -value : value;
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%s%lld.%02lld", value < 0 ? "-" : "",
                  static_cast<long long>(magnitude / 100), static_cast<long long>(magnitude % 100));
    return buffer;
}

std::string_view to_string(OrderStatus status) {
    switch (status) {
        case OrderStatus::awaiting_payment:
            return "awaiting_payment";
        case OrderStatus::under_review:
            return "under_review";
        case OrderStatus::approved:
            return "approved";
        case OrderStatus::fulfilled:
            return "fulfilled";
        case OrderStatus::declined:
            return "declined";
        case OrderStatus::expired:
            return "expired";
        case OrderStatus::cancelled:
            return "cancelled";
    }
    return "unknown";
}

std::string_view to_string(OrderKind kind) { return kind == OrderKind::renewal ? "renewal" : "new"; }
std::string_view to_string(UserStatus status) { return status == UserStatus::banned ? "banned" : "active"; }

std::string_view to_string(AccountStatus status) {
    switch (status) {
        case AccountStatus::active:
            return "active";
        case AccountStatus::disabled:
            return "disabled";
        case AccountStatus::expired:
            return "expired";
        case AccountStatus::deleted:
            return "deleted";
    }
    return "unknown";
}

std::string_view to_string(ServerHealth health) {
    switch (health) {
        case ServerHealth::unknown:
            return "unknown";
        case ServerHealth::up:
            return "up";
        case ServerHealth::down:
            return "down";
    }
    return "unknown";
}

OrderStatus parse_order_status(std::string_view text) {
    return parse_enum(text, kAllOrderStatuses, "order status");
}
OrderKind parse_order_kind(std::string_view text) {
    constexpr OrderKind kAll[] = {OrderKind::new_access, OrderKind::renewal};
    return parse_enum(text, kAll, "order kind");
}
UserStatus parse_user_status(std::string_view text) {
    constexpr UserStatus kAll[] = {UserStatus::active, UserStatus::banned};
    return parse_enum(text, kAll, "user status");
}
AccountStatus parse_account_status(std::string_view text) {
    constexpr AccountStatus kAll[] = {AccountStatus::active, AccountStatus::disabled, AccountStatus::expired,
                                      AccountStatus::deleted};
    return parse_enum(text, kAll, "account status");
}
ServerHealth parse_server_health(std::string_view text) {
    constexpr ServerHealth kAll[] = {ServerHealth::unknown, ServerHealth::up, ServerHealth::down};
    return parse_enum(text, kAll, "server health");
}

bool is_legal_transition(OrderStatus from, OrderStatus to) {
    using S = OrderStatus;
    switch (from) {
        case S::awaiting_payment:
            return to == S::under_review || to == S::cancelled || to == S::expired;
        case S::under_review:
            return to == S::approved || to == S::declined || to == S::cancelled;
        case S::approved:
            return to == S::fulfilled;
        case S::declined:
            return to == S::under_review || to == S::cancelled || to == S::expired;
        case S::fulfilled:
        case S::expired:
        case S::cancelled:
            return false;
    }
    return false;
}

bool is_open(OrderStatus status) {
    return status == OrderStatus::awaiting_payment || status == OrderStatus::under_review ||
           status == OrderStatus::approved;
}

std::string_view to_string(ErrorCode code) {
    switch (code) {
        case ErrorCode::not_found:
            return "not_found";
        case ErrorCode::validation:
            return "validation";
        case ErrorCode::conflict:
            return "conflict";
        case ErrorCode::invalid_transition:
            return "invalid_transition";
        case ErrorCode::forbidden:
            return "forbidden";
        case ErrorCode::claimed:
            return "claimed";
        case ErrorCode::no_capacity:
            return "no_capacity";
        case ErrorCode::gateway:
            return "gateway";
    }
    return "unknown";
}

std::string order_reference(OrderId id) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "NL-%06lld", static_cast<long long>(id.value));
    return buffer;
}

std::optional<OrderId> parse_order_reference(std::string_view text) {
    if (text.size() < 4 || std::tolower(static_cast<unsigned char>(text[0])) != 'n' ||
        std::tolower(static_cast<unsigned char>(text[1])) != 'l' || text[2] != '-') {
        return std::nullopt;
    }
    const auto digits = text.substr(3);
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size() || value <= 0) return std::nullopt;
    return OrderId{value};
}

std::string client_email_for(OrderId id) { return "nl-" + std::to_string(id.value); }

}  // namespace nebula::bot::domain
