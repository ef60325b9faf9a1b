// Protocol facts of the fake 3x-ui panel, checked over real sockets in both generations.
#include <gtest/gtest.h>

#include <chrono>

#include "fakes/xui/fake_panel.hpp"
#include "fakes_check/xui/panel_browser.hpp"

namespace nebula::fakes {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::PanelBrowser;
using testing::Reply;

std::string mode_name(const ::testing::TestParamInfo<PanelMode>& info) {
    return info.param == PanelMode::v3 ? "v3" : "v2";
}

class FakePanelTest : public ::testing::TestWithParam<PanelMode> {
  protected:
    void SetUp() override {
        FakePanelOptions options;
        options.mode = GetParam();
        options.base_path = "AbC12xyz";
        if (v3()) options.api_token = "tok-0123456789abcdef";
        panel = FakePanel::start(options);
        browser = std::make_unique<PanelBrowser>(io, *panel);
    }

    bool v3() const { return GetParam() == PanelMode::v3; }
    void login() { ASSERT_TRUE(browser->login(GetParam()).json().at("success").get<bool>()); }

    nebula::testing::IoThread io;
    std::unique_ptr<FakePanel> panel;
    std::unique_ptr<PanelBrowser> browser;
};

INSTANTIATE_TEST_SUITE_P(Modes, FakePanelTest, ::testing::Values(PanelMode::v2, PanelMode::v3), mode_name);

TEST_P(FakePanelTest, BasePathIsNormalisedAndRoutesSitUnderIt) {
    EXPECT_EQ(panel->options().base_path, "/AbC12xyz/");
    EXPECT_EQ(
        browser->send("POST", "/login", R"({"username":"admin","password":"admin"})", "application/json")
            .status,
        404);
    EXPECT_EQ(browser->get("/panel/api/inbounds/list").status, 404);
    // gin's trailing-slash redirect
    Reply r = browser->get("panel/api/inbounds/list/");
    EXPECT_EQ(r.status, 301);
    EXPECT_EQ(r.headers.find("Location").value_or(""), "/AbC12xyz/panel/api/inbounds/list");
}

TEST_P(FakePanelTest, UnauthenticatedApiCallsAnswer404OrWithXhr401) {
    Reply plain = browser->get("panel/api/inbounds/list");
    EXPECT_EQ(plain.status, 404);
    EXPECT_TRUE(plain.body.empty());
    browser->xhr = true;
    Reply ajax = browser->get("panel/api/inbounds/list");
    EXPECT_EQ(ajax.status, v3() ? 401 : 404);
    EXPECT_TRUE(ajax.body.empty());
    Reply post = browser->post("panel/api/server/status");  // wrong method: no such route at all
    EXPECT_EQ(post.status, 404);
}

TEST_P(FakePanelTest, LoginSetsTheSessionCookie) {
    Reply r = browser->login(GetParam());
    ASSERT_EQ(r.status, 200);
    json body = r.json();
    EXPECT_TRUE(body.at("success").get<bool>());
    EXPECT_TRUE(body.contains("msg"));
    EXPECT_TRUE(body.at("obj").is_null());
    ASSERT_FALSE(r.set_cookies().empty());
    const std::string cookie = r.set_cookies().back();
    EXPECT_EQ(cookie.rfind("3x-ui=", 0), 0u);
    EXPECT_NE(cookie.find("; Path=/AbC12xyz/"), std::string::npos);
    EXPECT_NE(cookie.find("; Max-Age=21600"), std::string::npos);
    EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos);
    EXPECT_NE(cookie.find("; SameSite=Lax"), std::string::npos);
    EXPECT_EQ(panel->login_count(), 1);

    Reply list = browser->get("panel/api/inbounds/list");
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(list.json().at("obj").size(), 2u);
    EXPECT_EQ(list.json().at("obj"), json(panel->inbounds()));
    const auto log = panel->request_log();
    ASSERT_FALSE(log.empty());
    EXPECT_EQ(log.back(), "GET /AbC12xyz/panel/api/inbounds/list");
}

