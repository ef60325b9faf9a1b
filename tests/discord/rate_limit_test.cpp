#include "discord/rate_limit.hpp"

#include <gtest/gtest.h>

namespace nebula::discord {
namespace {

using namespace std::chrono_literals;

common::http::Response response(int status, std::vector<std::pair<std::string, std::string>> headers,
                                std::string body = {}) {
    common::http::Response r;
    r.status = status;
    for (auto& [k, v] : headers) r.headers.set(k, v);
    r.body = std::move(body);
    return r;
}

TEST(RouteKey, IdsBecomePlaceholdersAndMajorParameterSplitsQueues) {
    auto key = route_key("POST", "/channels/123/messages");
    EXPECT_EQ(key.route, "POST /channels/:id/messages");
    EXPECT_EQ(key.major, "channels/123");
    EXPECT_FALSE(key.global_exempt);
    key = route_key("PATCH", "/channels/123/messages/456?x=1");
    EXPECT_EQ(key.route, "PATCH /channels/:id/messages/:id");
    key = route_key("PUT", "/guilds/1/members/2/roles/3");
    EXPECT_EQ(key.route, "PUT /guilds/:id/members/:id/roles/:id");
    EXPECT_EQ(key.major, "guilds/1");
    key = route_key("POST", "/interactions/55/tok.en/callback");
    EXPECT_EQ(key.route, "POST /interactions/:id/:token/callback");
    EXPECT_EQ(key.major, "interactions/55/tok.en");
    EXPECT_TRUE(key.global_exempt);
    key = route_key("PATCH", "/webhooks/9/abc/messages/@original");
    EXPECT_EQ(key.route, "PATCH /webhooks/:id/:token/messages/@original");
    EXPECT_TRUE(key.global_exempt);
    key = route_key("PUT", "/channels/1/messages/2/reactions/%F0%9F%91%8D/@me");
    EXPECT_EQ(key.route, "PUT /channels/:id/messages/:id/reactions/:reaction");
    EXPECT_EQ(route_key("GET", "/users/@me").major, "");
}

TEST(RateLimitInfo, ParsesHeadersAndBody) {
    auto info = RateLimitInfo::from(response(200, {{"X-RateLimit-Limit", "5"},
                                                   {"X-RateLimit-Remaining", "0"},
                                                   {"X-RateLimit-Reset-After", "1.337"},
                                                   {"X-RateLimit-Bucket", "abcd"}}));
    EXPECT_EQ(info.limit, 5);
    EXPECT_EQ(info.remaining, 0);
    EXPECT_DOUBLE_EQ(*info.reset_after, 1.337);
    EXPECT_EQ(info.bucket, "abcd");
    info = RateLimitInfo::from(response(429, {{"Retry-After", "2"}, {"X-RateLimit-Scope", "shared"}},
                                        R"({"message": "slow", "retry_after": 0.8, "global": true})"));
    EXPECT_DOUBLE_EQ(*info.retry_after, 0.8);
    EXPECT_TRUE(info.global);
    EXPECT_EQ(info.scope, "shared");
    info = RateLimitInfo::from(
        response(429, {{"X-RateLimit-Remaining", "-3"}, {"X-RateLimit-Reset-After", "nan"}}, "{not json"));
    EXPECT_FALSE(info.remaining);
    EXPECT_FALSE(info.reset_after);
    EXPECT_FALSE(info.retry_after);
}

class RateLimiterTest : public ::testing::Test {
  protected:
    common::ManualClock clock;
    RateLimiter limiter{clock, RateLimiterOptions{}};
    const RouteKey messages_a = route_key("POST", "/channels/1/messages");
    const RouteKey messages_b = route_key("POST", "/channels/2/messages");

