// nebula-gateway over real HTTPS in front of the fake 3x-ui panel, in both panel generations.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <future>
#include <thread>

#include "common/crypto.hpp"
#include "gateway_harness.hpp"

namespace nebula::testing {
namespace {

using fakes::PanelMode;
using nlohmann::json;
using namespace std::chrono_literals;

const std::string kUuid = "5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11";

json body_of(const common::http::Response& r) { return json::parse(r.body); }

std::string error_code(const common::http::Response& r) {
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("error")) return "<no error body: " + r.body + ">";
    return j["error"]["code"].get<std::string>();
}

std::string create_body(const std::string& email, int inbound = 1, const std::string& uuid = kUuid,
                        const std::string& sub_id = "k3v9q2m8x1z7p4w0") {
    json b = {{"inbound_id", inbound},        {"email", email}, {"total_bytes", 32212254720LL},
              {"expiry_ms", 1893456000000LL}, {"limit_ip", 2},  {"sub_id", sub_id}};
    if (!uuid.empty()) b["uuid"] = uuid;
    return b.dump();
}

class GatewayTest : public ::testing::TestWithParam<PanelMode> {
  protected:
    static fakes::FakePanelOptions panel_options() {
        fakes::FakePanelOptions o;
        o.mode = GetParam();
        o.base_path = "/AbC12xyz/";
        o.username = "admin";
        o.password = "panel-pass";
        return o;
    }
    GatewayHarness gw{panel_options()};
};

TEST_P(GatewayTest, HealthReportsPanelState) {
    auto r = gw.get("/api/health");
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = body_of(r);
    EXPECT_EQ(j["status"], "ok");
    EXPECT_EQ(j["panel"], "up");
    EXPECT_EQ(j["version"], NEBULA_VERSION);
    EXPECT_TRUE(j["uptime_s"].is_number_integer());
    gw.panel->set_down(true);
    j = body_of(gw.get("/api/health"));
    EXPECT_EQ(j["status"], "degraded");
    EXPECT_EQ(j["panel"], "down");
    gw.panel->set_down(false);
    EXPECT_EQ(body_of(gw.get("/api/health"))["panel"], "up");
}

TEST_P(GatewayTest, InboundsAndServerStatus) {
    auto r = gw.get("/api/inbounds");
    ASSERT_EQ(r.status, 200) << r.body;
    auto list = body_of(r)["inbounds"];
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0]["id"], 1);
    EXPECT_EQ(list[0]["protocol"], "vless");
    EXPECT_EQ(list[0]["port"], 443);
    EXPECT_EQ(list[0]["client_count"], 1);
    EXPECT_EQ(list[1]["remark"], "tls-ws");

    gw.panel->set_onlines({"seed-reality"});
    r = gw.get("/api/server/status");
    ASSERT_EQ(r.status, 200) << r.body;
    auto s = body_of(r);
    EXPECT_EQ(s["xray"]["state"], "running");
    EXPECT_EQ(s["clients"]["total"], 2);
    EXPECT_EQ(s["clients"]["online"], 1);
    EXPECT_EQ(s["panel_version"], GetParam() == PanelMode::v3 ? "3.6.0" : "");
}

TEST_P(GatewayTest, CreateClientReturnsClientAndLinks) {
    auto r = gw.post("/api/clients", create_body("nl-000123"));
    ASSERT_EQ(r.status, 201) << r.body;
    auto j = body_of(r);
    EXPECT_EQ(j["client"]["email"], "nl-000123");
    EXPECT_EQ(j["client"]["uuid"], kUuid);
    EXPECT_EQ(j["client"]["inbound_id"], 1);
    EXPECT_EQ(j["client"]["total_bytes"], 32212254720LL);
    EXPECT_EQ(j["client"]["expiry_ms"], 1893456000000LL);
    EXPECT_EQ(j["client"]["limit_ip"], 2);
    EXPECT_EQ(j["client"]["enable"], true);
    const std::string vless = j["links"]["vless"];
    EXPECT_EQ(vless.rfind("vless://" + kUuid + "@vpn.example.com:443?", 0), 0u) << vless;
    EXPECT_NE(vless.find("security=reality"), std::string::npos);
    EXPECT_NE(vless.find("#nl-000123"), std::string::npos);
    EXPECT_EQ(j["links"]["subscription"], "https://vpn.example.com:2096/sub/k3v9q2m8x1z7p4w0");
    // The panel really has it.
    auto stored = gw.panel->client("nl-000123");
    ASSERT_TRUE(stored);
}

