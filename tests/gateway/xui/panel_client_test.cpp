// PanelClient against the fake 3x-ui panel (real loopback HTTP), once per panel generation.
#include "gateway/xui/panel_client.hpp"

#include <algorithm>
#include <optional>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "fakes/xui/fake_panel.hpp"
#include "gateway/xui/links.hpp"

namespace nebula::gateway::xui {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using fakes::FakePanel;
using fakes::FakePanelOptions;
using fakes::PanelMode;

template <typename T>
asio::awaitable<void> store(asio::awaitable<T> op, std::optional<T>* out) {
    out->emplace(co_await std::move(op));
}

void rethrow(const std::exception_ptr& e) {
    if (e) std::rethrow_exception(e);
}

bool logged(const FakePanel& panel, std::string_view needle) {
    auto log = panel.request_log();
    return std::any_of(log.begin(), log.end(),
                       [&](const std::string& line) { return line.find(needle) != std::string::npos; });
}

class PanelClientTest : public ::testing::TestWithParam<PanelMode> {
  protected:
    bool v3() const { return GetParam() == PanelMode::v3; }

    void start_panel(FakePanelOptions options = {}) {
        options.mode = GetParam();
        panel_ = FakePanel::start(std::move(options));
    }

    PanelOptions client_options() const {
        PanelOptions o;
        o.url = common::http::Url::parse(panel_->url()).value();
        o.base_path = panel_->options().base_path;
        o.username = panel_->options().username;
        o.password = panel_->options().password;
        o.timeout = 5s;
        return o;
    }

    std::unique_ptr<PanelClient> make_client(PanelOptions o) {
        auto c = PanelClient::create(io_.get_executor(), std::move(o), clock_);
        EXPECT_TRUE(c.has_value()) << (c ? "" : c.error());
        return std::move(c).value();
    }

    void SetUp() override {
        start_panel();
        client_ = make_client(client_options());
    }

    /// Runs one client call to completion on the test's io_context.
    template <typename T>
    T run(asio::awaitable<T> op) {
        std::optional<T> out;
        asio::co_spawn(io_, store(std::move(op), &out), rethrow);
        io_.restart();
        io_.run();
        EXPECT_TRUE(out.has_value());
        return std::move(*out);
    }

    NewClient new_client(std::string email) const {
        NewClient n;
        n.email = std::move(email);
        n.uuid = "0b8c6f1e-3a2d-4c5b-9e7f-1a2b3c4d5e6f";
        n.sub_id = "s" + n.email;
        n.flow = "xtls-rprx-vision";
        n.total_bytes = 32212254720;
        n.expiry_ms = 1'900'000'000'000;
        n.limit_ip = 2;
        n.comment = "order 17";
        return n;
    }

    Client add(int inbound, NewClient n) {
        auto r = run(client_->add_client(inbound, std::move(n)));
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
        return r.value();
    }

    asio::io_context io_;
    common::ManualClock clock_;
    std::unique_ptr<FakePanel> panel_;
    std::unique_ptr<PanelClient> client_;
};

TEST_P(PanelClientTest, DetectsTheApiGenerationAfterLoggingIn) {
    auto g = run(client_->generation());
    ASSERT_TRUE(g.has_value()) << g.error().message;
    EXPECT_EQ(*g, v3() ? Generation::clients : Generation::legacy);
    EXPECT_EQ(client_->panel_version(), v3() ? "3.6.0" : "");
    EXPECT_EQ(panel_->login_count(), 1);
    // Detected once: asking again does not call the panel.
    const auto requests = panel_->request_log().size();
    EXPECT_TRUE(run(client_->generation()).has_value());
    EXPECT_EQ(panel_->request_log().size(), requests);
    // v3 logs in through the CSRF flow; v2 has no csrf-token route and takes a form login.
    EXPECT_TRUE(logged(*panel_, "GET /csrf-token"));
}

TEST_P(PanelClientTest, ReadsInboundsAndStatus) {
    auto list = run(client_->list_inbounds());
    ASSERT_TRUE(list.has_value()) << list.error().message;
    ASSERT_EQ(list->size(), 2u);
    const Inbound& reality = list->at(0);
    EXPECT_EQ(reality.id, 1);
    EXPECT_EQ(reality.remark, "reality-tcp");
    EXPECT_EQ(reality.protocol, "vless");
    EXPECT_EQ(reality.port, 443);
    EXPECT_EQ(reality.client_count, 1);
    // Strings on v2, objects on v3: parsed either way.
    EXPECT_EQ(reality.stream_settings["security"], "reality");
    EXPECT_EQ(reality.settings["encryption"], "none");

    auto one = run(client_->get_inbound(2));
    ASSERT_TRUE(one.has_value()) << one.error().message;
    EXPECT_EQ(one->stream_settings["network"], "ws");
    auto missing = run(client_->get_inbound(99));
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, PanelErrorCode::not_found);

