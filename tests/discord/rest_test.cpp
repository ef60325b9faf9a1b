#include "discord/rest.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "discord/test_support.hpp"
#include "fakes/discord/fake_discord.hpp"
#include "support/eventually.hpp"
#include "support/run_all.hpp"

namespace nebula::discord {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using fakes::discord::BucketRule;
using fakes::discord::CdnFile;
using fakes::discord::FakeDiscord;
using fakes::discord::FakeDiscordOptions;
using fakes::discord::Scripted;
using nebula::testing::all;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

using nebula::testing::eventually;

class RestTest : public ::testing::Test {
  protected:
    asio::io_context io;
    common::SystemClock clock;
    std::unique_ptr<FakeDiscord> fake;
    std::unique_ptr<RestClient> rest;

    void SetUp() override {
        auto created = FakeDiscord::create(io.get_executor());
        ASSERT_TRUE(created) << created.error();
        fake = std::move(*created);
        make_client();
    }

    void make_client(std::function<void(RestOptions&)> tweak = {}) {
        RestOptions options;
        options.api_base = fake->api_base();
        options.token = fake->options().token;
        options.cdn_hosts = {"127.0.0.1", "cdn.discordapp.com"};
        options.request_timeout = 2000ms;
        options.retry_base = 20ms;
        options.retry_cap = 100ms;
        if (tweak) tweak(options);
        auto created = RestClient::create(io.get_executor(), options, clock);
        ASSERT_TRUE(created) << created.error();
        rest = std::move(*created);
    }

    void TearDown() override {
        rest.reset();
        bool stopped = false;
        fake->stop([&] { stopped = true; });
        testing::drain_until(io, stopped);
    }

