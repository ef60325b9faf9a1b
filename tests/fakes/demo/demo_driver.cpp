// nebula-demo-driver: the people in the local demo. The server owner adds the bot with its invite
// link, runs /admin setup and pastes the line `nebula-gateway init` printed; a customer buys access
// and an admin runs the shop, all through the nebula-fake-discord process (its /_fake control API:
// the invite, interactions and messages, the screenshot uploaded to the fake CDN, every REST
// request the real nebula-bot makes). Prints a readable transcript and keeps every file the bot sent.
//   nebula-demo-driver env  --fake discord.json     where the fake Discord is, for the bot's .env
//   nebula-demo-driver free-port                     a loopback port nothing listens on now
//   nebula-demo-driver walk --fake discord.json --out DIR --invite URL --paste LINE…  the walk-through
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <signal.h>
#include <sys/types.h>

#include <cairo.h>
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "bot/ui/font.hpp"
#include "common/http.hpp"
#include "common/http_client.hpp"

namespace nebula::demo {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kStepTimeout = 20s;
/// The Discord server the owner adds the bot to (Discord gives a new server its id), and the
/// channel every new server has, where the owner types the first commands.
constexpr std::uint64_t kGuild = 800000000000000001ULL;
constexpr std::uint64_t kGeneral = 800000000000000002ULL;
/// The people: the server's owner (who becomes its admin) and the first customer.
constexpr std::uint64_t kAdmin = 830000000000000002ULL;
constexpr std::uint64_t kCustomer = 830000000000000001ULL;
/// A second customer, who takes the free trial and enters a promo code.
constexpr std::uint64_t kNewcomer = 830000000000000005ULL;
/// A member the admin gives an account to without a payment.
constexpr std::uint64_t kGiftee = 830000000000000006ULL;

std::string str(std::uint64_t id) { return std::to_string(id); }

/// What nebula-fake-discord printed when it started.
struct FakeInfo {
    std::string api_base;
    std::string gateway_url;
    std::string cdn_base;
    std::string token;
    std::string application_id;
    std::string bot_user_id;
    std::string origin;  ///< http://127.0.0.1:port (control routes and CDN)
};

FakeInfo read_fake_info(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line)) throw std::runtime_error("cannot read " + path);
    const json j = json::parse(line);
    FakeInfo info{j.at("api_base"),
                  j.at("gateway_url"),
                  j.at("cdn_base"),
                  j.at("token"),
                  j.at("application_id"),
                  j.value("bot_user_id", ""),
                  {}};
    info.origin = info.cdn_base.substr(0, info.cdn_base.rfind("/cdn"));
    return info;
}

/// Where the fake Discord answers, for the bot's .env: its REST API, gateway and CDN host. Nothing
/// about the server: the bot reads its application and server from Discord and /admin setup
/// makes the roles and channels.
std::string env_lines(const FakeInfo& fake) {
    return "DISCORD_API_BASE=" + fake.api_base + "\nDISCORD_GATEWAY_URL=" + fake.gateway_url +
           "\nDISCORD_CDN_HOSTS=127.0.0.1\n";
}

/// A loopback TCP port nothing listens on now (for the gateway `nebula-gateway init` sets up).
int free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    std::cout << acceptor.local_endpoint().port() << "\n";
    return 0;
}

/// A payment screenshot as a customer's phone would produce one (a real PNG, drawn with Cairo).
std::string screenshot_png(const std::string& reference, const std::string& amount = "150.00") {
    using bot::ui::detail::Anchor;
    cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 360, 200);
    cairo_t* cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0xE6 / 255.0, 0, 0);
    cairo_rectangle(cr, 0, 0, 360, 44);
    cairo_fill(cr);
    bot::ui::detail::draw_text(cr, "VODAFONE CASH", 22, 12, 8, Anchor::left, 0xFFFFFF, 0, true);
    bot::ui::detail::draw_text(cr, "Transfer successful", 18, 12, 56, Anchor::left, 0x1E8E3E, 0);
    bot::ui::detail::draw_text(cr, "Amount: " + amount + " EGP", 16, 12, 90, Anchor::left, 0x222222, 0);
    bot::ui::detail::draw_text(cr, "To: 01012345678", 16, 12, 118, Anchor::left, 0x222222, 0);
    bot::ui::detail::draw_text(cr, "Note: " + reference, 16, 12, 146, Anchor::left, 0x222222, 0);
    cairo_destroy(cr);
    std::string png;
    cairo_surface_write_to_png_stream(
        surface,
        [](void* out, const unsigned char* data, unsigned int length) {
            static_cast<std::string*>(out)->append(reinterpret_cast<const char*>(data), length);
            return CAIRO_STATUS_SUCCESS;
        },
        &png);
    cairo_surface_destroy(surface);
    return png;
}

struct Actor {
    std::string label;  ///< e.g. "customer Mona"
    std::uint64_t id;
    std::vector<std::uint64_t> roles;
};

class Walk {
  public:
    Walk(common::http::Client& client, FakeInfo fake, std::filesystem::path out, pid_t bot_pid,
         std::string invite, std::vector<std::string> server_lines)
        : client_(client),
          fake_(std::move(fake)),
          out_(std::move(out)),
          transcript_(out_ / "transcript.txt"),
          bot_pid_(bot_pid),
          invite_(std::move(invite)),
          server_lines_(std::move(server_lines)) {
        names_[str(kGeneral)] = "#general";
        names_[str(kCustomer)] = "@Mona (customer)";
        names_[str(kNewcomer)] = "@Omar (customer)";
        names_[str(kGiftee)] = "@Sara (customer)";
        names_[str(kAdmin)] = "@Karim (owner, admin)";
        names_[fake_.bot_user_id] = "@nebula (the bot)";
        if (!transcript_) throw std::runtime_error("cannot write " + (out_ / "transcript.txt").string());
    }

