// nebula-chaos: many customers buy access at once while the bot is killed and its neighbours fail.
//   nebula-chaos --bin-dir BUILD_DIR --work DIR --orders N --seed S [--concurrency C]
// A real nebula-bot process (SQLite) and a real nebula-gateway (TLS) run beside the fake Discord
// and the fake 3x-ui panel, which live in this process so the harness can script their faults
// and read their state. Each customer goes through the whole flow (plan, payment method,
// screenshot, an admin's Approve) and retries like a person when the bot does not answer; the
// harness SIGKILLs and restarts the bot at random and right after plan choices, screenshot uploads
// and Approve clicks, makes the panel fail, slow down or vanish, and makes Discord answer 5xx/429
// or hold its answers. After the load it waits for the bot to finish its pending work and checks
// the end state. One summary line; exit status 1 when a check failed. The seed fixes the faults'
// sequence (the timing of the processes stays the machine's).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "bot/db/connection.hpp"
#include "bot/db/database_url.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/support/discord_ids.hpp"
#include "common/clock.hpp"
#include "fakes/discord/fake_discord.hpp"
#include "fakes/xui/fake_panel.hpp"

using nebula::bot::testing::discord_id;

extern char** environ;

namespace nebula::chaos {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::uint64_t kGuild = 800000000000000001ULL;
constexpr std::uint64_t kAdminRole = 810000000000000001ULL;
constexpr std::uint64_t kSubscriberRole = 810000000000000002ULL;
constexpr std::uint64_t kReviewChannel = 820000000000000001ULL;
constexpr std::uint64_t kBillingChannel = 820000000000000002ULL;
constexpr std::uint64_t kPanelChannel = 820000000000000003ULL;
constexpr std::uint64_t kCategory = 820000000000000004ULL;
constexpr std::uint64_t kAdmin = 830000000000000002ULL;
constexpr std::uint64_t kFirstCustomer = 830000000000100000ULL;

struct Options {
    fs::path bin_dir;
    fs::path work;
    int orders = 12;
    int concurrency = 6;
    std::uint64_t seed = 1;
    int load_seconds = 600;    ///< every customer must be through by then
    int settle_seconds = 150;  ///< then the bot has this long to finish its pending work
    /// Take the panel's listeners down and up again. Off by default: the fake panel cannot always
    /// bind its port again while the old listener still drains its connections ("Address already
    /// in use"), which would leave the panel down for good.
    bool panel_down = false;
    /// How often a customer's step is followed by a SIGKILL of the bot.
    double kill_chance = 0.08;
    /// Mean pause between two random faults (kills among them), in milliseconds.
    int fault_every_ms = 1600;
};

std::string run_capture(const std::string& command) {
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
        char buffer[256];
        while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
        ::pclose(pipe);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
    return pid;
}

/// What the bot's database says about a customer's latest order.
struct OrderRow {
    std::int64_t id = 0;
    std::string status;
    std::optional<std::string> channel;
    std::optional<std::int64_t> method;
    std::string reference;
};

class Harness {
  public:
    Harness(asio::io_context& io, Options options) : io_(io), o_(std::move(options)), random_(o_.seed) {}

    int run() {
        setup();
        int status = 1;
        asio::co_spawn(
            io_,
            [this, &status]() -> asio::awaitable<void> {
                try {
                    status = co_await main();
                } catch (const std::exception& e) {
                    std::cerr << "nebula-chaos: " << e.what() << "\n";
                }
                stop_all();
            },
            asio::detached);
        io_.run();
        return status;
    }

  private:
    // ---- the services ----