TEST_P(GatewayTest, CreateIsIdempotentForTheSameUuidAndConflictsOtherwise) {
    auto first = gw.post("/api/clients", create_body("nl-000124"));
    ASSERT_EQ(first.status, 201) << first.body;
    auto again = gw.post("/api/clients", create_body("nl-000124"));
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(body_of(again), body_of(first));
    auto other = gw.post("/api/clients", create_body("nl-000124", 1, "11111111-2222-4333-8444-555555555555"));
    EXPECT_EQ(other.status, 409);
    EXPECT_EQ(error_code(other), "conflict");
    // Emails are unique ignoring case, as on the panel.
    auto upper = gw.post("/api/clients", create_body("NL-000124", 1, "11111111-2222-4333-8444-555555555555"));
    EXPECT_EQ(upper.status, 409);
}

TEST_P(GatewayTest, ACreateWhoseAnswerIsLostIsNeitherRepeatedNorFailed) {
    // The panel creates the client, then its answer is lost (connection closed). The add is
    // not sent again blindly; the gateway finds the client by email and answers with it.
    const std::string add =
        GetParam() == PanelMode::v3 ? "panel/api/clients/add" : "panel/api/inbounds/addClient";
    ASSERT_EQ(gw.get("/api/inbounds").status, 200);  // a logged-in, kept-alive panel connection
    gw.panel->lose_next_answer_to(add);
    auto r = gw.post("/api/clients", create_body("nl-lost"));
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.status << " " << r.body;
    EXPECT_EQ(body_of(r)["client"]["uuid"], kUuid);
    const auto log = gw.panel->request_log();
    EXPECT_EQ(
        std::count_if(log.begin(), log.end(), [&](const std::string& line) { return line.ends_with(add); }),
        1)
        << "the add reached the panel once";
    ASSERT_TRUE(gw.panel->client("nl-lost"));
    // The bot's own retry (same email, same uuid) finds it too.
    auto again = gw.post("/api/clients", create_body("nl-lost"));
    EXPECT_EQ(again.status, 200) << again.body;
}

TEST_P(GatewayTest, MissingUuidIsGenerated) {
    auto r = gw.post("/api/clients", create_body("nl-gen", 2, ""));
    ASSERT_EQ(r.status, 201) << r.body;
    auto j = body_of(r);
    EXPECT_TRUE(common::is_uuid(j["client"]["uuid"].get<std::string>()));
    EXPECT_EQ(j["client"]["uuid"].get<std::string>()[14], '4');
    const std::string vless = j["links"]["vless"];
    EXPECT_NE(vless.find("type=ws"), std::string::npos) << vless;
    EXPECT_NE(vless.find("security=tls"), std::string::npos) << vless;
}

