// Every order ends: each state before the end has a way out that needs no admin, and a bot
// stopped between a Discord step and its database step (order channel, summary, review card)
// leaves nothing the reconciler does not finish. The crash is reproduced by doing exactly the
// steps the bot had done when it stopped, then running the reconciler of a fresh Jobs.
#include "bot/handlers/customer.hpp"
#include "bot/jobs/jobs_fixture.hpp"
#include "bot/support/discord_ids.hpp"
#include "discord/test_support.hpp"

namespace nebula::bot::testing {
namespace {

namespace asio = boost::asio;
using domain::OrderStatus;
using namespace std::chrono_literals;

constexpr std::uint64_t kAlice = 500000000000000021ULL;

class OrderRecoveryTest : public JobsTest {
  protected:
    domain::Order order(domain::OrderId id) {
        return with_db([&](db::Connection& c) { return *orders_->get(c, id); });
    }

    /// What the Buy click had done when the bot stopped right after inserting the order.
    domain::Order placed(domain::UserId user, domain::PlanId plan) {
        return with_db([&](db::Connection& c) {
            const auto method = *c.scalar<domain::PaymentMethodId>(
                "SELECT id FROM payment_methods WHERE code = 'vodafone_cash'");
            EXPECT_TRUE(catalog_.update_payment_method(c, discord_id("setup"), method,
                                                       {"01012345678", std::nullopt, std::nullopt}));
            auto made = orders_->place(c, user, plan);
            EXPECT_TRUE(made.has_value());
            return made->order;
        });
    }

    /// The channel the bot creates for an order (same name and topic), made through Discord.
    discord::Snowflake order_channel_made(const domain::Order& o) {
        discord::Snowflake channel;
        run([&]() -> asio::awaitable<void> {
            discord::ChannelCreate create;
            char name[32];
            std::snprintf(name, sizeof name, "order-%06lld", static_cast<long long>(o.id.value));
            create.name = name;
            create.topic = o.reference;
            auto made = co_await rest_->create_guild_channel(shop_.guild_id, create, "order " + o.reference);
            EXPECT_TRUE(made.has_value());
            if (made) channel = made->id;
        });
        return channel;
    }

    void reconcile(std::unique_ptr<jobs::Jobs>& jobs) {
        run([&]() -> asio::awaitable<void> {
            auto result = co_await jobs->reconcile();
            EXPECT_TRUE(result) << result.error();
        });
    }

    std::size_t channels_created() const {
        return fake_->requests_matching("POST /guilds/[0-9]+/channels").size();
    }

