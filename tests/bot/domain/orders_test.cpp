#include "bot/domain/orders.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "bot/domain/audit.hpp"
#include "bot/support/discord_ids.hpp"
#include "common/crypto.hpp"
#include "domain_fixture.hpp"

using nebula::bot::testing::discord_id;

namespace nebula::bot::domain {
namespace {

class OrdersTest : public testing::DomainTest {};

TEST_P(OrdersTest, PlaceCreatesAwaitingPaymentOrderWithReferenceAndPrice) {
    const auto user = make_user("100");
    auto placed = orders_->place(conn(), user, plan_);
    ASSERT_TRUE(placed.has_value()) << placed.error().message;
    EXPECT_FALSE(placed->existing);
    EXPECT_EQ(placed->order.status, OrderStatus::awaiting_payment);
    EXPECT_EQ(placed->order.reference, order_reference(placed->order.id));
    EXPECT_EQ(placed->order.amount, Piasters::from_pounds(150));
    EXPECT_EQ(orders_->by_reference(conn(), placed->order.reference)->id, placed->order.id);
    auto trail = audit_for(conn(), "order", std::to_string(placed->order.id.value));
    ASSERT_EQ(trail.size(), 1u);
    EXPECT_EQ(trail[0].entry.action, "order.created");
}

TEST_P(OrdersTest, SecondBuyReturnsTheOpenOrder) {
    const auto user = make_user("101");
    auto first = orders_->place(conn(), user, plan_);
    auto second = orders_->place(conn(), user, plan_);
    ASSERT_TRUE(second.has_value());
    EXPECT_TRUE(second->existing);
    EXPECT_EQ(second->order.id, first->order.id);
    ASSERT_TRUE(orders_->cancel(conn(), first->order.id, user).has_value());
    auto third = orders_->place(conn(), user, plan_);
    EXPECT_FALSE(third->existing);
    EXPECT_NE(third->order.id, first->order.id);
}

TEST_P(OrdersTest, BannedUsersAndInactivePlansCannotOrder) {
    const auto user = make_user("102");
    ASSERT_TRUE(users_.ban(conn(), discord_id("admin-1"), user, "fraud").has_value());
    EXPECT_EQ(orders_->place(conn(), user, plan_).error().code, ErrorCode::forbidden);
    ASSERT_TRUE(users_.unban(conn(), discord_id("admin-1"), user).has_value());
    ASSERT_TRUE(catalog_.set_plan_active(conn(), discord_id("admin-1"), plan_, false).has_value());
    EXPECT_EQ(orders_->place(conn(), user, plan_).error().code, ErrorCode::not_found);
}

TEST_P(OrdersTest, ReceiptIsStoredHashedAndReuseIsFlagged) {
    const auto alice = make_user("103");
    const auto bob = make_user("104");
    const std::string image = std::string("\x89PNG\r\n\x1a\n", 8) + "same screenshot";
    auto first = orders_->place(conn(), alice, plan_);
    EXPECT_EQ(orders_->submit_receipt(conn(), first->order.id, alice, {image, "image/png", discord_id("a1")})
                  .error()
                  .code,
              ErrorCode::validation);  // no payment method chosen yet
    ASSERT_TRUE(orders_->choose_payment_method(conn(), first->order.id, alice, method_).has_value());
    auto submitted =
        orders_->submit_receipt(conn(), first->order.id, alice, {image, "image/png", discord_id("a1")});
    ASSERT_TRUE(submitted.has_value()) << submitted.error().message;
    EXPECT_EQ(submitted->order.status, OrderStatus::under_review);
    EXPECT_EQ(submitted->receipt.sha256, common::sha256_hex(image));
    EXPECT_EQ(submitted->receipt.reused_from_order_id, std::nullopt);
    std::ifstream file(submitted->receipt.file_path, std::ios::binary);
    std::stringstream content;
    content << file.rdbuf();
    EXPECT_EQ(content.str(), image);
    EXPECT_TRUE(
        submitted->receipt.file_path.string().starts_with((db().directory() / "data" / "receipts").string()));

    auto second = orders_->place(conn(), bob, plan_);
    ASSERT_TRUE(orders_->choose_payment_method(conn(), second->order.id, bob, method_).has_value());
    auto reused =
        orders_->submit_receipt(conn(), second->order.id, bob, {image, "image/png", discord_id("b1")});
    ASSERT_TRUE(reused.has_value());
    EXPECT_EQ(reused->receipt.reused_from_order_id, first->order.id);
}

TEST_P(OrdersTest, ReceiptValidation) {
    const auto user = make_user("105");
    auto placed = orders_->place(conn(), user, plan_);
    ASSERT_TRUE(orders_->choose_payment_method(conn(), placed->order.id, user, method_).has_value());
    EXPECT_EQ(orders_->submit_receipt(conn(), placed->order.id, user, {"x", "text/html", {}}).error().code,
              ErrorCode::validation);
    EXPECT_EQ(orders_->submit_receipt(conn(), placed->order.id, user, {"", "image/png", {}}).error().code,
              ErrorCode::validation);
    EXPECT_EQ(
        orders_
            ->submit_receipt(conn(), placed->order.id, user,
                             {std::string(orders_->options().receipts.max_bytes + 1, 'x'), "image/png", {}})
            .error()
            .code,
        ErrorCode::validation);
    EXPECT_EQ(orders_->submit_receipt(conn(), placed->order.id, make_user("106"), {"x", "image/png", {}})
                  .error()
                  .code,
              ErrorCode::forbidden);
}

TEST_P(OrdersTest, PdfReceiptsAreAcceptedWhenTheyAreOne) {
    const auto user = make_user("107");
    auto placed = orders_->place(conn(), user, plan_);
    ASSERT_TRUE(orders_->choose_payment_method(conn(), placed->order.id, user, method_).has_value());
    EXPECT_EQ(orders_->submit_receipt(conn(), placed->order.id, user, {"<html>", "application/pdf", {}})
                  .error()
                  .code,
              ErrorCode::validation);
    auto submitted = orders_->submit_receipt(conn(), placed->order.id, user,
                                             {"%PDF-1.7\n%%EOF\n", "application/pdf", discord_id("p1")});
    ASSERT_TRUE(submitted.has_value()) << submitted.error().message;
    EXPECT_EQ(submitted->receipt.file_path.extension(), ".pdf");
    EXPECT_EQ(submitted->receipt.content_type, "application/pdf");
}

TEST(ReceiptBytes, MatchTheirType) {
    using nebula::bot::domain::receipt_bytes_match;
    EXPECT_TRUE(receipt_bytes_match(std::string("\x89PNG\r\n\x1a\n", 8) + "rest", "image/png"));
    EXPECT_TRUE(receipt_bytes_match("\xFF\xD8\xFF\xE0rest", "image/jpeg"));
    EXPECT_TRUE(receipt_bytes_match(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16), "image/webp"));
    EXPECT_TRUE(receipt_bytes_match("%PDF-1.4\n", "application/pdf"));
    EXPECT_FALSE(receipt_bytes_match("%PDF-1.4\n", "image/png"));
    EXPECT_FALSE(receipt_bytes_match("PDF-1.4", "application/pdf"));
    EXPECT_FALSE(receipt_bytes_match("RIFF1234WAVE", "image/webp"));
    EXPECT_FALSE(receipt_bytes_match("", "image/jpeg"));
    EXPECT_FALSE(receipt_bytes_match("%PDF-1.4", "text/plain"));
}

// The one receipt policy the handlers and submit_receipt() read: four types (parameters aside),
// each with its file extension, and nothing else; 8 MiB unless MAX_RECEIPT_BYTES says less.
TEST(ReceiptPolicy, NamesTheAcceptedTypesOnce) {
    namespace d = nebula::bot::domain;
    EXPECT_EQ(d::receipt_types(),
              (std::vector<std::string>{"image/png", "image/jpeg", "image/webp", "application/pdf"}));
    EXPECT_EQ(d::receipt_extension("image/jpeg"), "jpg");
    EXPECT_EQ(d::receipt_extension("application/pdf"), "pdf");
    EXPECT_TRUE(d::is_receipt_type("image/png; name=receipt.png"));
    EXPECT_FALSE(d::is_receipt_type("image/gif"));
    EXPECT_FALSE(d::is_receipt_type("text/plain"));
    EXPECT_EQ(d::receipt_extension("image/gif"), "");
    EXPECT_EQ(d::ReceiptPolicy{}.max_bytes, 8u * 1024 * 1024);
}

TEST_P(OrdersTest, UnpaidOrdersExpireAfter24Hours) {
    const auto user = make_user("107");
    auto placed = orders_->place(conn(), user, plan_);
    clock_.advance(std::chrono::hours(23));
    EXPECT_TRUE(orders_->expire_unpaid(conn()).empty());
    clock_.advance(std::chrono::hours(1));
    auto expired = orders_->expire_unpaid(conn());
    ASSERT_EQ(expired.size(), 1u);
    EXPECT_EQ(expired[0].status, OrderStatus::expired);
    EXPECT_TRUE(expired[0].expired_at.has_value());
    EXPECT_TRUE(orders_->expire_unpaid(conn()).empty());
}

TEST_P(OrdersTest, ClaimLocksReviewForOtherAdminsUntilItLapses) {
    auto order = order_under_review(make_user("108"));
    ASSERT_TRUE(orders_->claim(conn(), order.id, discord_id("admin-a")).has_value());
    auto other = orders_->claim(conn(), order.id, discord_id("admin-b"));
    ASSERT_FALSE(other.has_value());
    EXPECT_EQ(other.error().code, ErrorCode::claimed);
    EXPECT_EQ(orders_->decline(conn(), order.id, discord_id("admin-b"), "blurry", true).error().code,
              ErrorCode::claimed);
    EXPECT_TRUE(orders_->claim(conn(), order.id, discord_id("admin-a")).has_value());  // refresh
    clock_.advance(std::chrono::minutes(16));
    EXPECT_TRUE(orders_->claim(conn(), order.id, discord_id("admin-b")).has_value());
    ASSERT_TRUE(orders_->release_claim(conn(), order.id, discord_id("admin-b")).has_value());
    EXPECT_FALSE(orders_->get(conn(), order.id)->claimed_by.has_value());
}

TEST_P(OrdersTest, DeclineWithReuploadLetsTheCustomerSendAnotherReceipt) {
    const auto user = make_user("109");
    auto order = order_under_review(user);
    auto declined = orders_->decline(conn(), order.id, discord_id("admin-a"), "amount does not match", true);
    ASSERT_TRUE(declined.has_value());
    EXPECT_EQ(declined->status, OrderStatus::declined);
    EXPECT_EQ(declined->decline_reason, "amount does not match");
    auto again = orders_->submit_receipt(conn(), order.id, user, {"second receipt", "image/jpeg", {}});
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_EQ(again->order.status, OrderStatus::under_review);
    EXPECT_EQ(orders_->receipts(conn(), order.id).size(), 2u);

    auto final_decline = orders_->decline(conn(), order.id, discord_id("admin-a"), "fake", false);
    ASSERT_TRUE(final_decline.has_value());
    EXPECT_EQ(orders_->submit_receipt(conn(), order.id, user, {"third", "image/png", {}}).error().code,
              ErrorCode::invalid_transition);
    EXPECT_EQ(orders_->decline(conn(), order.id, discord_id("admin-a"), "", false).error().code,
              ErrorCode::validation);
}

// Every operation from every status: only the lifecycle's edges succeed; the rest are refused
// and leave the order untouched.
TEST_P(OrdersTest, EveryIllegalTransitionIsRefused) {
    enum class Op { submit, cancel, expire, decline, approve, fulfil };
    const Op ops[] = {Op::submit, Op::cancel, Op::expire, Op::decline, Op::approve, Op::fulfil};
    auto target_of = [](Op op) {
        switch (op) {
            case Op::submit:
                return OrderStatus::under_review;
            case Op::cancel:
                return OrderStatus::cancelled;
            case Op::expire:
                return OrderStatus::expired;
            case Op::decline:
                return OrderStatus::declined;
            case Op::approve:
                return OrderStatus::approved;
            case Op::fulfil:
                return OrderStatus::fulfilled;
        }
        return OrderStatus::awaiting_payment;
    };
    const auto server = make_server("sm");
    int n = 0;
    for (const auto from : kAllOrderStatuses) {
        for (const auto op : ops) {
            for (const bool reupload : {false, true}) {
                if (reupload && from != OrderStatus::declined) continue;
                const auto user = make_user("sm-" + std::to_string(++n));
                auto placed = orders_->place(conn(), user, plan_);
                const auto id = placed->order.id;
                const auto long_ago = to_timestamp(clock_.now()) - std::chrono::hours(48);
                conn().exec(
                    "UPDATE orders SET status = ?, payment_method_id = ?, allow_reupload = ?, created_at = "
                    "?, "
                    "declined_at = ? WHERE id = ?",
                    from, method_, reupload, long_ago, long_ago, id);
                bool ok = false;
                switch (op) {
                    case Op::submit:
                        ok =
                            orders_
                                ->submit_receipt(conn(), id, user, {"r" + std::to_string(n), "image/png", {}})
                                .has_value();
                        break;
                    case Op::cancel:
                        ok = orders_->cancel(conn(), id, user).has_value();
                        break;
                    case Op::expire:
                        ok = !orders_->expire_unpaid(conn()).empty();
                        break;
                    case Op::decline:
                        ok = orders_->decline(conn(), id, discord_id("admin"), "no", false).has_value();
                        break;
                    case Op::approve:
                        ok = orders_
                                 ->approve(conn(), id, discord_id("admin"),
                                           {server, client_email_for(id), common::uuid_v4(), "sub",
                                            to_timestamp(clock_.now()), 0})
                                 .has_value();
                        break;
                    case Op::fulfil: {
                        const auto account = *conn().scalar<AccountId>(
                            "INSERT INTO vpn_accounts (user_id, server_id, order_id, client_email, "
                            "client_uuid, sub_id, "
                            "inbound_id, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 's', 1, "
                            "0, 0, 0) "
                            "RETURNING id",
                            user, server, id, client_email_for(id), common::uuid_v4());
                        ok = orders_->mark_fulfilled(conn(), id, account).has_value();
                        break;
                    }
                }
                const auto to = target_of(op);
                // A declined order takes a new receipt only when the reviewer allowed it.
                const bool expected =
                    is_legal_transition(from, to) &&
                    (from != OrderStatus::declined || to != OrderStatus::under_review || reupload);
                EXPECT_EQ(ok, expected)
                    << to_string(from) << " via op " << static_cast<int>(op) << " reupload=" << reupload;
                const auto now_status = orders_->get(conn(), id)->status;
                EXPECT_EQ(now_status, ok ? to : from) << to_string(from) << " op " << static_cast<int>(op);
                // Close it so it is not picked up by the next iteration's expiry sweep.
                conn().exec("UPDATE orders SET status = 'cancelled' WHERE id = ?", id);
            }
        }
    }
}

TEST_P(OrdersTest, ConcurrentBuyClicksGiveOneOrder) {
    const auto user = make_user("110");
    std::vector<std::thread> threads;
    std::vector<OrderId> ids(8);
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] {
            auto connection = db().connect();
            domain::OrderService orders(clock_, orders_->options());
            auto placed = orders.place(*connection, user, plan_);
            ASSERT_TRUE(placed.has_value()) << placed.error().message;
            ids[i] = placed->order.id;
        });
    }
    for (auto& thread : threads) thread.join();
    for (const auto id : ids) EXPECT_EQ(id, ids[0]);
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT COUNT(*) FROM orders WHERE user_id = ?", user), 1);
}

TEST_P(OrdersTest, HundredCustomersOrderingAtOnceGetHundredCorrectOrders) {
    std::vector<UserId> customers;
    for (int i = 0; i < 100; ++i) customers.push_back(make_user("crowd-" + std::to_string(i)));
    constexpr int kThreads = 10;
    std::vector<std::thread> threads;
    std::atomic<int> failures = 0;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            auto connection = db().connect();
            domain::OrderService orders(clock_, orders_->options());
            for (int i = t; i < 100; i += kThreads) {
                auto placed = orders.place(*connection, customers[i], plan_);
                if (!placed || placed->existing || placed->order.user_id != customers[i]) ++failures;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT COUNT(*) FROM orders"), 100);
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT COUNT(DISTINCT user_id) FROM orders"), 100);
    EXPECT_EQ(conn().scalar<std::int64_t>("SELECT COUNT(DISTINCT reference) FROM orders"), 100);
    EXPECT_EQ(
        conn().scalar<std::int64_t>("SELECT COUNT(*) FROM orders WHERE amount_piasters = 15000 AND status = "
                                    "'awaiting_payment'"),
        100);
}

NEBULA_INSTANTIATE_FOR_BACKENDS(OrdersTest);

}  // namespace
}  // namespace nebula::bot::domain