    auto status = run(client_->server_status());
    ASSERT_TRUE(status.has_value()) << status.error().message;
    EXPECT_EQ(status->xray_state, "running");
    EXPECT_EQ(status->mem_total, 2'000'000'000u);
    EXPECT_GT(status->cpu, 0);
    EXPECT_EQ(status->panel_version, v3() ? "3.6.0" : "");
}

TEST_P(PanelClientTest, AddFindUpdateDelete) {
    Client added = add(1, new_client("tg_100_1"));
    EXPECT_EQ(added.email, "tg_100_1");
    EXPECT_EQ(added.inbound_id, 1);
    EXPECT_EQ(added.uuid, "0b8c6f1e-3a2d-4c5b-9e7f-1a2b3c4d5e6f");
    EXPECT_EQ(added.flow, "xtls-rprx-vision");
    EXPECT_EQ(added.sub_id, "stg_100_1");
    EXPECT_EQ(added.total_bytes, 32212254720);
    EXPECT_EQ(added.expiry_ms, 1'900'000'000'000);
    EXPECT_EQ(added.limit_ip, 2);
    EXPECT_TRUE(added.enable);
    ASSERT_TRUE(panel_->client("tg_100_1").has_value());

    panel_->add_traffic("tg_100_1", 1000, 2000);
    auto found = run(client_->find_client("tg_100_1"));
    ASSERT_TRUE(found.has_value()) << found.error().message;
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->up, 1000);
    EXPECT_EQ((*found)->down, 2000);
    // Legacy panels compare emails without case (settings JSON); 3.1+ looks the record up exactly.
    auto upper = run(client_->find_client("TG_100_1"));
    ASSERT_TRUE(upper.has_value()) << upper.error().message;
    EXPECT_EQ(upper->has_value(), !v3());

    ClientPatch patch;
    patch.expiry_ms = 1'950'000'000'000;
    auto updated = run(client_->update_client("tg_100_1", patch));
    ASSERT_TRUE(updated.has_value()) << updated.error().message;
    EXPECT_EQ(updated->expiry_ms, 1'950'000'000'000);
    // Nothing the patch left alone was wiped, on the panel's own copy either.
    auto stored = panel_->client("tg_100_1").value();
    EXPECT_EQ(stored["expiryTime"], 1'950'000'000'000);
    EXPECT_EQ(stored["flow"], "xtls-rprx-vision");
    EXPECT_EQ(stored["subId"], "stg_100_1");
    EXPECT_EQ(stored["limitIp"], 2);
    EXPECT_EQ(stored["totalGB"], 32212254720);
    EXPECT_EQ(stored["comment"], "order 17");
    EXPECT_EQ(stored["enable"], true);
    EXPECT_EQ(stored["id"], "0b8c6f1e-3a2d-4c5b-9e7f-1a2b3c4d5e6f");

    ClientPatch off;
    off.enable = false;
    off.total_bytes = 1;
    off.limit_ip = 5;
    auto disabled = run(client_->update_client("tg_100_1", off));
    ASSERT_TRUE(disabled.has_value()) << disabled.error().message;
    EXPECT_FALSE(disabled->enable);
    stored = panel_->client("tg_100_1").value();
    EXPECT_EQ(stored["enable"], false);
    EXPECT_EQ(stored["totalGB"], 1);
    EXPECT_EQ(stored["limitIp"], 5);
    EXPECT_EQ(stored["expiryTime"], 1'950'000'000'000);
    EXPECT_EQ(stored["flow"], "xtls-rprx-vision");