TEST_P(GatewayTest, GetPatchResetDeleteLifecycle) {
    ASSERT_EQ(gw.post("/api/clients", create_body("nl-life")).status, 201);
    auto g = gw.get("/api/clients/nl-life");
    ASSERT_EQ(g.status, 200) << g.body;
    EXPECT_EQ(body_of(g)["client"]["up"], 0);

    auto p = gw.send({.method = "PATCH",
                      .target = "/api/clients/nl-life",
                      .body = R"({"expiry_ms":1900000000000,"enable":false})"});
    ASSERT_EQ(p.status, 200) << p.body;
    EXPECT_EQ(body_of(p)["client"]["expiry_ms"], 1900000000000LL);
    EXPECT_EQ(body_of(p)["client"]["enable"], false);
    // Read-modify-write: nothing else was wiped on the panel.
    auto stored = gw.panel->client("nl-life");
    ASSERT_TRUE(stored);
    const std::string dumped = stored->dump();
    EXPECT_NE(dumped.find("k3v9q2m8x1z7p4w0"), std::string::npos) << dumped;  // subId kept
    EXPECT_NE(dumped.find("xtls-rprx-vision"), std::string::npos) << dumped;  // flow kept
    EXPECT_NE(dumped.find("32212254720"), std::string::npos) << dumped;       // quota kept
    auto again = body_of(gw.get("/api/clients/nl-life"))["client"];
    EXPECT_EQ(again["limit_ip"], 2);
    EXPECT_EQ(again["total_bytes"], 32212254720LL);

    ASSERT_EQ(
        gw.send({.method = "PATCH", .target = "/api/clients/nl-life", .body = R"({"enable":true})"}).status,
        200);
    gw.panel->add_traffic("nl-life", 1000, 2000);
    auto t = body_of(gw.get("/api/clients/nl-life"))["client"];
    EXPECT_EQ(t["up"], 1000);
    EXPECT_EQ(t["down"], 2000);
    auto reset = gw.post("/api/clients/nl-life/reset-traffic", "");
    ASSERT_EQ(reset.status, 200) << reset.body;
    EXPECT_EQ(body_of(reset)["client"]["up"], 0);
    EXPECT_EQ(body_of(reset)["client"]["down"], 0);

    auto d = gw.send({.method = "DELETE", .target = "/api/clients/nl-life"});
    EXPECT_EQ(d.status, 204) << d.body;
    EXPECT_FALSE(gw.panel->client("nl-life"));
    EXPECT_EQ(gw.send({.method = "DELETE", .target = "/api/clients/nl-life"}).status, 404);
    EXPECT_EQ(gw.get("/api/clients/nl-life").status, 404);
    EXPECT_EQ(gw.post("/api/clients/nl-life/reset-traffic", "").status, 404);
}

TEST_P(GatewayTest, TrafficOnlineAndBulkDisable) {
    ASSERT_EQ(gw.post("/api/clients", create_body("nl-a")).status, 201);
    ASSERT_EQ(gw.post("/api/clients", create_body("nl-b", 2, "11111111-2222-4333-8444-555555555555", "subb"))
                  .status,
              201);
    gw.panel->add_traffic("nl-a", 10, 20);
    auto t = gw.get("/api/traffic");
    ASSERT_EQ(t.status, 200) << t.body;
    bool seen = false;
    const auto traffic = body_of(t);
    for (const auto& c : traffic["clients"]) {
        if (c["email"] == "nl-a") {
            seen = true;
            EXPECT_EQ(c["up"], 10);
            EXPECT_EQ(c["down"], 20);
            EXPECT_EQ(c["total_bytes"], 32212254720LL);
            EXPECT_EQ(c["enable"], true);
        }
    }
    EXPECT_TRUE(seen) << t.body;

    EXPECT_EQ(body_of(gw.get("/api/clients/online"))["emails"], json::array());
    gw.panel->set_onlines({"nl-a"});
    EXPECT_EQ(body_of(gw.get("/api/clients/online"))["emails"], json::array({"nl-a"}));

    auto d = gw.post("/api/clients/disable", R"({"emails":["nl-a","nl-b","nl-ghost"]})");
    ASSERT_EQ(d.status, 200) << d.body;
    auto j = body_of(d);
    EXPECT_EQ(j["disabled"].size(), 2u);
    EXPECT_EQ(j["missing"], json::array({"nl-ghost"}));
    EXPECT_EQ(body_of(gw.get("/api/clients/nl-a"))["client"]["enable"], false);
    EXPECT_EQ(body_of(gw.get("/api/clients/nl-b"))["client"]["enable"], false);
}

