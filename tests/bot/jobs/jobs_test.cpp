#include <gmock/gmock.h>
#include <sqlite3.h>
#include <unistd.h>
#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include <map>

#include "bot/db/migrations.hpp"
#include "bot/domain/audit.hpp"
#include "bot/domain/deliveries.hpp"
#include "bot/domain/notices.hpp"
#include "bot/domain/order_channels.hpp"
#include "bot/domain/referrals.hpp"
#include "bot/handlers/customer.hpp"
#include "bot/jobs/jobs_fixture.hpp"
#include "bot/notify/channel_closer.hpp"
#include "bot/notify/delivery.hpp"
#include "bot/support/discord_ids.hpp"
#include "discord/test_support.hpp"
#include "support/eventually.hpp"

namespace nebula::bot::testing {
namespace {

namespace asio = boost::asio;
using domain::AccountStatus;
using namespace std::chrono_literals;

constexpr std::uint64_t kAlice = 500000000000000011ULL;
constexpr std::uint64_t kBob = 500000000000000012ULL;
constexpr std::uint64_t kCarol = 500000000000000013ULL;

std::string content_of(const fakes::discord::RecordedRequest& r) {
    return r.json.value("content", std::string());
}

std::string first_button(const fakes::discord::RecordedRequest& r) {
    return r.json["components"][0]["components"][0].value("custom_id", std::string());
}

TEST_P(JobsTest, AccountExpiresExactlyAtItsExpiry) {
    const auto server = make_server("de-1");
    const auto user = make_user(kAlice);
    const auto boundary = now() + 1h;
    const auto a = make_account(user, server, boundary);
    const auto later = make_account(user, server, boundary + 1s);

    clock_.set(boundary - 1s);
    run([&]() -> asio::awaitable<void> { EXPECT_EQ((co_await jobs_->expire_accounts()).expired, 0); });
    EXPECT_EQ(account(a.id).status, AccountStatus::active);
    EXPECT_EQ(gateways_.at(server.id).disable_calls, 0);

    clock_.set(boundary);
    run([&]() -> asio::awaitable<void> {
        auto report = co_await jobs_->expire_accounts();
        EXPECT_EQ(report.expired, 1);
        EXPECT_EQ(report.gateway_calls, 1);
        auto notices = co_await jobs_->deliver_notices();
        EXPECT_EQ(notices.sent, 1);
    });
    EXPECT_EQ(account(a.id).status, AccountStatus::expired);
    EXPECT_EQ(account(later.id).status, AccountStatus::active);
    EXPECT_FALSE(gateways_.at(server.id).fake.clients().at(a.client_email).enable);
    EXPECT_TRUE(gateways_.at(server.id).fake.clients().at(later.client_email).enable);
    const auto sent = dms();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_NE(content_of(sent[0]).find("expired"), std::string::npos) << content_of(sent[0]);
    EXPECT_EQ(first_button(sent[0]), "acct:" + std::to_string(a.id.value) + ":renew");
    // Alice still has another active account: the Subscriber role stays.
    EXPECT_TRUE(fake_->requests_matching("DELETE /guilds/.*/roles/.*").empty());

    // After the grace period the panel client goes and the row is marked deleted.
    clock_.set(boundary + config_.expired_grace);
    run([&]() -> asio::awaitable<void> { EXPECT_EQ((co_await jobs_->expire_accounts()).deleted, 1); });
    EXPECT_EQ(account(a.id).status, AccountStatus::deleted);
    EXPECT_FALSE(gateways_.at(server.id).fake.clients().contains(a.client_email));
}

TEST_P(JobsTest, ExpiryRemovesTheRoleAndPutsTheNoticeInAPrivateChannelWhenDmsAreClosed) {
    const auto server = make_server("de-1");
    const auto a = make_account(make_user(kBob), server, now() + 10min);
    fake_->close_dms(kBob);
    clock_.advance(11min);
    run([&]() -> asio::awaitable<void> {
        co_await jobs_->expire_accounts();
        EXPECT_EQ((co_await jobs_->deliver_notices()).sent, 1);
    });
    EXPECT_EQ(fake_
                  ->requests_matching("DELETE /guilds/.*/members/" + std::to_string(kBob) + "/roles/" +
                                      std::to_string(kSubscriberRole))
                  .size(),
              1u);
    // No order channel: a channel only Bob, the admins and the bot can see is made for it.
    const auto created = fake_->requests_matching("POST /guilds/.*/channels");
    ASSERT_EQ(created.size(), 1u);
    const auto made = nlohmann::json::parse(created[0].response_body);
    const std::uint64_t notices = std::stoull(made.at("id").get<std::string>());
    std::map<std::string, nlohmann::json> overwrites;
    for (const auto& o : made.at("permission_overwrites")) overwrites[o.at("id").get<std::string>()] = o;
    EXPECT_EQ(overwrites.at(std::to_string(kGuild)).at("deny").get<std::uint64_t>() & (1u << 10), 1u << 10);
    EXPECT_EQ(overwrites.at(std::to_string(kBob)).at("allow").get<std::uint64_t>() & (1u << 10), 1u << 10);
    EXPECT_EQ(overwrites.at(std::to_string(kAdminRole)).at("allow").get<std::uint64_t>() & (1u << 10),
              1u << 10);
    const auto notice = posts_to(notices);
    ASSERT_EQ(notice.size(), 1u);
    EXPECT_EQ(content_of(notice[0]).rfind("<@" + std::to_string(kBob) + ">", 0), 0u);
    EXPECT_NE(content_of(notice[0]).find("de-1"), std::string::npos) << content_of(notice[0]);
    EXPECT_EQ(first_button(notice[0]), "acct:" + std::to_string(a.id.value) + ":renew");
    // The public channel only points there.
    const auto pointer = posts_to(kPanelChannel);
    ASSERT_EQ(pointer.size(), 1u);
    EXPECT_EQ(content_of(pointer[0]), "<@" + std::to_string(kBob) + "> you have a new message in <#" +
                                          std::to_string(notices) +
                                          "> (only you and the admins can see it).");

    // Deleted by hand: the next notice makes a new one.
    ASSERT_TRUE(fake_->delete_channel(notices));
    with_db([&](db::Connection& c) {
        domain::queue_notice(
            c, {"test:again", domain::NoticeKind::account_expired, a.user_id, a.id, std::nullopt, 0, 0},
            now());
        return 0;
    });
    run([&]() -> asio::awaitable<void> { EXPECT_EQ((co_await jobs_->deliver_notices()).sent, 1); });
    EXPECT_EQ(fake_->requests_matching("POST /guilds/.*/channels").size(), 2u);
    EXPECT_EQ(posts_to(kPanelChannel).size(), 2u);
}

TEST_P(JobsTest, RemindersAreSentOnceAndNotAgainAfterARestart) {
    const auto server = make_server("de-1");
    const auto a = make_account(make_user(kAlice), server, now() + 80h);
    auto remind = [&](std::unique_ptr<jobs::Jobs>& jobs) {
        run([&]() -> asio::awaitable<void> {
            co_await jobs->queue_reminders();
            co_await jobs->deliver_notices();
        });
    };
    remind(jobs_);
    EXPECT_TRUE(dms().empty()) << "80 hours left: no reminder yet";
    clock_.advance(10h);  // 70 hours left
    remind(jobs_);
    remind(jobs_);
    ASSERT_EQ(dms().size(), 1u);
    EXPECT_NE(content_of(dms()[0]).find("3 days"), std::string::npos) << content_of(dms()[0]);
    EXPECT_EQ(account(a.id).expiry_alert_level, 72);

    auto restarted = make_jobs();
    remind(restarted);
    EXPECT_EQ(dms().size(), 1u);

    clock_.advance(50h);  // 20 hours left
    remind(restarted);
    remind(restarted);
    ASSERT_EQ(dms().size(), 2u);
    EXPECT_NE(content_of(dms()[1]).find("within a day"), std::string::npos) << content_of(dms()[1]);
}

// A free trial's reminder before it ends invites the customer to a paid plan for the same link:
// its Renew button lists the plans on sale.
TEST_P(JobsTest, ATrialsReminderOffersThePaidPlans) {
    const auto server = make_server("de-1");
    const auto trial = make_account(make_user(kAlice), server, now() + 20h);
    const auto paid = make_account(make_user(kBob), server, now() + 20h);
    with_db([&](db::Connection& c) {
        return c.exec("UPDATE orders SET trial = 1, amount_piasters = 0 WHERE id = ?", trial.order_id);
    });
    run([&]() -> asio::awaitable<void> {
        co_await jobs_->queue_reminders();
        co_await jobs_->deliver_notices();
    });
    ASSERT_EQ(dms().size(), 2u);
    int trials = 0;
    for (const auto& dm : dms()) {
        const std::string text = content_of(dm);
        if (text.find("free trial") == std::string::npos) continue;
        ++trials;
        EXPECT_NE(text.find("Pick a paid plan"), std::string::npos) << text;
        EXPECT_NE(dm.body.find("acct:" + std::to_string(trial.id.value) + ":renew"), std::string::npos)
            << dm.body;
    }
    EXPECT_EQ(trials, 1) << "only Alice's account is a trial";
    EXPECT_NE(paid.id, trial.id);
}

// A notice is not an answer to a click: it is written in the customer's explicit choice, else the
// Discord language of their latest click.
TEST_P(JobsTest, NoticesFollowTheCustomersLanguage) {
    const auto server = make_server("de-1");
    const auto alice = make_user(kAlice);
    const auto bob = make_user(kBob);
    with_db([&](db::Connection& c) {
        EXPECT_TRUE(users_.note_discord_locale(c, domain::DiscordId{kAlice}, "ar"));
        EXPECT_TRUE(users_.note_discord_locale(c, domain::DiscordId{kBob}, "ar"));
        return users_.choose_locale(c, bob, std::string("en")).has_value();
    });
    make_account(alice, server, now() + 70h);
    make_account(bob, server, now() + 70h);
    run([&]() -> asio::awaitable<void> {
        co_await jobs_->queue_reminders();
        co_await jobs_->deliver_notices();
    });
    ASSERT_EQ(dms().size(), 2u);
    int arabic = 0, english = 0;
    for (const auto& dm : dms()) {
        const std::string text = content_of(dm);
        if (text.find("3 days") != std::string::npos) ++english;
        if (text.find("اشتراكك") != std::string::npos) ++arabic;
    }
    EXPECT_EQ(arabic, 1) << "Alice's Discord is in Arabic";
    EXPECT_EQ(english, 1) << "Bob chose English";
}

TEST_P(JobsTest, TrafficAlertsOncePerLevelThenSuspensionAtTheLimit) {
    const auto server = make_server("de-1");
    const std::int64_t limit = 100LL << 30;
    const auto a = make_account(make_user(kAlice), server, now() + 240h, limit);
    auto& panel = gateways_.at(server.id);
    auto monitor = [&] {
        run([&]() -> asio::awaitable<void> {
            co_await jobs_->monitor_traffic();
            co_await jobs_->deliver_notices();
        });
    };
    panel.fake.set_usage(a.client_email, 1LL << 30, 80LL << 30);  // 81 %
    monitor();
    monitor();
    ASSERT_EQ(dms().size(), 1u);
    EXPECT_NE(content_of(dms()[0]).find("80%"), std::string::npos) << content_of(dms()[0]);
    EXPECT_EQ(account(a.id).traffic_alert_level, 80);
    EXPECT_EQ(account(a.id).used_down_bytes, 80LL << 30);

    panel.fake.set_usage(a.client_email, 1LL << 30, 95LL << 30);  // 96 %
    monitor();
    monitor();
    ASSERT_EQ(dms().size(), 2u);
    EXPECT_NE(content_of(dms()[1]).find("95%"), std::string::npos) << content_of(dms()[1]);

    panel.fake.set_usage(a.client_email, 50LL << 30, 50LL << 30);  // 100 %
    monitor();
    monitor();
    ASSERT_EQ(dms().size(), 3u);
    EXPECT_NE(content_of(dms()[2]).find("paused"), std::string::npos) << content_of(dms()[2]);
    EXPECT_EQ(account(a.id).status, AccountStatus::disabled);
    EXPECT_FALSE(panel.fake.clients().at(a.client_email).enable);
    EXPECT_EQ(panel.disable_calls, 1);
    EXPECT_EQ(panel.traffic_calls, 6) << "one traffic call per server and run";
}

TEST_P(JobsTest, OrderTimeoutExpiresTellsAndClosesTheChannel) {
    const auto plan = make_plan();
    const auto user = make_user(kAlice);
    const auto channel = std::make_shared<discord::Snowflake>(make_channel("order-1"));
    const auto order = with_db([&](db::Connection& c) {
        auto placed = orders_->place(c, user, plan);
        EXPECT_TRUE(placed.has_value());
        EXPECT_TRUE(orders_->set_channel(c, placed->order.id, *channel).has_value());
        return placed->order;
    });
    clock_.advance(23h);
    run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await jobs_->expire_orders()); });
    EXPECT_TRUE(posts_to(channel->value()).empty());

    clock_.advance(2h);
    run([&]() -> asio::awaitable<void> {
        auto result = co_await jobs_->expire_orders();
        EXPECT_TRUE(result) << result.error();
        EXPECT_TRUE(co_await fake_->wait_for_requests("DELETE /channels/" + channel->str(), 1, 5000ms));
    });
    EXPECT_EQ(with_db([&](db::Connection& c) { return orders_->get(c, order.id)->status; }),
              domain::OrderStatus::expired);
    const auto told = posts_to(channel->value());
    ASSERT_EQ(told.size(), 1u);
    EXPECT_NE(content_of(told[0]).find(order.reference), std::string::npos);
    EXPECT_EQ(fake_->requests_matching("PATCH /channels/" + channel->str()).size(), 1u) << "archived first";

    run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await jobs_->expire_orders()); });
    EXPECT_EQ(posts_to(channel->value()).size(), 1u) << "told once";
}