    asio::awaitable<void> run() {
        const Actor customer{"customer Mona", kCustomer, {}};
        const Actor owner{"owner Karim", kAdmin, {}};
        // Waits for the bot to identify, a second at a time so that a bot that exited (bad
        // configuration) is reported at once.
        json session = json::object();
        for (int second = 0; second < 30 && session.value("session_id", "").empty(); ++second) {
            if (bot_pid_ > 0 && ::kill(bot_pid_, 0) != 0) throw std::runtime_error("nebula-bot exited");
            session = co_await control("GET", "/_fake/gateway?wait_ms=1000", json());
        }
        if (session.value("session_id", "").empty())
            throw std::runtime_error("nebula-bot did not connect to the fake Discord gateway");
        co_await pull(0ms);
        say("nebula-bot started with only its token in bot.env: it read its application from Discord, "
            "connected (gateway session " +
            session["session_id"].get<std::string>() + ") and is in no server yet.");
        printed_ = seen_.size();

        section("1. The owner adds the bot to the shop's Discord server");
        co_await invite(owner);

        section("2. The owner sets the shop up");
        // (Option lists are built before each co_await: g++ 12 cannot keep an initializer list's
        // array in a coroutine frame.)
        const std::size_t before_offer = seen_.size();
        co_await command(owner, "/admin setup", "setup", json::array());
        co_await wait_for(
            [](const json& r) { return r["body"].dump().find("setup:create") != std::string::npos; },
            "the offer to create the roles and channels", before_offer);
        const std::size_t before_setup = seen_.size();
        const json create = co_await click(owner, "clicks Create them", kGeneral, "setup:create", "");
        co_await finish_deferred(create);
        co_await learn_the_layout(before_setup);
        print_new();
        say("");
        say("(What the bot created, as Discord lists it: " + name_of(str(admin_role_)) + " " +
            str(admin_role_) + ", " + name_of(str(subscriber_role_)) + " " + str(subscriber_role_) + ", " +
            name_of(str(orders_category_)) + " " + str(orders_category_) + ", " + name_of(str(panel_)) + " " +
            str(panel_) + ", " + name_of(str(review_)) + " " + str(review_) + ", " + name_of(str(billing_)) +
            " " + str(billing_) + ". Nobody copied an id.)");
        const Actor admin{"admin Karim", kAdmin, {admin_role_}};
        for (const auto& line : server_lines_) co_await paste(admin, line);
        co_await paste(admin, "/admin payment set method:vodafone_cash account:01012345678");
        co_await paste(admin,
                       "/admin plan create name:Monthly 50 GB price:150 days:30 traffic_gb:50 devices:2");
        const json customer_member{
            {"guild", str(kGuild)}, {"user", str(kCustomer)}, {"roles", json::array()}};
        co_await control("POST", "/_fake/member", customer_member);

        section("3. The customer buys access");
        const json plans =
            co_await click(customer, "clicks Buy Access on the main panel", panel_, "panel:buy", "");
        const std::string plan = first_option(plans["body"]["data"], "buy_plan");
        const std::size_t before_order = seen_.size();
        co_await click(customer, "picks the plan \"Monthly 50 GB\"", panel_, "buy_plan", plan);
        const json created = co_await wait_for(
            [](const json& r) {
                return r["route"] == "POST /guilds/:id/channels" && r["response"].is_object() &&
                       r["response"].value("name", "").rfind("order-", 0) == 0;
            },
            "the private order channel", before_order);
        const std::string order_channel = created["response"]["id"];
        const json summary = co_await wait_for(
            [&](const json& r) {
                return r["method"] == "POST" && r["path"] == "/channels/" + order_channel + "/messages" &&
                       r["body"].dump().find("pay_method:") != std::string::npos;
            },
            "the order summary", before_order);
        print_new();
        const std::string pay_id = find_custom_id(summary["body"], "pay_method:");
        const std::string method = first_option(summary["body"], pay_id);
        const json instructions = co_await click(customer, "picks Vodafone Cash as the payment method",
                                                 std::stoull(order_channel), pay_id, method);
        std::smatch found;
        const std::string text = instructions.dump();
        const std::string reference =
            std::regex_search(text, found, std::regex("NL-[0-9]{6}")) ? found.str() : "NL-000001";
        const std::string order_id = pay_id.substr(pay_id.find(':') + 1);

        co_await upload(customer, order_channel, screenshot_png(reference));

        section("4. The admin reviews the payment");
        co_await click(admin, "clicks Claim on the review card", review_, "review:" + order_id + ":claim",
                       "");
        const std::size_t before_approve = seen_.size();
        co_await click(admin, "clicks Approve on the review card", review_, "review:" + order_id + ":approve",
                       "");
        const json delivery = co_await wait_for(
            [&](const json& r) {
                return r["method"] == "POST" && r["path"] == "/channels/" + order_channel + "/messages" &&
                       r["body"].dump().find("vless://") != std::string::npos;
            },
            "the VLESS link in the order channel", before_approve);
        co_await wait_for(
            [&](const json& r) {
                return r["method"] == "POST" && r["path"] == "/channels/" + str(billing_) + "/messages";
            },
            "the billing line", before_approve);
        co_await wait_for(
            [&](const json& r) {
                return r["method"] == "POST" && r["path"] == "/channels/" + order_channel + "/messages" &&
                       r["body"].dump().find("archived") != std::string::npos;
            },
            "the notice that the order channel will be archived", before_approve);
        print_new();
        link_ = extract_link(delivery["body"]);

        section("5. The admin looks at the numbers");
        stats_files_ = co_await command_with_file(admin, "/admin stats", "stats", json::array());
        json export_options = json::array();
        export_options.push_back(opt("format", 3, "csv"));
        export_files_ = co_await command_with_file(admin, "/admin export orders format:csv", "export orders",
                                                   std::move(export_options));
        print_new();

        section("6. A free trial and a promo code");
        const Actor newcomer{"customer Omar", kNewcomer, {}};
        const json newcomer_member{{"user", str(kNewcomer)}, {"roles", json::array()}};
        co_await control("POST", "/_fake/member", newcomer_member);
        json trial_options = json::array();
        trial_options.push_back(opt("plan", 3, plan));
        trial_options.push_back(opt("days", 4, 3));
        trial_options.push_back(opt("traffic_gb", 10, 5));
        co_await command(admin, "/admin trial set plan:\"Monthly 50 GB\" days:3 traffic_gb:5", "trial set",
                         std::move(trial_options));
        const json trial =
            co_await click(newcomer, "clicks Free trial on the main panel", panel_, "panel:trial", "");
        trial_link_ = extract_link(trial["body"]);
        json promo_options = json::array();
        promo_options.push_back(opt("code", 3, "WELCOME20"));
        promo_options.push_back(opt("percent", 4, 20));
        promo_options.push_back(opt("max_uses", 4, 100));
        co_await command(admin, "/admin promo create code:WELCOME20 percent:20 max_uses:100", "promo create",
                         std::move(promo_options));
        const std::size_t before_second = seen_.size();
        co_await click(newcomer, "clicks Buy Access on the main panel", panel_, "panel:buy", "");
        co_await click(newcomer, "picks the plan \"Monthly 50 GB\"", panel_, "buy_plan", plan);
        const json second_summary = co_await wait_for(
            [&](const json& r) {
                return r["method"] == "POST" && r["body"].dump().find("promo:") != std::string::npos;
            },
            "the order summary with the Promo code button", before_second);
        const std::string second_channel = second_summary["path"].get<std::string>().substr(
            std::string("/channels/").size(),
            second_summary["path"].get<std::string>().find("/messages") - std::string("/channels/").size());
        const std::string promo_id = find_custom_id(second_summary["body"], "promo:");
        co_await click(newcomer, "clicks Promo code in the order channel", std::stoull(second_channel),
                       promo_id, "");
        json code_field{{"type", 18},
                        {"component", {{"type", 4}, {"custom_id", "code"}, {"value", "welcome20"}}}};
        json modal{{"custom_id", promo_id}, {"components", json::array({code_field})}};
        const json applied = co_await interact(newcomer, "types the code welcome20",
                                               std::stoull(second_channel), 5, std::move(modal));
        print_new();
        promo_applied_ = applied["body"].dump().find("120 EGP") != std::string::npos;
        const std::string second_pay = find_custom_id(second_summary["body"], "pay_method:");
        const json discounted = co_await click(
            newcomer, "picks Vodafone Cash: the instructions ask for the discounted amount",
            std::stoull(second_channel), second_pay, first_option(second_summary["body"], second_pay));
        co_await pay_with_the_code_and_approve(newcomer, admin, second_channel, second_pay, discounted);

        section("7. The admin runs the shop by hand");
        co_await admin_finds_the_customer(admin, reference);
        co_await admin_gives_an_account(admin, plan);
        co_await admin_refunds(admin, reference);
        co_await admin_reads_the_charts(admin);
        co_await customer_reads_the_usage_chart(newcomer);

        co_await fetch_files();
        section("Result");
        say("The customer's VLESS link: " + link_);
        say("Files in " + out_.string() + ":");
        for (const auto& [url, path] : saved_)
            say("  " + path.filename().string() + "  (" + describe_file(path) + ")");
        say("  customer-receipt.png  (the screenshot the customer uploaded, " +
            describe_file(out_ / "customer-receipt.png") + ")");
        say("  transcript.txt  (this transcript)");
    }

