// The REST client's waits on virtual time: a ManualClock with the manual Sleeper and a scripted
// transport, so minute-long rate-limit windows are verified without sleeping.
#include <gtest/gtest.h>

#include <deque>

#include "discord/rest.hpp"
#include "discord/test_support.hpp"

namespace nebula::discord {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class ScriptedTransport final : public RestTransport {
  public:
    struct Sent {
        std::chrono::steady_clock::time_point at;
        common::http::Request request;
    };
    ScriptedTransport(common::ManualClock& clock, std::deque<common::http::Response>& responses,
                      std::vector<Sent>& sent)
        : clock_(clock), responses_(responses), sent_(sent) {}

    asio::awaitable<common::Result<common::http::Response, common::http::ClientError>> send(
        const common::http::Url&, common::http::Request request, std::chrono::milliseconds) override {
        sent_.push_back(Sent{clock_.steady_now(), std::move(request)});
        if (responses_.empty()) {
            common::http::Response ok;
            ok.body = R"({"id": "1", "username": "nebula"})";
            co_return ok;
        }
        common::http::Response next = std::move(responses_.front());
        responses_.pop_front();
        co_return next;
    }

  private:
    common::ManualClock& clock_;
    std::deque<common::http::Response>& responses_;
    std::vector<Sent>& sent_;
};

common::http::Response respond(int status, std::vector<std::pair<std::string, std::string>> headers,
                               std::string body = "{}") {
    common::http::Response r;
    r.status = status;
    for (auto& [k, v] : headers) r.headers.set(k, v);
    r.body = std::move(body);
    return r;
}

class VirtualTimeTest : public ::testing::Test {
  protected:
    asio::io_context io;
    common::ManualClock clock;
    std::deque<common::http::Response> responses;
    std::vector<ScriptedTransport::Sent> sent;
    std::unique_ptr<RestClient> rest;

    void make(std::function<void(RestOptions&)> tweak = {}) {
        RestOptions options;
        options.api_base = "https://discord.test/api/v10";
        options.token = "t";
        if (tweak) tweak(options);
        auto created = RestClient::create(io.get_executor(), options, clock,
                                          common::make_manual_sleeper(io.get_executor(), clock),
                                          std::make_unique<ScriptedTransport>(clock, responses, sent));
        ASSERT_TRUE(created) << created.error();
        rest = std::move(*created);
    }
    void SetUp() override { make(); }
    void run(std::function<asio::awaitable<void>()> body) {
        testing::run(io, std::move(body), std::chrono::seconds(10));
    }
};

TEST_F(VirtualTimeTest, ThirtySecondRetryAfterIsHonouredWithoutSleeping) {
    responses.push_back(
        respond(429, {{"X-RateLimit-Scope", "user"}}, R"({"retry_after": 30.5, "global": false})"));
    const auto real_start = std::chrono::steady_clock::now();
    run([&]() -> asio::awaitable<void> {
        auto me = co_await rest->get_current_user();
        EXPECT_TRUE(me) << me.error().describe();
    });
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_GE(sent[1].at - sent[0].at, 30'500ms);
    EXPECT_LT(sent[1].at - sent[0].at, 31'000ms);
    EXPECT_LT(std::chrono::steady_clock::now() - real_start, 2s);
    EXPECT_EQ(sent[0].request.target, "/api/v10/users/@me");
    EXPECT_EQ(sent[0].request.headers.find("Authorization"), "Bot t");
}

TEST_F(VirtualTimeTest, ExhaustedBucketWaitsAMinuteBeforeTheNextRequest) {
    responses.push_back(respond(200,
                                {{"X-RateLimit-Limit", "1"},
                                 {"X-RateLimit-Remaining", "0"},
                                 {"X-RateLimit-Reset-After", "60"},
                                 {"X-RateLimit-Bucket", "b"}},
                                R"({"id": "1"})"));
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await rest->request("GET", "/guilds/1/members/2"));
        EXPECT_TRUE(co_await rest->request("GET", "/guilds/1/members/3"));  // same queue (guild 1)
        EXPECT_TRUE(co_await rest->request("GET", "/guilds/9/members/3"));  // another guild: no wait
    });
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_GE(sent[1].at - sent[0].at, 60'050ms);
    EXPECT_EQ(sent[2].at, sent[1].at);
}

TEST_F(VirtualTimeTest, GlobalLimitKeepsEveryOneSecondWindowAtFifty) {
    run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < 175; ++i) {
            EXPECT_TRUE(co_await rest->request("GET", "/guilds/" + std::to_string(i) + "/members/1"));
        }
    });
    ASSERT_EQ(sent.size(), 175u);
    for (std::size_t i = 0; i + 50 < sent.size(); ++i) EXPECT_GE(sent[i + 50].at - sent[i].at, 1s) << i;
    EXPECT_GE(sent.back().at - sent.front().at, 3s);
}

TEST_F(VirtualTimeTest, ServerErrorRetriesBackOffWithinTheCap) {
    make([](RestOptions& o) {
        o.retry_base = 500ms;
        o.retry_cap = 1500ms;
    });
    for (int i = 0; i < 3; ++i) responses.push_back(respond(502, {}));
    run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await rest->get_current_user()); });
    ASSERT_EQ(sent.size(), 4u);
    const std::chrono::milliseconds ceilings[] = {500ms, 1000ms, 1500ms};
    for (std::size_t i = 1; i < sent.size(); ++i) {
        const auto gap = sent[i].at - sent[i - 1].at;
        EXPECT_GE(gap, ceilings[i - 1] / 2) << i;  // jitter keeps at least half
        EXPECT_LE(gap, ceilings[i - 1]) << i;
    }
}

TEST_F(VirtualTimeTest, GivesUpAfterTheRetryBudget) {
    for (int i = 0; i < 10; ++i) responses.push_back(respond(503, {}, R"({"message": "down", "code": 0})"));
    run([&]() -> asio::awaitable<void> {
        auto r = co_await rest->get_current_user();
        EXPECT_FALSE(r);
        EXPECT_EQ(r.error().code, RestErrorCode::server);
        EXPECT_EQ(r.error().status, 503);
    });
    EXPECT_EQ(sent.size(), 4u);  // one try and three retries
}

TEST_F(VirtualTimeTest, InvalidRequestBudgetRefusesBeforeSending) {
    make([](RestOptions& o) {
        o.rate_limits.invalid_soft_limit = 2;
        o.rate_limits.invalid_hard_limit = 3;
    });
    for (int i = 0; i < 3; ++i)
        responses.push_back(respond(403, {}, R"({"message": "Missing Access", "code": 50001})"));
    run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i) {
            auto r = co_await rest->request("GET", "/guilds/1/members/" + std::to_string(i));
            EXPECT_EQ(r.error().discord_code, 50001);
        }
        auto refused = co_await rest->request("GET", "/guilds/1/members/9");
        EXPECT_EQ(refused.error().code, RestErrorCode::invalid_budget);
    });
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_GE(sent[2].at - sent[1].at, 1s);  // slowed down past the soft limit
}

}  // namespace
}  // namespace nebula::discord