TEST_P(GatewayTest, PanelSessionExpiryMidRunIsInvisible) {
    ASSERT_EQ(gw.get("/api/inbounds").status, 200);
    const int logins = gw.panel->login_count();
    gw.panel->expire_sessions();
    auto r = gw.post("/api/clients", create_body("nl-after-expiry"));
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(gw.panel->login_count(), logins + 1);
}

TEST_P(GatewayTest, PanelDownIs503AndPanelFailureIs502) {
    gw.panel->set_down(true);
    auto down = gw.get("/api/inbounds");
    EXPECT_EQ(down.status, 503);
    EXPECT_EQ(error_code(down), "panel_unreachable");
    gw.panel->set_down(false);

    ASSERT_EQ(gw.get("/api/inbounds").status, 200);  // logged in
    gw.panel->set_failing(true);
    auto failing = gw.post("/api/clients", create_body("nl-fail"));
    EXPECT_EQ(failing.status, 502) << failing.body;
    EXPECT_EQ(error_code(failing), "panel_error");
}

TEST_P(GatewayTest, SlowPanelHitsTheDeadline) {
    GatewayHarness slow(panel_options(), [](gateway::GatewayConfig& c, common::http::ServerOptions&) {
        c.panel_timeout = 2s;
    });
    // Logged in first (tried again while a loaded machine makes even that slower than 2 s).
    int status = 0;
    for (int i = 0; i < 5 && status != 200; ++i) status = slow.get("/api/inbounds").status;
    ASSERT_EQ(status, 200);
    slow.panel->set_delay(5s);  // longer than the 2 s panel timeout
    auto r = slow.get("/api/inbounds");
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(error_code(r), "panel_timeout");
    slow.panel->set_delay(0ms);
}

TEST_P(GatewayTest, BadRequestsGetClearErrors) {
    auto bad_json = gw.post("/api/clients", "{not json");
    EXPECT_EQ(bad_json.status, 400);
    EXPECT_EQ(error_code(bad_json), "invalid_json");
    for (const char* body :
         {R"({"email":"x"})", R"({"inbound_id":"1","email":"x"})", R"({"inbound_id":1,"email":"has space"})",
          R"({"inbound_id":1,"email":"a/b"})", R"({"inbound_id":1,"email":"ok","uuid":"nope"})",
          R"({"inbound_id":1,"email":"ok","total_bytes":-1})",
          R"({"inbound_id":1,"email":"ok","limit_ip":1.5})", R"({"inbound_id":1,"email":"ok","extra":1})",
          R"([1,2,3])",
          // Emails reach panel URL paths: dots alone would be "." or "..".
          R"({"inbound_id":1,"email":"."})", R"({"inbound_id":1,"email":".."})",
          R"({"inbound_id":1,"email":"...."})", R"({"inbound_id":1,"email":".hidden"})",
          // An unknown field's name is quoted in the error, cut short without splitting a character.
          R"({"inbound_id":1,"email":"ok","حقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقل":1})",
          R"({"inbound_id":1,"email":"ok","xحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقلحقل":1})"}) {
        auto r = gw.post("/api/clients", body);
        EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    }
    auto unknown_inbound = gw.post("/api/clients", create_body("nl-x", 99));
    EXPECT_EQ(unknown_inbound.status, 404) << unknown_inbound.body;
    EXPECT_EQ(error_code(unknown_inbound), "inbound_not_found");
    EXPECT_EQ(gw.send({.method = "PATCH", .target = "/api/clients/nl-x", .body = "{}"}).status, 400);
    EXPECT_EQ(gw.post("/api/clients/disable", R"({"emails":[]})").status, 400);
    EXPECT_EQ(gw.post("/api/clients/disable", R"({"emails":[".."]})").status, 400);
    EXPECT_EQ(gw.get("/api/clients/..").status, 400);
    EXPECT_EQ(gw.get("/api/clients/%2E%2E").status, 400);
}