    ASSERT_TRUE(run(client_->delete_client("tg_100_1")).has_value());
    EXPECT_FALSE(panel_->client("tg_100_1").has_value());
    auto gone = run(client_->find_client("tg_100_1"));
    ASSERT_TRUE(gone.has_value());
    EXPECT_FALSE(gone->has_value());
    auto again = run(client_->delete_client("tg_100_1"));
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, PanelErrorCode::not_found);
    EXPECT_EQ(run(client_->update_client("tg_100_1", patch)).error().code, PanelErrorCode::not_found);
    EXPECT_EQ(run(client_->reset_traffic("tg_100_1")).error().code, PanelErrorCode::not_found);
}

TEST_P(PanelClientTest, GeneratesIdsAndDropsFlowWhereVisionCannotRun) {
    NewClient n;
    n.email = "ws_user";
    n.flow = "xtls-rprx-vision";
    Client c = add(2, n);  // inbound 2 is WebSocket + TLS
    EXPECT_TRUE(c.flow.empty());
    EXPECT_EQ(c.uuid.size(), 36u);
    EXPECT_EQ(c.sub_id.size(), 16u);
    EXPECT_EQ(panel_->client("ws_user").value().value("flow", ""), "");
}

TEST_P(PanelClientTest, CreatesDisabledClient) {
    NewClient n = new_client("off_from_start");
    n.enable = false;
    Client c = add(1, n);
    EXPECT_FALSE(c.enable);
    EXPECT_EQ(panel_->client("off_from_start").value()["enable"], false);
}

TEST_P(PanelClientTest, DuplicateEmailIsConflict) {
    add(1, new_client("dup"));
    NewClient other = new_client("DUP");
    other.uuid = "7d3e2b1a-0c9f-4e8d-8a7b-6c5d4e3f2a1b";
    other.sub_id = "different";
    auto r = run(client_->add_client(2, other));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, PanelErrorCode::conflict);
    EXPECT_NE(r.error().message.find("DUP"), std::string::npos);
}

TEST_P(PanelClientTest, AddingToUnknownInboundIsNotFound) {
    auto r = run(client_->add_client(42, new_client("nowhere")));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, PanelErrorCode::not_found);
}

TEST_P(PanelClientTest, LastClientOfAnInbound) {
    // Inbound 2 holds only the seeded "seed-ws".
    auto r = run(client_->delete_client("seed-ws"));
    if (v3()) {
        EXPECT_TRUE(r.has_value()) << r.error().message;  // 3.1+ allows empty inbounds
        EXPECT_FALSE(panel_->client("seed-ws").has_value());
    } else {
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, PanelErrorCode::last_client);
        EXPECT_TRUE(panel_->client("seed-ws").has_value());
    }
}

TEST_P(PanelClientTest, ResetsTraffic) {
    add(1, new_client("heavy"));
    panel_->add_traffic("heavy", 5000, 7000);
    ASSERT_TRUE(run(client_->reset_traffic("heavy")).has_value());
    auto found = run(client_->find_client("heavy"));
    ASSERT_TRUE(found.has_value() && found->has_value());
    EXPECT_EQ((*found)->up, 0);
    EXPECT_EQ((*found)->down, 0);
}

TEST_P(PanelClientTest, ListsEveryClientWithTraffic) {
    add(1, new_client("a_1"));
    panel_->add_traffic("a_1", 10, 20);
    auto all = run(client_->list_clients());
    ASSERT_TRUE(all.has_value()) << all.error().message;
    std::vector<std::string> emails;
    for (const auto& c : *all) emails.push_back(c.email);
    std::sort(emails.begin(), emails.end());
    EXPECT_EQ(emails, (std::vector<std::string>{"a_1", "seed-reality", "seed-ws"}));
    auto a = std::find_if(all->begin(), all->end(), [](const Client& c) { return c.email == "a_1"; });
    EXPECT_EQ(a->up, 10);
    EXPECT_EQ(a->down, 20);
    EXPECT_EQ(a->inbound_id, 1);
    EXPECT_EQ(a->uuid, "0b8c6f1e-3a2d-4c5b-9e7f-1a2b3c4d5e6f");
    EXPECT_EQ(a->flow, "xtls-rprx-vision");
}

