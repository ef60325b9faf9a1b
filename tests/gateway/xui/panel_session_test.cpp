// PanelClient session handling against a scripted loopback panel: situations the fake panel's
// controls cannot produce (a token rotated under a live session, pre-2.8.4 redirects, a cookie
// re-issued on every answer, a panel that keeps refusing).
#include <future>
#include <limits>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "common/http_server.hpp"
#include "gateway/xui/panel_client.hpp"

namespace nebula::gateway::xui {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nlohmann::json;

common::http::Response envelope(json obj, bool success = true) {
    common::http::Response r;
    r.headers.set("Content-Type", "application/json; charset=utf-8");
    r.body = json{{"success", success}, {"msg", ""}, {"obj", std::move(obj)}}.dump();
    return r;
}

common::http::Response bare(int status) {
    common::http::Response r;
    r.status = status;
    return r;
}

/// A panel whose every answer is decided by `script`; records what it was sent. The server runs
/// on its own thread; `script` runs there, under the mutex.
class ScriptedPanel : public common::http::Handler {
  public:
    using Script = std::function<common::http::Response(const common::http::Request&)>;

    explicit ScriptedPanel(Script script) : script_(std::move(script)), guard_(io_.get_executor()) {
        std::promise<std::uint16_t> bound;
        thread_ = std::thread([&] {
            auto server =
                common::http::Server::create(io_.get_executor(), common::http::ServerOptions{}, *this);
            if (!server) throw std::runtime_error(server.error());
            server_ = std::move(server).value();
            server_->start();
            bound.set_value(server_->port());
            io_.run();
            server_.reset();
        });
        port_ = bound.get_future().get();
    }
    ~ScriptedPanel() override {
        asio::post(io_, [this] {
            server_->shutdown(0ms);
            guard_.reset();
        });
        thread_.join();
    }

    std::optional<common::http::Response> screen(const common::http::Request&,
                                                 const common::http::Peer&) override {
        return std::nullopt;
    }
    asio::awaitable<common::http::Response> handle(common::http::Request request,
                                                   common::http::Peer) override {
        std::lock_guard lock(mutex_);
        log_.push_back(request.method + " " + request.target);
        requests_.push_back(request);
        co_return script_(request);
    }

    std::uint16_t port() const { return port_; }
    std::vector<std::string> log() const {
        std::lock_guard lock(mutex_);
        return log_;
    }
    std::vector<common::http::Request> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

  private:
    Script script_;
    mutable std::mutex mutex_;
    std::vector<std::string> log_;
    std::vector<common::http::Request> requests_;
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::unique_ptr<common::http::Server> server_;
    std::thread thread_;
    std::uint16_t port_ = 0;
};

template <typename T>
asio::awaitable<void> store(asio::awaitable<T> op, std::optional<T>* out) {
    out->emplace(co_await std::move(op));
}

class PanelSessionTest : public ::testing::Test {
  protected:
    std::unique_ptr<PanelClient> connect(const ScriptedPanel& panel, std::string token = {}) {
        PanelOptions o;
        o.url = common::http::Url::parse("http://127.0.0.1:" + std::to_string(panel.port())).value();
        o.username = "admin";
        o.password = "s3cret-pass";
        o.api_token = std::move(token);
        o.timeout = 5s;
        return PanelClient::create(io_.get_executor(), o, clock_).value();
    }

    template <typename T>
    T run(asio::awaitable<T> op) {
        std::optional<T> out;
        asio::co_spawn(io_, store(std::move(op), &out), [](const std::exception_ptr& e) {
            if (e) std::rethrow_exception(e);
        });
        io_.restart();
        io_.run();
        EXPECT_TRUE(out.has_value());
        return std::move(*out);
    }