    /// The checks the demo promises: the link arrived, the QR code, chart, CSV and receipt exist.
    std::vector<std::string> problems() const {
        std::vector<std::string> out;
        if (link_.rfind("vless://", 0) != 0) out.push_back("no VLESS link was delivered");
        auto saved_with = [&](const std::function<bool(const std::filesystem::path&)>& test) {
            for (const auto& [url, path] : saved_)
                if (test(path)) return true;
            return false;
        };
        if (!saved_with([](const auto& p) { return p.filename() == "qr.png"; }))
            out.push_back("no QR code PNG");
        if (!saved_with(
                [](const auto& p) { return p.filename().string().find("receipt") != std::string::npos; }))
            out.push_back("no receipt file");
        if (stats_files_.empty()) out.push_back("/admin stats sent no chart");
        if (export_files_.empty() || export_files_.front().extension() != ".csv")
            out.push_back("/admin export orders sent no CSV file");
        if (trial_link_.rfind("vless://", 0) != 0) out.push_back("the free trial delivered no VLESS link");
        if (!promo_applied_) out.push_back("the promo code did not bring the price to 120 EGP");
        if (!customer_found_) out.push_back("/admin user search did not find the customer by reference");
        if (gift_link_.rfind("vless://", 0) != 0)
            out.push_back("the account given by the admin was not delivered");
        if (!refund_told_) out.push_back("the customer was not told of the refund");
        if (charts_after_refund_.empty()) out.push_back("/admin stats after the refund sent no chart");
        if (usage_charts_.empty()) out.push_back("My Account's Usage chart sent no chart");
        if (!promo_used_) out.push_back("the order with the promo code was not approved at 120 EGP");
        return out;
    }

    // --- the admin running the shop by hand (user search, a gift account, a refund, the charts) ---

    asio::awaitable<void> admin_finds_the_customer(const Actor& admin, std::string reference) {
        json search = json::array();
        search.push_back(opt("query", 3, reference));
        const json found = co_await command(admin, "/admin user search query:" + reference, "user search",
                                            std::move(search));
        customer_found_ = found["body"].dump().find("<@" + str(kCustomer) + ">") != std::string::npos;
        json note = json::array();
        note.push_back(opt("user", 6, str(kCustomer)));
        note.push_back(opt("text", 3, "Asked by DM whether the transfer arrived"));
        co_await command(admin,
                         "/admin user note user:@Mona text:\"Asked by DM whether the transfer arrived\"",
                         "user note", std::move(note));
        json info = json::array();
        info.push_back(opt("user", 6, str(kCustomer)));
        co_await command(admin, "/admin user info user:@Mona", "user info", std::move(info));
    }

    asio::awaitable<void> admin_gives_an_account(const Actor& admin, std::string plan) {
        const json giftee_member{{"user", str(kGiftee)}, {"roles", json::array()}};
        co_await control("POST", "/_fake/member", giftee_member);
        const std::size_t before = seen_.size();
        json options = json::array();
        options.push_back(opt("user", 6, str(kGiftee)));
        options.push_back(opt("plan", 3, plan));
        options.push_back(opt("reason", 3, "giveaway winner"));
        options.push_back(opt("days", 4, 7));
        co_await command(
            admin,
            "/admin account create user:@Sara plan:\"Monthly 50 GB\" reason:\"giveaway winner\" days:7",
            "account create", std::move(options));
        const json delivered = co_await wait_for(
            [](const json& r) {
                return r["method"] == "POST" && r["route"] == "POST /channels/:id/messages" &&
                       r["body"].dump().find("vless://") != std::string::npos;
            },
            "the given account's link sent to Sara", before);
        print_new();
        gift_link_ = extract_link(delivered["body"]);
    }

    asio::awaitable<void> admin_refunds(const Actor& admin, std::string reference) {
        const std::size_t before = seen_.size();
        json options = json::array();
        options.push_back(opt("order", 3, reference));
        options.push_back(opt("reason", 3, "paid twice by mistake"));
        options.push_back(opt("disable_account", 5, true));
        co_await command(admin,
                         "/admin order refund order:" + reference +
                             " reason:\"paid twice by mistake\" disable_account:true",
                         "order refund", std::move(options));
        co_await wait_for(
            [](const json& r) {
                return r["method"] == "POST" && r["route"] == "POST /channels/:id/messages" &&
                       r["body"].dump().find("has been refunded") != std::string::npos;
            },
            "Mona being told of the refund", before);
        print_new();
        refund_told_ = true;
    }