TEST_P(JobsTest, HealthAlertsOncePerChange) {
    const auto server = make_server("de-1");
    auto& panel = gateways_.at(server.id);
    auto check = [&] {
        run([&]() -> asio::awaitable<void> {
            auto result = co_await jobs_->check_health();
            EXPECT_TRUE(result) << result.error();
        });
    };
    check();
    check();
    EXPECT_TRUE(posts_to(kReviewChannel).empty());
    EXPECT_EQ(with_db([&](db::Connection& c) { return catalog_.server(c, server.id)->health; }),
              domain::ServerHealth::up);

    panel.fake.set_down(domain::GatewayError{domain::GatewayErrorCode::unreachable, 0, "connection refused"});
    check();
    EXPECT_TRUE(posts_to(kReviewChannel).empty()) << "one failed check is not an alert yet";
    EXPECT_EQ(with_db([&](db::Connection& c) { return catalog_.server(c, server.id)->health; }),
              domain::ServerHealth::down)
        << "but the server takes no new accounts from the first failure";
    check();
    ASSERT_EQ(posts_to(kReviewChannel).size(), 1u);
    EXPECT_NE(content_of(posts_to(kReviewChannel)[0]).find("de-1"), std::string::npos);
    EXPECT_EQ(with_db([&](db::Connection& c) { return catalog_.server(c, server.id)->health; }),
              domain::ServerHealth::down);

    panel.fake.set_down(std::nullopt);
    check();
    check();
    ASSERT_EQ(posts_to(kReviewChannel).size(), 2u);
    EXPECT_NE(content_of(posts_to(kReviewChannel)[1]).find("back up"), std::string::npos);
    EXPECT_EQ(panel.health_calls, 6);
}

