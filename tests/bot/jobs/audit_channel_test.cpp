// The audit-channel job: the audit outbox posted to AUDIT_CHANNEL_ID in order, across failures
// and restarts, without duplicates.
#include <set>

#include <gtest/gtest.h>

#include "bot/domain/audit.hpp"
#include "bot/domain/usage_history.hpp"
#include "jobs_fixture.hpp"

namespace nebula::bot::testing {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::uint64_t kAuditChannel = 100000000000000050ULL;
const domain::DiscordId kAdmin{100000000000000001ULL};

class AuditChannelJobTest : public JobsTest {
  protected:
    void SetUp() override {
        JobsTest::SetUp();
        if (HasFatalFailure()) return;
        config_.audit_channel = discord::Snowflake(kAuditChannel);
        config_.audit_channel_batch = 50;
        jobs_ = make_jobs();
        // What the bot does at start-up with AUDIT_CHANNEL_ID set.
        with_db([&](db::Connection& c) {
            domain::set_audit_channel(c, domain::DiscordId{kAuditChannel}, now());
        });
    }

    /// An admin renames plans: one audit entry each, in this order.
    std::vector<std::int64_t> admin_renames(int count) {
        const auto plan = make_plan();
        std::vector<std::int64_t> ids;
        with_db([&](db::Connection& c) {
            c.exec("DELETE FROM audit_outbox");  // the plan's creation by the fixture
            for (int i = 0; i < count; ++i) {
                domain::PlanInput update{"Plan v" + std::to_string(i + 1),   30, 100LL << 30, 2,
                                         domain::Piasters::from_pounds(150), 0,  ""};
                auto updated = catalog_.update_plan(c, kAdmin, plan, update);
                EXPECT_TRUE(updated.has_value());
                ids.push_back(*c.scalar<std::int64_t>("SELECT MAX(id) FROM audit_logs"));
            }
        });
        return ids;
    }

    jobs::JobResult post_lines() {
        jobs::JobResult result = common::unexpected(std::string("not run"));
        run([&]() -> asio::awaitable<void> { result = co_await jobs_->post_audit_channel(); });
        return result;
    }

