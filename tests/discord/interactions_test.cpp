#include "discord/interactions.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "discord/gateway_session.hpp"
#include "discord/test_support.hpp"
#include "fakes/discord/fake_discord.hpp"

namespace nebula::discord {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using fakes::discord::CdnFile;
using fakes::discord::FakeDiscord;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kCustomer = 500000000000000001ULL;

class InteractionsTest : public ::testing::Test {
  protected:
    asio::io_context io;
    common::SystemClock clock;
    std::unique_ptr<FakeDiscord> fake;
    std::unique_ptr<RestClient> rest;

    void SetUp() override { make(nullptr); }

    void make(const common::Clock* fake_clock) {
        fakes::discord::FakeDiscordOptions options;
        options.heartbeat_interval = 500ms;
        auto created = FakeDiscord::create(io.get_executor(), options, fake_clock);
        ASSERT_TRUE(created) << created.error();
        fake = std::move(*created);
        RestOptions rest_options;
        rest_options.api_base = fake->api_base();
        rest_options.token = fake->options().token;
        rest_options.cdn_hosts = {"127.0.0.1"};
        auto r = RestClient::create(io.get_executor(), rest_options, clock);
        ASSERT_TRUE(r) << r.error();
        rest = std::move(*r);
    }

    void TearDown() override {
        rest.reset();
        bool stopped = false;
        fake->stop([&] { stopped = true; });
        testing::drain_until(io, stopped);
    }

    void run(std::function<asio::awaitable<void>()> body) { testing::run(io, std::move(body)); }

    Interaction interaction(int type, json data) {
        auto parsed = parse_interaction(fake->make_interaction(type, kCustomer, {}, std::move(data)));
        EXPECT_TRUE(parsed) << parsed.error().describe();
        return *parsed;
    }

    std::vector<fakes::discord::RecordedRequest> callbacks() const {
        return fake->requests_matching("POST /interactions/.*/callback");
    }
};

MessagePayload text(std::string content) {
    MessagePayload payload;
    payload.content = std::move(content);
    return payload;
}

json buy_command() { return json{{"id", "1"}, {"name", "buy"}, {"type", 1}}; }
json button(std::string id) { return json{{"custom_id", std::move(id)}, {"component_type", 2}}; }

TEST_F(InteractionsTest, SlowHandlerOverTheGatewayIsAutoDeferredInsideTheThreeSecondWindow) {
    GatewaySessionOptions options;
    options.token = fake->options().token;
    asio::steady_timer release(io, Clock::time_point::max());  // the slow work finishes when cancelled
    std::shared_ptr<InteractionResponder> responder;
    auto gateway = GatewaySession::create(
        io.get_executor(), options, *rest, clock,
        [&](const Event& event) {
            const Interaction* i = event.interaction();
            if (i == nullptr) return;
            // Production defaults: auto-defer after 2 s, Discord's 3 s window in the fake.
            responder = make_responder(io.get_executor(), *rest, clock, *i);
            asio::co_spawn(
                io,
                [&, r = responder]() -> asio::awaitable<void> {
                    co_await release.async_wait(asio::as_tuple(asio::use_awaitable));
                    auto status = co_await r->reply(text("Your order #42 is ready"));
                    EXPECT_TRUE(status) << status.error().describe();
                },
                asio::detached);
        },
        io.get_executor());
    ASSERT_TRUE(gateway);
    bool finished = false;
    asio::co_spawn(io, (*gateway)->run(),
                   [&](std::exception_ptr, common::Status<GatewaySessionError>) { finished = true; });
    Clock::time_point injected;
    run([&]() -> asio::awaitable<void> {
        const std::function<bool()> connected = [&] {
            return (*gateway)->stats().state == GatewaySessionState::connected;
        };
        EXPECT_TRUE(co_await fake->gateway().wait_until(connected, 3s) || connected());
        injected = Clock::now();
        fake->inject_interaction(2, kCustomer, {}, buy_command());
        EXPECT_TRUE(co_await fake->wait_for_requests("POST /interactions/.*/callback", 1, 4s));
        release.cancel();
        EXPECT_TRUE(co_await fake->wait_for_requests("PATCH /webhooks/.*/messages/@original", 1, 2s));
    });
    (*gateway)->stop();
    testing::drain_until(io, finished);
    const auto sent = callbacks();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].json["type"], 5);
    EXPECT_EQ(sent[0].json["data"]["flags"], 64);
    EXPECT_EQ(sent[0].status, 204);  // inside the window: accepted
    EXPECT_GE(sent[0].at - injected, 1900ms);
    EXPECT_LT(sent[0].at - injected, 3000ms);
    const auto edit = fake->requests_matching("PATCH /webhooks/.*/messages/@original");
    ASSERT_EQ(edit.size(), 1u);
    EXPECT_EQ(edit[0].json["content"], "Your order #42 is ready");
    EXPECT_EQ(edit[0].status, 200);
}