TEST_P(JobsTest, OutageNoticesReachTheServersCustomersOnceAndTheBackUpNoticeFollows) {
    const auto server = make_server("de-1");
    const auto other = make_server("nl-1");
    auto& panel = gateways_.at(server.id);
    const auto alice = make_user(kAlice);
    const auto bob = make_user(kBob);
    const auto carol = make_user(kCarol);
    make_account(alice, server, now() + 24h * 10);
    make_account(alice, server, now() + 24h * 20);  // two accounts there: told once
    make_account(bob, other, now() + 24h * 10);
    const auto expired = make_account(carol, server, now() + 24h * 10);
    with_db([&](db::Connection& c) {
        c.exec("UPDATE vpn_accounts SET status = 'expired' WHERE id = ?", expired.id);
        return 0;
    });
    auto check = [&] {
        run([&]() -> asio::awaitable<void> {
            auto result = co_await jobs_->check_health();
            EXPECT_TRUE(result) << result.error();
        });
    };
    auto tell = [&](std::int64_t incident) {
        std::optional<int> queued;
        run([&]() -> asio::awaitable<void> {
            queued = co_await jobs_->queue_outage_notices(server.id, incident,
                                                          domain::DiscordId{900000000000000001ULL});
        });
        return queued;
    };
    EXPECT_EQ(tell(1), std::nullopt) << "the server is up: nothing to tell";

    panel.fake.set_down(domain::GatewayError{domain::GatewayErrorCode::unreachable, 0, "connection refused"});
    check();
    check();
    ASSERT_EQ(posts_to(kReviewChannel).size(), 1u);
    const std::string button = first_button(posts_to(kReviewChannel)[0]);
    const std::string prefix = "outage:" + std::to_string(server.id.value) + ":";
    ASSERT_EQ(button.rfind(prefix, 0), 0u) << button;
    const std::int64_t incident = std::stoll(button.substr(prefix.size()));
    EXPECT_EQ(incident, domain::epoch_seconds(now()));

    EXPECT_EQ(tell(incident), 1) << "Alice only: Bob is on another server, Carol's account expired";
    EXPECT_EQ(tell(incident), 1);
    run([&]() -> asio::awaitable<void> { EXPECT_EQ((co_await jobs_->deliver_notices()).sent, 1); });
    ASSERT_EQ(dms().size(), 1u);
    EXPECT_NE(content_of(dms()[0]).find("de-1"), std::string::npos) << content_of(dms()[0]);
    EXPECT_NE(content_of(dms()[0]).find("having a problem"), std::string::npos) << content_of(dms()[0]);
    EXPECT_FALSE(dms()[0].json.contains("components") && !dms()[0].json["components"].empty())
        << "no Renew button on an outage notice";
    const auto audit = with_db(
        [&](db::Connection& c) { return domain::audit_for(c, "server", std::to_string(server.id.value)); });
    ASSERT_FALSE(audit.empty());
    EXPECT_EQ(audit.back().entry.action, "server.outage_notified");
    EXPECT_EQ(audit.back().entry.actor, "900000000000000001");

    check();  // still down: nothing new
    EXPECT_EQ(dms().size(), 1u);
    panel.fake.set_down(std::nullopt);
    check();
    ASSERT_EQ(dms().size(), 2u);
    EXPECT_NE(content_of(dms()[1]).find("working again"), std::string::npos) << content_of(dms()[1]);
    EXPECT_EQ(posts_to(kReviewChannel).size(), 2u);
    check();
    EXPECT_EQ(dms().size(), 2u) << "told once that it is back";
    EXPECT_EQ(tell(incident), std::nullopt) << "the old button after the outage";
}