TEST_P(FakePanelTest, LogoutEndsTheSession) {
    login();
    Reply out = v3() ? browser->post("logout") : browser->get("logout");
    EXPECT_EQ(out.status, v3() ? 200 : 307);
    EXPECT_TRUE(browser->cookie().empty());
    EXPECT_EQ(browser->get("panel/api/inbounds/list").status, 404);
}

TEST_P(FakePanelTest, LoginAcceptsFormEncodedCredentials) {
    if (v3()) browser->fetch_csrf();
    Reply r = browser->post_form("login", "username=admin&password=admin");
    EXPECT_TRUE(r.json().at("success").get<bool>());
}

TEST_P(FakePanelTest, WrongPasswordIs200WithSuccessFalse) {
    Reply r = browser->login(GetParam(), "admin", "nope");
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.json().at("success").get<bool>());
    EXPECT_EQ(r.json().at("msg"), "Invalid username or password or two-factor code.");
    EXPECT_EQ(panel->failed_login_count(), 1);
    EXPECT_EQ(browser->get("panel/api/inbounds/list").status, 404);
}

TEST_P(FakePanelTest, FiveFailuresLockTheUserOutInV3Only) {
    for (int i = 0; i < 5; ++i) browser->login(GetParam(), "admin", "wrong");
    Reply locked = browser->login(GetParam());
    if (!v3()) {
        // 2.9.x has no login limiter.
        EXPECT_TRUE(locked.json().at("success").get<bool>());
        return;
    }
    EXPECT_FALSE(locked.json().at("success").get<bool>());
    EXPECT_EQ(locked.json().at("msg"), "Invalid username or password or two-factor code.");
    EXPECT_EQ(panel->failed_login_count(), 6);
    panel->advance_clock(14min);
    EXPECT_FALSE(browser->login(GetParam()).json().at("success").get<bool>());
    panel->advance_clock(2min);
    EXPECT_TRUE(browser->login(GetParam()).json().at("success").get<bool>());
}

TEST_P(FakePanelTest, FailingPanelKeepsTheEnvelopeAndHttp200) {
    login();
    panel->set_failing(true);
    Reply r = browser->get("panel/api/inbounds/list");
    ASSERT_EQ(r.status, 200);
    json body = r.json();
    EXPECT_FALSE(body.at("success").get<bool>());
    EXPECT_EQ(body.at("msg").get<std::string>().rfind("Something went wrong (", 0), 0u);
    EXPECT_TRUE(body.at("obj").is_null());
    panel->set_failing(false);
    EXPECT_TRUE(browser->get("panel/api/inbounds/list").json().at("success").get<bool>());
}

TEST_P(FakePanelTest, ExpiredSessionsAreUnauthenticated) {
    login();
    ASSERT_EQ(browser->get("panel/api/inbounds/list").status, 200);
    panel->expire_sessions();
    browser->xhr = true;
    EXPECT_EQ(browser->get("panel/api/inbounds/list").status, v3() ? 401 : 404);
    if (v3()) {
        // The old CSRF token went with the cookie.
        EXPECT_EQ(browser->post_json("login", {{"username", "admin"}, {"password", "admin"}}).status, 403);
    }
    login();
    EXPECT_EQ(browser->get("panel/api/inbounds/list").status, 200);
}

TEST_P(FakePanelTest, SessionMaxAgeIsEnforcedFromTheSignedTimestamp) {
    login();
    panel->advance_clock(std::chrono::hours(6) - 1min);
    EXPECT_EQ(browser->get("panel/api/inbounds/list").status, 200);
    panel->advance_clock(2min);
    EXPECT_EQ(browser->get("panel/api/inbounds/list").status, 404);
}