TEST_P(GatewayTest, RoutingErrors) {
    auto unknown = gw.get("/api/nothing-here");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(error_code(unknown), "not_found");
    EXPECT_EQ(gw.get("/").status, 404);
    auto wrong = gw.send({.method = "DELETE", .target = "/api/health"});
    EXPECT_EQ(wrong.status, 405);
    EXPECT_EQ(wrong.headers.find("Allow"), "GET");
    EXPECT_EQ(gw.send({.method = "PUT", .target = "/api/clients/nl-1"}).status, 405);
    EXPECT_EQ(gw.get("/api/clients").status, 405);
}

TEST_P(GatewayTest, OversizedBodyIs413) {
    auto r = gw.post("/api/clients", std::string(65 * 1024, ' '));
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(error_code(r), "payload_too_large");
}

TEST_P(GatewayTest, SignatureFailuresAre401WithTheirCode) {
    auto unsigned_call = gw.send({.target = "/api/health", .sign = false});
    EXPECT_EQ(unsigned_call.status, 401);
    EXPECT_EQ(error_code(unsigned_call), "missing_signature");

    // The exact ±300/±301 edges are tested with an injected clock (Window.EdgesOfThe300SecondWindow).
    // Here both clocks are real and a second may tick between signing and checking, so the
    // timestamps stay well clear of the edges.
    auto stale = gw.send({.target = "/api/health", .skew = -330});
    EXPECT_EQ(error_code(stale), "stale_timestamp");
    auto future = gw.send({.target = "/api/health", .skew = 330});
    EXPECT_EQ(error_code(future), "stale_timestamp");
    EXPECT_EQ(gw.send({.target = "/api/health", .skew = -270}).status, 200);
    EXPECT_EQ(gw.send({.target = "/api/health", .skew = 270}).status, 200);

    const std::string nonce = common::random_hex(16);
    EXPECT_EQ(gw.send({.target = "/api/health", .nonce = nonce}).status, 200);
    auto replay = gw.send({.target = "/api/health", .nonce = nonce});
    EXPECT_EQ(replay.status, 401);
    EXPECT_EQ(error_code(replay), "replayed");

    auto tampered_body = gw.send({.method = "POST",
                                  .target = "/api/clients",
                                  .body = create_body("nl-evil"),
                                  .signed_body = create_body("nl-good")});
    EXPECT_EQ(error_code(tampered_body), "bad_signature");
    auto tampered_path = gw.send({.target = "/api/clients/nl-a", .signed_target = "/api/health"});
    EXPECT_EQ(error_code(tampered_path), "bad_signature");
    auto wrong_key = gw.send({.target = "/api/health", .key = "some-other-key-0123456789abcdef0123456"});
    EXPECT_EQ(wrong_key.status, 401);
    EXPECT_EQ(error_code(wrong_key), "bad_signature");
    // During rotation the previous key still verifies.
    EXPECT_EQ(gw.send({.target = "/api/health", .key = kPreviousKey}).status, 200);
    EXPECT_FALSE(gw.panel->client("nl-evil"));
}

TEST_P(GatewayTest, PeerNotAllowedIsClosedBeforeTheTlsHandshake) {
    auto r = gw.try_send({.target = "/api/health", .local_address = "127.0.0.2"});
    ASSERT_FALSE(r);
    EXPECT_EQ(gw.get("/api/health").status, 200);
}