    asio::io_context io_;
    common::ManualClock clock_;
};

json v3_status() { return json{{"cpu", 1.5}, {"xray", {{"state", "running"}}}, {"panelVersion", "3.6.0"}}; }

// Numbers from the panel are read with range checks: a value out of range is 0, never a
// wrapped-around or (for a double) undefined conversion.
TEST_F(PanelSessionTest, OutOfRangePanelNumbersReadAsZero) {
    ScriptedPanel panel([&](const common::http::Request& r) {
        if (r.target == "/csrf-token") return envelope("tok");
        if (r.target == "/login") return envelope(nullptr);
        if (r.target == "/panel/api/server/status") return envelope(v3_status());
        const json clients = json::array({{{"id", "5b1f2c9e-1d2a-4c1e-9f3b-0a1b2c3d4e5f"},
                                           {"email", "wild"},
                                           {"totalGB", 1e300},
                                           {"expiryTime", -1e19},
                                           {"limitIp", 18446744073709551615ULL},
                                           {"tgId", "12345678901234567890123"},
                                           {"reset", 4294967296LL}}});
        return envelope(json::array({{{"id", 9.3e18},
                                      {"port", 4294967296LL + 443},
                                      {"protocol", "vless"},
                                      {"remark", "r"},
                                      {"enable", true},
                                      {"settings", json{{"clients", clients}}.dump()}}}));
    });
    auto client = connect(panel);
    auto inbounds = run(client->list_inbounds());
    ASSERT_TRUE(inbounds.has_value()) << inbounds.error().message;
    ASSERT_EQ(inbounds->size(), 1u);
    EXPECT_EQ((*inbounds)[0].id, 0);
    EXPECT_EQ((*inbounds)[0].port, 0);
    EXPECT_EQ((*inbounds)[0].client_count, 1);
}

TEST_F(PanelSessionTest, RotatedCsrfTokenIsFetchedAgainOnce) {
    std::string token = "t1";
    ScriptedPanel panel([&](const common::http::Request& r) {
        if (r.target == "/csrf-token") return envelope(token);
        if (r.target == "/login") {
            if (r.headers.find("X-CSRF-Token") != token) return bare(403);
            EXPECT_EQ(json::parse(r.body)["password"], "s3cret-pass");
            token = "t2";  // the panel rotated its token under the live session
            return envelope(nullptr);
        }
        if (r.target == "/panel/api/server/status") return envelope(v3_status());
        if (r.headers.find("X-CSRF-Token") != token) return bare(403);
        return envelope(json::array({"a"}));
    });
    auto client = connect(panel);
    auto r = run(client->online_emails());
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(*r, std::vector<std::string>{"a"});
    EXPECT_EQ(panel.log(),
              (std::vector<std::string>{"GET /csrf-token", "POST /login", "GET /panel/api/server/status",
                                        "POST /panel/api/clients/onlines", "GET /csrf-token",
                                        "POST /panel/api/clients/onlines"}));
}

TEST_F(PanelSessionTest, PersistentForbiddenIsAuthFailedAfterOneRefresh) {
    ScriptedPanel panel([&](const common::http::Request& r) {
        if (r.target == "/csrf-token") return envelope("tok");
        if (r.target == "/login") return envelope(nullptr);
        if (r.target == "/panel/api/server/status") return envelope(v3_status());
        common::http::Response denied = envelope(nullptr, false);
        denied.status = 403;
        denied.body =
            R"({"success":false,"msg":"this API token is not permitted to call this route","obj":null})";
        return denied;
    });
    auto client = connect(panel);
    auto r = run(client->online_emails());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, PanelErrorCode::auth_failed);
    EXPECT_NE(r.error().message.find("not permitted"), std::string::npos) << r.error().message;
    auto log = panel.log();
    EXPECT_EQ(std::count(log.begin(), log.end(), "POST /panel/api/clients/onlines"), 2);
}

TEST_F(PanelSessionTest, LegacyRedirectMeansLoggedOutAndFormLoginFollows) {
    int session = 0;  // which login the live cookie came from
    ScriptedPanel panel([&](const common::http::Request& r) {
        if (r.target == "/csrf-token") return bare(404);  // before 3.0: no CSRF at all
        if (r.target == "/login") {
            EXPECT_EQ(r.headers.find("Content-Type"), "application/x-www-form-urlencoded");
            EXPECT_EQ(r.body, "username=admin&password=s3cret-pass");
            common::http::Response ok = envelope(nullptr);
            ok.headers.add("Set-Cookie", "session=login" + std::to_string(++session) + "; Path=/; HttpOnly");
            return ok;
        }
        // Every authenticated call must carry the latest cookie and the XHR header.
        EXPECT_EQ(r.headers.find("X-Requested-With"), "XMLHttpRequest");
        const bool current = r.headers.find("Cookie") == "session=login" + std::to_string(session);
        if (r.target == "/panel/api/server/status") {
            return current ? envelope(json{{"cpu", 2.0}, {"xray", {{"state", "running"}}}}) : bare(307);
        }
        if (r.target == "/panel/api/inbounds/list") {
            // ≤ 2.8.3 without a valid session: a redirect to the login page.
            if (!current || session == 1) {
                common::http::Response redirect = bare(307);
                redirect.headers.set("Location", "/");
                return redirect;
            }
            return envelope(json::array());
        }
        return bare(404);
    });
    auto client = connect(panel);
    auto g = run(client->generation());
    ASSERT_TRUE(g.has_value()) << g.error().message;
    EXPECT_EQ(*g, Generation::legacy);
    auto list = run(client->list_inbounds());
    ASSERT_TRUE(list.has_value()) << list.error().message;
    EXPECT_TRUE(list->empty());
    EXPECT_EQ(session, 2);
    // csrf-token is probed once; later logins skip it.
    auto log = panel.log();
    EXPECT_EQ(std::count(log.begin(), log.end(), "GET /csrf-token"), 1);
}