TEST_P(JobsTest, ReconcilerFinishesAnOrderAfterACrashBetweenGatewayAndCommit) {
    const auto server = make_server("de-1");
    const auto plan = make_plan();
    const auto user = make_user(kAlice);
    const auto order = order_under_review(user, plan);
    auto& panel = gateways_.at(server.id);
    // The panel makes the client, then the answer is lost: the order stays approved.
    panel.fake.script_create({CreateFault::timeout_after_create});
    run([&]() -> asio::awaitable<void> {
        auto done = co_await provisioner_->approve_and_fulfil(order.id, discord_id("admin"));
        EXPECT_FALSE(done.has_value());
    });
    EXPECT_EQ(panel.fake.clients().size(), 1u);
    clock_.advance(3min);
    run([&]() -> asio::awaitable<void> {
        auto result = co_await jobs_->reconcile();
        EXPECT_TRUE(result) << result.error();
    });
    const auto after = with_db([&](db::Connection& c) { return *orders_->get(c, order.id); });
    EXPECT_EQ(after.status, domain::OrderStatus::fulfilled);
    EXPECT_EQ(panel.fake.clients().size(), 1u) << "no second client";
    ASSERT_EQ(dms().size(), 1u);
    EXPECT_NE(dms()[0].json.dump().find("vless://"), std::string::npos);
    EXPECT_EQ(posts_to(kBillingChannel).size(), 1u);

    run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await jobs_->reconcile()); });
    EXPECT_EQ(dms().size(), 1u) << "delivered once";
}

// Bob entered Alice's referral code and his first paid order is fulfilled: the reconciler
// extends Alice's account by REFERRAL_BONUS_DAYS and tells her, once, also across runs.
TEST_P(JobsTest, ReconcilerGrantsAReferralRewardOnce) {
    const auto server = make_server("de-1");
    const auto alice = make_user(kAlice);
    const auto bob = make_user(kBob);
    const auto hers = make_account(alice, server, now() + 240h);
    ASSERT_TRUE(with_db([&](db::Connection& c) {
        return domain::referrals::attach(c, bob, domain::referrals::code_for(alice), now()).has_value();
    }));
    make_account(bob, server, now() + 720h);  // his first paid order, fulfilled
    for (int run_number = 0; run_number < 2; ++run_number) {
        run([&]() -> asio::awaitable<void> {
            auto result = co_await jobs_->reconcile();
            EXPECT_TRUE(result) << result.error();
        });
    }
    EXPECT_EQ(account(hers.id).expires_at, hers.expires_at + std::chrono::days(shop_.referral_bonus_days));
    EXPECT_EQ(gateways_.at(server.id).fake.clients().at(hers.client_email).expiry_ms,
              domain::epoch_seconds(account(hers.id).expires_at) * 1000);
    ASSERT_EQ(dms().size(), 1u);
    EXPECT_NE(content_of(dms()[0]).find("A friend you referred"), std::string::npos) << content_of(dms()[0]);
}

TEST_P(JobsTest, ReconcilerReportsACustomerWhoLeftTheServer) {
    const auto server = make_server("de-1");
    const auto order = order_under_review(make_user(kAlice), make_plan());
    gateways_.at(server.id).fake.set_down(
        domain::GatewayError{domain::GatewayErrorCode::unreachable, 0, "refused"});
    run([&]() -> asio::awaitable<void> {
        EXPECT_FALSE((co_await provisioner_->approve_and_fulfil(order.id, discord_id("admin"))).has_value());
    });
    fake_->remove_member(kGuild, kAlice);
    gateways_.at(server.id).fake.set_down(std::nullopt);
    clock_.advance(3min);
    run([&]() -> asio::awaitable<void> {
        auto result = co_await jobs_->reconcile();
        EXPECT_TRUE(result) << result.error();
    });
    EXPECT_EQ(with_db([&](db::Connection& c) { return orders_->get(c, order.id)->status; }),
              domain::OrderStatus::fulfilled);
    EXPECT_TRUE(dms().empty());
    ASSERT_EQ(posts_to(kBillingChannel).size(), 1u);
    EXPECT_NE(content_of(posts_to(kBillingChannel)[0]).find("automatic retry"), std::string::npos);
    const auto reports = posts_to(kReviewChannel);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_NE(content_of(reports[0]).find(order.reference), std::string::npos) << content_of(reports[0]);
    EXPECT_NE(content_of(reports[0]).find("no longer in the server"), std::string::npos)
        << content_of(reports[0]);
}

// `nebula-bot jobs run` beside the running bot: the CLI process stores an order channel's closing
// schedule and exits; the bot's next reconciler run starts that channel's timer, once.
TEST_P(JobsTest, ReconcilerStartsChannelClosersAnotherProcessScheduled) {
    const auto channel = std::make_shared<discord::Snowflake>(make_channel("order-7"));
    {
        common::TaskGroup cli_background(io_.get_executor());
        auto cli_sleeper = common::make_asio_sleeper(io_.get_executor(), clock_);
        core::BotContext cli{shop_,      zone_,     clock_,     io_.get_executor(), *rest_,
                             *db_,       users_,    catalog_,   *orders_,           *provisioner_,
                             *accounts_, gateways_, analytics_, cli_background,     *cli_sleeper};
        run([&]() -> asio::awaitable<void> {
            co_await notify::schedule_channel_close(cli, *channel, discord::Snowflake(kAlice), 1h);
            cli_background.cancel();  // the CLI process exits with the timer still waiting
            co_await cli_background.join();
        });
    }
    EXPECT_TRUE(fake_->requests_matching("PATCH /channels/" + channel->str()).empty());
    clock_.advance(2h);
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await jobs_->reconcile());
        EXPECT_TRUE(co_await jobs_->reconcile());  // the timer is running: not started twice
        EXPECT_TRUE(co_await fake_->wait_for_requests("DELETE /channels/" + channel->str(), 1, 5000ms));
        // The closer forgets the schedule once Discord has answered the delete.
        const domain::DiscordId key = *channel;
        co_await nebula::testing::eventually([&] {
            return !with_db(
                [&](db::Connection& c) { return domain::order_channels::close_of(c, key).has_value(); });
        });
    });
    EXPECT_EQ(fake_->requests_matching("PATCH /channels/" + channel->str()).size(), 1u)
        << "archived first, once";
    EXPECT_EQ(fake_->requests_matching("DELETE /channels/" + channel->str()).size(), 1u);
    EXPECT_FALSE(with_db([&](db::Connection& c) {
        return domain::order_channels::close_of(c, *channel).has_value();
    })) << "the schedule is done";
}

