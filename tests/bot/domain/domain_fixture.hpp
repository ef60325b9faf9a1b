#pragma once

#include <memory>

#include "bot/domain/catalog.hpp"
#include "bot/domain/orders.hpp"
#include "bot/domain/users.hpp"
#include "bot/support/discord_ids.hpp"
#include "bot/support/test_database.hpp"
#include "common/clock.hpp"

namespace nebula::bot::testing {

/// A migrated database on one backend with the services wired to a manual clock, plus helpers
/// that build the usual catalogue (a plan, a server, a payment method with an account).
class DomainTest : public MigratedBackendTest {
  protected:
    void SetUp() override {
        MigratedBackendTest::SetUp();
        if (HasFatalFailure()) return;
        domain::OrderOptions options;
        options.data_directory = db().directory() / "data";
        orders_ = std::make_unique<domain::OrderService>(clock_, options);
        plan_ = make_plan("Monthly", 30, 50LL << 30, domain::Piasters::from_pounds(150));
        method_ = enable_method("vodafone_cash", "01012345678");
    }

    domain::PlanId make_plan(const std::string& name, int days, std::int64_t traffic,
                             domain::Piasters price) {
        auto plan = catalog_.create_plan(conn(), discord_id("admin-1"), {name, days, traffic, 2, price, 0});
        EXPECT_TRUE(plan.has_value()) << plan.error().message;
        return plan->id;
    }

    domain::ServerId make_server(const std::string& name, int capacity = 100, int weight = 1) {
        auto server = catalog_.create_server(conn(), discord_id("admin-1"),
                                             {name, "Frankfurt", "https://" + name + ".example:8443",
                                              std::string(40, 'k'), "", 1, capacity, weight});
        EXPECT_TRUE(server.has_value()) << server.error().message;
        return server->id;
    }

    domain::PaymentMethodId enable_method(const std::string& code, const std::string& account) {
        auto id =
            *conn().scalar<domain::PaymentMethodId>("SELECT id FROM payment_methods WHERE code = ?", code);
        auto updated = catalog_.update_payment_method(conn(), discord_id("admin-1"), id,
                                                      {account, std::nullopt, std::nullopt});
        EXPECT_TRUE(updated.has_value());
        return id;
    }

    domain::UserId make_user(const std::string& discord_id) {
        return users_.ensure(conn(), testing::discord_id(discord_id), "user" + discord_id).id;
    }

    /// A new order of `user` taken to under_review (payment method chosen, receipt uploaded).
    domain::Order order_under_review(domain::UserId user, const std::string& receipt = "receipt-bytes") {
        auto placed = orders_->place(conn(), user, plan_);
        EXPECT_TRUE(placed.has_value()) << placed.error().message;
        EXPECT_TRUE(orders_->choose_payment_method(conn(), placed->order.id, user, method_).has_value());
        auto submitted = orders_->submit_receipt(conn(), placed->order.id, user,
                                                 {receipt, "image/png", discord_id("att-1")});
        EXPECT_TRUE(submitted.has_value()) << submitted.error().message;
        return submitted->order;
    }

    common::ManualClock clock_;
    domain::UserService users_{clock_};
    domain::CatalogService catalog_{clock_};
    std::unique_ptr<domain::OrderService> orders_;
    domain::PlanId plan_;
    domain::PaymentMethodId method_;
};

}  // namespace nebula::bot::testing