TEST(GatewayRateLimit, HundredAndFirstRequestInAMinuteIs429) {
    GatewayHarness gw(
        {},
        [](gateway::GatewayConfig& c, common::http::ServerOptions&) {
            c.allowed_ips = *gateway::IpAllowlist::parse({"127.0.0.1", "127.0.0.3"});
        },
        /*manual_clock=*/true);
    auto& bot = gw.client();  // one kept-alive connection, as the bot's pool would use
    auto get = [&] { return gw.send({.target = "/api/health", .via = &bot}); };
    // Requests refused before the signature check spend nothing of the allowance.
    for (int i = 0; i < 150; ++i) {
        auto forged = gw.send({.target = "/api/health",
                               .key = "forged-key-0123456789abcdef0123456789",
                               .sign = i % 2 == 0,
                               .via = &bot});
        ASSERT_EQ(forged.status, 401) << i;
    }
    for (int i = 0; i < 100; ++i) ASSERT_EQ(get().status, 200) << i;
    auto limited = get();
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(error_code(limited), "rate_limited");
    ASSERT_TRUE(limited.headers.find("Retry-After"));
    const int retry_after = std::stoi(std::string(*limited.headers.find("Retry-After")));
    EXPECT_GE(retry_after, 60);
    // Another allowed address has its own budget.
    EXPECT_EQ(gw.send({.target = "/api/health", .local_address = "127.0.0.3"}).status, 200);
    // Not one more within the minute; after Retry-After, accepted again.
    gw.io.call([&] { gw.manual.advance(std::chrono::seconds(retry_after - 1)); });
    EXPECT_EQ(get().status, 429);
    gw.io.call([&] { gw.manual.advance(std::chrono::seconds(1)); });
    EXPECT_EQ(get().status, 200);
}

TEST(GatewayReplay, WallClockStepsNeitherForgetNoncesNorStopRotation) {
    GatewayHarness gw({}, {}, /*manual_clock=*/true);
    const std::string nonce = common::random_hex(16);
    const auto signed_at = gw.clock.unix_seconds();
    ASSERT_EQ(gw.send({.target = "/api/health", .nonce = nonce}).status, 200);
    // The wall clock jumps ahead (a bad NTP answer), a request passes, and the clock is set back.
    gw.io.call([&] { gw.stepped.step_wall(std::chrono::hours(1)); });
    EXPECT_EQ(gw.get("/api/health").status, 200);
    gw.io.call([&] { gw.stepped.step_wall(-std::chrono::hours(1)); });
    // The captured request, replayed with its original timestamp, is still refused.
    auto replay =
        gw.send({.target = "/api/health", .skew = signed_at - gw.clock.unix_seconds(), .nonce = nonce});
    EXPECT_EQ(replay.status, 401);
    EXPECT_EQ(error_code(replay), "replayed");
}

// The signature accepts a timestamp up to 300 s either side of the gateway's clock, so one
// captured request can be presented for 600 s: signed 300 s ahead (a fast client clock), then
// replayed until it is 300 s behind. The nonce is refused for all of that time.
TEST(GatewayReplay, ACapturedRequestIsRefusedForAsLongAsItsTimestampIsAccepted) {
    GatewayHarness gw({}, {}, /*manual_clock=*/true);
    const std::string nonce = common::random_hex(16);
    const auto signed_for = gw.clock.unix_seconds() + 300;
    ASSERT_EQ(gw.send({.target = "/api/health", .skew = 300, .nonce = nonce}).status, 200);
    for (int step : {150, 150, 150, 150}) {
        gw.io.call([&] { gw.manual.advance(std::chrono::seconds(step)); });
        // Other clients' requests go on being accepted meanwhile.
        ASSERT_EQ(gw.get("/api/health").status, 200);
        auto replay =
            gw.send({.target = "/api/health", .skew = signed_for - gw.clock.unix_seconds(), .nonce = nonce});
        EXPECT_EQ(replay.status, 401);
        EXPECT_EQ(error_code(replay), "replayed") << "at " << gw.clock.unix_seconds() - signed_for;
    }
    // One second later the timestamp itself is refused.
    gw.io.call([&] { gw.manual.advance(std::chrono::seconds(1)); });
    auto late =
        gw.send({.target = "/api/health", .skew = signed_for - gw.clock.unix_seconds(), .nonce = nonce});
    EXPECT_EQ(error_code(late), "stale_timestamp");
}

INSTANTIATE_TEST_SUITE_P(BothPanelGenerations, GatewayTest, ::testing::Values(PanelMode::v2, PanelMode::v3),
                         [](const auto& info) { return info.param == PanelMode::v2 ? "v2" : "v3"; });