    void run(std::function<asio::awaitable<void>()> body) { testing::run(io, std::move(body)); }
};

ChannelCreate named(std::string name) {
    ChannelCreate create;
    create.name = std::move(name);
    return create;
}

MessagePayload text(std::string content) {
    MessagePayload payload;
    payload.content = std::move(content);
    return payload;
}

TEST_F(RestTest, CreateMessageSendsAuthUserAgentAndJson) {
    run([&]() -> asio::awaitable<void> {
        auto message = co_await rest->create_message(Snowflake(5), text("hello"));
        EXPECT_TRUE(message) << message.error().describe();
        EXPECT_EQ(message->channel_id, Snowflake(5));
        EXPECT_EQ(message->content, "hello");
    });
    ASSERT_EQ(fake->requests().size(), 1u);
    const auto& r = fake->requests()[0];
    EXPECT_EQ(r.route, "POST /channels/:id/messages");
    EXPECT_EQ(r.headers.find("Authorization"), "Bot " + fake->options().token);
    EXPECT_EQ(r.headers.find("User-Agent")->substr(0, 12), "DiscordBot (");
    EXPECT_EQ(r.headers.find("Content-Type"), "application/json");
    EXPECT_EQ(r.json["enforce_nonce"], true);
    EXPECT_FALSE(r.json["nonce"].get<std::string>().empty());
}

TEST_F(RestTest, BucketExhaustionWaitsForResetWithoutA429AndSparesOtherChannels) {
    fake->add_bucket(BucketRule{"msgs", {"POST /channels/\\d+/messages"}, 2, 1000ms});
    Clock::time_point start, channel_two_done;
    run([&]() -> asio::awaitable<void> {
        start = Clock::now();
        std::vector<std::function<asio::awaitable<void>()>> tasks;
        for (int i = 0; i < 6; ++i) {
            tasks.push_back([&, i]() -> asio::awaitable<void> {
                auto r = co_await rest->create_message(Snowflake(1), text("a" + std::to_string(i)));
                EXPECT_TRUE(r) << r.error().describe();
            });
        }
        tasks.push_back([&]() -> asio::awaitable<void> {
            for (int i = 0; i < 2; ++i) {
                auto r = co_await rest->create_message(Snowflake(2), text("b"));
                EXPECT_TRUE(r) << r.error().describe();
            }
            channel_two_done = Clock::now();
        });
        co_await all(std::move(tasks));
    });
    EXPECT_EQ(fake->unscripted_429s(), 0u);
    EXPECT_EQ(fake->message_count(1), 6u);
    EXPECT_EQ(fake->message_count(2), 2u);
    // Six requests at two per 1 s window need two full resets.
    const auto channel_one = fake->requests_matching("POST /channels/1/messages");
    ASSERT_EQ(channel_one.size(), 6u);
    EXPECT_GE(channel_one.back().at - channel_one.front().at, 1990ms);
    EXPECT_LT(channel_two_done - start, 900ms);  // the other channel never waited for a reset
}

TEST_F(RestTest, RoutesSharingABucketAreSerialisedThroughOneQueue) {
    fake->add_bucket(BucketRule{
        "shared", {"POST /channels/\\d+/messages", "PATCH /channels/\\d+/messages/\\d+"}, 2, 300ms});
    run([&]() -> asio::awaitable<void> {
        // Learn both routes' bucket hash.
        auto first = co_await rest->create_message(Snowflake(1), text("x"));
        EXPECT_TRUE(first);
        EXPECT_TRUE(co_await rest->edit_message(Snowflake(1), first->id, text("y")));
        std::vector<std::function<asio::awaitable<void>()>> tasks;
        for (int i = 0; i < 3; ++i) {
            tasks.push_back([&]() -> asio::awaitable<void> {
                EXPECT_TRUE(co_await rest->create_message(Snowflake(1), text("c")));
            });
            tasks.push_back([&]() -> asio::awaitable<void> {
                EXPECT_TRUE(co_await rest->edit_message(Snowflake(1), Snowflake(77), text("e")));
            });
        }
        co_await all(std::move(tasks));
    });
    EXPECT_EQ(fake->unscripted_429s(), 0u);
    EXPECT_EQ(rest->stats().rate_limits.rate_limited, 0u);
}

TEST_F(RestTest, RouteFourTwentyNineWaitsRetryAfterAndRetriesOnce) {
    fake->script(
        "POST /channels/1/messages",
        Scripted{429,
                 {{"X-RateLimit-Scope", "user"}, {"Retry-After", "1"}},
                 R"({"message": "You are being rate limited.", "retry_after": 0.3, "global": false})"});
    Clock::time_point start;
    run([&]() -> asio::awaitable<void> {
        start = Clock::now();
        auto r = co_await rest->create_message(Snowflake(1), text("x"));
        EXPECT_TRUE(r) << r.error().describe();
    });
    const auto sent = fake->requests_matching("POST /channels/1/messages");
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_GE(sent[1].at - sent[0].at, 300ms);
    EXPECT_LT(sent[1].at - sent[0].at, 900ms);  // retry_after from the body, not the rounded header
    EXPECT_EQ(sent[0].json["nonce"], sent[1].json["nonce"]);
    EXPECT_EQ(rest->stats().rate_limits.invalid_requests, 1u);
    EXPECT_EQ(fake->message_count(1), 1u);
}

TEST_F(RestTest, GlobalFourTwentyNinePausesEverythingButInteractionCallbacks) {
    fake->script("GET /users/@me", Scripted{429,
                                            {{"X-RateLimit-Global", "true"}, {"X-RateLimit-Scope", "global"}},
                                            R"({"message": "global", "retry_after": 1.5, "global": true})"});
    const json interaction =
        fake->make_interaction(2, 42, {}, json{{"id", "1"}, {"name", "buy"}, {"type", 1}});
    const Snowflake interaction_id = Snowflake::parse(interaction["id"].get<std::string>()).value();
    const std::string token = interaction["token"];
    const std::function<bool()> paused = [&] { return rest->stats().rate_limits.global_rate_limited == 1; };
    run([&]() -> asio::awaitable<void> {
        std::vector<std::function<asio::awaitable<void>()>> tasks;
        tasks.push_back([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await rest->get_current_user()); });
        tasks.push_back([&]() -> asio::awaitable<void> {
            EXPECT_TRUE(co_await eventually(paused));
            std::vector<std::function<asio::awaitable<void>()>> during;
            during.push_back([&]() -> asio::awaitable<void> {
                EXPECT_TRUE(co_await rest->create_message(Snowflake(9), text("waits")));
            });
            during.push_back([&]() -> asio::awaitable<void> {
                auto r = co_await rest->interaction_callback(
                    interaction_id, token, CallbackType::deferred_channel_message, std::nullopt, {});
                EXPECT_TRUE(r) << r.error().describe();
            });
            co_await all(std::move(during));
        });
        co_await all(std::move(tasks));
    });
    const auto limited = fake->requests_matching("GET /users/@me").front().at;
    const auto message = fake->requests_matching("POST /channels/9/messages");
    const auto callback = fake->requests_matching("POST /interactions/.*");
    ASSERT_EQ(message.size(), 1u);
    ASSERT_EQ(callback.size(), 1u);
    EXPECT_GE(message[0].at - limited, 1450ms);
    EXPECT_LT(callback[0].at - limited, 1000ms);
    EXPECT_EQ(callback[0].status, 204);
}