    void setup() {
        fs::remove_all(o_.work);
        fs::create_directories(o_.work);
        o_.work = fs::canonical(o_.work);
        fakes::discord::FakeDiscordOptions discord_options;
        discord_options.token = "chaos.bot-token.0123456789abcdef";
        auto fake = fakes::discord::FakeDiscord::create(io_.get_executor(), discord_options);
        if (!fake) throw std::runtime_error(fake.error());
        discord_ = std::move(*fake);
        discord_->add_member(kGuild, kAdmin, {kAdminRole});

        fakes::FakePanelOptions panel_options;
        panel_options.base_path = "/chaos/";
        panel_options.password = "chaos-panel-password";
        panel_ = fakes::FakePanel::start(panel_options);

        const auto dir = o_.work;
        if (std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
                         "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout " +
                         (dir / "gw-key.pem").string() + " -out " + (dir / "gw-cert.pem").string() +
                         " 2>/dev/null")
                            .c_str()) != 0) {
            throw std::runtime_error("openssl could not make a certificate");
        }
        const std::string pin = run_capture("openssl x509 -in " + (dir / "gw-cert.pem").string() +
                                            " -outform der | sha256sum | cut -d' ' -f1");
        const std::string key = run_capture("openssl rand -hex 32");
        std::ofstream(dir / "gateway.env")
            << "PORT=0\nBIND_ADDRESS=127.0.0.1\nSSL_CERT_PATH=" << (dir / "gw-cert.pem").string()
            << "\nSSL_KEY_PATH=" << (dir / "gw-key.pem").string() << "\nAPI_SECRET_KEY=" << key
            << "\nPANEL_URL=" << panel_->url()
            << "\nPANEL_BASE_PATH=/chaos/\nPANEL_USERNAME=admin\n"
               "PANEL_PASSWORD=chaos-panel-password\nPUBLIC_HOST=vpn.example.com\n"
               "ALLOWED_IPS=127.0.0.1\nRATE_LIMIT_PER_MINUTE=1000000\nLOG_DIR="
            << (dir / "logs-gateway").string() << "\n";
        gateway_pid_ =
            spawn({(o_.bin_dir / "src/gateway/nebula-gateway").string(), "--env",
                   (dir / "gateway.env").string(), "--ready-file", (dir / "gateway.json").string()},
                  dir / "gateway.log");
        for (int i = 0; i < 600 && !fs::exists(dir / "gateway.json"); ++i) std::this_thread::sleep_for(50ms);
        std::ifstream ready(dir / "gateway.json");
        const json gateway = json::parse(ready);
        const int gateway_port = gateway.at("port");