TEST_P(FakePanelTest, DownStopsListeningAndUpRestartsOnTheSamePort) {
    login();
    const auto port = panel->port();
    panel->set_down(true);
    Reply r = browser->get("panel/api/inbounds/list");
    ASSERT_TRUE(r.error.has_value());
    panel->set_down(false);
    EXPECT_EQ(panel->port(), port);
    // The session lives in the signed cookie, so it survives the restart.
    EXPECT_EQ(browser->get("panel/api/inbounds/list").status, 200);
}

TEST_P(FakePanelTest, DelayMakesEveryAnswerSlow) {
    login();
    panel->set_delay(400ms);
    Reply timed_out = browser->send("GET", "panel/api/inbounds/list", {}, {}, {}, 100ms);
    ASSERT_TRUE(timed_out.error.has_value());
    EXPECT_EQ(timed_out.error->code, common::http::ClientErrorCode::timeout);
    const auto start = std::chrono::steady_clock::now();
    Reply slow = browser->get("panel/api/server/status");
    EXPECT_EQ(slow.status, 200);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 400ms);
    panel->set_delay(0ms);
    EXPECT_EQ(browser->get("panel/api/server/status").status, 200);
}

TEST_P(FakePanelTest, OnlinesIsNullWhenNobodyIsOnline) {
    login();
    const std::string route = v3() ? "panel/api/clients/onlines" : "panel/api/inbounds/onlines";
    EXPECT_TRUE(browser->post(route).json().at("obj").is_null());
    panel->set_onlines({"seed-ws"});
    EXPECT_EQ(browser->post(route).json().at("obj"), json::array({"seed-ws"}));
}

TEST_P(FakePanelTest, ServerStatusHasPanelVersionOnlyInV3) {
    login();
    json obj = browser->get("panel/api/server/status").json().at("obj");
    EXPECT_EQ(obj.at("xray").at("state"), "running");
    if (v3()) {
        EXPECT_EQ(obj.at("panelVersion"), "3.6.0");
    } else {
        EXPECT_FALSE(obj.contains("panelVersion"));
    }
}

TEST_P(FakePanelTest, TheOtherGenerationsClientRoutesAnswer404) {
    login();
    if (v3()) {
        EXPECT_EQ(browser->post_form("panel/api/inbounds/addClient", "id=1&settings=%7B%7D").status, 404);
        EXPECT_EQ(browser->get("panel/api/inbounds/getClientTraffics/seed-ws").status, 404);
        EXPECT_EQ(browser->post("panel/api/inbounds/1/delClient/x").status, 404);
    } else {
        EXPECT_EQ(browser->get("panel/api/clients/list").status, 404);
        EXPECT_EQ(browser->post_json("panel/api/clients/add", json::object()).status, 404);
    }
}

TEST_P(FakePanelTest, SeededInboundsHaveTheRealShape) {
    login();
    json list = browser->get("panel/api/inbounds/list").json().at("obj");
    ASSERT_EQ(list.size(), 2u);
    for (const char* key : {"id", "up", "down", "total", "remark", "enable", "expiryTime", "trafficReset",
                            "lastTrafficResetTime", "clientStats", "listen", "port", "protocol", "settings",
                            "streamSettings", "tag", "sniffing"}) {
        EXPECT_TRUE(list[0].contains(key)) << key;
    }
    auto nested = [&](const json& v) { return v3() ? v : json::parse(v.get<std::string>()); };
    EXPECT_EQ(list[0].at("settings").is_string(), !v3());
    json reality = nested(list[0].at("streamSettings"));
    EXPECT_EQ(list[0].at("remark"), "reality-tcp");
    EXPECT_EQ(list[0].at("port"), 443);
    EXPECT_EQ(reality.at("security"), "reality");
    EXPECT_EQ(reality.at("realitySettings").at("shortIds"), json::array({"a3f1", "0b"}));
    EXPECT_EQ(reality.at("realitySettings").at("settings").at("publicKey").get<std::string>().size(), 43u);
    json clients = nested(list[0].at("settings")).at("clients");
    ASSERT_EQ(clients.size(), 1u);
    EXPECT_EQ(clients[0].at("email"), "seed-reality");
    EXPECT_EQ(clients[0].at("flow"), "xtls-rprx-vision");
    EXPECT_EQ(list[0].at("clientStats").size(), 1u);
    json ws = nested(list[1].at("streamSettings"));
    EXPECT_EQ(ws.at("wsSettings").at("path"), "/ws");
    EXPECT_EQ(ws.at("tlsSettings").at("alpn"), json::array({"h2", "http/1.1"}));

    json one = browser->get("panel/api/inbounds/get/1").json().at("obj");
    // G1 loads the row without client stats (3x-ui issue #3783).
    EXPECT_EQ(one.at("clientStats").is_null(), !v3());
    Reply missing = browser->get("panel/api/inbounds/get/99");
    EXPECT_FALSE(missing.json().at("success").get<bool>());
    EXPECT_NE(missing.json().at("msg").get<std::string>().find("record not found"), std::string::npos);
}