TEST_P(JobsTest, InterruptedExpiryRunReRunGivesTheSameEndState) {
    const auto de = make_server("de-1");
    const auto nl = make_server("nl-1");
    const auto alice = make_user(kAlice);
    const auto bob = make_user(kBob);
    std::vector<domain::Account> all{make_account(alice, de, now() + 1h), make_account(bob, de, now() + 1h),
                                     make_account(alice, nl, now() + 1h), make_account(bob, nl, now() + 1h)};
    clock_.advance(2h);
    // Half-way: the second server is unreachable and Discord refuses both the DMs and the fallback
    // (a private channel for the customer).
    gateways_.at(nl.id).fake.set_down(domain::GatewayError{domain::GatewayErrorCode::timeout, 0, "deadline"});
    const fakes::discord::Scripted refused{403, {}, R"({"message":"Missing Access","code":50001})", false};
    fake_->script("POST /users/@me/channels", refused, 2);
    fake_->script("POST /guilds/[0-9]+/channels", refused, 2);
    run([&]() -> asio::awaitable<void> {
        auto report = co_await jobs_->expire_accounts();
        EXPECT_EQ(report.expired, 2);
        EXPECT_EQ(report.servers_failed, 1);
        co_await jobs_->deliver_notices();
    });
    EXPECT_EQ(account(all[2].id).status, AccountStatus::active);
    EXPECT_TRUE(dms().empty());
    EXPECT_TRUE(posts_to(kPanelChannel).empty());

    gateways_.at(nl.id).fake.set_down(std::nullopt);
    auto restarted = make_jobs();
    clock_.advance(10min);  // past the claim of the failed sends
    run([&]() -> asio::awaitable<void> {
        EXPECT_EQ((co_await restarted->expire_accounts()).expired, 2);
        co_await restarted->deliver_notices();
        co_await restarted->expire_accounts();
        co_await restarted->deliver_notices();
    });
    for (const auto& a : all) {
        EXPECT_EQ(account(a.id).status, AccountStatus::expired);
        EXPECT_FALSE(gateways_.at(a.server_id).fake.clients().at(a.client_email).enable);
    }
    EXPECT_EQ(dms().size(), 4u) << "one notice per account, none repeated";
    EXPECT_EQ(with_db([](db::Connection& c) {
                  return *c.scalar<std::int64_t>("SELECT COUNT(*) FROM job_notices WHERE sent_at IS NULL");
              }),
              0);
}

TEST_P(JobsTest, RevenueSnapshotIsWrittenAndPostedOnceWithTheChart) {
    const auto server = make_server("de-1");
    make_account(make_user(kAlice), server, now() + 240h);  // a 150 EGP order fulfilled today
    clock_.advance(24h);
    auto snapshot = [&] {
        run([&]() -> asio::awaitable<void> {
            auto result = co_await jobs_->snapshot_revenue();
            EXPECT_TRUE(result) << result.error();
        });
    };
    snapshot();
    snapshot();
    const auto posted = posts_to(kBillingChannel);
    ASSERT_EQ(posted.size(), 1u) << "posted once per day";
    EXPECT_NE(content_of(posted[0]).find("150 EGP"), std::string::npos) << content_of(posted[0]);
    ASSERT_EQ(posted[0].files.size(), 1u);
    EXPECT_EQ(posted[0].files[0].filename, "revenue.png");
    EXPECT_EQ(posted[0].json["attachments"][0].value("description", std::string()), "Revenue — Last 30 days");
    EXPECT_EQ(posted[0].files[0].data.substr(1, 3), "PNG");
    EXPECT_EQ(with_db([](db::Connection& c) {
                  return *c.scalar<std::int64_t>("SELECT revenue_piasters FROM revenue_snapshots");
              }),
              15000);
}

// ---- durable delivery (the order_deliveries outbox) ----

/// Distinct messages Discord holds that were created by requests matching `pattern` (a repeat
/// that Discord answered from its nonce record is the same message).
std::set<std::string> distinct_messages(const fakes::discord::FakeDiscord& fake, const std::string& pattern) {
    std::set<std::string> ids;
    for (const auto& r : fake.requests_matching(pattern)) {
        if (r.status == 200) ids.insert(nlohmann::json::parse(r.response_body).value("id", ""));
    }
    return ids;
}

TEST_P(JobsTest, KilledAfterTheFulfilledCommitTheReconcilerDeliversExactlyOnce) {
    const auto server = make_server("de-1");
    const auto user = make_user(kAlice);
    const auto order = order_under_review(user, make_plan());
    const auto channel = make_channel("order-1");
    EXPECT_TRUE(with_db([&](db::Connection& c) { return orders_->set_channel(c, order.id, channel); }));
    // The Approve click: the order is fulfilled and its delivery recorded in one transaction,
    // then the process is killed before anything reached Discord.
    run([&]() -> asio::awaitable<void> {
        auto done =
            co_await provisioner_->approve_and_fulfil(order.id, domain::DiscordId{700000000000000077ULL});
        EXPECT_TRUE(done.has_value());
    });
    EXPECT_EQ(gateways_.at(server.id).fake.clients().size(), 1u);
    EXPECT_TRUE(dms().empty());
    EXPECT_TRUE(posts_to(kBillingChannel).empty());
    auto pending = with_db([&](db::Connection& c) { return domain::deliveries::get(c, order.id); });
    ASSERT_TRUE(pending.has_value()) << "the delivery is recorded with the fulfilment";
    EXPECT_FALSE(pending->complete());
    EXPECT_EQ(pending->approver, domain::DiscordId{700000000000000077ULL});

    // A new process: its first reconciler run.
    jobs_ = make_jobs();
    run([&]() -> asio::awaitable<void> {
        auto result = co_await jobs_->reconcile();
        EXPECT_TRUE(result) << result.error();
    });
    const auto dm = dms();
    ASSERT_EQ(dm.size(), 1u);
    EXPECT_NE(dm[0].json.dump().find("vless://"), std::string::npos);
    EXPECT_NE(dm[0].json.dump().find(gateways_.at(server.id).fake.clients().begin()->second.uuid),
              std::string::npos)
        << "the link carries the panel client's UUID";
    EXPECT_EQ(fake_->message_count(channel.value()), 3u) << "link, DM note, closing notice";
    const auto billing = posts_to(kBillingChannel);
    ASSERT_EQ(billing.size(), 1u);
    EXPECT_NE(content_of(billing[0]).find("<@700000000000000077>"), std::string::npos)
        << "the billing line names the admin who approved";
    const auto* roles = fake_->member_roles(kGuild, kAlice);
    ASSERT_NE(roles, nullptr);
    EXPECT_EQ(std::count(roles->begin(), roles->end(), kSubscriberRole), 1);
    auto after = with_db([&](db::Connection& c) { return domain::deliveries::get(c, order.id); });
    EXPECT_TRUE(after->complete());

    // Later runs and another restart send nothing more.
    clock_.advance(10min);
    jobs_ = make_jobs();
    run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await jobs_->reconcile()); });
    notify::resume_deliveries(*ctx_);
    run([&]() -> asio::awaitable<void> { co_await background_.join(); });
    EXPECT_EQ(dms().size(), 1u);
    EXPECT_EQ(posts_to(kBillingChannel).size(), 1u);
    EXPECT_EQ(fake_->message_count(channel.value()), 3u);
}