        const auto db_path = dir / "bot.db";
        database_url_ = "sqlite:" + db_path.string();
        auto s = [](std::uint64_t id) { return std::to_string(id); };
        std::ofstream(dir / "bot.env")
            << "DISCORD_TOKEN=" << discord_options.token
            << "\nDISCORD_CLIENT_ID=" << discord_->options().application_id
            << "\nDISCORD_GUILD_ID=" << s(kGuild) << "\nDISCORD_API_BASE=" << discord_->api_base()
            << "\nDISCORD_GATEWAY_URL=" << discord_->gateway().url()
            << "\nDISCORD_CDN_HOSTS=127.0.0.1\nADMIN_ROLE_ID=" << s(kAdminRole)
            << "\nSUBSCRIBER_ROLE_ID=" << s(kSubscriberRole) << "\nREVIEW_CHANNEL_ID=" << s(kReviewChannel)
            << "\nBILLING_CHANNEL_ID=" << s(kBillingChannel) << "\nMAIN_PANEL_CHANNEL_ID=" << s(kPanelChannel)
            << "\nORDERS_CATEGORY_ID=" << s(kCategory)
            << "\nAPI_GATEWAY_URL=https://127.0.0.1:" << gateway_port << "\nAPI_SECRET_KEY=" << key
            << "\nAPI_GATEWAY_PIN_SHA256=" << pin
            << "\nDEFAULT_SERVER_NAME=Chaos-1\nDEFAULT_SERVER_LOCATION=Nowhere\nDEFAULT_SERVER_CAPACITY="
               "100000"
            << "\nDATABASE_URL=" << database_url_ << "\nDB_THREADS=2\nDATA_DIR=" << (dir / "data").string()
            << "\nLOG_DIR=" << (dir / "logs-bot").string()
            << "\nJOB_RECONCILE_INTERVAL_MINUTES=1\nJOB_RECONCILE_SETTLE_SECONDS=3\nJOB_LEASE_MINUTES=1\n";
        const std::string bot = (o_.bin_dir / "src/bot/nebula-bot").string();
        if (std::system((bot + " --env-file " + (dir / "bot.env").string() + " migrate >>" +
                         (dir / "bot.log").string() + " 2>&1")
                            .c_str()) != 0) {
            throw std::runtime_error("nebula-bot migrate failed; see " + (dir / "bot.log").string());
        }
        auto url = bot::db::parse_database_url(database_url_);
        auto connection = bot::db::open_connection(*url);
        if (!connection) throw std::runtime_error(connection.error());
        db_ = std::move(*connection);
        common::SystemClock clock;
        bot::domain::CatalogService catalog(clock);
        bot::domain::PlanInput plan{
            "Monthly 50 GB", 30, 50LL << 30, 2, bot::domain::Piasters::from_pounds(150), 1};
        plan_id_ = catalog.create_plan(*db_, discord_id("chaos"), plan)->id.value;
        for (const auto& method : catalog.payment_methods(*db_)) {
            if (method.code != "vodafone_cash") continue;
            bot::domain::PaymentMethodUpdate update;
            update.account = "01012345678";
            method_id_ =
                catalog.update_payment_method(*db_, discord_id("chaos"), method.id, update)->id.value;
        }
    }

    void start_bot() {
        identified_ = discord_->gateway().frames_with_op(2).size();
        bot_pid_ = spawn({(o_.bin_dir / "src/bot/nebula-bot").string(), "--env-file",
                          (o_.work / "bot.env").string(), "run"},
                         o_.work / "bot.log");
    }

    asio::awaitable<void> wait_bot_ready() {
        for (int i = 0; i < 1200; ++i) {
            if (discord_->gateway().frames_with_op(2).size() > identified_) co_return;
            int status = 0;
            if (::waitpid(bot_pid_, &status, WNOHANG) == bot_pid_) {
                throw std::runtime_error("nebula-bot exited; see " + (o_.work / "bot.log").string());
            }
            co_await sleep(50ms);
        }
        throw std::runtime_error("nebula-bot did not connect to the fake Discord");
    }

    /// SIGKILL, a short pause, a new process.
    asio::awaitable<void> kill_and_restart(std::string why) {
        if (restarting_) co_return;
        restarting_ = true;
        ::kill(bot_pid_, SIGKILL);
        ::waitpid(bot_pid_, nullptr, 0);
        ++kills_;
        std::ofstream(o_.work / "bot.log", std::ios::app) << "==== chaos: SIGKILL (" << why << ")\n";
        co_await sleep(std::chrono::milliseconds(pick(50, 800)));
        start_bot();
        co_await wait_bot_ready();
        restarting_ = false;
    }

    void stop_all() {
        if (bot_pid_ > 0) {
            ::kill(bot_pid_, SIGTERM);
            ::waitpid(bot_pid_, nullptr, 0);
        }
        if (gateway_pid_ > 0) {
            ::kill(gateway_pid_, SIGTERM);
            ::waitpid(gateway_pid_, nullptr, 0);
        }
        panel_.reset();
        discord_->stop([this] { io_.stop(); });
    }

    // ---- helpers ----

    int pick(int low, int high) { return std::uniform_int_distribution<int>(low, high)(random_); }
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(random_) < p; }

    asio::awaitable<void> sleep(std::chrono::milliseconds d) {
        asio::steady_timer timer(io_, d);
        co_await timer.async_wait(asio::use_awaitable);
    }

    std::optional<OrderRow> latest_order(std::uint64_t customer) {
        auto rows = db_->query(
            "SELECT o.id, o.status, o.channel_id, o.payment_method_id, o.reference FROM orders o JOIN users "
            "u ON "
            "u.id = o.user_id WHERE u.discord_id = ? ORDER BY o.id DESC LIMIT 1",
            std::to_string(customer));
        if (!rows->step()) return std::nullopt;
        return OrderRow{rows->get<std::int64_t>(0), rows->get<std::string>(1),
                        rows->get<std::optional<std::string>>(2), rows->get<std::optional<std::int64_t>>(3),
                        rows->get<std::string>(4)};
    }

    /// A button press or menu choice; returns the interaction's token.
    std::string click(std::uint64_t user, std::vector<std::uint64_t> roles, std::string custom_id,
                      std::string value) {
        json data{{"custom_id", custom_id}, {"component_type", value.empty() ? 2 : 3}};
        if (!value.empty()) data["values"] = json::array({value});
        return discord_->inject_interaction(3, user, std::move(roles), std::move(data)).value("token", "");
    }

    /// Waits a few seconds for the bot's answer to the interaction with `token` (its callback or
    /// a follow-up) to offer the button `custom_id`.
    asio::awaitable<std::optional<std::string>> offered(std::string token, std::string custom_id) {
        const std::string quoted = "\"" + custom_id + "\"";
        for (int i = 0; i < 60 && !restarting_; ++i) {
            for (const auto& r : discord_->requests())
                if (r.path.find(token) != std::string::npos && r.body.find(quoted) != std::string::npos)
                    co_return custom_id;
            co_await sleep(100ms);
        }
        co_return std::nullopt;
    }

    void upload(std::uint64_t customer, const OrderRow& order) {
        const std::string name =
            "receipt-" + std::to_string(order.id) + "-" + std::to_string(++uploads_) + ".png";
        std::string png =
            std::string("\x89PNG\r\n\x1a\n", 8) + "chaos receipt " + order.reference + " " + name;
        discord_->serve_file("/chaos/" + name, {"image/png", png, std::nullopt, 0ms});
        const std::string url = discord_->cdn_base() + "/chaos/" + name;
        json message{{"id", std::to_string(860000000000000000ULL + uploads_)},
                     {"channel_id", *order.channel},
                     {"guild_id", std::to_string(kGuild)},
                     {"author", {{"id", std::to_string(customer)}, {"username", "customer"}}},
                     {"member", {{"roles", json::array()}}},
                     {"content", ""},
                     {"attachments", json::array({{{"id", std::to_string(870000000000000000ULL + uploads_)},
                                                   {"filename", name},
                                                   {"content_type", "image/png"},
                                                   {"size", png.size()},
                                                   {"url", url},
                                                   {"proxy_url", url}}})}};
        discord_->gateway().dispatch("MESSAGE_CREATE", message);
    }

    // ---- the people ----

    /// One customer through the whole flow; true once their order is approved.
    asio::awaitable<bool> customer(std::uint64_t id, std::chrono::steady_clock::time_point deadline) {
        discord_->add_member(kGuild, id, {});
        std::optional<std::chrono::steady_clock::time_point> no_channel_since;
        while (std::chrono::steady_clock::now() < deadline) {
            if (restarting_) {
                co_await sleep(100ms);
                continue;
            }
            const auto order = latest_order(id);
            const std::string status = order ? order->status : "none";
            const char* step = nullptr;
            if (status == "approved" || status == "fulfilled") co_return true;
            if (status == "none" || status == "cancelled" || status == "expired" || status == "declined") {
                click(id, {}, "buy_plan", std::to_string(plan_id_));
                step = "plan choice";
            } else if (status == "awaiting_payment" && !order->channel) {
                // The bot may be creating the channel right now. A person who waited a while
                // presses Buy Access again and cancels the open order with the button it offers;
                // an order that offers neither its channel nor Cancel has no way out.
                const auto now = std::chrono::steady_clock::now();
                if (!no_channel_since) no_channel_since = now;
                const auto token = click(id, {}, "panel:buy", "");
                step = "buy access";
                if (now - *no_channel_since > 10s) {
                    if (auto cancel = co_await offered(token, "order_cancel:" + std::to_string(order->id))) {
                        click(id, {}, *cancel, "");
                        step = "cancel";
                        no_channel_since.reset();
                    } else if (now - *no_channel_since > 60s) {
                        std::cerr << "  " << order->reference << ": Buy Access offers no way out\n";
                        ++stuck_;
                        co_return false;
                    }
                }
            } else if (status == "awaiting_payment" && !order->method) {
                click(id, {}, "pay_method:" + std::to_string(order->id), std::to_string(method_id_));
                step = "payment method";
            } else if (status == "awaiting_payment") {
                upload(id, *order);
                step = "receipt upload";
            } else if (status == "under_review") {
                // The admin approves from the review card, so a card that was never posted (a kill
                // after the receipt was accepted, Discord failing the post) must be posted again by
                // the bot before this customer gets through.
                if (!card_posted(order->id)) {
                    if (!waiting_for_card_.contains(id)) waiting_for_card_.insert(id);
                    co_await sleep(500ms);
                    continue;
                }
                waiting_for_card_.erase(id);
                click(kAdmin, {kAdminRole}, "review:" + std::to_string(order->id) + ":approve", "");
                step = "Approve click";
            }
            if (step && chance(o_.kill_chance)) {
                co_await sleep(std::chrono::milliseconds(pick(0, 40)));
                co_await kill_and_restart(std::string("right after a ") + step);
            }
            // Wait for the bot to move the order on; a person would try again after a while.
            for (int i = 0; i < 60; ++i) {
                co_await sleep(100ms);
                const auto now = latest_order(id);
                if ((now ? now->status : "none") != status ||
                    (now && order && (now->method != order->method || now->channel != order->channel)))
                    break;
            }
        }
        co_return false;
    }

    /// Brings the panel's listeners back (retrying while the old ones are still closing).
    asio::awaitable<void> panel_up() {
        for (int attempt = 0;; ++attempt) {
            try {
                panel_->set_down(false);
                co_return;
            } catch (const std::exception& e) {
                if (attempt == 50) throw;
                std::cerr << "nebula-chaos: panel not back yet: " << e.what() << "\n";
            }
            try {
                panel_->set_down(true);
            } catch (const std::exception&) {
            }
            co_await sleep(200ms);
        }
    }

    /// Whether the review channel holds a card with the order's Approve button (Discord answered
    /// its post).
    bool card_posted(std::int64_t order) {
        static const std::regex approve(R"(review:([0-9]+):approve)");
        const auto& requests = discord_->requests();
        const std::string review_path = "/channels/" + std::to_string(kReviewChannel) + "/messages";
        for (; cards_scanned_ < requests.size(); ++cards_scanned_) {
            const auto& r = requests[cards_scanned_];
            if (r.status != 200 || r.method != "POST" || r.path != review_path) continue;
            for (std::sregex_iterator it(r.body.begin(), r.body.end(), approve), end; it != end; ++it)
                cards_.insert(std::stoll((*it)[1].str()));
        }
        return cards_.contains(order);
    }

    /// Whether a fault could still meet a customer's step: not when every customer still in the
    /// flow only waits for the bot to post their review card again (the outage is over then).
    bool customers_active() const {
        return approved_customers_ + stuck_ + static_cast<int>(waiting_for_card_.size()) < o_.orders;
    }

    /// Random kills and faults until `load_done_`, paused while only lost review cards are awaited.
    asio::awaitable<void> chaos() {
        while (!load_done_) {
            if (!customers_active()) {
                co_await sleep(500ms);
                continue;
            }
            co_await sleep(std::chrono::milliseconds(pick(o_.fault_every_ms / 2, o_.fault_every_ms * 3 / 2)));
            if (load_done_) break;
            const int what = pick(0, 8);
            ++faults_;
            switch (what) {
                case 0:
                    co_await kill_and_restart("random");
                    --faults_;
                    break;
                case 1:  // every panel call fails: before a client is made
                    panel_->set_failing(true);
                    co_await sleep(std::chrono::milliseconds(pick(500, 2000)));
                    panel_->set_failing(false);
                    break;
                case 2: {  // slow: answers arrive after the gateway stopped waiting (the client may exist)
                    const auto delay = std::chrono::milliseconds(pick(2000, 12000));
                    panel_->set_delay(delay);
                    co_await sleep(std::chrono::milliseconds(pick(1000, 4000)));
                    panel_->set_delay(0ms);
                    co_await sleep(delay);  // the held answers go out before the next fault
                    break;
                }
                case 3:  // unreachable (only with --panel-down: see Options::panel_down)
                    if (!o_.panel_down) {
                        panel_->set_failing(true);
                        co_await sleep(std::chrono::milliseconds(pick(200, 800)));
                        panel_->set_failing(false);
                        break;
                    }
                    panel_->set_down(true);
                    co_await sleep(std::chrono::milliseconds(pick(500, 2500)));
                    co_await panel_up();
                    break;
                case 4:
                    discord_->script("POST /channels/[0-9]+/messages",
                                     {503, {}, R"({"message":"upstream","code":0})"}, pick(1, 8));
                    break;
                case 5:
                    discord_->script(
                        "POST /channels/[0-9]+/messages|PUT /guilds/.*/roles/.*",
                        {429,
                         {{"Retry-After", "1"}, {"X-RateLimit-Scope", "shared"}},
                         R"({"message":"You are being rate limited.","retry_after":1.0,"global":false})"},
                        pick(1, 4));
                    break;
                case 6:  // Discord holds the answer (the client times out; the message may exist)
                    discord_->script("POST /channels/[0-9]+/messages", {200, {}, {}, true}, 1);
                    break;
                case 7:
                    discord_->script("POST /users/@me/channels|PUT /guilds/.*/roles/.*",
                                     {502, {}, R"({"message":"502 Bad Gateway"})"}, pick(1, 6));
                    break;
                default:
                    discord_->script("POST /guilds/[0-9]+/channels",
                                     {500, {}, R"({"message":"boom","code":0})"}, 1);
                    break;
            }
        }
    }

    asio::awaitable<int> main() {
        start_bot();
        co_await wait_bot_ready();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o_.load_seconds);
        asio::co_spawn(io_, chaos(), [this](std::exception_ptr error) {
            if (!error) return;
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                std::cerr << "nebula-chaos: the fault injector stopped: " << e.what() << "\n";
                chaos_failed_ = true;
            }
        });
        int next = 0, running = 0;
        asio::steady_timer idle(io_);
        idle.expires_at(std::chrono::steady_clock::time_point::max());
        std::function<void()> launch = [&] {
            while (running < o_.concurrency && next < o_.orders) {
                const std::uint64_t id = kFirstCustomer + static_cast<std::uint64_t>(next++);
                ++running;
                asio::co_spawn(io_, customer(id, deadline), [&](std::exception_ptr, bool ok) {
                    --running;
                    if (ok) ++approved_customers_;
                    launch();
                    if (running == 0) idle.cancel();
                });
            }
        };
        launch();
        boost::system::error_code ec;
        co_await idle.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        load_done_ = true;
        while (restarting_) co_await sleep(100ms);
        discord_->clear_scripts();
        panel_->set_failing(false);
        panel_->set_delay(0ms);
        if (o_.panel_down) co_await panel_up();
        // A last restart: start-up finishes pending deliveries and runs the reconciler.
        co_await kill_and_restart("after the load");
        const auto settle = std::chrono::steady_clock::now() + std::chrono::seconds(o_.settle_seconds);
        while (std::chrono::steady_clock::now() < settle && !settled()) co_await sleep(500ms);
        co_return check();
    }

    bool settled() {
        const auto open = db_->scalar<std::int64_t>(
            "SELECT (SELECT COUNT(*) FROM orders WHERE status = 'approved') + (SELECT COUNT(*) FROM orders o "
            "WHERE "
            "o.status = 'fulfilled' AND NOT EXISTS (SELECT 1 FROM order_deliveries d WHERE d.order_id = o.id "
            "AND "
            "d.completed_at IS NOT NULL))");
        return open.value_or(1) == 0;
    }

    // ---- the end state ----

    int check() {
        std::vector<std::string> problems;
        // Panel clients by email.
        std::map<std::string, std::vector<std::string>> panel_clients;  // email -> uuids
        for (const auto& inbound : panel_->inbounds()) {
            json settings = inbound.value("settings", json::object());
            if (settings.is_string()) settings = json::parse(settings.get<std::string>());
            for (const auto& c : settings.value("clients", json::array()))
                panel_clients[c.value("email", "")].push_back(c.value("id", ""));
        }
        // Distinct messages Discord holds, by channel.
        struct Posted {
            std::string channel;
            std::string text;
        };
        std::map<std::string, Posted> messages;  // message id -> where and what
        for (const auto& r : discord_->requests()) {
            if (r.status != 200 || r.method != "POST" || r.route != "POST /channels/:id/messages") continue;
            const json answer = json::parse(r.response_body, nullptr, false);
            if (!answer.is_object() || !answer.contains("id")) continue;
            messages.emplace(answer["id"].get<std::string>(), Posted{answer.value("channel_id", ""), r.body});
        }
        int orders = 0, approvals = 0, duplicates = 0, lost = 0, undelivered = 0, duplicate_deliveries = 0;
        int unreviewed = 0;
        auto rows = db_->query(
            "SELECT o.id, o.status, o.reference, o.client_email, o.client_uuid, u.discord_id, "
            "o.submitted_at, "
            "(SELECT a.client_uuid FROM vpn_accounts a WHERE a.order_id = o.id) FROM orders o JOIN users u "
            "ON u.id = "
            "o.user_id ORDER BY o.id");
        std::set<std::string> our_emails;
        while (rows->step()) {
            ++orders;
            const auto id = rows->get<std::int64_t>(0);
            const auto status = rows->get<std::string>(1);
            const auto reference = rows->get<std::string>(2);
            const auto email = rows->get<std::optional<std::string>>(3);
            const auto uuid = rows->get<std::optional<std::string>>(4);
            const auto customer = rows->get<std::string>(5);
            const bool submitted = rows->get<std::optional<std::int64_t>>(6).has_value();
            const auto account_uuid = rows->get<std::optional<std::string>>(7);
            const bool approved = status == "approved" || status == "fulfilled";
            if (email) our_emails.insert(*email);
            const auto& clients = email ? panel_clients[*email] : panel_clients["-"];
            if (submitted) {
                bool reviewed = false;
                for (const auto& [mid, m] : messages)
                    if (m.channel == std::to_string(kReviewChannel) &&
                        m.text.find(reference) != std::string::npos)
                        reviewed = true;
                if (!reviewed) {
                    ++unreviewed;
                    problems.push_back(reference + ": the accepted receipt never reached review");
                }
            }
            if (!approved) {
                if (!clients.empty()) {
                    ++duplicates;
                    problems.push_back(reference + " (" + status + ") has a panel client");
                }
                if (status == "awaiting_payment" || status == "under_review")
                    problems.push_back(reference + " is still " + status);
                continue;
            }
            ++approvals;
            if (clients.size() != 1 || (uuid && clients.front() != *uuid)) {
                if (clients.empty()) {
                    ++lost;
                } else {
                    ++duplicates;
                }
                problems.push_back(reference + ": " + std::to_string(clients.size()) + " panel client(s)");
            }
            if (status != "fulfilled" || account_uuid != uuid) {
                if (clients.size() == 1) ++lost;  // (no client: counted above)
                problems.push_back(reference + " is " + status + " and its account does not match the panel");
                continue;
            }
            std::map<std::string, int> links_by_channel;
            int billing = 0;
            for (const auto& [mid, m] : messages) {
                if (m.text.find("vless://" + *uuid) != std::string::npos) ++links_by_channel[m.channel];
                if (m.channel == std::to_string(kBillingChannel) &&
                    m.text.find(reference) != std::string::npos)
                    ++billing;
            }
            for (const auto& [channel, n] : links_by_channel) duplicate_deliveries += n - 1;
            if (billing > 1) duplicate_deliveries += billing - 1;
            const auto* roles = discord_->member_roles(kGuild, std::stoull(customer));
            const bool role = roles && std::count(roles->begin(), roles->end(), kSubscriberRole) > 0;
            if (links_by_channel.empty() || billing == 0 || !role) {
                ++undelivered;
                problems.push_back(reference + ": link " + std::to_string(links_by_channel.size()) +
                                   " place(s), billing " + std::to_string(billing) + ", role " +
                                   (role ? "yes" : "no"));
            }
            (void)id;
        }
        for (const auto& [email, uuids] : panel_clients) {
            if (email.rfind("nl-", 0) == 0 && !our_emails.contains(email)) {
                ++duplicates;
                problems.push_back("panel client " + email + " belongs to no order");
            }
        }
        const int blocked = o_.orders - approved_customers_;  // customers who never got through
        const bool way_out_ok = stuck_ == 0 && blocked == 0;
        const bool ok = problems.empty() && way_out_ok && !chaos_failed_;
        std::cout << "chaos seed=" << o_.seed << " customers=" << o_.orders << " orders=" << orders
                  << " approvals=" << approvals << " kills=" << kills_ << " faults=" << faults_
                  << " duplicates=" << duplicates << " lost=" << lost << " undelivered=" << undelivered
                  << " duplicate_deliveries=" << duplicate_deliveries << " unreviewed=" << unreviewed
                  << " stuck=" << stuck_ << " result=" << (ok ? "PASS" : "FAIL") << std::endl;
        for (const auto& p : problems) std::cerr << "  " << p << "\n";
        if (approved_customers_ != o_.orders)
            std::cerr << "  only " << approved_customers_ << " of " << o_.orders
                      << " customers got through\n";
        return ok ? 0 : 1;
    }

    asio::io_context& io_;
    Options o_;
    std::mt19937_64 random_;
    std::unique_ptr<fakes::discord::FakeDiscord> discord_;
    std::unique_ptr<fakes::FakePanel> panel_;
    std::unique_ptr<bot::db::Connection> db_;
    std::string database_url_;
    std::int64_t plan_id_ = 0;
    std::int64_t method_id_ = 0;
    pid_t bot_pid_ = -1;
    pid_t gateway_pid_ = -1;
    std::size_t identified_ = 0;
    bool restarting_ = false;
    bool load_done_ = false;
    bool chaos_failed_ = false;
    int kills_ = 0;
    int faults_ = 0;
    int stuck_ = 0;
    int uploads_ = 0;
    int approved_customers_ = 0;
    std::set<std::uint64_t> waiting_for_card_;  ///< customers whose order waits for its review card
    std::set<std::int64_t> cards_;              ///< orders with a card in the review channel
    std::size_t cards_scanned_ = 0;             ///< requests of the fake Discord looked at so far
};

}  // namespace
}  // namespace nebula::chaos