TEST_P(PanelClientTest, SessionExpiryMidRunLogsInAgainTransparently) {
    add(1, new_client("keep"));
    EXPECT_EQ(panel_->login_count(), 1);
    panel_->expire_sessions();
    ClientPatch patch;
    patch.limit_ip = 3;
    auto r = run(client_->update_client("keep", patch));  // unsafe calls need a fresh CSRF token too
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->limit_ip, 3);
    EXPECT_EQ(panel_->login_count(), 2);
    if (v3()) {
        panel_->bump_login_epoch();  // the session keeps its CSRF token but is no longer logged in
        auto f = run(client_->find_client("keep"));
        ASSERT_TRUE(f.has_value()) << f.error().message;
        EXPECT_EQ(panel_->login_count(), 3);
    }
}

TEST_P(PanelClientTest, SessionExpiryOnAnUnsafeCall) {
    ASSERT_TRUE(run(client_->generation()).has_value());
    panel_->set_onlines({"seed-ws"});
    panel_->expire_sessions();  // on v3 the CSRF token dies with the session
    const auto before = panel_->request_log().size();
    auto r = run(client_->online_emails());  // a POST: needs a new session and, on v3, a new token
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(*r, (std::vector<std::string>{"seed-ws"}));
    EXPECT_EQ(panel_->login_count(), 2);
    auto log = panel_->request_log();
    std::vector<std::string> after(log.begin() + static_cast<std::ptrdiff_t>(before), log.end());
    const std::string onlines = v3() ? "POST /panel/api/clients/onlines" : "POST /panel/api/inbounds/onlines";
    EXPECT_EQ(std::count(after.begin(), after.end(), onlines), 2);  // refused once, then retried once
    EXPECT_EQ(after.back(), onlines);
    EXPECT_EQ(std::count(after.begin(), after.end(), "GET /csrf-token"), v3() ? 1 : 0);
}

TEST_P(PanelClientTest, ConcurrentCallsShareOneLogin) {
    std::optional<common::Result<std::optional<Client>, PanelError>> a, b, c;
    asio::co_spawn(io_, store(client_->find_client("seed-ws"), &a), rethrow);
    asio::co_spawn(io_, store(client_->find_client("seed-reality"), &b), rethrow);
    asio::co_spawn(io_, store(client_->find_client("nobody"), &c), rethrow);
    io_.run();
    ASSERT_TRUE(a && b && c);
    ASSERT_TRUE(a->has_value() && b->has_value() && c->has_value());
    EXPECT_TRUE(a->value().has_value());
    EXPECT_TRUE(b->value().has_value());
    EXPECT_FALSE(c->value().has_value());
    EXPECT_EQ(panel_->login_count(), 1);
}

TEST_P(PanelClientTest, PanelDownIsUnreachableAndRecovers) {
    ASSERT_TRUE(run(client_->generation()).has_value());
    panel_->set_down(true);
    auto r = run(client_->list_inbounds());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, PanelErrorCode::unreachable);
    panel_->set_down(false);
    EXPECT_TRUE(run(client_->list_inbounds()).has_value());
}

TEST_P(PanelClientTest, SlowPanelTimesOut) {
    auto o = client_options();
    o.timeout = 300ms;
    client_ = make_client(o);
    ASSERT_TRUE(run(client_->generation()).has_value());
    panel_->set_delay(2s);
    const auto started = std::chrono::steady_clock::now();
    auto r = run(client_->list_inbounds());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, PanelErrorCode::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
    panel_->set_delay(0ms);
}

TEST_P(PanelClientTest, RefusingPanelIsRejected) {
    ASSERT_TRUE(run(client_->generation()).has_value());
    panel_->set_failing(true);
    auto r = run(client_->list_inbounds());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, PanelErrorCode::rejected);
    EXPECT_FALSE(r.error().message.empty());
    panel_->set_failing(false);
}

