#include "bot/jobs/jobs_fixture.hpp"

#include "bot/support/discord_ids.hpp"
#include "discord/test_support.hpp"

namespace nebula::bot::testing {

namespace asio = boost::asio;

void JobsTest::SetUp() {
    build(GetParam(), gateways_);
    if (HasFatalFailure()) return;
    // A finished order's channel is archived and deleted at once.
    shop_.order_channel_archive_after = std::chrono::seconds(0);
    shop_.order_channel_delete_after = std::chrono::seconds(0);
    jobs_ = make_jobs();
}

void JobsTest::TearDown() {
    // The jobs go first, once nothing they started is still running.
    background_.cancel();
    nebula::discord::testing::run(io_, [this]() -> asio::awaitable<void> { co_await background_.join(); });
    jobs_.reset();
    tear_down();
}

void JobsTest::run(std::function<asio::awaitable<void>()> body) { nebula::discord::testing::run(io_, body); }

std::unique_ptr<jobs::Jobs> JobsTest::make_jobs() {
    return std::make_unique<jobs::Jobs>(*ctx_, config_, database_->url());
}

domain::Server JobsTest::make_server(const std::string& name) {
    return with_db([&](db::Connection& c) {
        auto server = catalog_.create_server(
            c, discord_id("setup"),
            {name, "Frankfurt", "https://" + name + ".example:8443", std::string(40, 'k'), "", 1, 100000, 1});
        EXPECT_TRUE(server.has_value()) << server.error().message;
        return *server;
    });
}

domain::PlanId JobsTest::make_plan(int days, std::int64_t traffic_bytes) {
    return with_db([&](db::Connection& c) {
        auto plan = catalog_.create_plan(c, discord_id("setup"),
                                         {"Plan " + std::to_string(++next_order_), days, traffic_bytes, 2,
                                          domain::Piasters::from_pounds(150), 0});
        EXPECT_TRUE(plan.has_value()) << plan.error().message;
        return plan->id;
    });
}

domain::UserId JobsTest::make_user(std::uint64_t discord_id) {
    fake_->add_member(kGuild, discord_id, {kSubscriberRole});
    return with_db([&](db::Connection& c) {
        return users_.ensure(c, domain::DiscordId{discord_id}, "user" + std::to_string(discord_id)).id;
    });
}

discord::Snowflake JobsTest::make_channel(const std::string& name) {
    discord::Snowflake channel;
    run([&]() -> asio::awaitable<void> {
        discord::ChannelCreate create;
        create.name = name;
        auto made = co_await rest_->create_guild_channel(shop_.guild_id, create, "test");
        EXPECT_TRUE(made.has_value());
        if (made) channel = made->id;
    });
    return channel;
}

domain::Order JobsTest::order_under_review(domain::UserId user, domain::PlanId plan) {
    return with_db([&](db::Connection& c) {
        const auto method =
            *c.scalar<domain::PaymentMethodId>("SELECT id FROM payment_methods WHERE code = 'vodafone_cash'");
        EXPECT_TRUE(catalog_.update_payment_method(c, discord_id("setup"), method,
                                                   {"01012345678", std::nullopt, std::nullopt}));
        auto placed = orders_->place(c, user, plan);
        EXPECT_TRUE(orders_->choose_payment_method(c, placed->order.id, user, method));
        EXPECT_TRUE(orders_->submit_receipt(
            c, placed->order.id, user, {"png-bytes", "image/png", domain::DiscordId{860000000000000001ULL}}));
        return placed->order;
    });
}

domain::Account JobsTest::make_account(domain::UserId user, const domain::Server& server,
                                       domain::Timestamp expires_at, std::int64_t traffic_limit) {
    const auto plan = make_plan(30, traffic_limit);
    const auto id = with_db([&](db::Connection& c) {
        const auto t = now();
        const auto order = *c.scalar<domain::OrderId>(
            "INSERT INTO orders (user_id, plan_id, kind, status, amount_piasters, created_at, updated_at, "
            "fulfilled_at) VALUES (?, ?, 'new', 'fulfilled', 15000, ?, ?, ?) RETURNING id",
            user, plan, t, t, t);
        const std::string email = domain::client_email_for(order);
        return *c.scalar<domain::AccountId>(
            "INSERT INTO vpn_accounts (user_id, server_id, order_id, plan_id, client_email, client_uuid, "
            "sub_id, "
            "inbound_id, traffic_limit_bytes, device_limit, expires_at, status, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, 2, ?, 'active', ?, ?) RETURNING id",
            user, server.id, order, plan, email, "uuid-" + email, "sub-" + email, traffic_limit, expires_at,
            t, t);
    });
    auto created = account(id);
    // A named value: g++ 12 destroys a braced temporary passed to a coroutine twice.
    domain::NewClient client{1,
                             created.client_email,
                             created.client_uuid,
                             created.sub_id,
                             traffic_limit,
                             domain::epoch_seconds(expires_at) * 1000,
                             2,
                             "",
                             true};
    run([&]() -> asio::awaitable<void> {
        auto made = co_await gateways_.at(server.id).fake.create_client(client);
        EXPECT_TRUE(made.has_value());
    });
    return created;
}

domain::Account JobsTest::account(domain::AccountId id) {
    return with_db([&](db::Connection& c) { return *domain::accounts::get(c, id); });
}

std::vector<fakes::discord::RecordedRequest> JobsTest::dms() const {
    std::vector<fakes::discord::RecordedRequest> out;
    std::set<std::string> dm_channels;
    for (const auto& r : fake_->requests_matching("POST /users/@me/channels")) {
        if (r.status == 200)
            dm_channels.insert("/channels/" + nlohmann::json::parse(r.response_body).value("id", "") +
                               "/messages");
    }
    for (const auto& r : fake_->requests_matching("POST /channels/[0-9]+/messages")) {
        if (r.status == 200 && dm_channels.contains(r.path)) out.push_back(r);
    }
    return out;
}

std::vector<fakes::discord::RecordedRequest> JobsTest::posts_to(std::uint64_t channel) const {
    std::vector<fakes::discord::RecordedRequest> out;
    for (const auto& r :
         fake_->requests_matching("POST /channels/" + std::to_string(channel) + "/messages")) {
        if (r.status == 200) out.push_back(r);
    }
    return out;
}

}  // namespace nebula::bot::testing