TEST_F(RestTest, ServerErrorsAreRetriedWithTheSameNonceAndPostOnce) {
    fake->script("POST /channels/5/messages", Scripted{502, {}, R"({"message": "502 Bad Gateway"})"}, 2);
    run([&]() -> asio::awaitable<void> {
        auto r = co_await rest->create_message(Snowflake(5), text("receipt approved"));
        EXPECT_TRUE(r) << r.error().describe();
    });
    const auto sent = fake->requests_matching("POST /channels/5/messages");
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_EQ(sent[0].json["nonce"], sent[2].json["nonce"]);
    EXPECT_EQ(fake->message_count(5), 1u);
    EXPECT_EQ(rest->stats().retries, 2u);
}

TEST_F(RestTest, ARepeatedNonceReturnsTheFirstMessage) {
    run([&]() -> asio::awaitable<void> {
        MessagePayload payload = text("once");
        payload.nonce = "order-7-approved";
        auto first = co_await rest->create_message(Snowflake(5), payload);
        auto second = co_await rest->create_message(Snowflake(5), payload);
        EXPECT_TRUE(first && second);
        EXPECT_EQ(first->id, second->id);
    });
    EXPECT_EQ(fake->message_count(5), 1u);
}

// As Discord: a nonce is checked against the same author's messages of the past few minutes, in
// any channel; after that window the same nonce makes a new message. One DM channel per user.
TEST_F(RestTest, ANonceIsRememberedForAFewMinutesAcrossChannelsAndDmChannelsAreReused) {
    rest.reset();
    bool stopped = false;
    fake->stop([&] { stopped = true; });
    testing::drain_until(io, stopped);
    common::ManualClock fake_clock;
    FakeDiscordOptions options;
    options.nonce_window = 5min;
    auto created = FakeDiscord::create(io.get_executor(), options, &fake_clock);
    ASSERT_TRUE(created) << created.error();
    fake = std::move(*created);
    make_client();
    run([&]() -> asio::awaitable<void> {
        MessagePayload payload = text("your link");
        payload.nonce = "nl7c-1800000000";
        auto first = co_await rest->create_message(Snowflake(5), payload);
        auto elsewhere = co_await rest->create_message(Snowflake(6), payload);
        EXPECT_TRUE(first && elsewhere);
        if (!first || !elsewhere) co_return;
        EXPECT_EQ(first->id, elsewhere->id) << "the same author's nonce, in another channel";
        fake_clock.advance(6min);
        auto later = co_await rest->create_message(Snowflake(5), payload);
        EXPECT_TRUE(later && later->id != first->id) << "past the window the nonce is forgotten";
        auto dm = co_await rest->create_dm(Snowflake(2));
        auto again = co_await rest->create_dm(Snowflake(2));
        EXPECT_TRUE(dm && again && dm->id == again->id);
    });
    EXPECT_EQ(fake->message_count(5), 2u);
    EXPECT_EQ(fake->message_count(6), 0u);
}