TEST_P(JobsTest, KilledAfterTheFulfilledCommitStartUpDeliversExactlyOnce) {
    const auto server = make_server("de-1");
    const auto order = order_under_review(make_user(kAlice), make_plan());
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(
            (co_await provisioner_->approve_and_fulfil(order.id, domain::DiscordId{700000000000000077ULL}))
                .has_value());
    });
    EXPECT_TRUE(dms().empty());
    // Start-up of the next process finishes every pending delivery at once.
    notify::resume_deliveries(*ctx_);
    run([&]() -> asio::awaitable<void> { co_await background_.join(); });
    ASSERT_EQ(dms().size(), 1u);
    EXPECT_NE(dms()[0].json.dump().find(gateways_.at(server.id).fake.clients().begin()->second.uuid),
              std::string::npos);
    EXPECT_EQ(posts_to(kBillingChannel).size(), 1u);
    // A start-up racing a reconciler run: the second finds nothing to do.
    notify::resume_deliveries(*ctx_);
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await jobs_->reconcile());
        co_await background_.join();
    });
    EXPECT_EQ(dms().size(), 1u);
    EXPECT_EQ(posts_to(kBillingChannel).size(), 1u);
}

TEST_P(JobsTest, DiscordDownForTheChannelAndTheDmIsRetriedLaterAndDeliveredOnce) {
    const auto server = make_server("de-1");
    const auto order = order_under_review(make_user(kAlice), make_plan());
    const auto channel = make_channel("order-1");
    EXPECT_TRUE(with_db([&](db::Connection& c) { return orders_->set_channel(c, order.id, channel); }));
    // Discord answers every message create with 503 (the REST client's own retries included).
    fake_->script("POST /channels/[0-9]+/messages",
                  fakes::discord::Scripted{503, {}, R"({"message":"down"})"}, 1000);
    run([&]() -> asio::awaitable<void> {
        auto done =
            co_await provisioner_->approve_and_fulfil(order.id, domain::DiscordId{700000000000000077ULL});
        EXPECT_TRUE(done.has_value());
        if (!done) co_return;
        auto outcome = co_await notify::deliver(*ctx_, *done, "Karim");
        EXPECT_FALSE(outcome.complete);
    });
    EXPECT_TRUE(distinct_messages(*fake_, "POST /channels/[0-9]+/messages").empty());
    auto pending = with_db([&](db::Connection& c) { return domain::deliveries::get(c, order.id); });
    ASSERT_TRUE(pending.has_value());
    EXPECT_FALSE(pending->complete());
    EXPECT_FALSE(pending->done(domain::DeliveryPart::channel));
    EXPECT_FALSE(pending->done(domain::DeliveryPart::dm));
    EXPECT_TRUE(pending->done(domain::DeliveryPart::role)) << "the role went through";
    EXPECT_EQ(pending->attempts, 1);
    ASSERT_TRUE(pending->last_error.has_value());
    EXPECT_GT(pending->next_attempt_at, now());

    // The reconciler runs while Discord is still down: another attempt, later again.
    clock_.advance(11min);
    run([&]() -> asio::awaitable<void> { EXPECT_FALSE(co_await jobs_->reconcile()); });
    pending = with_db([&](db::Connection& c) { return domain::deliveries::get(c, order.id); });
    EXPECT_EQ(pending->attempts, 2);
    EXPECT_TRUE(distinct_messages(*fake_, "POST /channels/[0-9]+/messages").empty());

    // Discord is back: the next due run delivers everything, once.
    fake_->clear_scripts();
    clock_.advance(11min);
    run([&]() -> asio::awaitable<void> {
        auto result = co_await jobs_->reconcile();
        EXPECT_TRUE(result) << result.error();
    });
    ASSERT_EQ(dms().size(), 1u);
    EXPECT_NE(dms()[0].json.dump().find("vless://"), std::string::npos);
    EXPECT_EQ(fake_->message_count(channel.value()), 3u);
    const auto billing = posts_to(kBillingChannel);
    ASSERT_EQ(billing.size(), 1u);
    EXPECT_NE(content_of(billing[0]).find("<@700000000000000077>"), std::string::npos)
        << "the retry names the admin who approved: " << content_of(billing[0]);
    EXPECT_TRUE(with_db([&](db::Connection& c) { return domain::deliveries::get(c, order.id); })->complete());
    clock_.advance(11min);
    run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await jobs_->reconcile()); });
    EXPECT_EQ(dms().size(), 1u);
    EXPECT_EQ(posts_to(kBillingChannel).size(), 1u);
}

// The answer to a delivered message is lost (a timeout, a crash before the stamp): the retry
// carries the same nonce, so Discord returns the message it made and the customer sees one.
TEST_P(JobsTest, ARetryAfterALostAnswerReusesTheNonceAndTheCustomerSeesOneMessage) {
    make_server("de-1");
    const auto order = order_under_review(make_user(kAlice), make_plan());
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(
            (co_await provisioner_->approve_and_fulfil(order.id, domain::DiscordId{700000000000000077ULL}))
                .has_value());
    });
    // The first delivery's DM reached Discord but its stamp was never written.
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(
            (co_await notify::deliver_order(*ctx_, order.id, std::nullopt, std::nullopt, false)).complete);
    });
    with_db([&](db::Connection& c) {
        return c.exec(
            "UPDATE order_deliveries SET dm_at = NULL, dm_message_id = NULL, completed_at = NULL WHERE "
            "order_id = ?",
            order.id);
    });
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(
            (co_await notify::deliver_order(*ctx_, order.id, std::nullopt, std::nullopt, false)).complete);
    });
    ASSERT_EQ(dms().size(), 2u) << "sent twice";
    EXPECT_EQ(dms()[0].json["nonce"], dms()[1].json["nonce"]);
    EXPECT_TRUE(dms()[0].json.value("enforce_nonce", false));
    EXPECT_EQ(distinct_messages(*fake_, "POST /channels/[0-9]+/messages").size(), 2u)
        << "one DM and one billing line exist";
}