    void answer(const RouteKey& key, int status, std::vector<std::pair<std::string, std::string>> headers,
                std::string body = {}) {
        limiter.on_send(key);
        limiter.on_response(key, status,
                            RateLimitInfo::from(response(status, std::move(headers), std::move(body))));
    }
};

TEST_F(RateLimiterTest, WaitsPreemptivelyWhenRemainingIsZeroUntilFractionalReset) {
    EXPECT_LE(limiter.ready_at(messages_a), clock.steady_now());
    answer(messages_a, 200,
           {{"X-RateLimit-Limit", "5"},
            {"X-RateLimit-Remaining", "0"},
            {"X-RateLimit-Reset-After", "1.5"},
            {"X-RateLimit-Bucket", "msg"}});
    EXPECT_EQ(limiter.ready_at(messages_a) - clock.steady_now(), 1500ms + 50ms);
    // Another channel is a different queue of the same bucket: unaffected.
    EXPECT_LE(limiter.ready_at(messages_b), clock.steady_now());
    clock.advance(1550ms);
    EXPECT_LE(limiter.ready_at(messages_a), clock.steady_now());
}

TEST_F(RateLimiterTest, SendingDecrementsTheLearntRemaining) {
    answer(messages_a, 200,
           {{"X-RateLimit-Limit", "2"},
            {"X-RateLimit-Remaining", "1"},
            {"X-RateLimit-Reset-After", "1"},
            {"X-RateLimit-Bucket", "msg"}});
    limiter.on_send(messages_a);  // uses the last one before the response arrives
    EXPECT_EQ(limiter.ready_at(messages_a) - clock.steady_now(), 1050ms);
    clock.advance(2s);  // the window passed: the limit is restored
    limiter.on_send(messages_a);
    EXPECT_LE(limiter.ready_at(messages_a), clock.steady_now());
}

TEST_F(RateLimiterTest, RoutesSharingABucketHashShareOneQueue) {
    const RouteKey edit = route_key("PATCH", "/channels/1/messages/9");
    EXPECT_NE(limiter.queue_id(messages_a), limiter.queue_id(edit));
    answer(messages_a, 200, {{"X-RateLimit-Bucket", "shared"}, {"X-RateLimit-Remaining", "3"}});
    answer(
        edit, 200,
        {{"X-RateLimit-Bucket", "shared"}, {"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset-After", "2"}});
    EXPECT_EQ(limiter.queue_id(messages_a), limiter.queue_id(edit));
    EXPECT_EQ(limiter.ready_at(messages_a) - clock.steady_now(), 2050ms);
    EXPECT_EQ(limiter.stats().known_buckets, 2u);
}

TEST_F(RateLimiterTest, GlobalLimitOfFiftyPerSecondExemptsInteractions) {
    for (int i = 0; i < 50; ++i) {
        ASSERT_LE(limiter.ready_at(messages_a), clock.steady_now()) << i;
        limiter.on_send(route_key("GET", "/guilds/" + std::to_string(i) + "/members/1"));
        clock.advance(10ms);
    }
    // 50 sent in the last 500 ms: the 51st waits until the first leaves the 1 s window.
    EXPECT_EQ(limiter.ready_at(messages_a) - clock.steady_now(), 500ms);
    const RouteKey callback = route_key("POST", "/interactions/1/t/callback");
    EXPECT_LE(limiter.ready_at(callback), clock.steady_now());
}

TEST_F(RateLimiterTest, GlobalFourTwentyNinePausesEveryQueueButInteractions) {
    answer(messages_a, 429, {{"X-RateLimit-Global", "true"}, {"Retry-After", "2"}},
           R"({"retry_after": 2.0, "global": true})");
    EXPECT_EQ(limiter.ready_at(messages_b) - clock.steady_now(), 2000ms);
    EXPECT_EQ(limiter.ready_at(route_key("GET", "/users/@me")) - clock.steady_now(), 2000ms);
    EXPECT_LE(limiter.ready_at(route_key("POST", "/interactions/1/t/callback")), clock.steady_now());
    EXPECT_LE(limiter.ready_at(route_key("PATCH", "/webhooks/1/t/messages/@original")), clock.steady_now());
    EXPECT_EQ(limiter.stats().global_rate_limited, 1u);
}

TEST_F(RateLimiterTest, RouteFourTwentyNineDelaysOnlyThatQueueAndCountsAsInvalid) {
    answer(messages_a, 429, {{"X-RateLimit-Scope", "user"}}, R"({"retry_after": 0.8, "global": false})");
    EXPECT_EQ(limiter.ready_at(messages_a) - clock.steady_now(), 800ms + 50ms);
    EXPECT_LE(limiter.ready_at(messages_b), clock.steady_now());
    EXPECT_EQ(limiter.stats().invalid_requests, 1u);
    answer(messages_b, 429, {{"X-RateLimit-Scope", "shared"}}, R"({"retry_after": 0.1})");
    EXPECT_EQ(limiter.stats().invalid_requests, 1u);  // shared limits do not count
    EXPECT_EQ(limiter.stats().rate_limited, 2u);
}

TEST(RateLimiterBudget, SlowsDownThenRefusesLongBeforeDiscordsBan) {
    common::ManualClock clock;
    RateLimiterOptions options;
    options.invalid_soft_limit = 3;
    options.invalid_hard_limit = 5;
    RateLimiter limiter(clock, options);
    const RouteKey key = route_key("GET", "/guilds/1/members/2");
    for (int i = 0; i < 3; ++i) limiter.on_response(key, 403, {});
    EXPECT_EQ(limiter.ready_at(key) - clock.steady_now(), 1000ms);
    EXPECT_FALSE(limiter.invalid_budget_exhausted());
    limiter.on_response(key, 401, {});
    limiter.on_response(key, 404, {});  // not an invalid request
    EXPECT_FALSE(limiter.invalid_budget_exhausted());
    limiter.on_response(key, 403, {});
    EXPECT_TRUE(limiter.invalid_budget_exhausted());
    clock.advance(10min);
    EXPECT_FALSE(limiter.invalid_budget_exhausted());
    EXPECT_EQ(limiter.stats().invalid_requests, 0u);
}

}  // namespace
}  // namespace nebula::discord