TEST_F(RestTest, NonIdempotentPostIsNotRetriedOnServerError) {
    fake->script("POST /guilds/1/channels", Scripted{500, {}, R"({"message": "boom", "code": 0})"});
    run([&]() -> asio::awaitable<void> {
        auto r = co_await rest->create_guild_channel(Snowflake(1), named("plan-1"), "");
        EXPECT_FALSE(r);
        EXPECT_EQ(r.error().code, RestErrorCode::server);
        EXPECT_EQ(r.error().status, 500);
    });
    EXPECT_EQ(fake->requests_matching("POST /guilds/1/channels").size(), 1u);
}

TEST_F(RestTest, HungRequestHitsItsDeadlineAndTheQueueMovesOn) {
    make_client([](RestOptions& o) { o.request_timeout = 300ms; });
    fake->script("POST /guilds/1/channels", Scripted{200, {}, {}, true});
    fake->script("GET /users/@me", Scripted{200, {}, {}, true});
    run([&]() -> asio::awaitable<void> {
        const auto start = Clock::now();
        auto hung = co_await rest->create_guild_channel(Snowflake(1), named("plan-1"), "");
        const auto took = Clock::now() - start;
        EXPECT_FALSE(hung);
        EXPECT_EQ(hung.error().code, RestErrorCode::timeout);
        EXPECT_GE(took, 290ms);
        EXPECT_LT(took, 1500ms);
        // Same queue, next request: not stuck behind the hung one.
        auto next = co_await rest->create_guild_channel(Snowflake(1), named("plan-2"), "");
        EXPECT_TRUE(next) << next.error().describe();
        // A safe GET is retried after its deadline.
        auto me = co_await rest->get_current_user();
        EXPECT_TRUE(me) << me.error().describe();
    });
    EXPECT_EQ(fake->requests_matching("GET /users/@me").size(), 2u);
}

TEST_F(RestTest, UnauthorizedStopsAllRestImmediately) {
    make_client([](RestOptions& o) { o.token = "wrong"; });
    run([&]() -> asio::awaitable<void> {
        auto first = co_await rest->get_current_user();
        EXPECT_FALSE(first);
        EXPECT_EQ(first.error().code, RestErrorCode::unauthorized);
        for (int i = 0; i < 5; ++i) {
            auto again = co_await rest->create_message(Snowflake(1), text("x"));
            EXPECT_FALSE(again);
            EXPECT_EQ(again.error().code, RestErrorCode::unauthorized);
        }
    });
    EXPECT_EQ(fake->requests().size(), 1u);
    EXPECT_TRUE(rest->stats().unauthorized);
}

TEST_F(RestTest, ForbiddenIsATypedErrorAndNotRetried) {
    fake->script("PUT /guilds/1/members/2/roles/3",
                 Scripted{403, {}, R"({"message": "Missing Permissions", "code": 50013})"});
    run([&]() -> asio::awaitable<void> {
        auto r = co_await rest->add_member_role(Snowflake(1), Snowflake(2), Snowflake(3), "approved order 7");
        EXPECT_FALSE(r);
        EXPECT_EQ(r.error().code, RestErrorCode::forbidden);
        EXPECT_EQ(r.error().discord_code, 50013);
        EXPECT_EQ(r.error().message, "Missing Permissions");
    });
    EXPECT_EQ(fake->requests().size(), 1u);
    EXPECT_EQ(rest->stats().rate_limits.invalid_requests, 1u);
}