TEST(DeliveryBackoff, DoublesFromTheBaseUpToTheCapWithJitterInTheUpperHalf) {
    using domain::deliveries::backoff;
    EXPECT_EQ(backoff(1, 1.0), 15s);
    EXPECT_EQ(backoff(1, 0.0), 8s);
    EXPECT_EQ(backoff(3, 1.0), 60s);
    EXPECT_EQ(backoff(12, 1.0), 600s) << "capped";
    EXPECT_EQ(backoff(1000, 0.0), 300s) << "capped, jittered";
    EXPECT_GE(backoff(2, 0.5), 22s);
}

NEBULA_INSTANTIATE_FOR_BACKENDS(JobsTest);

// ---- backup (SQLite; PostgreSQL is pg_dump's job) ----

using BackupTest = JobsTest;

std::string dump(const std::string& path) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    std::vector<std::string> tables;
    sqlite3_exec(
        db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        [](void* out, int, char** values, char**) {
            static_cast<std::vector<std::string>*>(out)->push_back(values[0]);
            return 0;
        },
        &tables, nullptr);
    std::string text;
    for (const auto& table : tables) {
        text += "## " + table + "\n";
        sqlite3_exec(
            db, ("SELECT * FROM \"" + table + "\" ORDER BY 1").c_str(),
            [](void* out, int n, char** values, char**) {
                auto& s = *static_cast<std::string*>(out);
                for (int i = 0; i < n; ++i) s += std::string(values[i] ? values[i] : "NULL") + "|";
                s += "\n";
                return 0;
            },
            &text, nullptr);
    }
    sqlite3_close(db);
    return text;
}

