#include "bot/app/bot.hpp"

#include <spdlog/spdlog.h>

#include "bot/app/bot_metrics.hpp"
#include "bot/app/discovery.hpp"
#include "bot/app/invite.hpp"
#include "bot/db/migrations.hpp"
#include "bot/domain/audit.hpp"
#include "bot/domain/discord_layout.hpp"
#include "bot/gateway_client/http_gateway_client.hpp"
#include "bot/handlers/admin.hpp"
#include "bot/handlers/customer.hpp"
#include "bot/handlers/outage.hpp"
#include "bot/handlers/router.hpp"
#include "bot/handlers/setup.hpp"
#include "bot/jobs/jobs.hpp"
#include "bot/notify/account_moves.hpp"
#include "bot/notify/channel_closer.hpp"
#include "bot/notify/delivery.hpp"
#include "common/crypto.hpp"
#include "discord/gateway_session.hpp"
#include "discord/rest.hpp"

namespace nebula::bot::app {
namespace asio = boost::asio;

namespace {

constexpr std::string_view kEnvApplied = "server.env_applied";

/// A short tag of the key, so a record can say whether the key in bot.env changed without
/// holding anything that helps to guess it (8 hex digits of a SHA-256).
std::string key_tag(const std::string& key) {
    return common::sha256_hex("nebula default server key\n" + key).substr(0, 8);
}

nlohmann::json env_record(const DefaultServer& def) {
    return {{"gateway_url", def.gateway_url},
            {"key_tag", key_tag(def.key)},
            {"tls_pin_sha256", def.tls_pin_sha256},
            {"name", def.name},
            {"location", def.location},
            {"inbound_id", def.inbound_id},
            {"capacity", def.capacity}};
}

}  // namespace

domain::Outcome<std::string> sync_default_server(db::Connection& c, domain::CatalogService& catalog,
                                                 const DefaultServer& def, domain::Timestamp now) {
    std::optional<domain::Server> found;
    for (auto& server : catalog.servers(c)) {
        if (server.spec.gateway_url == def.gateway_url) found = std::move(server);
    }
    const auto record = env_record(def);
    if (!found) {
        return db::in_transaction(c, [&](db::Connection& tx) -> domain::Outcome<std::string> {
            domain::ServerInput input{def.name,           def.location,   def.gateway_url, def.key,
                                      def.tls_pin_sha256, def.inbound_id, def.capacity,    1};
            auto server = catalog.create_server(tx, domain::Actor::system(), input);
            if (!server) return domain::fail(server.error().code, server.error().message);
            domain::record_audit(tx,
                                 {domain::Actor::system().text(), std::string(kEnvApplied), "server",
                                  std::to_string(server->id.value), std::nullopt, record},
                                 now);
            return std::string("added");
        });
    }
    // What bot.env said when it was last applied. A value changed there since then wins; one that
    // did not change leaves an /admin server edit alone. Before any record, the key and the pin
    // follow bot.env (the documented way to rotate the default server's key).
    std::optional<nlohmann::json> last;
    for (const auto& entry : domain::audit_for(c, "server", std::to_string(found->id.value))) {
        if (entry.entry.action == kEnvApplied && entry.entry.after) last = entry.entry.after;
    }
    if (last && *last == record) return std::string();
    const auto changed = [&](const char* field) {
        return last ? last->value(field, nlohmann::json()) != record[field]
                    : std::string_view(field) == "key_tag" || std::string_view(field) == "tls_pin_sha256";
    };
    auto input = found->spec;
    std::vector<std::string> applied;
    const auto apply = [&](const char* field, auto& target, const auto& value) {
        if (changed(field) && target != value) {
            target = value;
            applied.emplace_back(std::string_view(field) == "key_tag" ? "API_SECRET_KEY" : field);
        }
    };
    apply("key_tag", input.gateway_key, def.key);
    apply("tls_pin_sha256", input.tls_pin_sha256, def.tls_pin_sha256);
    apply("name", input.name, def.name);
    apply("location", input.location, def.location);
    apply("inbound_id", input.inbound_id, def.inbound_id);
    apply("capacity", input.capacity, def.capacity);
    return db::in_transaction(c, [&](db::Connection& tx) -> domain::Outcome<std::string> {
        if (!applied.empty()) {
            // Audited by update_server: before and after without the key, "gateway_key_changed".
            auto updated = catalog.update_server(tx, domain::Actor::system(), found->id, input);
            if (!updated) return domain::fail(updated.error().code, updated.error().message);
        }
        domain::record_audit(tx,
                             {domain::Actor::system().text(), std::string(kEnvApplied), "server",
                              std::to_string(found->id.value), last, record},
                             now);
        std::string what;
        for (const auto& field : applied) what += (what.empty() ? "" : ", ") + field;
        return what.empty() ? std::string() : "applied from bot.env: " + what;
    });
}

struct Bot::Impl {
    Impl(asio::any_io_executor ex, BotConfig c, const common::Clock& cl, ui::TimeZone z,
         std::unique_ptr<db::DbExecutor> database, std::unique_ptr<discord::RestClient> r,
         std::unique_ptr<domain::GatewayDirectory> g)
        : executor(std::move(ex)),
          config(std::move(c)),
          clock(cl),
          zone(std::move(z)),
          db(std::move(database)),
          rest(std::move(r)),
          gateways(std::move(g)),
          users(clock),
          catalog(clock),
          orders(clock, domain::OrderOptions{.unpaid_timeout = config.unpaid_timeout,
                                             .data_directory = config.shop.data_dir,
                                             .receipts = config.receipts}),
          provisioner(*db, *gateways, orders, catalog, clock),
          accounts(*db, *gateways, catalog, clock),
          analytics([this](domain::Timestamp t) { return zone.offset_at(t); }),
          background(executor),
          sleeper(common::make_asio_sleeper(executor, clock)),
          ctx{config.shop, zone,        clock,    executor,  *rest,     *db,        users,   catalog,
              orders,      provisioner, accounts, *gateways, analytics, background, *sleeper},
          dispatcher(ctx, router),
          job_runner(ctx, config.jobs, config.database),
          scheduler(*db, clock, zone, jobs::SchedulerOptions{config.jobs.lease, "nebula-bot"}) {}