TEST_F(InteractionsTest, FastReplyIsOneCallbackAndNoDefer) {
    ResponderOptions options;
    options.auto_defer_after = 150ms;
    run([&]() -> asio::awaitable<void> {
        auto responder =
            make_responder(io.get_executor(), *rest, clock, interaction(2, buy_command()), options);
        MessagePayload payload = text("Choose a plan");
        payload.flags = kEphemeralFlag;
        payload.components.push_back(
            ActionRow{std::vector<Button>{Button::action(ButtonStyle::primary, "Gold", "plan:gold"),
                                          Button::link("Help", "https://example.com")}});
        EXPECT_TRUE(co_await responder->reply(payload));
        // The defer timer would have fired by now; no second callback may appear.
        EXPECT_FALSE(co_await fake->wait_for_requests("POST /interactions/.*/callback", 2, 400ms));
        EXPECT_TRUE(co_await responder->reply(text("and a follow-up")));  // not a 40060
    });
    const auto sent = callbacks();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].json["type"], 4);
    EXPECT_EQ(sent[0].json["data"]["flags"], 64);
    EXPECT_EQ(sent[0].json["data"]["components"][0]["components"][0]["custom_id"], "plan:gold");
    EXPECT_EQ(fake->requests_matching("POST /webhooks/.*").size(), 1u);
}

TEST_F(InteractionsTest, ComponentDeferIsType6AndUpdateEditsTheMessage) {
    run([&]() -> asio::awaitable<void> {
        auto responder =
            make_responder(io.get_executor(), *rest, clock, interaction(3, button("order:42:approve")));
        EXPECT_TRUE(co_await responder->defer(false));
        EXPECT_TRUE(responder->deferred());
        MessagePayload done = text("Approved");
        done.clear_components = true;
        EXPECT_TRUE(co_await responder->update_message(done));
    });
    const auto sent = callbacks();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].json["type"], 6);
    const auto edit = fake->requests_matching("PATCH /webhooks/.*/messages/@original");
    ASSERT_EQ(edit.size(), 1u);
    EXPECT_EQ(edit[0].json["components"], json::array());
}

TEST_F(InteractionsTest, ModalOnlyAsTheFirstResponse) {
    Modal modal{
        "receipt:42",
        "Upload your receipt",
        {Label{"Transfer reference", "", TextInput{"ref", TextInputStyle::short_text, 1, 64, true, "", ""}},
         Label{"Screenshot", "", FileUpload{"file", 1, 1, true}}}};
    run([&]() -> asio::awaitable<void> {
        auto first = make_responder(io.get_executor(), *rest, clock, interaction(3, button("pay:42")));
        EXPECT_TRUE(co_await first->show_modal(modal));
        auto late = make_responder(io.get_executor(), *rest, clock, interaction(3, button("pay:43")));
        EXPECT_TRUE(co_await late->defer(false));
        auto refused = co_await late->show_modal(modal);
        EXPECT_FALSE(refused);
        EXPECT_EQ(refused.error().code, RestErrorCode::invalid_state);
    });
    const auto sent = callbacks();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].json["type"], 9);
    EXPECT_EQ(sent[0].json["data"]["components"][1]["component"]["type"], 19);
}

TEST_F(InteractionsTest, AutocompleteAnswersWithChoices) {
    run([&]() -> asio::awaitable<void> {
        auto responder = make_responder(
            io.get_executor(), *rest, clock,
            interaction(
                4, json{{"id", "1"},
                        {"name", "admin"},
                        {"options",
                         json::array({{{"name", "id"}, {"type", 3}, {"value", "go"}, {"focused", true}}})}}));
        std::vector<OptionChoice> choices{{"Gold 30 days", std::string("gold")},
                                          {"Silver", std::string("silver")}};
        EXPECT_TRUE(co_await responder->autocomplete(std::move(choices)));
    });
    const auto sent = callbacks();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].json["type"], 8);
    EXPECT_EQ(sent[0].json["data"]["choices"][0]["value"], "gold");
}

