// The fake Discord's control API that the local demo drives over HTTP: a file uploaded to the CDN
// route is what the bot's REST client downloads, files the bot uploads are served back, and the
// request log can be followed with a long poll; the invite link opened joins the bot to a server.
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/http_client.hpp"
#include "discord/rest.hpp"
#include "discord/test_support.hpp"
#include "fakes/discord/fake_discord.hpp"

namespace nebula::fakes::discord {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;

class FakeDiscordControl : public ::testing::Test {
  protected:
    void SetUp() override {
        auto created = FakeDiscord::create(io_.get_executor());
        ASSERT_TRUE(created) << created.error();
        fake_ = std::move(*created);
        common::http::ClientOptions options;
        options.base = *common::http::Url::parse("http://127.0.0.1:" + std::to_string(fake_->http_port()));
        options.request_timeout = 10s;
        auto client = common::http::Client::create(io_.get_executor(), options);
        ASSERT_TRUE(client) << client.error();
        client_ = std::move(*client);
        nebula::discord::RestOptions rest_options;
        rest_options.api_base = fake_->api_base();
        rest_options.token = fake_->options().token;
        rest_options.cdn_hosts = {"127.0.0.1"};
        rest_options.request_timeout = 5000ms;
        auto rest = nebula::discord::RestClient::create(io_.get_executor(), rest_options, clock_);
        ASSERT_TRUE(rest) << rest.error();
        rest_ = std::move(*rest);
    }

    void TearDown() override {
        rest_.reset();
        client_.reset();
        bool stopped = false;
        fake_->stop([&] { stopped = true; });
        nebula::discord::testing::drain_until(io_, stopped);
    }

    asio::awaitable<common::http::Response> send(std::string method, std::string target,
                                                 std::string body = {},
                                                 std::string content_type = "application/json") {
        common::http::Request request;
        request.method = std::move(method);
        request.target = std::move(target);
        if (!body.empty()) request.headers.set("Content-Type", std::move(content_type));
        request.body = std::move(body);
        auto response = co_await client_->send(std::move(request));
        if (!response) throw std::runtime_error(response.error().message);
        co_return *response;
    }

    void run(std::function<asio::awaitable<void>()> body) {
        nebula::discord::testing::run(io_, std::move(body));
    }

    asio::io_context io_;
    common::SystemClock clock_;
    std::unique_ptr<FakeDiscord> fake_;
    std::unique_ptr<common::http::Client> client_;
    std::unique_ptr<nebula::discord::RestClient> rest_;
};

TEST_F(FakeDiscordControl, UploadedFileIsWhatTheBotsRestClientDownloads) {
    const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(3000, '\0') + "end";
    run([&]() -> asio::awaitable<void> {
        const auto put = co_await send("PUT", "/_fake/cdn/attachments/5/6/receipt.png", png, "image/png");
        EXPECT_EQ(put.status, 200) << put.body;
        const json answer = json::parse(put.body);
        EXPECT_EQ(answer["url"], fake_->cdn_base() + "/attachments/5/6/receipt.png");
        EXPECT_EQ(answer["size"], png.size());

        const std::vector<std::string> images{"image/png", "image/jpeg"};
        auto downloaded =
            co_await rest_->download(answer["url"].get<std::string>() + "?ex=1", 8 << 20, images);
        EXPECT_TRUE(downloaded) << downloaded.error().describe();
        if (downloaded) {
            EXPECT_TRUE(downloaded->data == png);
            EXPECT_EQ(downloaded->content_type, "image/png");
        }
        const auto missing = co_await send("GET", "/cdn/attachments/5/6/other.png");
        EXPECT_EQ(missing.status, 404);
        const auto no_path = co_await send("PUT", "/_fake/cdn/", "x", "text/plain");
        EXPECT_EQ(no_path.status, 400);
    });
}

TEST_F(FakeDiscordControl, FilesTheBotUploadsAreServedAndListed) {
    run([&]() -> asio::awaitable<void> {
        nebula::discord::MessagePayload payload;
        payload.content = "your config";
        payload.files.push_back({"qr.png", "image/png", "PNGDATA", ""});
        auto posted = co_await rest_->create_message(nebula::discord::Snowflake(77), payload);
        EXPECT_TRUE(posted) << posted.error().describe();
        if (!posted) co_return;
        EXPECT_EQ(posted->attachments.size(), 1u);

        const auto listed = co_await send("GET", "/_fake/requests?since=0");
        const json requests = json::parse(listed.body);
        EXPECT_EQ(requests.size(), 1u);
        const json& r = requests.at(0);
        EXPECT_EQ(r["route"], "POST /channels/:id/messages");
        EXPECT_EQ(r["status"], 200);
        EXPECT_EQ(r["body"]["content"], "your config");
        EXPECT_EQ(r["response"]["attachments"][0]["url"], r["files"][0]["url"]);
        EXPECT_EQ(r["files"][0]["filename"], "qr.png");
        EXPECT_EQ(r["files"][0]["size"], 7);
        const std::string url = r["files"][0]["url"];
        EXPECT_EQ(url.rfind(fake_->cdn_base() + "/attachments/77/", 0), 0u) << url;
        const auto file = co_await send("GET", url.substr(url.find("/cdn/")));
        EXPECT_EQ(file.status, 200);
        EXPECT_EQ(file.body, "PNGDATA");
        EXPECT_EQ(file.headers.find("Content-Type").value_or(""), "image/png");

        const auto later = co_await send("GET", "/_fake/requests?since=1");
        EXPECT_EQ(later.body, "[]");
    });
}

TEST_F(FakeDiscordControl, LongPollAnswersOnceANewRequestIsAnswered) {
    run([&]() -> asio::awaitable<void> {
        const auto started = std::chrono::steady_clock::now();
        // The poll is parked first; the REST call it waits for goes out while it waits.
        bool posted = false;
        asio::co_spawn(
            io_,
            [&]() -> asio::awaitable<void> {
                nebula::discord::MessagePayload payload;
                payload.content = "hello";
                auto r = co_await rest_->create_message(nebula::discord::Snowflake(78), payload);
                posted = r.has_value();
            },
            asio::detached);
        const auto polled = co_await send("GET", "/_fake/requests?since=0&wait_ms=20000");
        const json requests = json::parse(polled.body);
        EXPECT_EQ(requests.size(), 1u);
        EXPECT_EQ(requests.at(0)["body"]["content"], "hello");
        EXPECT_NE(requests.at(0)["status"], 0);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);

        // Nothing new: the poll ends at its wait, with nothing.
        const auto empty = co_await send("GET", "/_fake/requests?since=1&wait_ms=50");
        EXPECT_EQ(empty.body, "[]");
        EXPECT_EQ((co_await send("GET", "/_fake/requests?since=x")).status, 400);
        EXPECT_TRUE(posted);
    });
}

