#include "fakes/xui/fake_panel.hpp"

#include <atomic>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/http_server.hpp"
#include "fakes/xui/panel_api.hpp"

namespace nebula::fakes {

namespace asio = boost::asio;

namespace {

std::int64_t to_ms(std::chrono::nanoseconds d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

struct FakePanel::Impl {
    class Listener final : public common::http::Handler {
      public:
        Listener(Impl& impl, bool subscription) : impl_(impl), subscription_(subscription) {}

        std::optional<common::http::Response> screen(const common::http::Request& head,
                                                     const common::http::Peer&) override {
            std::lock_guard lock(impl_.mutex);
            impl_.log.push_back(head.method + " " + head.target);
            return std::nullopt;
        }

        asio::awaitable<common::http::Response> handle(common::http::Request request,
                                                       common::http::Peer peer) override {
            std::chrono::milliseconds delay;
            {
                std::lock_guard lock(impl_.mutex);
                delay = impl_.delay;
            }
            if (delay.count() > 0) {
                asio::steady_timer timer(co_await asio::this_coro::executor, delay);
                boost::system::error_code ec;
                co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
            common::http::Response response;
            {
                std::lock_guard lock(impl_.mutex);
                response = subscription_ ? impl_.api->handle_sub(request)
                                         : impl_.api->handle_panel(request, peer.address.to_string());
                const auto path = request.target.substr(0, request.target.find('?'));
                if (!subscription_ && !impl_.lose_answer_to.empty() && path.ends_with(impl_.lose_answer_to)) {
                    impl_.lose_answer_to.clear();
                    response.abandon = true;  // done, but the answer never leaves
                }
            }
            co_return response;
        }

      private:
        Impl& impl_;
        bool subscription_;
    };

    explicit Impl(const FakePanelOptions& options)
        : api(std::make_unique<xui::PanelApi>(
              options,
              [this] { return to_ms(std::chrono::system_clock::now().time_since_epoch()) + offset_ms; },
              [this] { return to_ms(std::chrono::steady_clock::now().time_since_epoch()) + offset_ms; })),
          work(asio::make_work_guard(io)) {}

    // Binds both listeners; runs on the I/O thread once it is running.
    void open(std::uint16_t want_port, std::uint16_t want_sub_port) {
        const auto& o = api->options();
        common::http::ServerOptions panel_options;
        panel_options.address = o.address;
        panel_options.port = want_port;
        panel_options.max_body_bytes = 10 * 1024 * 1024;  // the panel's body limit
        auto panel = common::http::Server::create(io.get_executor(), panel_options, panel_listener);
        if (!panel) throw std::runtime_error("fake 3x-ui panel listener: " + panel.error());
        common::http::ServerOptions sub_options;
        sub_options.address = o.address;
        sub_options.port = want_sub_port;
        auto sub = common::http::Server::create(io.get_executor(), sub_options, sub_listener);
        if (!sub) throw std::runtime_error("fake 3x-ui subscription listener: " + sub.error());
        panel_server = std::move(panel.value());
        sub_server = std::move(sub.value());
        port = panel_server->port();
        sub_port = sub_server->port();
        panel_server->start();
        sub_server->start();
    }

    // Stops both listeners and force-closes their connections; `done` runs once both are gone.
    void close(std::function<void()> done) {
        auto remaining = std::make_shared<int>(0);
        std::vector<common::http::Server*> servers;
        if (panel_server) servers.push_back(panel_server.get());
        if (sub_server) servers.push_back(sub_server.get());
        if (servers.empty()) {
            done();
            return;
        }
        *remaining = static_cast<int>(servers.size());
        for (auto* server : servers) {
            server->shutdown(std::chrono::milliseconds(0), [this, remaining, done] {
                if (--*remaining > 0) return;
                // Destroy the servers outside their own callback.
                asio::post(io, [this, done] {
                    panel_server.reset();
                    sub_server.reset();
                    done();
                });
            });
        }
    }

    // Runs `fn(finish)` on the I/O thread and waits for `finish(error)`.
    void on_io(const std::function<void(std::function<void(std::string)>)>& fn) {
        auto promise = std::make_shared<std::promise<std::string>>();
        auto future = promise->get_future();
        asio::post(io, [fn, promise] {
            try {
                fn([promise](std::string error) { promise->set_value(std::move(error)); });
            } catch (const std::exception& e) {
                promise->set_value(e.what());
            }
        });
        if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
            throw std::runtime_error("fake 3x-ui panel: I/O thread did not answer");
        }
        std::string error = future.get();
        if (!error.empty()) throw std::runtime_error(error);
    }

    mutable std::mutex mutex;
    std::int64_t offset_ms = 0;
    std::chrono::milliseconds delay{0};
    std::string lose_answer_to;  ///< path suffix whose next answer is lost
    std::vector<std::string> log;
    bool down = false;
    std::unique_ptr<xui::PanelApi> api;

    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    Listener panel_listener{*this, false};
    Listener sub_listener{*this, true};
    std::unique_ptr<common::http::Server> panel_server;
    std::unique_ptr<common::http::Server> sub_server;
    std::atomic<std::uint16_t> port{0};  // rewritten (same value) by set_down(false) on the I/O thread
    std::atomic<std::uint16_t> sub_port{0};
    std::thread thread;
};

std::unique_ptr<FakePanel> FakePanel::start(FakePanelOptions options) {
    if (options.mode == PanelMode::v2 && !options.api_token.empty()) {
        throw std::runtime_error("fake 3x-ui panel: API tokens exist from v3.0 on, not in v2 mode");
    }
    auto impl = std::make_unique<Impl>(options);
    impl->open(options.port, options.sub_port);
    impl->thread = std::thread([io = &impl->io] { io->run(); });
    spdlog::debug("fake 3x-ui panel ({}) on {}:{} (sub {})", options.mode == PanelMode::v3 ? "v3" : "v2",
                  options.address, impl->port.load(), impl->sub_port.load());
    return std::unique_ptr<FakePanel>(new FakePanel(std::move(impl)));
}

FakePanel::FakePanel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FakePanel::~FakePanel() {
    try {
        impl_->on_io([this](auto finish) { impl_->close([finish] { finish({}); }); });
    } catch (const std::exception& e) {
        spdlog::warn("fake 3x-ui panel: {}", e.what());
    }
    impl_->work.reset();
    impl_->io.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t FakePanel::port() const { return impl_->port; }
std::uint16_t FakePanel::sub_port() const { return impl_->sub_port; }
std::string FakePanel::url() const {
    return "http://" + impl_->api->options().address + ":" + std::to_string(port());
}
std::string FakePanel::sub_url() const {
    return "http://" + impl_->api->options().address + ":" + std::to_string(sub_port());
}
const FakePanelOptions& FakePanel::options() const { return impl_->api->options(); }

void FakePanel::expire_sessions() {
    std::lock_guard lock(impl_->mutex);
    impl_->api->expire_sessions();
}

void FakePanel::bump_login_epoch() {
    std::lock_guard lock(impl_->mutex);
    impl_->api->bump_login_epoch();
}

void FakePanel::set_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(impl_->mutex);
    impl_->delay = delay;
}

void FakePanel::lose_next_answer_to(std::string path_suffix) {
    std::lock_guard lock(impl_->mutex);
    impl_->lose_answer_to = std::move(path_suffix);
}

void FakePanel::set_failing(bool on) {
    std::lock_guard lock(impl_->mutex);
    impl_->api->set_failing(on);
}

void FakePanel::set_down(bool on) {
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->down == on) return;
        impl_->down = on;
    }
    if (on) {
        impl_->on_io([this](auto finish) { impl_->close([finish] { finish({}); }); });
    } else {
        impl_->on_io([this](auto finish) {
            impl_->open(impl_->port, impl_->sub_port);
            finish({});
        });
    }
}

void FakePanel::advance_clock(std::chrono::milliseconds by) {
    std::lock_guard lock(impl_->mutex);
    impl_->offset_ms += by.count();
    impl_->api->store().enforce();
}

void FakePanel::add_traffic(const std::string& email, std::int64_t up, std::int64_t down) {
    std::lock_guard lock(impl_->mutex);
    impl_->api->store().add_traffic(email, up, down);
}

void FakePanel::tick() {
    std::lock_guard lock(impl_->mutex);
    impl_->api->store().enforce();
}

void FakePanel::set_onlines(std::vector<std::string> emails) {
    std::lock_guard lock(impl_->mutex);
    impl_->api->set_onlines(std::move(emails));
}

bool FakePanel::delete_inbound(int id) {
    std::lock_guard lock(impl_->mutex);
    return impl_->api->store().delete_inbound(id);
}

std::optional<nlohmann::json> FakePanel::client(const std::string& email) const {
    std::lock_guard lock(impl_->mutex);
    return impl_->api->store().client_view(email);
}

std::vector<nlohmann::json> FakePanel::inbounds() const {
    std::lock_guard lock(impl_->mutex);
    std::vector<nlohmann::json> out;
    for (const auto& ib : impl_->api->store().inbounds_json())
        out.push_back(nlohmann::json::parse(ib.dump()));
    return out;
}

int FakePanel::login_count() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->api->login_count();
}

int FakePanel::failed_login_count() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->api->failed_login_count();
}

std::vector<std::string> FakePanel::request_log() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->log;
}

}  // namespace nebula::fakes