    /// The summary's buttons: the payment method select and the Cancel button.
    static bool is_summary_of(const fakes::discord::RecordedRequest& r, const domain::Order& o) {
        const std::string body = r.json.dump();
        return body.find(o.reference) != std::string::npos &&
               body.find("order_cancel:" + std::to_string(o.id.value)) != std::string::npos &&
               body.find("pay_method:" + std::to_string(o.id.value)) != std::string::npos;
    }
};

// Killed after inserting the order, before Discord was asked for its channel.
TEST_P(OrderRecoveryTest, StoppedAfterTheOrderRowTheReconcilerMakesItsChannel) {
    const auto o = placed(make_user(kAlice), make_plan());
    clock_.advance(1min);
    auto restarted = make_jobs();
    reconcile(restarted);
    EXPECT_EQ(channels_created(), 0u) << "an attempt a minute old may still be running";

    clock_.advance(2min);
    reconcile(restarted);
    const auto after = order(o.id);
    ASSERT_TRUE(after.channel_id);
    EXPECT_TRUE(after.channel_ready_at);
    EXPECT_EQ(channels_created(), 1u);
    const auto channel = fake_->channel(after.channel_id->value());
    ASSERT_NE(channel, nullptr);
    EXPECT_EQ(channel->value("topic", ""), o.reference);
    const auto posts = posts_to(after.channel_id->value());
    ASSERT_EQ(posts.size(), 1u);
    EXPECT_TRUE(is_summary_of(posts[0], o)) << posts[0].json.dump();

    reconcile(restarted);
    EXPECT_EQ(channels_created(), 1u);
    EXPECT_EQ(posts_to(after.channel_id->value()).size(), 1u);
}

// Killed after Discord created the channel, before it was stored on the order.
TEST_P(OrderRecoveryTest, StoppedAfterCreatingTheChannelTheReconcilerFindsItByItsTopic) {
    const auto o = placed(make_user(kAlice), make_plan());
    const auto channel = order_channel_made(o);
    clock_.advance(3min);
    auto restarted = make_jobs();
    reconcile(restarted);
    const auto after = order(o.id);
    EXPECT_EQ(after.channel_id, channel) << "the channel made before the crash, not a second one";
    EXPECT_EQ(channels_created(), 1u);
    ASSERT_EQ(posts_to(channel.value()).size(), 1u);
    EXPECT_TRUE(is_summary_of(posts_to(channel.value())[0], o));
    EXPECT_TRUE(after.channel_ready_at);
}

// Killed after storing the channel, before the summary (with its Cancel button) was posted; and
// killed after posting it, before recording that: posted once (Discord's nonce).
TEST_P(OrderRecoveryTest, StoppedBeforeOrAfterPostingTheSummaryItIsPostedOnce) {
    const auto o = placed(make_user(kAlice), make_plan());
    const auto channel = order_channel_made(o);
    with_db([&](db::Connection& c) { EXPECT_TRUE(orders_->set_channel(c, o.id, channel)); });
    clock_.advance(3min);
    auto restarted = make_jobs();
    reconcile(restarted);
    EXPECT_EQ(channels_created(), 1u);
    ASSERT_EQ(fake_->message_count(channel.value()), 1u);
    EXPECT_TRUE(order(o.id).channel_ready_at);

    // The same summary again, as a bot killed before marking the channel ready would post it.
    with_db([&](db::Connection& c) {
        c.exec("UPDATE orders SET channel_ready_at = NULL, channel_attempt_at = NULL WHERE id = ?", o.id);
    });
    reconcile(restarted);
    EXPECT_EQ(fake_->message_count(channel.value()), 1u) << "one summary";
    EXPECT_TRUE(order(o.id).channel_ready_at);
}

// The customer gave up on the broken order (Cancel from Buy Access): the channel a stopped bot
// created and never stored is deleted, once.
TEST_P(OrderRecoveryTest, AChannelLeftBehindByAnEndedOrderIsDeleted) {
    const auto user = make_user(kAlice);
    const auto o = placed(user, make_plan());
    const auto channel = order_channel_made(o);
    with_db([&](db::Connection& c) { EXPECT_TRUE(orders_->cancel(c, o.id, user)); });
    auto restarted = make_jobs();
    reconcile(restarted);
    EXPECT_EQ(fake_->requests_matching("DELETE /channels/" + channel.str()).size(), 1u);
    EXPECT_EQ(fake_->channel(channel.value()), nullptr);
    EXPECT_TRUE(order(o.id).channel_ready_at);
    const auto lists = fake_->requests_matching("GET /guilds/[0-9]+/channels").size();
    reconcile(restarted);
    EXPECT_EQ(fake_->requests_matching("GET /guilds/[0-9]+/channels").size(), lists) << "settled";
    EXPECT_EQ(order(o.id).status, OrderStatus::cancelled);
}

// Killed after the receipt was accepted (under review), before the review card was stored.
TEST_P(OrderRecoveryTest, StoppedBeforeTheReviewCardTheReconcilerPostsIt) {
    const auto o = order_under_review(make_user(kAlice), make_plan());
    clock_.advance(3min);
    auto restarted = make_jobs();
    reconcile(restarted);
    const auto cards = posts_to(kReviewChannel);
    ASSERT_EQ(cards.size(), 1u);
    EXPECT_NE(cards[0].json.dump().find("review:" + std::to_string(o.id.value) + ":approve"),
              std::string::npos);
    ASSERT_EQ(cards[0].files.size(), 1u);
    EXPECT_EQ(cards[0].files[0].data, "png-bytes");
    EXPECT_TRUE(order(o.id).review_message_id);
    reconcile(restarted);
    EXPECT_EQ(posts_to(kReviewChannel).size(), 1u);
}

TEST_P(OrderRecoveryTest, ADeclinedOrderExpiresAfterTheTimeoutAndItsChannelCloses) {
    const auto plan = make_plan();
    const auto user = make_user(kAlice);
    const auto o = order_under_review(user, plan);
    const auto channel = order_channel_made(o);
    with_db([&](db::Connection& c) {
        EXPECT_TRUE(orders_->set_channel(c, o.id, channel));
        EXPECT_TRUE(orders_->mark_channel_ready(c, o.id));
    });
    clock_.advance(20h);
    with_db([&](db::Connection& c) {
        EXPECT_TRUE(orders_->decline(c, o.id, discord_id("admin"), "wrong amount", true));
    });
    clock_.advance(23h);  // 43 hours after the order, 23 after the decline: still waiting
    run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await jobs_->expire_orders()); });
    EXPECT_EQ(order(o.id).status, OrderStatus::declined);
    EXPECT_TRUE(posts_to(channel.value()).empty());

    clock_.advance(2h);
    run([&]() -> asio::awaitable<void> {
        auto result = co_await jobs_->expire_orders();
        EXPECT_TRUE(result) << result.error();
        EXPECT_TRUE(co_await fake_->wait_for_requests("DELETE /channels/" + channel.str(), 1, 5000ms));
    });
    EXPECT_EQ(order(o.id).status, OrderStatus::expired);
    const auto told = posts_to(channel.value());
    ASSERT_EQ(told.size(), 1u);
    EXPECT_NE(told[0].json.dump().find("no new payment screenshot"), std::string::npos)
        << told[0].json.dump();
    EXPECT_EQ(fake_->requests_matching("PATCH /channels/" + channel.str()).size(), 1u) << "archived first";
}