TEST_F(FakeDiscordControl, MembersAndInteractionsFromTheControlApi) {
    run([&]() -> asio::awaitable<void> {
        const auto member =
            co_await send("POST", "/_fake/member", R"({"user":"830000000000000001","roles":["5"]})");
        EXPECT_EQ(member.status, 200);
        const auto* roles = fake_->member_roles(800000000000000001ULL, 830000000000000001ULL);
        EXPECT_TRUE(roles != nullptr && *roles == std::vector<std::uint64_t>{5});

        const auto injected = co_await send(
            "POST", "/_fake/interaction",
            R"({"type":3,"user":"830000000000000001","channel":"42","locale":"ar","data":{"custom_id":"panel:buy","component_type":2}})");
        EXPECT_EQ(injected.status, 200) << injected.body;
        const json interaction = json::parse(injected.body);
        EXPECT_EQ(interaction["channel_id"], "42");
        EXPECT_EQ(interaction["locale"], "ar");
        EXPECT_EQ(interaction["data"]["custom_id"], "panel:buy");

        // No client has identified: the session is empty once the short wait is over.
        const json session = json::parse((co_await send("GET", "/_fake/gateway?wait_ms=20")).body);
        EXPECT_EQ(session["session_id"], "");
        EXPECT_EQ((co_await send("POST", "/_fake/member", R"({"roles":[]})")).status, 400);
    });
}

// What the demo's owner does with the invite link: the bot joins a new server they own, with
// the permissions the link asked for; the same server cannot be joined twice.
TEST_F(FakeDiscordControl, InviteLinkOpenedFromTheControlApi) {
    run([&]() -> asio::awaitable<void> {
        const auto joined = co_await send(
            "POST", "/_fake/join",
            R"({"guild":"870000000000000001","name":"Nebula Shop","owner":"870000000000000010","permissions":"268446736"})");
        EXPECT_EQ(joined.status, 200) << joined.body;
        const auto bot_role = std::stoull(json::parse(joined.body).at("bot_role").get<std::string>());
        const json* guild = fake_->guild(870000000000000001ULL);
        if (guild == nullptr) {
            ADD_FAILURE() << "the fake knows no such guild";
            co_return;
        }
        EXPECT_EQ((*guild)["owner_id"], "870000000000000010");
        EXPECT_EQ((*guild)["name"], "Nebula Shop");
        bool bot_role_listed = false;
        for (const auto& role : (*guild)["roles"])
            bot_role_listed = bot_role_listed ||
                              (role["id"] == std::to_string(bot_role) && role["permissions"] == "268446736");
        EXPECT_TRUE(bot_role_listed) << guild->dump();
        EXPECT_NE(fake_->member_roles(870000000000000001ULL, 870000000000000010ULL), nullptr);
        const auto* bot_roles = fake_->member_roles(870000000000000001ULL, fake_->options().bot_user_id);
        EXPECT_TRUE(bot_roles != nullptr && *bot_roles == std::vector<std::uint64_t>{bot_role});

        const auto again = co_await send(
            "POST", "/_fake/join",
            R"({"guild":"870000000000000001","name":"x","owner":"870000000000000010","permissions":"0"})");
        EXPECT_EQ(again.status, 400);
        EXPECT_EQ((co_await send("POST", "/_fake/join", R"({"guild":"1"})")).status, 400);
    });
}

}  // namespace
}  // namespace nebula::fakes::discord