TEST(GatewayProxy, ForwardedForIsHonouredOnlyFromTrustedProxies) {
    fakes::FakePanelOptions po;
    GatewayHarness gw(po, [](gateway::GatewayConfig& c, common::http::ServerOptions&) {
        c.allowed_ips = *gateway::IpAllowlist::parse({"203.0.113.7"});
        c.trusted_proxies = *gateway::IpAllowlist::parse({"127.0.0.1", "10.0.0.0/8"});
    });
    auto xff = [&](std::vector<std::pair<std::string, std::string>> headers) {
        return gw.send({.target = "/api/health", .headers = std::move(headers)}).status;
    };
    // The proxy on 127.0.0.1 forwards for the allowed bot address.
    EXPECT_EQ(xff({{"X-Forwarded-For", "198.51.100.1, 203.0.113.7"}}), 200);
    // Chained trusted proxies are skipped from the right.
    EXPECT_EQ(xff({{"X-Forwarded-For", "203.0.113.7, 10.1.2.3"}}), 200);
    // The left-most entry is client-written and does not count.
    EXPECT_EQ(xff({{"X-Forwarded-For", "203.0.113.7, 198.51.100.1"}}), 403);
    // A proxy that adds its own line (HAProxy's option forwardfor) after the client's forged one:
    // the lines are one list, and the proxy's entry on the right is the client.
    EXPECT_EQ(xff({{"X-Forwarded-For", "203.0.113.7"}, {"X-Forwarded-For", "198.51.100.1"}}), 403);
    EXPECT_EQ(xff({{"X-Forwarded-For", "198.51.100.1"}, {"X-Forwarded-For", "203.0.113.7"}}), 200);
    // A trusted proxy that names no untrusted address, or nothing at all, is refused.
    EXPECT_EQ(xff({}), 403);
    EXPECT_EQ(xff({{"X-Forwarded-For", "10.0.0.1, 127.0.0.1"}}), 403);
    EXPECT_EQ(xff({{"X-Forwarded-For", "not-an-address"}}), 403);
    // 127.0.0.2 is neither a trusted proxy nor allowed: closed at once, whatever it claims.
    EXPECT_FALSE(gw.try_send({.target = "/api/health",
                              .local_address = "127.0.0.2",
                              .headers = {{"X-Forwarded-For", "203.0.113.7"}}}));
}

TEST(GatewayBearer, V3PanelWithApiTokenNeverLogsIn) {
    fakes::FakePanelOptions po;
    po.mode = PanelMode::v3;
    po.api_token = "panel-api-token-123";
    GatewayHarness gw(po, [](gateway::GatewayConfig& c, common::http::ServerOptions&) {
        c.panel_username.clear();
        c.panel_password.clear();
    });
    ASSERT_EQ(gw.post("/api/clients", create_body("nl-token")).status, 201);
    EXPECT_EQ(gw.panel->login_count(), 0);
}

TEST(GatewaySlowLoris, StalledTlsClientIsCutOffWhileOthersAreServed) {
    fakes::FakePanelOptions po;
    GatewayHarness gw(
        po, [](gateway::GatewayConfig&, common::http::ServerOptions& s) { s.header_timeout = 300ms; });
    namespace asio = boost::asio;
    const auto port = gw.port;
    auto loris = std::async(std::launch::async, [port] {
        asio::io_context io;
        asio::ip::tcp::socket s(io);
        s.connect({asio::ip::make_address("127.0.0.1"), port});
        // Starts a TLS record and never finishes it.
        const unsigned char partial[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
        boost::system::error_code ec;
        asio::write(s, asio::buffer(partial), ec);
        char byte = 0;
        s.read_some(asio::buffer(&byte, 1), ec);  // returns when the gateway closes the connection
        return ec == asio::error::eof || ec == asio::error::connection_reset;
    });
    for (int i = 0; i < 3; ++i) EXPECT_EQ(gw.get("/api/health").status, 200);
    EXPECT_TRUE(loris.get());
}

}  // namespace
}  // namespace nebula::testing