TEST_P(PanelClientTest, HonoursBasePath) {
    FakePanelOptions options;
    options.base_path = "/AbC12xyz/";
    start_panel(options);
    auto o = client_options();
    o.base_path = "AbC12xyz";  // normalised to /AbC12xyz/
    client_ = make_client(o);
    Client c = add(1, new_client("based"));
    EXPECT_EQ(c.email, "based");
    EXPECT_TRUE(logged(*panel_, "POST /AbC12xyz/login"));

    // The same path given in the URL works too.
    auto in_url = client_options();
    in_url.url.path = "/AbC12xyz/";
    in_url.base_path = "/";
    client_ = make_client(in_url);
    EXPECT_TRUE(run(client_->list_inbounds()).has_value());

    auto wrong = client_options();
    wrong.base_path = "/nope/";
    client_ = make_client(wrong);
    auto r = run(client_->list_inbounds());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, PanelErrorCode::protocol);
    EXPECT_NE(r.error().message.find("PANEL_BASE_PATH"), std::string::npos) << r.error().message;
}

TEST_P(PanelClientTest, BulkDisable) {
    add(1, new_client("b_1"));
    add(2, new_client("b_2"));
    auto r = run(client_->disable_clients({"b_1", "b_2", "ghost", "b_1"}));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    std::sort(r->changed.begin(), r->changed.end());
    EXPECT_EQ(r->changed, (std::vector<std::string>{"b_1", "b_2"}));
    EXPECT_EQ(r->missing, (std::vector<std::string>{"ghost"}));
    EXPECT_EQ(panel_->client("b_1").value()["enable"], false);
    EXPECT_EQ(panel_->client("b_2").value()["enable"], false);
    EXPECT_EQ(panel_->client("b_1").value()["flow"], "xtls-rprx-vision");
    EXPECT_EQ(panel_->client("seed-reality").value()["enable"], true);
    EXPECT_EQ(logged(*panel_, "POST /panel/api/clients/bulkDisable"), v3());
}

TEST_P(PanelClientTest, OnlineEmails) {
    panel_->set_onlines({});
    auto none = run(client_->online_emails());  // the panel answers null
    ASSERT_TRUE(none.has_value()) << none.error().message;
    EXPECT_TRUE(none->empty());
    panel_->set_onlines({"seed-ws", "seed-reality"});
    auto some = run(client_->online_emails());
    ASSERT_TRUE(some.has_value());
    EXPECT_EQ(*some, (std::vector<std::string>{"seed-ws", "seed-reality"}));
}

TEST_P(PanelClientTest, WrongPasswordBacksOffWithoutHittingThePanel) {
    auto o = client_options();
    o.password = "wrong";
    client_ = make_client(o);
    auto first = run(client_->list_inbounds());
    ASSERT_FALSE(first.has_value());
    EXPECT_EQ(first.error().code, PanelErrorCode::auth_failed);
    EXPECT_EQ(first.error().message.find("wrong"), std::string::npos);  // never echoes the password
    EXPECT_EQ(panel_->failed_login_count(), 1);

    auto second = run(client_->list_inbounds());  // within the 2 s back-off: the panel is not asked
    EXPECT_EQ(second.error().code, PanelErrorCode::auth_failed);
    EXPECT_EQ(panel_->failed_login_count(), 1);

    clock_.advance(2s);
    EXPECT_EQ(run(client_->list_inbounds()).error().code, PanelErrorCode::auth_failed);
    EXPECT_EQ(panel_->failed_login_count(), 2);
    clock_.advance(3s);
    EXPECT_EQ(run(client_->list_inbounds()).error().code, PanelErrorCode::auth_failed);
    EXPECT_EQ(panel_->failed_login_count(), 2);  // the delay doubled to 4 s
    clock_.advance(1s);
    EXPECT_EQ(run(client_->list_inbounds()).error().code, PanelErrorCode::auth_failed);
    EXPECT_EQ(panel_->failed_login_count(), 3);
    // Three failures in the window: nothing more for five minutes, however often asked.
    for (int i = 0; i < 20; ++i) {
        clock_.advance(10s);
        EXPECT_EQ(run(client_->list_inbounds()).error().code, PanelErrorCode::auth_failed);
    }
    EXPECT_EQ(panel_->failed_login_count(), 3);
}