    /// The channel's lines, as Discord holds them (a repeat answered from its nonce record is the
    /// same message), in the order they were created.
    std::vector<std::string> channel_lines() {
        std::vector<std::string> lines;
        std::set<std::string> seen;
        for (const auto& r : posts_to(kAuditChannel)) {
            const auto id = nlohmann::json::parse(r.response_body).value("id", "");
            if (seen.insert(id).second) lines.push_back(r.json.value("content", std::string()));
        }
        return lines;
    }
    std::int64_t queued() {
        return with_db([](db::Connection& c) { return domain::audit_outbox_size(c); });
    }
};

TEST_P(AuditChannelJobTest, EachEntryIsPostedOnceInOrderAsOneLine) {
    const auto ids = admin_renames(3);
    const auto result = post_lines();
    ASSERT_TRUE(result) << result.error();
    EXPECT_EQ(*result, "3 audit line(s) posted");
    const auto lines = channel_lines();
    ASSERT_EQ(lines.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        SCOPED_TRACE(lines[static_cast<std::size_t>(i)]);
        EXPECT_NE(lines[static_cast<std::size_t>(i)].find("<@" + kAdmin.str() + "> `plan.updated` plan #"),
                  std::string::npos);
        EXPECT_NE(lines[static_cast<std::size_t>(i)].find("\"Plan v" + std::to_string(i + 1) + "\""),
                  std::string::npos);
    }
    EXPECT_EQ(posts_to(kAuditChannel)[0].json.value("nonce", ""), "audit-" + std::to_string(ids[0]));
    EXPECT_EQ(queued(), 0);
    // Nothing left: the next run posts nothing.
    EXPECT_EQ(*post_lines(), "0 audit line(s) posted");
    EXPECT_EQ(channel_lines().size(), 3u);
}

TEST_P(AuditChannelJobTest, AFailureStopsTheRunAndTheNextRunResumesInOrder) {
    admin_renames(4);
    // A run that posts two lines at most, then one where Discord refuses the third (missing
    // permissions, say): the run stops there.
    config_.audit_channel_batch = 2;
    jobs_ = make_jobs();
    ASSERT_TRUE(post_lines());
    EXPECT_EQ(queued(), 2);
    fake_->script("POST /channels/" + std::to_string(kAuditChannel) + "/messages",
                  {403, {}, R"({"message": "Missing Permissions", "code": 50013})", false});
    const auto failed = post_lines();
    ASSERT_FALSE(failed);
    EXPECT_NE(failed.error().find("0 audit line(s) posted"), std::string::npos) << failed.error();
    EXPECT_EQ(queued(), 2);

    // A restart: a new Jobs over the same database goes on from the oldest entry left.
    config_.audit_channel_batch = 50;
    jobs_ = make_jobs();
    const auto resumed = post_lines();
    ASSERT_TRUE(resumed) << resumed.error();
    const auto lines = channel_lines();
    ASSERT_EQ(lines.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i)
        EXPECT_NE(lines[i].find("\"Plan v" + std::to_string(i + 1) + "\""), std::string::npos) << lines[i];
    EXPECT_EQ(queued(), 0);
}

TEST_P(AuditChannelJobTest, ALinePostedJustBeforeACrashIsNotPostedAgain) {
    const auto ids = admin_renames(2);
    // The bot posted the first line and died before it could delete its outbox row.
    run([&]() -> asio::awaitable<void> {
        discord::MessagePayload payload;
        payload.content = "first line";
        payload.nonce = "audit-" + std::to_string(ids[0]);
        auto sent = co_await ctx_->rest.create_message(discord::Snowflake(kAuditChannel), std::move(payload));
        EXPECT_TRUE(sent);
    });
    EXPECT_EQ(queued(), 2);
    jobs_ = make_jobs();
    ASSERT_TRUE(post_lines());
    EXPECT_EQ(fake_->message_count(kAuditChannel), 2u) << "Discord's nonce check returned the first message";
    EXPECT_EQ(queued(), 0);
}

TEST_P(AuditChannelJobTest, ARateLimitIsWaitedOutAndNothingIsLost) {
    admin_renames(2);
    fake_->script("POST /channels/" + std::to_string(kAuditChannel) + "/messages",
                  {429,
                   {{"Retry-After", "0"}, {"X-RateLimit-Scope", "user"}},
                   R"({"message": "You are being rate limited.", "retry_after": 0.01, "global": false})",
                   false});
    const auto result = post_lines();
    ASSERT_TRUE(result) << result.error();
    EXPECT_EQ(channel_lines().size(), 2u);
    EXPECT_EQ(queued(), 0);
    int limited = 0;
    for (const auto& r :
         fake_->requests_matching("POST /channels/" + std::to_string(kAuditChannel) + "/messages"))
        limited += r.status == 429;
    EXPECT_EQ(limited, 1) << "Discord said 429 once, and the line was sent again";
}

TEST_P(AuditChannelJobTest, WithoutAnAuditChannelNothingIsQueuedOrPosted) {
    config_.audit_channel.reset();
    jobs_ = make_jobs();
    with_db([&](db::Connection& c) { domain::set_audit_channel(c, std::nullopt, now()); });
    admin_renames(2);
    EXPECT_EQ(queued(), 0);
    EXPECT_EQ(*post_lines(), "no audit channel");
    EXPECT_TRUE(posts_to(kAuditChannel).empty());
}

TEST_P(AuditChannelJobTest, TheTrafficJobKeepsADailyUsageHistory) {
    const auto server = make_server("de-1");
    const auto account = make_account(make_user(500000000000000011ULL), server, now() + 240h);
    auto& panel = gateways_.at(server.id).fake;
    panel.set_usage(account.client_email, 300, 700);
    run([&]() -> asio::awaitable<void> { co_await jobs_->monitor_traffic(); });
    clock_.advance(24h);
    panel.set_usage(account.client_email, 400, 900);
    run([&]() -> asio::awaitable<void> { co_await jobs_->monitor_traffic(); });
    // Two days later the panel's counter was reset (a renewal) and 50 bytes used since.
    clock_.advance(48h);
    panel.set_usage(account.client_email, 20, 30);
    run([&]() -> asio::awaitable<void> { co_await jobs_->monitor_traffic(); });
    const auto days = with_db([&](db::Connection& c) {
        return domain::usage_history::days(c, account.id, "2000-01-01", "2999-12-31");
    });
    ASSERT_EQ(days.size(), 3u);
    EXPECT_EQ(days[0].used_bytes, 1000);
    EXPECT_EQ(days[1].used_bytes, 300);
    EXPECT_EQ(days[2].used_bytes, 50);
    // Rows older than 90 days are pruned by a later run.
    clock_.advance(24h * 95);
    run([&]() -> asio::awaitable<void> { co_await jobs_->monitor_traffic(); });
    const auto kept = with_db([&](db::Connection& c) {
        return domain::usage_history::days(c, account.id, "2000-01-01", "2999-12-31");
    });
    ASSERT_EQ(kept.size(), 1u);
}

NEBULA_INSTANTIATE_FOR_BACKENDS(AuditChannelJobTest);

}  // namespace
}  // namespace nebula::bot::testing