TEST_P(FakePanelTest, DeletingAnInboundTakesItOffTheList) {
    login();
    EXPECT_TRUE(panel->delete_inbound(2));
    EXPECT_FALSE(panel->delete_inbound(2));
    json list = browser->get("panel/api/inbounds/list").json().at("obj");
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].at("remark"), "reality-tcp");
    EXPECT_FALSE(browser->get("panel/api/inbounds/get/2").json().at("success").get<bool>());
    if (!v3()) {
        EXPECT_FALSE(panel->client("seed-ws").has_value());  // its clients lived in its settings
    }
    EXPECT_TRUE(panel->client("seed-reality").has_value());
}

// ---------------------------------------------------------------------------------------------
// G1 (v2 mode)

class LegacyPanelTest : public ::testing::Test {
  protected:
    void SetUp() override {
        FakePanelOptions options;
        options.mode = PanelMode::v2;
        panel = FakePanel::start(options);
        browser = std::make_unique<PanelBrowser>(io, *panel);
        ASSERT_TRUE(browser->login(PanelMode::v2).json().at("success").get<bool>());
    }

    static json client(const std::string& email, const std::string& uuid, std::int64_t total = 0) {
        return {{"id", uuid},
                {"flow", "xtls-rprx-vision"},
                {"email", email},
                {"limitIp", 0},
                {"totalGB", total},
                {"expiryTime", 0},
                {"enable", true},
                {"tgId", 0},
                {"subId", "sub" + email},
                {"comment", "c"},
                {"reset", 0}};
    }
    Reply add(int inbound, const json& c) {
        return browser->post_json("panel/api/inbounds/addClient",
                                  {{"id", inbound}, {"settings", json{{"clients", {c}}}.dump()}});
    }

    nebula::testing::IoThread io;
    std::unique_ptr<FakePanel> panel;
    std::unique_ptr<PanelBrowser> browser;
};

TEST_F(LegacyPanelTest, AddClientNeedsSettingsAsAJsonString) {
    json c = client("tg_1", "5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11");
    Reply as_object =
        browser->post_json("panel/api/inbounds/addClient", {{"id", 1}, {"settings", json{{"clients", {c}}}}});
    ASSERT_EQ(as_object.status, 200);
    EXPECT_FALSE(as_object.json().at("success").get<bool>());
    EXPECT_NE(as_object.json().at("msg").get<std::string>().find(
                  "cannot unmarshal object into Go struct field Inbound.settings of type string"),
              std::string::npos);
    EXPECT_FALSE(panel->client("tg_1"));

    Reply ok = add(1, c);
    EXPECT_TRUE(ok.json().at("success").get<bool>());
    EXPECT_EQ(ok.json().at("msg"), "Inbound client(s) have been added.");
    auto stored = panel->client("tg_1");
    ASSERT_TRUE(stored);
    EXPECT_TRUE(stored->contains("created_at"));
    EXPECT_EQ(stored->at("traffic").at("enable"), true);
}