class ExpiredTokenTest : public InteractionsTest {
  protected:
    common::ManualClock manual;
    void SetUp() override { make(&manual); }
};

TEST_F(ExpiredTokenTest, ExpiredTokenIsNotUsedAndWebhook401DoesNotStopRest) {
    run([&]() -> asio::awaitable<void> {
        auto responder = make_responder(io.get_executor(), *rest, manual, interaction(2, buy_command()));
        EXPECT_TRUE(co_await responder->defer(true));
        manual.advance(16min);
        auto late = co_await responder->follow_up(text("too late"));
        EXPECT_FALSE(late);
        EXPECT_EQ(late.error().code, RestErrorCode::expired);
        // Sent anyway (bypassing the responder): Discord answers 401 50027, which is not a bad bot token.
        const Interaction& i = responder->interaction();
        auto direct = co_await rest->create_followup(i.application_id, i.token, text("too late"));
        EXPECT_FALSE(direct);
        EXPECT_EQ(direct.error().discord_code, 50027);
        auto me = co_await rest->get_current_user();
        EXPECT_TRUE(me) << me.error().describe();
    });
    EXPECT_FALSE(rest->stats().unauthorized);
    EXPECT_EQ(fake->requests_matching("POST /webhooks/.*").size(), 1u);
}

TEST_F(InteractionsTest, ModalFileUploadIsDownloadedAndReuploadedByteExact) {
    std::string png = "\x89PNG\r\n\x1a\n";
    for (int i = 0; i < 3000; ++i) png += static_cast<char>(i * 7);
    fake->serve_file("/ephemeral-attachments/1/2/receipt.png", CdnFile{"image/png", png, std::nullopt});
    fake->serve_file("/ephemeral-attachments/1/3/old.png", CdnFile{"image/png", png, Clock::now()});
    const std::string cdn = fake->cdn_base();
    auto submit = [&](std::string file, std::string attachment_id) {
        return interaction(
            5, json{{"custom_id", "receipt:42"},
                    {"components",
                     json::array({{{"type", 18},
                                   {"component",
                                    {{"type", 19}, {"custom_id", "file"}, {"values", {attachment_id}}}}}})},
                    {"resolved",
                     {{"attachments",
                       {{attachment_id,
                         {{"id", attachment_id},
                          {"filename", "receipt.png"},
                          {"content_type", "image/png"},
                          {"size", png.size()},
                          {"url", cdn + file + "?ex=1&is=2&hm=3"},
                          {"proxy_url", cdn + file},
                          {"ephemeral", true}}}}}}}});
    };
    run([&]() -> asio::awaitable<void> {
        const Interaction fresh = submit("/ephemeral-attachments/1/2/receipt.png", "111");
        const auto files = fresh.modal()->files("file");
        EXPECT_EQ(files.size(), 1u);
        const std::vector<std::string> images{"image/png", "image/jpeg"};
        auto download = co_await rest->download(files[0]->url, fresh.attachment_size_limit, images);
        EXPECT_TRUE(download) << download.error().describe();
        MessagePayload receipt = text("Receipt for order #42");
        receipt.files.push_back(
            {"receipt-42.png", download->content_type, download->data, "payment receipt"});
        auto posted = co_await rest->create_message(Snowflake(77), receipt);
        EXPECT_TRUE(posted) << posted.error().describe();

        const Interaction stale = submit("/ephemeral-attachments/1/3/old.png", "222");
        auto expired = co_await rest->download(stale.modal()->files("file")[0]->url, 10'000'000, images);
        EXPECT_FALSE(expired);
        EXPECT_EQ(expired.error().code, RestErrorCode::not_found);
    });
    const auto upload = fake->requests_matching("POST /channels/77/messages");
    ASSERT_EQ(upload.size(), 1u);
    ASSERT_EQ(upload[0].files.size(), 1u);
    EXPECT_TRUE(upload[0].files[0].data == png);
    EXPECT_EQ(upload[0].files[0].content_type, "image/png");
}

}  // namespace
}  // namespace nebula::discord