TEST_F(PanelSessionTest, NewestCookieWinsAndRefusalAfterReloginIsNotRetriedForever) {
    int issued = 0;
    ScriptedPanel panel([&](const common::http::Request& r) {
        common::http::Response out;
        if (r.target == "/csrf-token") {
            out = envelope("tok");
        } else if (r.target == "/login") {
            out = envelope(nullptr);
        } else if (r.target == "/panel/api/server/status") {
            // Cookies are "name=value; name=value": the session one must be the last issued.
            const std::string cookies(r.headers.find("Cookie").value_or(""));
            if (cookies.find("3x-ui=v" + std::to_string(issued) + ";") == std::string::npos) return bare(401);
            out = envelope(v3_status());
        } else {
            return bare(401);  // this session never gets further
        }
        // Every answer re-issues the cookie, like the panel re-saving its cookie session.
        out.headers.add("Set-Cookie",
                        "3x-ui=v" + std::to_string(++issued) + "; Path=/; Max-Age=21600; HttpOnly");
        out.headers.add("Set-Cookie", "lang=en; Path=/");
        return out;
    });
    auto client = connect(panel);
    auto g = run(client->generation());
    ASSERT_TRUE(g.has_value()) << g.error().message;
    auto r = run(client->online_emails());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, PanelErrorCode::auth_failed);
    auto log = panel.log();
    EXPECT_EQ(std::count(log.begin(), log.end(), "POST /login"), 2);  // the first, and one re-login
    EXPECT_EQ(std::count(log.begin(), log.end(), "POST /panel/api/clients/onlines"), 2);
    for (const auto& req : panel.requests()) {
        if (req.target == "/panel/api/clients/onlines") {
            EXPECT_NE(req.headers.find("Cookie").value_or("").find("lang=en"), std::string::npos);
        }
    }
}

TEST_F(PanelSessionTest, ServerErrorIsRejectedAndBadBodyIsProtocol) {
    ScriptedPanel panel([&](const common::http::Request& r) {
        if (r.target == "/panel/api/server/status") return envelope(v3_status());
        if (r.target == "/panel/api/inbounds/list") return bare(500);
        if (r.target == "/panel/api/inbounds/get/1") {
            common::http::Response html;
            html.body = "<html>login</html>";
            return html;
        }
        return bare(404);
    });
    auto client = connect(panel, "api-token-1");
    auto list = run(client->list_inbounds());
    ASSERT_FALSE(list.has_value());
    EXPECT_EQ(list.error().code, PanelErrorCode::rejected);
    auto one = run(client->get_inbound(1));
    ASSERT_FALSE(one.has_value());
    EXPECT_EQ(one.error().code, PanelErrorCode::protocol);
    for (const auto& req : panel.requests()) {
        EXPECT_EQ(req.headers.find("Authorization"), "Bearer api-token-1");
        EXPECT_FALSE(req.headers.find("Cookie").has_value());
    }
}

// Found by fuzz/xui_panel.cpp (corpus input client_get_big_numbers): a number the panel writes
// as a double beyond int64's range was converted with undefined behaviour. It reads as the
// largest (or smallest) value instead, so a huge expiry or quota stays huge, never 0 (unlimited).
TEST_F(PanelSessionTest, NumbersBeyondInt64ReadAsTheLargestValue) {
    ScriptedPanel panel([&](const common::http::Request& r) {
        if (r.target == "/panel/api/server/status") return envelope(v3_status());
        return envelope(json::array({json{{"client",
                                           {{"uuid", "u-1"},
                                            {"email", "big@example.com"},
                                            {"expiryTime", 1.5e20},
                                            {"totalGB", -1e300},
                                            {"tgId", 12.0},
                                            {"enable", true}}},
                                          {"inboundIds", {1}},
                                          {"traffic", {{"up", 1e19}, {"down", 2.5}}}}}));
    });
    auto client = connect(panel, "token");
    auto r = run(client->list_clients());
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->size(), 1u);
    const auto& c = r->front();
    EXPECT_EQ(c.expiry_ms, std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(c.total_bytes, std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(c.tg_id, 12);
    EXPECT_EQ(c.up, std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(c.down, 2);
}

}  // namespace
}  // namespace nebula::gateway::xui