TEST_F(LegacyPanelTest, AddClientAcceptsAForm) {
    json settings = {{"clients", {client("tg_form", "6f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11")}}};
    std::string body = "id=2&settings=" + common::http::url_encode(settings.dump());
    EXPECT_TRUE(browser->post_form("panel/api/inbounds/addClient", body).json().at("success").get<bool>());
    EXPECT_TRUE(panel->client("tg_form"));
}

TEST_F(LegacyPanelTest, EmailsAreUniqueAcrossInboundsIgnoringCaseAndIdsAreRequired) {
    ASSERT_TRUE(
        add(1, client("Alice", "7f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11")).json().at("success").get<bool>());
    Reply dup = add(2, client("alice", "8f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11"));
    EXPECT_FALSE(dup.json().at("success").get<bool>());
    EXPECT_EQ(
        dup.json().at("msg").get<std::string>().rfind("Something went wrong (Duplicate email: alice", 0), 0u);
    json no_id = client("bob", "");
    no_id.erase("id");
    Reply empty = add(1, no_id);
    EXPECT_FALSE(empty.json().at("success").get<bool>());
    EXPECT_NE(empty.json().at("msg").get<std::string>().find("empty client ID"), std::string::npos);
}

TEST_F(LegacyPanelTest, UpdateClientReplacesTheWholeObject) {
    const std::string uuid = "9f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11";
    ASSERT_TRUE(add(1, client("tg_2", uuid, 5000)).json().at("success").get<bool>());
    json replacement = {{"id", uuid}, {"email", "tg_2"}, {"enable", true}, {"totalGB", 9000}};
    Reply r = browser->post_json("panel/api/inbounds/updateClient/" + uuid,
                                 {{"id", 1}, {"settings", json{{"clients", {replacement}}}.dump()}});
    EXPECT_TRUE(r.json().at("success").get<bool>());
    auto stored = panel->client("tg_2");
    ASSERT_TRUE(stored);
    EXPECT_FALSE(stored->contains("flow"));
    EXPECT_FALSE(stored->contains("subId"));
    EXPECT_EQ(stored->at("totalGB"), 9000);
    EXPECT_EQ(stored->at("traffic").at("total"), 9000);

    Reply unknown = browser->post_json("panel/api/inbounds/updateClient/00000000-0000-4000-8000-000000000000",
                                       {{"id", 1}, {"settings", json{{"clients", {replacement}}}.dump()}});
    EXPECT_NE(unknown.json().at("msg").get<std::string>().find("empty client ID"), std::string::npos);
}

TEST_F(LegacyPanelTest, TheLastClientOfAnInboundCannotBeDeleted) {
    Reply last = browser->post("panel/api/inbounds/2/delClient/dde41cdf-1c1a-498a-9be8-913b835c847a");
    EXPECT_FALSE(last.json().at("success").get<bool>());
    EXPECT_NE(last.json().at("msg").get<std::string>().find("no client remained in Inbound"),
              std::string::npos);
    Reply by_email = browser->post("panel/api/inbounds/2/delClientByEmail/seed-ws");
    EXPECT_NE(by_email.json().at("msg").get<std::string>().find("no client remained in Inbound"),
              std::string::npos);

    const std::string uuid = "af1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11";
    ASSERT_TRUE(add(2, client("tg_3", uuid)).json().at("success").get<bool>());
    EXPECT_TRUE(browser->post("panel/api/inbounds/2/delClient/" + uuid).json().at("success").get<bool>());
    EXPECT_FALSE(panel->client("tg_3"));
    Reply gone = browser->post("panel/api/inbounds/2/delClient/" + uuid);
    EXPECT_NE(gone.json().at("msg").get<std::string>().find("Client Not Found In Inbound For ID"),
              std::string::npos);
}