    asio::awaitable<void> admin_reads_the_charts(const Actor& admin) {
        json options = json::array();
        options.push_back(opt("period", 3, "7d"));
        charts_after_refund_ = co_await command_with_file(admin, "/admin stats period:7d (after the refund)",
                                                          "stats", std::move(options));
    }

    /// The customer opens My Account and presses their account's Usage chart button: the daily
    /// traffic of the last 30 days, drawn in their language and saved like the admin's charts.
    asio::awaitable<void> customer_reads_the_usage_chart(const Actor& customer) {
        const std::size_t before = seen_.size();
        json account =
            co_await click(customer, "clicks My Account on the main panel", panel_, "panel:account", "");
        const std::regex usage_button("\"custom_id\":\"(acct:[0-9]+:usage)\"");
        std::smatch found;
        std::string body = account["body"].dump();
        if (!std::regex_search(body, found, usage_button)) {
            // A deferred answer: My Account comes as the follow-up message.
            const std::string token = account["interaction_token"];
            account = co_await wait_for(
                [&](const json& r) {
                    return r["path"].get<std::string>().find("/webhooks/") == 0 &&
                           r["path"].get<std::string>().find(token) != std::string::npos &&
                           r["body"].dump().find(":usage") != std::string::npos;
                },
                "My Account with its Usage chart button", before);
            print_new();
            body = account["body"].dump();
            if (!std::regex_search(body, found, usage_button))
                throw std::runtime_error("no Usage chart button in My Account: " + body);
        }
        const std::string button = found[1].str();
        const std::size_t before_chart = seen_.size();
        json callback = co_await click(customer, "clicks Usage chart", panel_, button, "");
        json with_file = callback;
        if (callback["files"].empty()) {
            const std::string token = callback["interaction_token"];
            with_file = co_await wait_for(
                [&](const json& r) {
                    return r["path"].get<std::string>().find("/webhooks/") == 0 &&
                           r["path"].get<std::string>().find(token) != std::string::npos &&
                           !r["files"].empty();
                },
                "the usage chart", before_chart);
            print_new();
        }
        for (const auto& f : with_file["files"]) usage_charts_.push_back(saved_.at(f["url"]));
    }

    // --- the reseller's setup: invite, /admin setup, the pasted lines ---

    /// The owner opens the invite link and picks the shop's server (a new, empty one): Discord
    /// adds the bot with the permissions the link asks for, and the bot registers its commands.
    asio::awaitable<void> invite(const Actor& owner) {
        const std::regex link_form(R"(^https://discord\.com/oauth2/authorize\?(.*)$)");
        std::smatch found;
        if (!std::regex_match(invite_, found, link_form))
            throw std::runtime_error("not an invite link: " + invite_);
        const std::string query = found[1].str();
        const auto param = [&](const std::string& name) {
            std::smatch value;
            if (!std::regex_search(query, value, std::regex("(^|&)" + name + "=([0-9]+)")))
                throw std::runtime_error("the invite link has no " + name + ": " + invite_);
            return value[2].str();
        };
        if (param("client_id") != fake_.application_id)
            throw std::runtime_error("the invite link is for application " + param("client_id") +
                                     ", not the bot's " + fake_.application_id);
        say("");
        say(owner.label + " opens the invite link and adds the bot to the server \"Nebula Shop\"");
        say("      " + invite_);
        const std::size_t before = seen_.size();
        const json join{{"guild", str(kGuild)},
                        {"name", "Nebula Shop"},
                        {"owner", str(owner.id)},
                        {"permissions", param("permissions")}};
        co_await control("POST", "/_fake/join", join);
        const json commands = co_await wait_for(
            [](const json& r) { return r["route"] == "PUT /applications/:id/guilds/:id/commands"; },
            "the bot registering its commands in the server", before);
        commands_ = commands["response"].is_array() ? commands["response"] : commands["body"];
        say("  bot registers " + std::to_string(commands_.size()) + " slash command(s) in the server");
        printed_ = seen_.size();
    }

    /// The ids of the roles, category and channels /admin setup created, from what the bot asked
    /// Discord for (by the names the setup offer listed), and the owner holding the admin role.
    asio::awaitable<void> learn_the_layout(std::size_t from) {
        admin_role_ = co_await created_id(from, "POST /guilds/:id/roles", "Shop Admin");
        subscriber_role_ = co_await created_id(from, "POST /guilds/:id/roles", "Subscriber");
        orders_category_ = co_await created_id(from, "POST /guilds/:id/channels", "Orders");
        review_ = co_await created_id(from, "POST /guilds/:id/channels", "order-review");
        billing_ = co_await created_id(from, "POST /guilds/:id/channels", "billing");
        panel_ = co_await created_id(from, "POST /guilds/:id/channels", "shop");
        co_await wait_for(
            [&](const json& r) {
                return r["method"] == "PUT" && r["path"] == "/guilds/" + str(kGuild) + "/members/" +
                                                                str(kAdmin) + "/roles/" + str(admin_role_);
            },
            "the owner getting the admin role", from);
        co_await wait_for(
            [&](const json& r) {
                return r["method"] == "POST" && r["path"] == "/channels/" + str(panel_) + "/messages" &&
                       r["body"].dump().find("panel:buy") != std::string::npos;
            },
            "the main panel in the new channel", from);
    }

    /// The id Discord gave the role or channel named `name` the bot created (`route`).
    asio::awaitable<std::uint64_t> created_id(std::size_t from, std::string route, std::string name) {
        const json r = co_await wait_for(
            [&](const json& request) {
                return request["route"] == route && request["status"].get<int>() < 300 &&
                       request["body"].value("name", "") == name && request["response"].is_object();
            },
            "the bot creating " + name, from);
        co_return std::stoull(r["response"].at("id").get<std::string>());
    }

    /// The admin pastes a line into Discord's message box and sends it as a slash command.
    asio::awaitable<json> paste(const Actor& admin, std::string line) {
        json data = pasted_command(line);
        json callback = co_await interact(admin, "pastes " + line, kGeneral, 2, std::move(data));
        co_await finish_deferred(callback);
        print_new();
        co_return callback;
    }

    /// A registered command's (or subcommand's) options, by reference.
    static const json& options_of(const json& command) {
        static const json none = json::array();
        const auto it = command.find("options");
        return it != command.end() && it->is_array() ? *it : none;
    }