    asio::any_io_executor executor;
    BotConfig config;
    const common::Clock& clock;
    ui::TimeZone zone;
    std::unique_ptr<db::DbExecutor> db;
    std::unique_ptr<discord::RestClient> rest;
    std::unique_ptr<domain::GatewayDirectory> gateways;
    domain::UserService users;
    domain::CatalogService catalog;
    domain::OrderService orders;
    domain::Provisioner provisioner;
    domain::AccountOperations accounts;
    domain::Analytics analytics;
    common::TaskGroup background;
    std::unique_ptr<common::Sleeper> sleeper;
    core::BotContext ctx;
    handlers::Router router;
    handlers::Dispatcher dispatcher;
    jobs::Jobs job_runner;
    jobs::Scheduler scheduler;
    std::unique_ptr<discord::GatewaySession> gateway;
    bool started = false;
    bool stopping = false;
    std::unique_ptr<BotMetrics> metrics;
};

common::Result<std::unique_ptr<Bot>, std::string> Bot::create(
    asio::any_io_executor executor, BotConfig config, const common::Clock& clock,
    std::unique_ptr<domain::GatewayDirectory> gateways) {
    auto zone = ui::TimeZone::load(config.timezone);
    if (!zone) return common::unexpected("TIMEZONE: " + zone.error());
    auto database = db::DbExecutor::open(config.database, static_cast<std::size_t>(config.db_threads));
    if (!database) return common::unexpected(database.error());
    discord::RestOptions rest_options;
    rest_options.api_base = config.discord_api_base;
    rest_options.token = config.discord_token;
    rest_options.cdn_hosts = config.discord_cdn_hosts;
    rest_options.ca_file = config.discord_ca_file;
    rest_options.max_download_bytes = config.receipts.max_bytes;
    auto rest = discord::RestClient::create(executor, rest_options, clock);
    if (!rest) return common::unexpected("Discord REST: " + rest.error());
    if (!gateways) gateways = std::make_unique<gateway_client::HttpGatewayDirectory>(executor, clock);
    auto impl = std::make_unique<Impl>(executor, std::move(config), clock, std::move(*zone),
                                       std::move(*database), std::move(*rest), std::move(gateways));
    handlers::register_customer_handlers(impl->router, impl->ctx);
    handlers::register_review_handlers(impl->router, impl->ctx);
    jobs::register_jobs(impl->scheduler, impl->job_runner);
    handlers::register_outage_handlers(impl->router, impl->ctx, impl->config.jobs.notice_channel);
    impl->metrics = std::make_unique<BotMetrics>(*impl->db);
    impl->metrics->watch_rest(*impl->rest);
    impl->metrics->watch_catalog(impl->catalog);
    impl->metrics->watch_jobs([&scheduler = impl->scheduler] {
        std::vector<JobCounts> counts;
        for (const auto& job : scheduler.stats()) {
            counts.push_back({job.name, job.runs, job.failures, job.skipped, job.running, job.last_duration,
                              job.total_duration});
        }
        return counts;
    });
    handlers::register_admin_handlers(impl->router, impl->ctx);
    return std::unique_ptr<Bot>(new Bot(std::move(impl)));
}

Bot::Bot(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Bot::~Bot() = default;

handlers::Dispatcher& Bot::dispatcher() { return impl_->dispatcher; }
core::BotContext& Bot::context() { return impl_->ctx; }
bool Bot::started() const { return impl_->started; }
BotMetrics& Bot::metrics() { return *impl_->metrics; }
jobs::Scheduler& Bot::scheduler() { return impl_->scheduler; }

asio::awaitable<common::Result<jobs::JobResult, std::string>> Bot::run_job(std::string name) {
    auto& s = *impl_;
    auto schema = co_await s.db->run([](db::Connection& c) { return db::check_schema(c); });
    if (!schema) co_return common::unexpected(schema.error().message);
    // The jobs post to the shop's channels: the same ids as the running bot (Discord, database).
    if (auto known = co_await learn_shop(); !known) co_return common::unexpected(known.error());
    auto ran = co_await s.scheduler.run_now(name);
    s.background.cancel();
    co_await s.background.join();
    if (!ran) co_return common::unexpected("job " + name + ": " + std::string(jobs::to_string(ran.error())));
    co_return std::move(*ran);
}

void Bot::stop() {
    impl_->stopping = true;
    impl_->metrics->stop();
    if (impl_->gateway) impl_->gateway->stop();
}

asio::awaitable<domain::ReconcileReport> Bot::reconcile() {
    co_return co_await impl_->provisioner.reconcile();
}

asio::awaitable<common::Status<std::string>> Bot::run() {
    auto status = co_await serve();
    // Nothing may still be using the bot when run() returns: the owner may destroy it then.
    auto& s = *impl_;
    s.stopping = true;
    co_await s.dispatcher.join();
    s.background.cancel();
    co_await s.background.join();
    co_return status;
}

asio::awaitable<common::Status<std::string>> Bot::learn_shop() {
    auto& s = *impl_;
    // DISCORD_CLIENT_ID and DISCORD_GUILD_ID may be left out of bot.env: Discord knows them.
    if (s.config.shop.application_id.empty()) {
        auto application = co_await discover_application(*s.rest);
        if (!application) co_return common::unexpected("DISCORD_CLIENT_ID: " + application.error());
        s.config.shop.application_id = *application;
        spdlog::info("application id {} (read from Discord)", application->str());
    }
    if (s.config.shop.guild_id.empty()) {
        auto guilds = co_await list_guilds(*s.rest);
        if (!guilds) co_return common::unexpected("DISCORD_GUILD_ID: " + guilds.error());
        auto chosen = choose_guild(*guilds);
        if (!chosen) co_return common::unexpected("DISCORD_GUILD_ID: " + chosen.error());
        if (!*chosen) {
            spdlog::warn(
                "the bot is in no Discord server yet — add it to the shop's server with this link (it "
                "then registers its commands there; run /admin setup next): {}",
                invite_url(s.config.shop.application_id, true));
            co_return common::Status<std::string>{};
        }
        s.config.shop.guild_id = **chosen;
        spdlog::info("server {} (the one server the bot is in)", s.config.shop.guild_id.str());
    }
    co_await load_layout();
    co_return common::Status<std::string>{};
}

asio::awaitable<void> Bot::load_layout() {
    auto& s = *impl_;
    // The roles and channels /admin setup made here fill what bot.env leaves out.
    const domain::DiscordId guild = s.config.shop.guild_id;
    auto stored =
        co_await s.db->run([&](db::Connection& c) { return domain::discord_layout::load(c, guild); });
    if (stored) {
        const auto filled = handlers::setup::apply_layout(s.config.shop, *stored);
        for (const auto& key : filled) spdlog::info("{} from the database (made by /admin setup)", key);
    }
}

asio::awaitable<common::Status<std::string>> Bot::register_commands() {
    auto& s = *impl_;
    auto registered = co_await s.rest->bulk_overwrite_guild_commands(
        s.config.shop.application_id, s.config.shop.guild_id, s.router.commands());
    if (!registered)
        co_return common::unexpected("registering slash commands: " + registered.error().describe());
    spdlog::info("{} slash command(s) registered in guild {}", s.router.commands().size(),
                 s.config.shop.guild_id.str());
    co_return common::Status<std::string>{};
}

asio::awaitable<void> Bot::enter_joined_guild() {
    co_await load_layout();
    if (auto registered = co_await register_commands(); !registered) spdlog::error("{}", registered.error());
}

void Bot::adopt_joined_guild(const discord::Event& event) {
    auto& s = *impl_;
    if (event.name != "GUILD_CREATE" || !s.config.shop.guild_id.empty() || s.stopping) return;
    const auto id = event.data.is_object() && event.data.contains("id") && event.data["id"].is_string()
                        ? discord::Snowflake::parse(event.data["id"].get<std::string>())
                        : std::nullopt;
    if (!id || id->empty()) return;
    // The first server the bot joins becomes the shop's (it was in none at start-up).
    s.config.shop.guild_id = *id;
    spdlog::info("joined server {}: registering the commands there", id->str());
    s.background.spawn("enter-guild", enter_joined_guild());
}

asio::awaitable<common::Status<std::string>> Bot::serve() {
    auto& s = *impl_;
    auto schema = co_await s.db->run([](db::Connection& c) { return db::check_schema(c); });
    if (!schema) co_return common::unexpected(schema.error().message);

    // AUDIT_CHANNEL_ID: from here on every audit entry is queued for the channel (or, unset,
    // nothing is queued and what an earlier run left unposted is dropped).
    std::optional<domain::DiscordId> audit_channel;
    audit_channel = s.config.jobs.audit_channel;
    co_await s.db->run([&](db::Connection& c) {
        domain::set_audit_channel(c, audit_channel, domain::to_timestamp(s.clock.now()));
    });

    // The default server (API_GATEWAY_URL / API_SECRET_KEY, optional) exists once, added on first
    // start; later edits of its bot.env values are applied at start (sync_default_server).
    if (!s.config.default_server.gateway_url.empty()) {
        auto synced = co_await s.db->run([&](db::Connection& c) {
            return sync_default_server(c, s.catalog, s.config.default_server,
                                       domain::to_timestamp(s.clock.now()));
        });
        if (!synced) co_return common::unexpected("API_GATEWAY_URL: " + synced.error().message);
        if (!synced->empty())
            spdlog::info("default server ({}): {}", s.config.default_server.gateway_url, *synced);
    }

    auto me = co_await s.rest->get_current_user();
    if (!me) co_return common::unexpected("Discord: " + me.error().describe());
    s.config.shop.bot_user_id = me->id;

    if (auto known = co_await learn_shop(); !known) co_return known;
    if (!s.config.shop.guild_id.empty()) {
        if (auto registered = co_await register_commands(); !registered) co_return registered;
    }

    notify::resume_channel_closers(s.ctx);
    notify::resume_deliveries(s.ctx);
    notify::resume_account_moves_in_background(s.ctx);
    if (s.config.jobs.enabled) co_await s.scheduler.start(s.background, *s.sleeper);

    discord::GatewaySessionOptions options;
    options.token = s.config.discord_token;
    options.url_override = s.config.discord_gateway_url;
    options.ca_file = s.config.discord_ca_file;
    auto gateway = discord::GatewaySession::create(
        s.executor, options, *s.rest, s.clock,
        [this](const discord::Event& event) {
            impl_->metrics->count_event(event);
            adopt_joined_guild(event);
            impl_->dispatcher.post(event);
        },
        s.executor);
    if (!gateway) co_return common::unexpected("Discord gateway: " + gateway.error());
    s.gateway = std::move(*gateway);
    s.metrics->watch_gateway(s.gateway.get());
    s.started = true;
    if (s.stopping) co_return common::Status<std::string>{};
    auto ended = co_await s.gateway->run();
    if (!ended) co_return common::unexpected("Discord gateway: " + ended.error().message);
    co_return common::Status<std::string>{};
}

}  // namespace nebula::bot::app