TEST_F(LegacyPanelTest, QuotaDisablesAndResetReenablesOnlyTheTrafficRow) {
    ASSERT_TRUE(add(1, client("tg_4", "bf1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11", 1000))
                    .json()
                    .at("success")
                    .get<bool>());
    panel->add_traffic("tg_4", 600, 300);
    EXPECT_EQ(panel->client("tg_4")->at("traffic").at("enable"), true);
    panel->add_traffic("tg_4", 0, 100);
    auto c = panel->client("tg_4");
    EXPECT_EQ(c->at("enable"), false);
    EXPECT_EQ(c->at("traffic").at("enable"), false);
    json t = browser->get("panel/api/inbounds/getClientTraffics/tg_4").json().at("obj");
    EXPECT_EQ(t.at("up"), 600);
    EXPECT_EQ(t.at("down"), 400);
    EXPECT_TRUE(
        browser->post("panel/api/inbounds/1/resetClientTraffic/tg_4").json().at("success").get<bool>());
    c = panel->client("tg_4");
    EXPECT_EQ(c->at("traffic").at("enable"), true);
    EXPECT_EQ(c->at("traffic").at("up"), 0);
    EXPECT_EQ(c->at("enable"), false);  // 2.9.4 leaves the settings flag off (3x-ui issue #4396)

    Reply unknown = browser->get("panel/api/inbounds/getClientTraffics/nobody");
    EXPECT_FALSE(unknown.json().at("success").get<bool>());
    EXPECT_NE(unknown.json().at("msg").get<std::string>().find("Inbound Not Found For Email"),
              std::string::npos);
}

TEST_F(LegacyPanelTest, SubscriptionServesBase64LinksAndRejectsUnknownIds) {
    PanelBrowser sub(io, *panel, true);
    Reply r = sub.get("/sub/q8r2m5x9k1v7c3z0");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.find("Subscription-Userinfo").value_or(""),
              "upload=0; download=0; total=0; expire=0");
    EXPECT_FALSE(r.body.empty());
    Reply unknown = sub.get("/sub/doesnotexist");
    EXPECT_EQ(unknown.status, 400);
    EXPECT_EQ(unknown.body, "Error!");
}

// ---------------------------------------------------------------------------------------------
// G2 (v3 mode)

class ClientsPanelTest : public ::testing::Test {
  protected:
    void SetUp() override {
        FakePanelOptions options;
        options.mode = PanelMode::v3;
        options.api_token = "tok-0123456789abcdef";
        options.sub_domain = "vpn.example.com";
        panel = FakePanel::start(options);
        browser = std::make_unique<PanelBrowser>(io, *panel);
        ASSERT_TRUE(browser->login(PanelMode::v3).json().at("success").get<bool>());
    }
    Reply add(const json& client, const json& inbound_ids = {1}) {
        return browser->post_json("panel/api/clients/add", {{"client", client}, {"inboundIds", inbound_ids}});
    }

    nebula::testing::IoThread io;
    std::unique_ptr<FakePanel> panel;
    std::unique_ptr<PanelBrowser> browser;
};

TEST_F(ClientsPanelTest, CsrfTokenHasNoMsgKeyAndUnsafeCallsNeedIt) {
    Reply token = browser->get("csrf-token");
    json body = token.json();
    EXPECT_TRUE(body.at("success").get<bool>());
    EXPECT_FALSE(body.contains("msg"));
    EXPECT_EQ(body.at("obj"), browser->csrf);
    browser->send_csrf = false;
    Reply forbidden = add({{"email", "tg_csrf"}});
    EXPECT_EQ(forbidden.status, 403);
    EXPECT_TRUE(forbidden.body.empty());
    browser->send_csrf = true;
    browser->csrf = "wrong-token";
    EXPECT_EQ(add({{"email", "tg_csrf"}}).status, 403);
}

TEST_F(ClientsPanelTest, BearerTokenAuthenticatesWithoutCookieOrCsrf) {
    PanelBrowser api(io, *panel);
    api.bearer = "tok-0123456789abcdef";
    EXPECT_EQ(api.get("panel/api/clients/list").status, 200);
    EXPECT_TRUE(
        api.post_json("panel/api/clients/add", {{"client", {{"email", "tg_tok"}}}, {"inboundIds", {1}}})
            .json()
            .at("success")
            .get<bool>());
    api.bearer = "tok-wrong";
    EXPECT_EQ(api.get("panel/api/clients/list").status, 404);
}

