#include "bot/domain/types.hpp"

#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "bot/domain/accounts.hpp"

namespace nebula::bot::domain {
namespace {

using S = OrderStatus;

TEST(OrderLifecycle, ExactlyTheDesignedTransitionsAreLegal) {
    const std::set<std::pair<S, S>> legal = {
        {S::awaiting_payment, S::under_review},
        {S::awaiting_payment, S::cancelled},
        {S::awaiting_payment, S::expired},
        {S::under_review, S::approved},
        {S::under_review, S::declined},
        {S::under_review, S::cancelled},
        {S::approved, S::fulfilled},
        {S::declined, S::under_review},
        {S::declined, S::cancelled},
        {S::declined, S::expired},
    };
    for (auto from : kAllOrderStatuses) {
        for (auto to : kAllOrderStatuses) {
            EXPECT_EQ(is_legal_transition(from, to), legal.contains({from, to}))
                << to_string(from) << " -> " << to_string(to);
        }
    }
}

TEST(OrderLifecycle, StatusNamesRoundTrip) {
    for (auto status : kAllOrderStatuses) EXPECT_EQ(parse_order_status(to_string(status)), status);
    EXPECT_THROW(parse_order_status("paid"), std::invalid_argument);
    EXPECT_TRUE(is_open(S::approved));
    EXPECT_FALSE(is_open(S::declined));
}

TEST(References, SixDigitsAndParsable) {
    EXPECT_EQ(order_reference(OrderId{123}), "NL-000123");
    EXPECT_EQ(order_reference(OrderId{12345678}), "NL-12345678");
    EXPECT_EQ(parse_order_reference("NL-000123"), OrderId{123});
    EXPECT_EQ(parse_order_reference("nl-42"), OrderId{42});
    EXPECT_EQ(parse_order_reference("NL-"), std::nullopt);
    EXPECT_EQ(parse_order_reference("NL-12x"), std::nullopt);
    EXPECT_EQ(parse_order_reference("XX-000123"), std::nullopt);
    EXPECT_EQ(client_email_for(OrderId{77}), "nl-77");
}

TEST(Money, PiastersFormatAsPounds) {
    EXPECT_EQ(Piasters::from_pounds(150).to_pounds_string(), "150.00");
    EXPECT_EQ(Piasters{12345}.to_pounds_string(), "123.45");
    EXPECT_EQ(Piasters{-5}.to_pounds_string(), "-0.05");
    EXPECT_EQ((Piasters{100} + Piasters{250}).value, 350);
}

TEST(Renewal, ExtendsFromTheLaterOfNowAndExpiry) {
    const Timestamp now{std::chrono::seconds{1'000'000}};
    const auto future = now + std::chrono::days(10);
    const auto past = now - std::chrono::days(10);
    EXPECT_EQ(accounts::renewed_expiry(now, future, 30), future + std::chrono::days(30));
    EXPECT_EQ(accounts::renewed_expiry(now, past, 30), now + std::chrono::days(30));
}

}  // namespace
}  // namespace nebula::bot::domain