    /// What Discord's client makes of a pasted "/admin group sub name:value …" line: the words
    /// after the command name pick the subcommand, then each "option:" the bot registered starts
    /// that option's value, which runs to the next one; the value is typed as the option is
    /// (integer, number, boolean, user/channel/role id, string). A word that is no option name
    /// stays part of the value before it. Throws on what Discord would not send.
    json pasted_command(const std::string& line) const {
        std::vector<std::string> words;
        std::istringstream in(line);
        for (std::string w; in >> w;) words.push_back(w);
        if (words.empty() || words[0].empty() || words[0][0] != '/')
            throw std::runtime_error("not a slash command: " + line);
        const json* level = nullptr;
        for (const auto& c : commands_)
            if ("/" + c.value("name", "") == words[0]) level = &c;
        if (level == nullptr) throw std::runtime_error("the bot registered no " + words[0] + ": " + line);
        std::vector<std::string> path;
        std::size_t at = 1;
        for (; at < words.size(); ++at) {
            const json* next = nullptr;
            for (const auto& o : options_of(*level))
                if ((o.value("type", 0) == 1 || o.value("type", 0) == 2) && o.value("name", "") == words[at])
                    next = &o;
            if (next == nullptr) break;
            path.push_back(words[at]);
            level = next;
        }
        if (level->value("type", 1) == 2) throw std::runtime_error("no subcommand in: " + line);
        std::vector<std::pair<const json*, std::string>> values;
        for (; at < words.size(); ++at) {
            const std::string& w = words[at];
            const json* option = nullptr;
            if (const auto colon = w.find(':'); colon != std::string::npos)
                for (const auto& o : options_of(*level))
                    if (o.value("name", "") == w.substr(0, colon)) option = &o;
            if (option != nullptr) {
                values.emplace_back(option, w.substr(w.find(':') + 1));
            } else if (!values.empty()) {
                values.back().second += " " + w;
            } else {
                throw std::runtime_error("\"" + w + "\" is no option of the command: " + line);
            }
        }
        json options = json::array();
        for (const auto& [option, text] : values) {
            const int type = option->value("type", 3);
            json value = text;
            if (type == 4) value = std::stoll(text);
            if (type == 10) value = std::stod(text);
            if (type == 5) value = text == "true";
            if (type >= 6 && type <= 9) value = std::regex_replace(text, std::regex("[<@#&!>]"), "");
            options.push_back({{"name", option->value("name", "")}, {"type", type}, {"value", value}});
        }
        std::string joined;
        for (const auto& p : path) joined += (joined.empty() ? "" : " ") + p;
        json data = command_data(joined, std::move(options));
        data["name"] = words[0].substr(1);
        return data;
    }

  private:
    /// "mona" for "customer Mona".
    static std::string username_of(const Actor& who) {
        std::string name = who.label.substr(who.label.rfind(' ') + 1);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return name;
    }

    /// The promo code used on an order: the customer pays the discounted amount, the admin
    /// approves, the code's use is taken and the billing line shows what was paid.
    asio::awaitable<void> pay_with_the_code_and_approve(const Actor& customer, const Actor& admin,
                                                        const std::string& channel, const std::string& pay_id,
                                                        const json& instructions) {
        std::smatch found;
        const std::string text = instructions.dump();
        const std::string reference =
            std::regex_search(text, found, std::regex("NL-[0-9]{6}")) ? found.str() : "NL-000002";
        const std::string order_id = pay_id.substr(pay_id.find(':') + 1);
        co_await upload(customer, channel, screenshot_png(reference, "120.00"), "860000000000000011",
                        "promo-receipt.png");
        const std::size_t before = seen_.size();
        co_await click(admin, "clicks Approve on the review card of " + reference, review_,
                       "review:" + order_id + ":approve", "");
        const json billing = co_await wait_for(
            [&](const json& r) {
                return r["method"] == "POST" && r["path"] == "/channels/" + str(billing_) + "/messages" &&
                       r["body"].dump().find(reference) != std::string::npos;
            },
            "the billing line of " + reference, before);
        co_await wait_for(
            [&](const json& r) {
                return r["method"] == "POST" && r["path"] == "/channels/" + channel + "/messages" &&
                       r["body"].dump().find("vless://") != std::string::npos;
            },
            "the VLESS link of " + reference, before);
        co_await wait_for(
            [&](const json& r) {
                return r["method"] == "POST" && r["path"] == "/channels/" + channel + "/messages" &&
                       r["body"].dump().find("archived") != std::string::npos;
            },
            "the notice that " + name_of(channel) + " will be archived", before);
        print_new();
        json list = json::array();
        co_await command(admin, "/admin promo list", "promo list", std::move(list));
        promo_used_ = billing["body"].dump().find("120 EGP") != std::string::npos;
    }

    // --- the fake's control API ---

    asio::awaitable<json> control(std::string method, std::string target, json body) {
        common::http::Request request;
        request.method = std::move(method);
        request.target = std::move(target);
        if (!body.is_null()) {
            request.headers.set("Content-Type", "application/json");
            request.body = body.dump();
        }
        co_return json::parse(co_await send(std::move(request)));
    }

    asio::awaitable<std::string> send(common::http::Request request) {
        const std::string what = request.method + " " + request.target;
        auto response = co_await client_.send(std::move(request), 70s);
        if (!response) throw std::runtime_error(what + ": " + response.error().message);
        if (response->status < 200 || response->status >= 300)
            throw std::runtime_error(what + ": HTTP " + std::to_string(response->status) + " " +
                                     response->body);
        co_return std::move(response->body);
    }

    asio::awaitable<std::string> download(const std::string& url) {
        if (url.rfind(fake_.origin, 0) != 0) throw std::runtime_error("not a fake CDN URL: " + url);
        common::http::Request request;
        request.method = "GET";
        request.target = url.substr(fake_.origin.size());
        co_return co_await send(std::move(request));
    }

    /// Fetches the requests recorded since the last pull; with `wait`, the fake holds the answer
    /// until a new request has been answered (or `wait` passed).
    asio::awaitable<void> pull(std::chrono::milliseconds wait) {
        const json batch = co_await control("GET",
                                            "/_fake/requests?since=" + std::to_string(seen_.size()) +
                                                "&wait_ms=" + std::to_string(wait.count()),
                                            json());
        // A request still being answered is fetched again, complete, by the next pull.
        for (const auto& r : batch) {
            if (r["status"].get<int>() == 0) break;
            seen_.push_back(r);
        }
    }

    /// The first request from index `from` on that `match` accepts, waiting for the bot as needed.
    asio::awaitable<json> wait_for(std::function<bool(const json&)> match, const std::string& what,
                                   std::size_t from = 0) {
        const auto deadline = std::chrono::steady_clock::now() + kStepTimeout;
        for (std::size_t checked = from;;) {
            for (; checked < seen_.size(); ++checked) {
                if (match(seen_[checked])) co_return seen_[checked];
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left <= 0ms) throw std::runtime_error("timed out waiting for " + what);
            co_await pull(std::min(left, 5000ms));
        }
    }