TEST_P(BackupTest, BackupRestoresToAnIdenticalDatabaseAndKeepsTheNewest) {
    const auto server = make_server("de-1");
    for (std::uint64_t i = 0; i < 20; ++i) make_account(make_user(kAlice + i), server, now() + 24h * (i + 1));
    config_.backup_keep = 2;
    jobs_ = make_jobs();
    for (int i = 0; i < 3; ++i) {
        run([&]() -> asio::awaitable<void> {
            auto result = co_await jobs_->backup();
            EXPECT_TRUE(result) << result.error();
        });
        clock_.advance(1s);
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(shop_.data_dir / "backups")) {
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    ASSERT_EQ(files.size(), 2u);
    const std::string live = dump(database_->url().sqlite_path);
    EXPECT_NE(live.find("nl-"), std::string::npos);
    EXPECT_EQ(dump(files.back().string()), live);
    // A restored copy is a working database for the bot.
    auto restored = db::open_connection(*db::parse_database_url("sqlite:" + files.back().string()));
    ASSERT_TRUE(restored);
    EXPECT_TRUE(db::check_schema(**restored).has_value());
}

// ---- backups that leave the machine ----

/// The archive in `bytes` opened with `passphrase` into a new file beside the test's data.
std::string opened_archive(const std::filesystem::path& dir, const std::string& bytes,
                           const std::string& passphrase,
                           db::BackupContent expected = db::BackupContent::sqlite_database) {
    const auto archive = dir / "received.nlbk";
    const auto restored = dir / "received.db";
    std::filesystem::remove(archive);
    std::filesystem::remove(restored);
    std::ofstream(archive, std::ios::binary) << bytes;
    auto content = db::open_backup(archive, restored, passphrase);
    EXPECT_TRUE(content) << content.error();
    if (content) {
        EXPECT_EQ(*content, expected);
    }
    return content ? restored.string() : "";
}

std::string file_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

constexpr const char* kPassphrase = "correct horse battery staple";

TEST_P(BackupTest, EncryptedBackupIsUploadedToTheBackupChannel) {
    const auto server = make_server("de-1");
    for (std::uint64_t i = 0; i < 5; ++i) make_account(make_user(kAlice + i), server, now() + 24h * (i + 1));
    const auto channel = make_channel("backups");
    config_.backup_channel = channel;
    config_.backup_passphrase = kPassphrase;
    config_.backup_cost = {10, 8, 1};
    jobs_ = make_jobs();
    run([&]() -> asio::awaitable<void> {
        auto result = co_await jobs_->backup();
        EXPECT_TRUE(result) << result.error();
        if (result) {
            EXPECT_THAT(*result, ::testing::HasSubstr("uploaded to the backup channel"));
        }
    });
    const auto posted = posts_to(channel.value());
    ASSERT_EQ(posted.size(), 1u);
    ASSERT_EQ(posted[0].files.size(), 1u);
    const auto& file = posted[0].files[0];
    EXPECT_THAT(file.filename, ::testing::MatchesRegex("bot-[0-9]{8}-[0-9]{6}\\.db\\.nlbk"));
    EXPECT_THAT(content_of(posted[0]), ::testing::HasSubstr("nebula-bot backup restore " + file.filename));
    EXPECT_EQ(file.data.find("nl-"), std::string::npos) << "the upload is encrypted";
    const std::string restored = opened_archive(shop_.data_dir, file.data, kPassphrase);
    EXPECT_EQ(dump(restored), dump(database_->url().sqlite_path));
    // Only the plain copy stays in the backups folder; the archive was sent and removed.
    int archives = 0;
    for (const auto& entry : std::filesystem::directory_iterator(shop_.data_dir / "backups")) {
        archives += entry.path().extension() == ".nlbk";
    }
    EXPECT_EQ(archives, 0);
}

TEST_P(BackupTest, TooLargeForDiscordTheAdminsAreTold) {
    make_user(kAlice);
    const auto channel = make_channel("backups");
    config_.backup_channel = channel;
    config_.backup_passphrase = kPassphrase;
    config_.backup_cost = {10, 8, 1};
    config_.backup_upload_limit = 100;  // bytes: any database is larger
    jobs_ = make_jobs();
    run([&]() -> asio::awaitable<void> {
        auto result = co_await jobs_->backup();
        EXPECT_TRUE(result) << result.error();
        if (result) {
            EXPECT_THAT(*result, ::testing::HasSubstr("too large to upload"));
        }
    });
    EXPECT_TRUE(posts_to(channel.value()).empty());
    const auto told = posts_to(kReviewChannel);
    ASSERT_EQ(told.size(), 1u);
    EXPECT_THAT(content_of(told[0]), ::testing::HasSubstr("was not uploaded"));
    EXPECT_THAT(content_of(told[0]), ::testing::HasSubstr((shop_.data_dir / "backups").string()));
    EXPECT_THAT(content_of(told[0]), ::testing::Not(::testing::HasSubstr(kPassphrase)));
}

TEST_P(BackupTest, BackupCommandGetsTheArchivesPath) {
    make_user(kAlice);
    const auto offsite = shop_.data_dir / "offsite";
    std::filesystem::create_directories(offsite);
    // The command sees the archive as "$1" and $NEBULA_BACKUP_FILE, and none of the bot's open
    // files beyond stdin, stdout and stderr (ls adds the one it reads /proc/self/fd through).
    config_.backup_command = "cp \"$1\" '" + offsite.string() +
                             "/' && test \"$NEBULA_BACKUP_FILE\" = \"$1\"" +
                             " && test \"$(ls /proc/self/fd | wc -l)\" -le 4";
    config_.backup_passphrase = kPassphrase;
    config_.backup_cost = {10, 8, 1};
    jobs_ = make_jobs();
    run([&]() -> asio::awaitable<void> {
        auto result = co_await jobs_->backup();
        EXPECT_TRUE(result) << result.error();
    });
    std::vector<std::filesystem::path> copied;
    for (const auto& entry : std::filesystem::directory_iterator(offsite)) copied.push_back(entry.path());
    ASSERT_EQ(copied.size(), 1u);
    EXPECT_EQ(copied[0].extension(), ".nlbk");
    const std::string restored = opened_archive(shop_.data_dir, file_text(copied[0]), kPassphrase);
    EXPECT_EQ(dump(restored), dump(database_->url().sqlite_path));

    // A failing command fails the job with its status; the local copy is still made.
    config_.backup_command = "echo 'no route to the backup host' >&2; exit 3";
    jobs_ = make_jobs();
    clock_.advance(1s);
    run([&]() -> asio::awaitable<void> {
        auto result = co_await jobs_->backup();
        EXPECT_FALSE(result);
        if (!result) {
            EXPECT_THAT(result.error(), ::testing::HasSubstr("BACKUP_COMMAND: /bin/sh exited with status 3"));
            EXPECT_THAT(result.error(), ::testing::HasSubstr("written "));
        }
    });
}

INSTANTIATE_TEST_SUITE_P(Sqlite, BackupTest, ::testing::Values(db::Backend::sqlite), backend_name);

// PostgreSQL: pg_dump in custom format (when installed), sealed and uploaded the same way.
using PostgresBackupTest = JobsTest;

TEST_P(PostgresBackupTest, PgDumpIsTakenSealedAndUploaded) {
    if (std::system("command -v pg_dump >/dev/null 2>&1") != 0) GTEST_SKIP() << "pg_dump is not installed";
    make_user(kAlice);
    // Another schema in the same database (another shop, another program) is not the shop's to
    // dump: it may be dropped while the dump runs.
    const std::string neighbour = "neighbour_" + std::to_string(::getpid());
    with_db([&](db::Connection& c) {
        c.exec("DROP SCHEMA IF EXISTS " + neighbour + " CASCADE");
        c.exec("CREATE SCHEMA " + neighbour);
        return c.exec("CREATE TABLE " + neighbour + ".not_the_shops (id integer)");
    });
    const auto channel = make_channel("backups");
    config_.backup_channel = channel;
    config_.backup_passphrase = kPassphrase;
    config_.backup_cost = {10, 8, 1};
    jobs_ = make_jobs();
    run([&]() -> asio::awaitable<void> {
        auto result = co_await jobs_->backup();
        EXPECT_TRUE(result) << result.error();
    });
    with_db([&](db::Connection& c) { return c.exec("DROP SCHEMA " + neighbour + " CASCADE"); });
    std::vector<std::filesystem::path> dumps;
    for (const auto& entry : std::filesystem::directory_iterator(shop_.data_dir / "backups")) {
        dumps.push_back(entry.path());
    }
    ASSERT_EQ(dumps.size(), 1u);
    EXPECT_EQ(dumps[0].extension(), ".dump");
    EXPECT_EQ(file_text(dumps[0]).substr(0, 5), "PGDMP") << "pg_dump's custom format";
    if (std::system("command -v pg_restore >/dev/null 2>&1") == 0) {
        const auto listing = shop_.data_dir / "listing.txt";
        ASSERT_EQ(std::system(
                      ("pg_restore --list '" + dumps[0].string() + "' >'" + listing.string() + "'").c_str()),
                  0);
        const std::string listed = file_text(listing);
        EXPECT_THAT(listed, ::testing::HasSubstr(" users "));
        EXPECT_EQ(listed.find("not_the_shops"), std::string::npos) << "the dump holds another schema's table";
    }
    const auto posted = posts_to(channel.value());
    ASSERT_EQ(posted.size(), 1u);
    ASSERT_EQ(posted[0].files.size(), 1u);
    const std::string restored = opened_archive(shop_.data_dir, posted[0].files[0].data, kPassphrase,
                                                db::BackupContent::postgres_dump);
    EXPECT_TRUE(file_text(restored) == file_text(dumps[0]));

    // Without pg_dump the job fails clearly when the backup should leave the machine, and is
    // skipped, saying what to install, when not.
    config_.pg_dump = "/nonexistent/pg_dump";
    jobs_ = make_jobs();
    clock_.advance(1s);
    run([&]() -> asio::awaitable<void> {
        auto result = co_await jobs_->backup();
        EXPECT_FALSE(result);
        if (!result) {
            EXPECT_THAT(result.error(), ::testing::HasSubstr("/nonexistent/pg_dump is not installed"));
        }
    });
    config_.backup_channel.reset();
    jobs_ = make_jobs();
    run([&]() -> asio::awaitable<void> {
        auto result = co_await jobs_->backup();
        EXPECT_TRUE(result);
        if (result) {
            EXPECT_THAT(*result, ::testing::HasSubstr("skipped: /nonexistent/pg_dump is not installed"));
        }
    });
}

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresBackupTest, ::testing::Values(db::Backend::postgres),
                         backend_name);

}  // namespace
}  // namespace nebula::bot::testing