TEST_F(ClientsPanelTest, AddGeneratesIdsAndForcesEnable) {
    Reply r = add({{"email", "tg_5"}, {"enable", false}, {"totalGB", 1000}}, {1, 2});
    EXPECT_TRUE(r.json().at("success").get<bool>());
    EXPECT_TRUE(r.json().at("obj").is_null());
    json got = browser->get("panel/api/clients/get/tg_5").json().at("obj");
    EXPECT_EQ(got.at("client").at("enable"), true);
    EXPECT_EQ(got.at("client").at("uuid").get<std::string>().size(), 36u);
    EXPECT_EQ(got.at("client").at("subId").get<std::string>().size(), 36u);
    EXPECT_EQ(got.at("inboundIds"), json::array({1, 2}));

    Reply same = add({{"email", "tg_5"}});
    EXPECT_NE(same.json().at("msg").get<std::string>().find("email already in use: tg_5"), std::string::npos);
    Reply other_case = add({{"email", "TG_5"}});
    EXPECT_NE(other_case.json().at("msg").get<std::string>().find("Duplicate email: TG_5"),
              std::string::npos);
    Reply slash = add({{"email", "a/b"}});
    EXPECT_NE(slash.json().at("msg").get<std::string>().find("invalid character"), std::string::npos);
    Reply none = add({{"email", "tg_6"}}, json::array());
    EXPECT_NE(none.json().at("msg").get<std::string>().find("at least one inbound is required"),
              std::string::npos);
}

TEST_F(ClientsPanelTest, UpdateIsAFullReplacement) {
    ASSERT_TRUE(add({{"email", "tg_7"},
                     {"id", "cf1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11"},
                     {"flow", "xtls-rprx-vision"},
                     {"totalGB", 5000},
                     {"expiryTime", 1900000000000},
                     {"tgId", 42}})
                    .json()
                    .at("success")
                    .get<bool>());
    EXPECT_TRUE(browser->post_json("panel/api/clients/update/tg_7", {{"email", "tg_7"}})
                    .json()
                    .at("success")
                    .get<bool>());
    json c = browser->get("panel/api/clients/get/tg_7").json().at("obj").at("client");
    EXPECT_EQ(c.at("enable"), false);
    EXPECT_EQ(c.at("totalGB"), 0);
    EXPECT_EQ(c.at("expiryTime"), 0);
    EXPECT_EQ(c.at("tgId"), 0);
    EXPECT_EQ(c.at("flow"), "");
    EXPECT_EQ(c.at("uuid"), "cf1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11");  // empty id keeps the stored one
    EXPECT_EQ(panel->client("tg_7")->at("traffic").at("enable"), false);

    Reply unknown = browser->post_json("panel/api/clients/update/nobody", {{"email", "nobody"}});
    EXPECT_NE(unknown.json().at("msg").get<std::string>().find("record not found"), std::string::npos);
}

TEST_F(ClientsPanelTest, TrafficOfAnUnknownEmailIsSuccessWithNull) {
    Reply r = browser->get("panel/api/clients/traffic/nobody");
    EXPECT_TRUE(r.json().at("success").get<bool>());
    EXPECT_TRUE(r.json().at("obj").is_null());
    json seed = browser->get("panel/api/clients/traffic/seed-ws").json().at("obj");
    EXPECT_EQ(seed.at("email"), "seed-ws");
    EXPECT_FALSE(seed.contains("allTime"));
}