    // --- what the people do ---

    static json opt(std::string name, int type, json value) {
        return json{{"name", std::move(name)}, {"type", type}, {"value", std::move(value)}};
    }

    asio::awaitable<json> interact(const Actor& who, const std::string& action, std::uint64_t channel,
                                   int type, json data) {
        say("");
        say(who.label + " " + action);
        json roles = json::array();
        for (const auto r : who.roles) roles.push_back(str(r));
        const std::size_t before = seen_.size();
        const json request{{"type", type},      {"user", str(who.id)},
                           {"roles", roles},    {"channel", str(channel)},
                           {"locale", "en-US"}, {"data", std::move(data)}};
        const json interaction = co_await control("POST", "/_fake/interaction", request);
        const std::string path = "/interactions/" + interaction["id"].get<std::string>() + "/" +
                                 interaction["token"].get<std::string>() + "/callback";
        json callback = co_await wait_for([&](const json& r) { return r["path"] == path; },
                                          "the bot's answer to: " + action, before);
        callback["interaction_token"] = interaction["token"];
        co_return callback;
    }

    asio::awaitable<json> click(const Actor& who, const std::string& action, std::uint64_t channel,
                                const std::string& custom_id, const std::string& value) {
        json data{{"custom_id", custom_id}, {"component_type", value.empty() ? 2 : 3}};
        if (!value.empty()) data["values"] = json::array({value});
        json callback = co_await interact(who, action, channel, 3, std::move(data));
        print_new();
        co_return callback;
    }

    /// The data of an /admin interaction; `path` names the subcommand, e.g. "plan create".
    static json command_data(const std::string& command_path, json options) {
        std::vector<std::string> path;
        for (std::size_t at = 0; at < command_path.size();) {
            std::size_t end = command_path.find(' ', at);
            if (end == std::string::npos) end = command_path.size();
            path.push_back(command_path.substr(at, end - at));
            at = end + 1;
        }
        json leaf = std::move(options);
        for (std::size_t i = path.size(); i-- > 0;) {
            const int type = i + 1 == path.size() ? 1 : 2;
            leaf = json::array({{{"name", path[i]}, {"type", type}, {"options", leaf}}});
        }
        return json{{"id", "840000000000000001"}, {"name", "admin"}, {"type", 1}, {"options", leaf}};
    }

    asio::awaitable<json> command(const Actor& who, const std::string& typed, std::string path,
                                  json options) {
        json callback = co_await interact(who, "runs " + typed, panel_, 2, command_data(path, options));
        co_await finish_deferred(callback);
        print_new();
        co_return callback;
    }

    /// A command answered with a file: "thinking…" first, then the reply with the attachment.
    asio::awaitable<std::vector<std::filesystem::path>> command_with_file(const Actor& who,
                                                                          const std::string& typed,
                                                                          std::string path, json options) {
        const std::size_t before = seen_.size();
        json callback = co_await interact(who, "runs " + typed, panel_, 2, command_data(path, options));
        const std::string token = callback["interaction_token"];
        json with_file = callback;
        if (callback["files"].empty()) {
            with_file = co_await wait_for(
                [&](const json& r) {
                    return r["path"].get<std::string>().find("/webhooks/") == 0 &&
                           r["path"].get<std::string>().find(token) != std::string::npos &&
                           !r["files"].empty();
                },
                "the file answering " + typed, before);
        }
        print_new();
        std::vector<std::filesystem::path> files;
        for (const auto& f : with_file["files"]) files.push_back(saved_.at(f["url"]));
        co_return files;
    }

    /// A deferred answer ("thinking…") is followed by an edit of the original reply.
    asio::awaitable<void> finish_deferred(const json& callback) {
        if (callback["body"].value("type", 0) != 5) co_return;
        const std::string token = callback["interaction_token"];
        co_await wait_for(
            [&](const json& r) {
                return r["path"].get<std::string>().find("/webhooks/") == 0 &&
                       r["path"].get<std::string>().find(token) != std::string::npos;
            },
            "the deferred reply", 0);
    }

    asio::awaitable<void> upload(const Actor& who, const std::string& channel, std::string png,
                                 std::string message_id = "860000000000000001",
                                 std::string filename = "customer-receipt.png") {
        say("");
        say(who.label + " posts a screenshot of the transfer in " + name_of(channel) + " (" + filename +
            ", " + std::to_string(png.size()) + " bytes)");
        {
            std::ofstream file(out_ / filename, std::ios::binary);
            file << png;
        }
        const std::string attachment_id = std::to_string(std::stoull(message_id) + 1);
        const std::string cdn_path = "/attachments/" + channel + "/" + message_id + "/" + filename;
        common::http::Request put;
        put.method = "PUT";
        put.target = "/_fake/cdn" + cdn_path;
        put.headers.set("Content-Type", "image/png");
        put.body = png;
        const json uploaded = json::parse(co_await send(std::move(put)));
        const std::string url = uploaded["url"];
        json message{{"id", message_id},
                     {"channel_id", channel},
                     {"guild_id", str(kGuild)},
                     {"author", {{"id", str(who.id)}, {"username", username_of(who)}}},
                     {"member", {{"roles", json::array()}}},
                     {"content", ""},
                     {"attachments", json::array({{{"id", attachment_id},
                                                   {"filename", filename},
                                                   {"content_type", "image/png"},
                                                   {"size", png.size()},
                                                   {"url", url},
                                                   {"proxy_url", url}}})}};
        const std::size_t before = seen_.size();
        const json dispatch{{"t", "MESSAGE_CREATE"}, {"d", message}};
        co_await control("POST", "/_fake/dispatch", dispatch);
        co_await wait_for(
            [this](const json& r) {
                return r["method"] == "POST" && r["path"] == "/channels/" + str(review_) + "/messages";
            },
            "the review card", before);
        co_await wait_for(
            [&](const json& r) {
                return r["method"] == "POST" && r["path"] == "/channels/" + channel + "/messages";
            },
            "the customer being told the order is under review", before);
        print_new();
    }

    // --- the transcript ---

    void say(const std::string& line) {
        std::cout << line << "\n";
        transcript_ << line << "\n";
    }

    void section(const std::string& title) {
        say("");
        say("== " + title);
    }

    std::string name_of(const std::string& id) const {
        const auto it = names_.find(id);
        return it == names_.end() ? "channel " + id : it->second;
    }
    std::string name_of(std::uint64_t id) const { return name_of(str(id)); }