TEST_P(OrderRecoveryTest, AdminsAreRemindedOnceOfAReceiptNobodyReviewed) {
    const auto o = order_under_review(make_user(kAlice), make_plan());
    clock_.advance(23h);
    run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await jobs_->expire_orders()); });
    EXPECT_TRUE(posts_to(kReviewChannel).empty());
    clock_.advance(2h);
    for (int i = 0; i < 2; ++i) {
        run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await jobs_->expire_orders()); });
    }
    const auto reminders = posts_to(kReviewChannel);
    ASSERT_EQ(reminders.size(), 1u);
    EXPECT_NE(reminders[0].json.dump().find(o.reference), std::string::npos);
    EXPECT_EQ(order(o.id).status, OrderStatus::under_review) << "a paid order is never expired by time";
}

// The state table of docs/schema.md: from every state an order can be in before its end, there
// is a way to the end that needs no admin — time (the order-timeout job and the reconciler) or
// the customer's Cancel. After approval Cancel is refused and the reconciler finishes the order.
TEST_P(OrderRecoveryTest, EveryNonFinalStateEndsWithoutAnAdmin) {
    const auto server = make_server("de-1");
    const auto plan = make_plan();
    std::uint64_t next_customer = kAlice;
    struct Made {
        domain::UserId user;
        domain::OrderId id;
    };
    auto make_in = [&](OrderStatus status, bool reupload) {
        const auto user = make_user(++next_customer);
        domain::OrderId id;
        if (status == OrderStatus::awaiting_payment) {
            id = placed(user, plan).id;
        } else {
            id = order_under_review(user, plan).id;
        }
        if (status == OrderStatus::declined) {
            with_db([&](db::Connection& c) {
                EXPECT_TRUE(orders_->decline(c, id, discord_id("admin"), "unclear", reupload));
            });
        }
        if (status == OrderStatus::approved) {
            gateways_.at(server.id).fake.set_down(
                domain::GatewayError{domain::GatewayErrorCode::unreachable, 0, "down"});
            run([&]() -> asio::awaitable<void> {
                EXPECT_FALSE(
                    (co_await provisioner_->approve_and_fulfil(id, discord_id("admin"))).has_value());
            });
            gateways_.at(server.id).fake.set_down(std::nullopt);
        }
        EXPECT_EQ(order(id).status, status);
        return Made{user, id};
    };
    struct Case {
        OrderStatus status;
        bool reupload;
        std::optional<OrderStatus> by_time;  ///< where time alone takes it
        bool customer_can_cancel;
    };
    const Case cases[] = {
        {OrderStatus::awaiting_payment, false, OrderStatus::expired, true},
        {OrderStatus::under_review, false, std::nullopt, true},
        {OrderStatus::declined, true, OrderStatus::expired, true},
        {OrderStatus::declined, false, OrderStatus::expired, true},
        {OrderStatus::approved, false, OrderStatus::fulfilled, false},
    };
    std::set<OrderStatus> covered;
    for (const auto& k : cases) covered.insert(k.status);
    for (const auto status : domain::kAllOrderStatuses) {
        const bool final = status == OrderStatus::fulfilled || status == OrderStatus::expired ||
                           status == OrderStatus::cancelled;
        EXPECT_EQ(covered.contains(status), !final) << domain::to_string(status);
    }

    // The customer's Cancel.
    for (const auto& k : cases) {
        const auto made = make_in(k.status, k.reupload);
        auto cancelled = with_db([&](db::Connection& c) { return orders_->cancel(c, made.id, made.user); });
        EXPECT_EQ(cancelled.has_value(), k.customer_can_cancel) << domain::to_string(k.status);
        EXPECT_EQ(order(made.id).status, k.customer_can_cancel ? OrderStatus::cancelled : k.status);
        if (!k.customer_can_cancel) {
            EXPECT_EQ(cancelled.error().code, domain::ErrorCode::invalid_transition);
        }
        // Nothing open any more for the next case's time check.
        if (!k.customer_can_cancel) {
            reconcile(jobs_);
            clock_.advance(3min);
            reconcile(jobs_);
            EXPECT_EQ(order(made.id).status, OrderStatus::fulfilled);
        }
    }

    // Time alone: the order-timeout job, then the reconciler.
    std::vector<std::pair<Case, Made>> waiting;
    for (const auto& k : cases) waiting.emplace_back(k, make_in(k.status, k.reupload));
    clock_.advance(std::chrono::hours(25));
    run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await jobs_->expire_orders()); });
    reconcile(jobs_);
    for (const auto& [k, made] : waiting) {
        const auto now_status = order(made.id).status;
        if (k.by_time) {
            EXPECT_EQ(now_status, *k.by_time) << domain::to_string(k.status);
        } else {
            // Paid and waiting: never expired by time; the admins were reminded and the customer
            // can still cancel.
            EXPECT_EQ(now_status, k.status);
            bool reminded = false;
            for (const auto& post : posts_to(kReviewChannel)) {
                const std::string body = post.json.dump();
                reminded = reminded || (body.find(domain::order_reference(made.id)) != std::string::npos &&
                                        body.find("waiting for review") != std::string::npos);
            }
            EXPECT_TRUE(reminded);
            EXPECT_TRUE(with_db([&](db::Connection& c) { return orders_->cancel(c, made.id, made.user); }));
        }
    }
}

NEBULA_INSTANTIATE_FOR_BACKENDS(OrderRecoveryTest);

}  // namespace
}  // namespace nebula::bot::testing