int main(int argc, char** argv) {
    nebula::chaos::Options options;
    CLI::App app{"Many customers through nebula-bot while it is killed and its neighbours fail"};
    app.add_option("--bin-dir", options.bin_dir,
                   "the build directory (src/bot/nebula-bot, src/gateway/nebula-gateway)")
        ->required();
    app.add_option("--work", options.work, "folder for the services' configuration, database and logs")
        ->required();
    app.add_option("--orders", options.orders, "customers, each buying access once");
    app.add_option("--concurrency", options.concurrency, "customers in the flow at the same time");
    app.add_option("--seed", options.seed, "the faults' random sequence");
    app.add_option("--load-seconds", options.load_seconds, "safety net for the whole load");
    app.add_option("--settle-seconds", options.settle_seconds,
                   "safety net for the bot's pending work after the load (provisioning, deliveries)");
    app.add_option("--kill-chance", options.kill_chance, "chance of a SIGKILL right after a customer's step");
    app.add_option("--fault-every-ms", options.fault_every_ms, "mean pause between random faults");
    app.add_flag("--panel-down", options.panel_down, "also take the panel's listeners down and up");
    CLI11_PARSE(app, argc, argv);
    ::signal(SIGPIPE, SIG_IGN);
    try {
        boost::asio::io_context io;
        nebula::chaos::Harness harness(io, options);
        return harness.run();
    } catch (const std::exception& e) {
        std::cerr << "nebula-chaos: " << e.what() << "\n";
        return 1;
    }
}