    /// Adds `text` line by line, with <@user> and <#channel> mentions shown by name.
    void block(std::vector<std::string>& lines, const std::string& indent, const std::string& raw) const {
        static const std::regex mention("<(?:@[!&]?|#)([0-9]+)>");
        std::string text;
        auto at = raw.cbegin();
        for (std::sregex_iterator it(raw.begin(), raw.end(), mention), end; it != end; ++it) {
            text.append(at, (*it)[0].first);
            const auto name = names_.find((*it)[1].str());
            text += name != names_.end() ? name->second : (*it)[0].str();
            at = (*it)[0].second;
        }
        text.append(at, raw.cend());
        std::size_t start = 0;
        while (start <= text.size()) {
            std::size_t end = text.find('\n', start);
            if (end == std::string::npos) end = text.size();
            lines.push_back(indent + text.substr(start, end - start));
            start = end + 1;
        }
    }

    void render_message(std::vector<std::string>& lines, const json& m) const {
        if (!m.is_object()) return;
        if (!m.value("content", "").empty()) block(lines, "      | ", m["content"]);
        for (const auto& e : m.value("embeds", json::array())) {
            lines.push_back("      [embed] " + e.value("title", std::string("(no title)")));
            if (!e.value("description", "").empty()) block(lines, "        ", e["description"]);
            for (const auto& f : e.value("fields", json::array()))
                block(lines, "        ", f.value("name", "") + ": " + f.value("value", ""));
            if (e.contains("image")) lines.push_back("        (image: " + e["image"].value("url", "") + ")");
            if (e.contains("footer")) lines.push_back("        -- " + e["footer"].value("text", ""));
        }
        for (const auto& row : m.value("components", json::array())) {
            std::string line;
            for (const auto& c : row.value("components", json::array())) {
                if (c.value("type", 0) == 2) {
                    line += "[" + c.value("label", std::string("?")) + "] ";
                } else if (c.value("type", 0) == 3) {
                    line += "<select: " + c.value("placeholder", std::string("choose")) + ">";
                    for (const auto& o : c.value("options", json::array()))
                        line += "\n        - " + o.value("label", "");
                } else if (c.value("type", 0) == 4) {
                    line += "<text input: " + c.value("label", std::string("")) + "> ";
                }
            }
            if (!line.empty()) block(lines, "      ", line);
        }
    }

    static std::string callback_kind(int type, const json& data) {
        const bool ephemeral = data.is_object() && (data.value("flags", 0) & 64) != 0;
        switch (type) {
            case 1:
                return "pong";
            case 4:
                return ephemeral ? "replies (only they can see it)" : "replies";
            case 5:
                return ephemeral ? "acknowledges: \"thinking...\" (only they can see it)"
                                 : "acknowledges: \"thinking...\"";
            case 6:
                return "acknowledges the click";
            case 7:
                return "updates the message";
            case 8:
                return "offers autocomplete choices";
            case 9:
                return "opens a form";
            default:
                return "answers with type " + std::to_string(type);
        }
    }

    std::string what_bot_did(const json& r) {
        const std::string route = r["route"];
        const std::string path = r["path"];
        const auto parts = [&] {
            std::vector<std::string> out;
            std::size_t start = 1;
            while (start <= path.size()) {
                std::size_t end = path.find('/', start);
                if (end == std::string::npos) end = path.size();
                out.push_back(path.substr(start, end - start));
                start = end + 1;
            }
            return out;
        }();
        const json& body = r["body"];
        if (route == "POST /interactions/:id/:token/callback")
            return callback_kind(body.value("type", 0), body.value("data", json()));
        if (route == "PATCH /webhooks/:id/:token/messages/@original") return "edits its reply";
        if (route == "POST /webhooks/:id/:token") return "sends a follow-up";
        if (route == "POST /channels/:id/messages") return "posts in " + name_of(parts[1]);
        if (route == "PATCH /channels/:id/messages/:id") return "edits a message in " + name_of(parts[1]);
        if (route == "POST /guilds/:id/channels") {
            const json& response = r["response"];
            const bool category = body.value("type", 0) == 4;
            if (response.is_object() && response.contains("id"))
                names_[response["id"].get<std::string>()] =
                    (category ? "" : "#") + response.value("name", std::string("?"));
            if (category) return "creates the category " + body.value("name", std::string("?"));
            std::string who;
            for (const auto& o : body.value("permission_overwrites", json::array())) {
                const std::string id = o.value("id", "");
                if (id == str(kGuild) || id == fake_.bot_user_id) continue;
                who += (who.empty() ? "" : ", ") + name_of(id);
            }
            if (who.empty()) return "creates the channel #" + body.value("name", std::string("?"));
            return "creates the private channel #" + body.value("name", std::string("?")) + " (visible to " +
                   who + " and the bot)";
        }
        if (route == "POST /guilds/:id/roles") {
            const json& response = r["response"];
            if (response.is_object() && response.contains("id"))
                names_[response["id"].get<std::string>()] = "@" + response.value("name", std::string("?"));
            return "creates the role @" + body.value("name", std::string("?"));
        }
        if (route == "PATCH /channels/:id") return "changes " + name_of(parts[1]) + ": " + body.dump();
        if (route == "DELETE /channels/:id") return "deletes " + name_of(parts[1]);
        if (route == "POST /users/@me/channels") {
            const json& response = r["response"];
            const std::string to = name_of(body.value("recipient_id", ""));
            if (response.is_object() && response.contains("id"))
                names_[response["id"].get<std::string>()] = "the DM with " + to;
            return "opens a direct message with " + to;
        }
        if (route == "PUT /guilds/:id/members/:id/roles/:id")
            return "grants the role " + name_of(parts[5]) + " to " + name_of(parts[3]);
        return route;
    }

    /// Prints what the bot did since the last print and keeps every file it sent.
    void print_new() {
        for (; printed_ < seen_.size(); ++printed_) {
            const json& r = seen_[printed_];
            if (r["status"].get<int>() == 0) break;
            std::vector<std::string> lines;
            std::string head = "  bot " + what_bot_did(r);
            if (r["status"].get<int>() >= 300)
                head += "  (Discord answered HTTP " + std::to_string(r["status"].get<int>()) + ")";
            lines.push_back(head);
            const json& body = r["body"];
            if (r["route"] == "POST /interactions/:id/:token/callback") {
                render_message(lines, body.value("data", json()));
            } else if (r["route"] != "POST /guilds/:id/channels" &&
                       r["route"] != "POST /users/@me/channels" && r["route"] != "PATCH /channels/:id") {
                render_message(lines, body);
            }
            for (const auto& f : r["files"]) lines.push_back("      file: " + keep(f));
            for (const auto& line : lines) say(line);
        }
    }