TEST_F(RestTest, MultipartUploadIsByteExact) {
    std::string binary;
    for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
    binary += "\r\n--nebula-0000\r\nContent-Disposition: form-data; name=\"files[9]\"\r\n\r\n";
    binary += std::string(100'000, '\0');
    const std::string png = "\x89PNG\r\n\x1a\n" + std::string(5000, 'P');
    run([&]() -> asio::awaitable<void> {
        MessagePayload payload;
        payload.content = "receipt";
        payload.files.push_back({"export.csv", "text/csv", binary, "orders"});
        payload.files.push_back({"qr \"code\".png", "image/png", png, ""});
        Embed embed;
        embed.title("QR").image("attachment://qr.png");
        payload.embeds.push_back(embed);
        auto r = co_await rest->create_message(Snowflake(3), payload);
        EXPECT_TRUE(r) << r.error().describe();
        EXPECT_EQ(r->attachments.size(), 2u);
    });
    ASSERT_EQ(fake->requests().size(), 1u);
    const auto& r = fake->requests()[0];
    EXPECT_EQ(r.headers.find("Content-Type")->substr(0, 30), "multipart/form-data; boundary=");
    ASSERT_EQ(r.files.size(), 2u);
    EXPECT_EQ(r.files[0].name, "files[0]");
    EXPECT_EQ(r.files[0].filename, "export.csv");
    EXPECT_EQ(r.files[0].content_type, "text/csv");
    EXPECT_TRUE(r.files[0].data == binary);
    EXPECT_EQ(r.files[1].filename, "qr %22code%22.png");
    EXPECT_TRUE(r.files[1].data == png);
    EXPECT_EQ(r.json["attachments"][1]["id"], "1");
    EXPECT_EQ(r.json["content"], "receipt");
}

TEST_F(RestTest, SecondAcknowledgementIs40060AndFollowUpsUseTheToken) {
    const json interaction =
        fake->make_interaction(3, 42, {}, json{{"custom_id", "x"}, {"component_type", 2}});
    const auto id = Snowflake::parse(interaction["id"].get<std::string>()).value();
    const std::string token = interaction["token"];
    run([&]() -> asio::awaitable<void> {
        MessagePayload reply = text("done");
        reply.flags = kEphemeralFlag;
        EXPECT_TRUE(co_await rest->interaction_callback(id, token, CallbackType::channel_message,
                                                        reply.to_json(), {}));
        auto again = co_await rest->interaction_callback(id, token, CallbackType::channel_message,
                                                         reply.to_json(), {});
        EXPECT_FALSE(again);
        EXPECT_EQ(again.error().discord_code, 40060);
        auto edited = co_await rest->edit_original_response(Snowflake(fake->options().application_id), token,
                                                            text("edited"));
        EXPECT_TRUE(edited) << edited.error().describe();
        auto follow =
            co_await rest->create_followup(Snowflake(fake->options().application_id), token, text("more"));
        EXPECT_TRUE(follow) << follow.error().describe();
        auto unknown = co_await rest->interaction_callback(
            Snowflake(1), "nope", CallbackType::channel_message, reply.to_json(), {});
        EXPECT_EQ(unknown.error().discord_code, 10062);
    });
    // Interaction routes carry the token in the URL, never the bot token.
    for (const auto& r : fake->requests()) EXPECT_FALSE(r.headers.find("Authorization")) << r.path;
}

TEST_F(RestTest, DownloadChecksHostSizeTypeAndExpiry) {
    fake->serve_file("/attachments/1/receipt.png",
                     CdnFile{"image/png", std::string(2000, 'x'), std::nullopt});
    fake->serve_file("/attachments/1/old.png", CdnFile{"image/png", "x", Clock::now() - 1s});
    fake->serve_file("/attachments/1/page.html", CdnFile{"text/html", "<html>", std::nullopt});
    run([&]() -> asio::awaitable<void> {
        const std::string base = fake->cdn_base() + "/attachments/1/";
        const std::vector<std::string> images{"image/png", "image/jpeg"};
        const std::vector<std::string> any;
        auto ok = co_await rest->download(base + "receipt.png?ex=1&hm=abc", 10'000, images);
        EXPECT_TRUE(ok) << ok.error().describe();
        EXPECT_EQ(ok->data.size(), 2000u);
        auto big = co_await rest->download(base + "receipt.png", 1000, images);
        EXPECT_EQ(big.error().code, RestErrorCode::too_large);
        // Refused by the client from the Content-Length, before the body is read.
        EXPECT_EQ(big.error().message, "response too large");
        auto html = co_await rest->download(base + "page.html", 10'000, images);
        EXPECT_EQ(html.error().code, RestErrorCode::bad_content_type);
        auto expired = co_await rest->download(base + "old.png", 10'000, images);
        EXPECT_EQ(expired.error().code, RestErrorCode::not_found);
        auto elsewhere = co_await rest->download("http://10.0.0.1/x.png", 10'000, any);
        EXPECT_EQ(elsewhere.error().code, RestErrorCode::bad_url);
        // An allowed CDN host is still only fetched over https (loopback, the fake here, aside).
        auto plain =
            co_await rest->download("http://cdn.discordapp.com/attachments/1/receipt.png", 10'000, any);
        EXPECT_EQ(plain.error().code, RestErrorCode::bad_url);
        EXPECT_EQ(plain.error().message, "attachments are fetched over https only");
    });
}

TEST_F(RestTest, ChannelsMembersCommandsAndAuditReason) {
    fake->add_member(1, 2, {});
    run([&]() -> asio::awaitable<void> {
        ChannelCreate create{"plan-1234", ChannelType::guild_text, Snowflake(10), "Order #1234", {}};
        create.permission_overwrites = {
            {Snowflake(1), OverwriteType::role, 0, permissions::kViewChannel},
            {Snowflake(2), OverwriteType::member, 101376, 0},
            {Snowflake(fake->options().bot_user_id), OverwriteType::member, 117760, 0}};
        const std::string reason = "طلب رقم 1234";
        auto channel = co_await rest->create_guild_channel(Snowflake(1), create, reason);
        EXPECT_TRUE(channel) << channel.error().describe();
        EXPECT_EQ(channel->permission_overwrites.size(), 3u);
        EXPECT_EQ(channel->permission_overwrites[1].allow, 101376u);
        ChannelEdit edit;
        edit.name = "archived-1234";
        auto edited = co_await rest->edit_channel(channel->id, edit, "");
        EXPECT_TRUE(edited);
        EXPECT_EQ(edited->name, "archived-1234");
        EXPECT_TRUE(co_await rest->add_member_role(Snowflake(1), Snowflake(2), Snowflake(30), ""));
        auto member = co_await rest->get_member(Snowflake(1), Snowflake(2));
        EXPECT_TRUE(member && member->has_role(Snowflake(30)));
        EXPECT_TRUE(co_await rest->remove_member_role(Snowflake(1), Snowflake(2), Snowflake(30), ""));
        auto missing = co_await rest->get_member(Snowflake(1), Snowflake(99));
        EXPECT_EQ(missing.error().code, RestErrorCode::not_found);
        EXPECT_EQ(missing.error().discord_code, 10007);
        auto dm = co_await rest->create_dm(Snowflake(2));
        EXPECT_TRUE(dm);
        const std::string closed = "closed";
        auto deleted = co_await rest->delete_channel(channel->id, closed);
        EXPECT_TRUE(deleted);
        EXPECT_EQ(fake->channel(channel->id.value()), nullptr);
        const std::vector<Command> list{Command{"buy", "Buy VPN access", std::nullopt, {}}};
        auto commands = co_await rest->bulk_overwrite_guild_commands(
            Snowflake(fake->options().application_id), Snowflake(1), list);
        EXPECT_TRUE(commands);
        EXPECT_EQ((*commands)[0]["name"], "buy");
    });
    const auto created = fake->requests_matching("POST /guilds/1/channels");
    ASSERT_EQ(created.size(), 1u);
    EXPECT_EQ(created[0].headers.find("X-Audit-Log-Reason"), common::http::url_encode("طلب رقم 1234"));
    EXPECT_EQ(created[0].json["permission_overwrites"][0]["deny"], 1024);
    EXPECT_EQ(fake->member_roles(1, 2)->size(), 0u);
}

TEST_F(RestTest, RichMessagesAndCommandDefinitionsRoundTrip) {
    CommandOption title = CommandOption::value(OptionType::string, "title", "Plan title", true);
    title.max_length = 100;
    CommandOption price = CommandOption::value(OptionType::integer, "price", "Price in piasters", true);
    price.min_value = 0;
    CommandOption days = CommandOption::value(OptionType::integer, "days", "Duration", false);
    days.choices = {{"30 days", std::int64_t{30}}, {"90 days", std::int64_t{90}}};
    CommandOption brief = CommandOption::value(OptionType::attachment, "brief", "Optional file", false);
    CommandOption id = CommandOption::value(OptionType::string, "id", "Plan id", true);
    id.autocomplete = true;
    CommandOption plan = CommandOption::group(
        "plan", "Manage plans",
        {CommandOption::subcommand("create", "Create a plan", {title, price, days, brief}),
         CommandOption::subcommand("close", "Close a plan", {id})});
    CommandOption who = CommandOption::value(OptionType::user, "user", "Customer", true);
    const std::vector<Command> commands{Command{"admin", "Admin tools", permissions::kManageGuild, {plan}},
                                        Command{"account",
                                                "Your VPN accounts",
                                                std::nullopt,
                                                {CommandOption::subcommand("show", "Show one", {who})}}};

    MessagePayload message;
    message.content = "طلب جديد";
    Embed embed;
    embed.title("Order #42")
        .description("Gold — 30 days")
        .url("https://example.com/orders/42")
        .color(0x5865F2)
        .field("Amount", "150.00 EGP", true)
        .field("Status", "under review", true)
        .footer("NebulaLinks")
        .author("Ahmed")
        .thumbnail("https://example.com/t.png")
        .timestamp(std::chrono::system_clock::time_point{std::chrono::seconds{1'800'000'000}});
    message.embeds.push_back(embed);
    StringSelect select{
        "plan:pick", {{"Gold", "gold", "30 days", Emoji{"🥇", std::nullopt}, false}}, "Pick", 1, 1, false,
        true};
    message.components.push_back(ActionRow{select});
    message.components.push_back(
        ActionRow{std::vector<Button>{Button::action(ButtonStyle::success, "Approve", "order:42:approve"),
                                      Button::action(ButtonStyle::danger, "Decline", "order:42:decline")}});
    message.allowed_mentions.users.push_back(Snowflake(7));
    message.reply_to = Snowflake(99);
    run([&]() -> asio::awaitable<void> {
        auto put = co_await rest->bulk_overwrite_guild_commands(Snowflake(fake->options().application_id),
                                                                Snowflake(1), commands);
        EXPECT_TRUE(put) << put.error().describe();
        EXPECT_EQ(put->size(), 2u);
        auto sent = co_await rest->create_message(Snowflake(3), message);
        EXPECT_TRUE(sent) << sent.error().describe();
    });
    const auto body = fake->requests_matching("POST /channels/3/messages").at(0).json;
    EXPECT_EQ(body["embeds"][0]["timestamp"], "2027-01-15T08:00:00.000Z");
    EXPECT_EQ(body["message_reference"]["message_id"], "99");
}

}  // namespace
}  // namespace nebula::discord