TEST_P(PanelClientTest, ShareLinkFromTheStoredInbound) {
    Client c = add(1, new_client("linked"));
    auto in = run(client_->get_inbound(1));
    ASSERT_TRUE(in.has_value());
    auto link = vless_link(*in, c, "vpn.example.com");
    ASSERT_TRUE(link.has_value()) << link.error();
    // spx: printf '%s' '/|slinked' | sha256sum | cut -c1-15
    EXPECT_EQ(
        link.value(),
        "vless://0b8c6f1e-3a2d-4c5b-9e7f-1a2b3c4d5e6f@vpn.example.com:443?encryption=none"
        "&flow=xtls-rprx-vision&fp=chrome&pbk=OyEhZdTMdtqrREdSLCootBX8E3hRZn5ZY4nL6kIa5pc&security=reality"
        "&sid=a3f1&sni=www.example.org&spx=%2F3b4397e20e3f3ae&type=tcp#linked");
}

INSTANTIATE_TEST_SUITE_P(BothGenerations, PanelClientTest, ::testing::Values(PanelMode::v2, PanelMode::v3),
                         [](const auto& info) { return info.param == PanelMode::v2 ? "v2" : "v3"; });

class PanelClientTokenTest : public ::testing::Test {
  protected:
    asio::io_context io_;
    common::ManualClock clock_;
};

TEST_F(PanelClientTokenTest, BearerTokenNeedsNoLogin) {
    FakePanelOptions fo;
    fo.mode = PanelMode::v3;
    fo.api_token = "tok-3f9a1c";
    auto panel = FakePanel::start(fo);
    PanelOptions o;
    o.url = common::http::Url::parse(panel->url()).value();
    o.api_token = "tok-3f9a1c";
    o.timeout = 5s;
    auto client = PanelClient::create(io_.get_executor(), o, clock_).value();
    std::optional<common::Result<Generation, PanelError>> g;
    asio::co_spawn(io_, store(client->generation(), &g), rethrow);
    io_.run();
    ASSERT_TRUE(g && g->has_value()) << g->error().message;
    EXPECT_EQ(g->value(), Generation::clients);

    NewClient n;
    n.email = "token_user";
    std::optional<common::Result<Client, PanelError>> added;
    asio::co_spawn(io_, store(client->add_client(1, n), &added), rethrow);
    io_.restart();
    io_.run();
    ASSERT_TRUE(added && added->has_value()) << added->error().message;
    EXPECT_EQ(panel->login_count(), 0);
    EXPECT_FALSE(panel->request_log().empty());

    o.api_token = "wrong-token";
    auto bad = PanelClient::create(io_.get_executor(), o, clock_).value();
    std::optional<common::Result<std::vector<Inbound>, PanelError>> r;
    asio::co_spawn(io_, store(bad->list_inbounds(), &r), rethrow);
    io_.restart();
    io_.run();
    ASSERT_TRUE(r && !r->has_value());
    EXPECT_EQ(r->error().code, PanelErrorCode::auth_failed);
    EXPECT_EQ(r->error().message.find("wrong-token"), std::string::npos);
}

TEST(PanelClientCreate, RefusesUnusableOptions) {
    asio::io_context io;
    common::SystemClock clock;
    PanelOptions o;
    o.url = common::http::Url::parse("http://127.0.0.1:2053").value();
    EXPECT_FALSE(PanelClient::create(io.get_executor(), o, clock).has_value());  // no credentials
    o.username = "admin";
    o.password = "admin";
    EXPECT_TRUE(PanelClient::create(io.get_executor(), o, clock).has_value());
    o.url.scheme = "ftp";
    EXPECT_FALSE(PanelClient::create(io.get_executor(), o, clock).has_value());
}

}  // namespace
}  // namespace nebula::gateway::xui