    std::string keep(const json& file) {
        const std::string url = file["url"];
        std::filesystem::path target = out_ / file["filename"].get<std::string>();
        for (int n = 2; taken_.count(target) != 0 || std::filesystem::exists(target); ++n) {
            const auto& name = std::filesystem::path(file["filename"].get<std::string>());
            target = out_ / (name.stem().string() + "-" + std::to_string(n) + name.extension().string());
        }
        saved_[url] = target;
        taken_.insert(target);
        pending_.push_back(url);
        return file["filename"].get<std::string>() + " (" + file["content_type"].get<std::string>() + ", " +
               std::to_string(file["size"].get<std::size_t>()) + " bytes) saved as " +
               target.filename().string();
    }

    /// Downloads the files print_new() announced from the fake CDN into the output folder.
    asio::awaitable<void> fetch_files() {
        for (const auto& url : pending_) {
            std::ofstream out(saved_.at(url), std::ios::binary);
            out << co_await download(url);
        }
        pending_.clear();
    }

    static std::string describe_file(const std::filesystem::path& path) {
        std::ifstream in(path, std::ios::binary);
        std::string head(8, '\0');
        in.read(head.data(), 8);
        const auto size = std::filesystem::file_size(path);
        if (head.substr(1, 3) == "PNG") return "PNG image, " + std::to_string(size) + " bytes";
        return std::to_string(size) + " bytes";
    }

    static std::string first_option(const json& message, const std::string& custom_id) {
        for (const auto& row : message.value("components", json::array()))
            for (const auto& c : row.value("components", json::array()))
                if (c.value("custom_id", "") == custom_id && !c.value("options", json::array()).empty())
                    return c["options"][0]["value"];
        throw std::runtime_error("no select " + custom_id + " in " + message.dump());
    }

    static std::string find_custom_id(const json& message, const std::string& prefix) {
        for (const auto& row : message.value("components", json::array()))
            for (const auto& c : row.value("components", json::array()))
                if (c.value("custom_id", "").rfind(prefix, 0) == 0) return c["custom_id"];
        throw std::runtime_error("no component " + prefix + " in " + message.dump());
    }

    static std::string extract_link(const json& body) {
        std::smatch found;
        const std::string text = body.dump();
        if (std::regex_search(text, found, std::regex("vless://[^\\s\"`\\\\]+"))) return found.str();
        return {};
    }

    common::http::Client& client_;
    FakeInfo fake_;
    std::filesystem::path out_;
    std::ofstream transcript_;
    pid_t bot_pid_;
    std::string invite_;                     ///< the link `nebula-bot invite-url` printed
    std::vector<std::string> server_lines_;  ///< the lines `nebula-gateway init` printed
    // What /admin setup created, as the driver found it in what the bot asked Discord for.
    std::uint64_t admin_role_ = 0, subscriber_role_ = 0, orders_category_ = 0;
    std::uint64_t panel_ = 0, review_ = 0, billing_ = 0;
    json commands_ = json::array();  ///< the commands the bot registered in the server
    std::vector<json> seen_;
    std::size_t printed_ = 0;
    std::map<std::string, std::string> names_;
    std::map<std::string, std::filesystem::path> saved_;  // CDN URL -> file in out_
    std::vector<std::string> pending_;
    std::set<std::filesystem::path> taken_;
    std::string link_;
    std::string trial_link_;
    bool promo_applied_ = false;
    bool customer_found_ = false;
    std::string gift_link_;
    bool refund_told_ = false;
    std::vector<std::filesystem::path> charts_after_refund_;
    std::vector<std::filesystem::path> usage_charts_;
    bool promo_used_ = false;
    std::vector<std::filesystem::path> stats_files_;
    std::vector<std::filesystem::path> export_files_;
};

int walk(const FakeInfo& fake, const std::filesystem::path& out, pid_t bot_pid, const std::string& invite,
         const std::vector<std::string>& server_lines) {
    asio::io_context io;
    common::http::ClientOptions options;
    options.base = *common::http::Url::parse(fake.origin);
    options.request_timeout = 70s;
    auto client = common::http::Client::create(io.get_executor(), options);
    if (!client) {
        std::cerr << "nebula-demo-driver: " << client.error() << "\n";
        return 1;
    }
    Walk walk(**client, fake, out, bot_pid, invite, server_lines);
    int status = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            try {
                co_await walk.run();
            } catch (const std::exception& e) {
                std::cerr << "nebula-demo-driver: " << e.what() << "\n";
                status = 1;
                co_return;
            }
            for (const auto& problem : walk.problems()) {
                std::cerr << "nebula-demo-driver: " << problem << "\n";
                status = 1;
            }
        },
        asio::detached);
    io.run();
    return status;
}

}  // namespace
}  // namespace nebula::demo

int main(int argc, char** argv) {
    CLI::App app{"The local demo's customer and admin, against nebula-fake-discord"};
    std::string fake_file;
    std::string out_dir;
    int bot_pid = 0;
    std::string invite;
    std::vector<std::string> server_lines;
    auto* env = app.add_subcommand("env", "print where the fake Discord is, for the demo bot's .env");
    env->add_option("--fake", fake_file, "the JSON line nebula-fake-discord printed")->required();
    auto* port = app.add_subcommand("free-port", "print a loopback port nothing listens on now");
    auto* walk = app.add_subcommand("walk", "walk a customer and an admin through the shop");
    walk->add_option("--fake", fake_file, "the JSON line nebula-fake-discord printed")->required();
    walk->add_option("--out", out_dir, "folder for the transcript and the files the bot sent")->required();
    walk->add_option("--bot-pid", bot_pid, "the bot's process: stop waiting for it when it exits");
    walk->add_option("--invite", invite, "the invite link `nebula-bot invite-url` printed")->required();
    walk->add_option("--paste", server_lines, "a line `nebula-gateway init` printed (one per VPN server)");
    app.require_subcommand(1);
    CLI11_PARSE(app, argc, argv);
    try {
        if (port->parsed()) return nebula::demo::free_port();
        const auto fake = nebula::demo::read_fake_info(fake_file);
        if (env->parsed()) {
            std::cout << nebula::demo::env_lines(fake);
            return 0;
        }
        std::filesystem::create_directories(out_dir);
        return nebula::demo::walk(fake, out_dir, bot_pid, invite, server_lines);
    } catch (const std::exception& e) {
        std::cerr << "nebula-demo-driver: " << e.what() << "\n";
        return 1;
    }
}