TEST_F(ClientsPanelTest, DeleteAllowsTheLastClientAndResetReenables) {
    EXPECT_TRUE(browser->post("panel/api/clients/del/seed-ws").json().at("success").get<bool>());
    EXPECT_FALSE(panel->client("seed-ws"));
    Reply again = browser->post("panel/api/clients/del/seed-ws");
    EXPECT_NE(again.json().at("msg").get<std::string>().find("not found in any inbound or client record"),
              std::string::npos);

    Reply bulk = browser->post_json("panel/api/clients/bulkDisable", {{"emails", {"seed-reality", "ghost"}}});
    json obj = bulk.json().at("obj");
    EXPECT_EQ(obj.at("changed"), 1);
    EXPECT_EQ(obj.at("skipped"), json::parse(R"([{"email":"ghost","reason":"client not found"}])"));
    EXPECT_EQ(panel->client("seed-reality")->at("enable"), false);
    EXPECT_TRUE(
        browser->post("panel/api/clients/resetTraffic/seed-reality").json().at("success").get<bool>());
    EXPECT_EQ(panel->client("seed-reality")->at("enable"), true);
}

TEST_F(ClientsPanelTest, NegativeExpiryStartsOnFirstTrafficAndExpiryDisables) {
    ASSERT_TRUE(add({{"email", "tg_8"}, {"expiryTime", -86400000}}).json().at("success").get<bool>());
    panel->add_traffic("tg_8", 10, 10);
    const auto expiry = panel->client("tg_8")->at("expiryTime").get<std::int64_t>();
    EXPECT_GT(expiry, 0);
    EXPECT_EQ(panel->client("tg_8")->at("traffic").at("expiryTime"), expiry);
    panel->advance_clock(std::chrono::hours(23));
    EXPECT_EQ(panel->client("tg_8")->at("enable"), true);
    panel->advance_clock(std::chrono::hours(2));
    EXPECT_EQ(panel->client("tg_8")->at("enable"), false);
    EXPECT_EQ(panel->client("tg_8")->at("traffic").at("enable"), false);
}

TEST_F(ClientsPanelTest, SubscriptionServesLinksAndUnknownIdsAre404) {
    ASSERT_TRUE(add({{"email", "tg_9"},
                     {"subId", "k3v9q2m8x1z7p4w0"},
                     {"totalGB", 1000},
                     {"flow", "xtls-rprx-vision"}},
                    {1, 2})
                    .json()
                    .at("success")
                    .get<bool>());
    panel->add_traffic("tg_9", 100, 200);
    PanelBrowser sub(io, *panel, true);
    Reply r = sub.get("/sub/k3v9q2m8x1z7p4w0");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.find("Subscription-Userinfo").value_or(""),
              "upload=100; download=200; total=1000; expire=0");
    Reply unknown = sub.get("/sub/nope");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_TRUE(unknown.body.empty());

    json links = browser->get("panel/api/clients/subLinks/k3v9q2m8x1z7p4w0").json().at("obj");
    ASSERT_EQ(links.size(), 2u);
    const std::string reality = links[0];
    EXPECT_EQ(reality.rfind("vless://", 0), 0u);
    EXPECT_NE(reality.find("@vpn.example.com:443?"), std::string::npos);
    EXPECT_NE(reality.find("flow=xtls-rprx-vision"), std::string::npos);
    EXPECT_NE(reality.find("security=reality"), std::string::npos);
    EXPECT_NE(reality.find("#reality-tcp-tg_9"), std::string::npos);
    const std::string ws = links[1];
    EXPECT_EQ(ws.find("flow="), std::string::npos);  // no Vision over WebSocket
    EXPECT_NE(ws.find("path=%2Fws"), std::string::npos);
    EXPECT_NE(ws.find("alpn=h2%2Chttp%2F1.1"), std::string::npos);
}

TEST_F(ClientsPanelTest, LoginEpochBumpKeepsTheCsrfToken) {
    panel->bump_login_epoch();
    browser->xhr = true;
    EXPECT_EQ(browser->get("panel/api/clients/list").status, 401);
    EXPECT_TRUE(browser->post_json("login", {{"username", "admin"}, {"password", "admin"}})
                    .json()
                    .at("success")
                    .get<bool>());
    EXPECT_EQ(browser->get("panel/api/clients/list").status, 200);
}

}  // namespace
}  // namespace nebula::fakes
