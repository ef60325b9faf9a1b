#include "bot/app/config.hpp"

#include <cstdio>
#include <cstdlib>

#include "common/config.hpp"
#include "common/crypto.hpp"

namespace nebula::bot::app {
namespace {

std::chrono::seconds minutes(common::ConfigReader& r, std::string_view key, std::chrono::seconds fallback) {
    return std::chrono::minutes(r.integer(key, fallback.count() / 60, 1, 7 * 24 * 60));
}

/// "HH:MM" (24-hour clock) as minutes after midnight.
std::chrono::minutes time_of_day(common::ConfigReader& r, std::string_view key,
                                 std::chrono::minutes fallback) {
    const std::string text = r.optional(key);
    if (text.empty()) return fallback;
    int hours = -1, mins = -1;
    char extra = 0;
    if (std::sscanf(text.c_str(), "%d:%d%c", &hours, &mins, &extra) != 2 || hours < 0 || hours > 23 ||
        mins < 0 || mins > 59) {
        r.fail(key, "must be a time of day HH:MM, e.g. 00:05");
        return fallback;
    }
    return std::chrono::minutes(hours * 60 + mins);
}

std::vector<int> numbers(common::ConfigReader& r, std::string_view key, std::vector<int> fallback, int min,
                         int max) {
    const auto items = r.list(key);
    if (items.empty()) return fallback;
    std::vector<int> out;
    for (const auto& item : items) {
        char* end = nullptr;
        const long value = std::strtol(item.c_str(), &end, 10);
        if (end == item.c_str() || *end != '\0' || value < min || value > max) {
            r.fail(key, "must be a comma-separated list of whole numbers from " + std::to_string(min) +
                            " to " + std::to_string(max));
            return fallback;
        }
        out.push_back(static_cast<int>(value));
    }
    return out;
}

jobs::JobsConfig load_jobs_config(common::ConfigReader& r) {
    jobs::JobsConfig j;
    j.enabled = r.boolean("JOBS_ENABLED", true);
    j.expiry_interval = minutes(r, "JOB_EXPIRY_INTERVAL_MINUTES", j.expiry_interval);
    j.reminder_interval = minutes(r, "JOB_REMINDER_INTERVAL_MINUTES", j.reminder_interval);
    j.traffic_interval = minutes(r, "JOB_TRAFFIC_INTERVAL_MINUTES", j.traffic_interval);
    j.order_timeout_interval = minutes(r, "JOB_ORDER_TIMEOUT_INTERVAL_MINUTES", j.order_timeout_interval);
    j.health_interval = minutes(r, "JOB_HEALTH_INTERVAL_MINUTES", j.health_interval);
    j.health_alert_after_failures = static_cast<int>(r.integer("HEALTH_ALERT_AFTER_FAILURES", 2, 1, 100));
    j.reconcile_interval = minutes(r, "JOB_RECONCILE_INTERVAL_MINUTES", j.reconcile_interval);
    j.reconcile_settle = std::chrono::seconds(r.integer("JOB_RECONCILE_SETTLE_SECONDS", 120, 0, 3600));
    j.revenue_time = time_of_day(r, "REVENUE_SNAPSHOT_TIME", j.revenue_time);
    j.backup_time = time_of_day(r, "BACKUP_TIME", j.backup_time);
    j.expired_grace = std::chrono::days(r.integer("EXPIRED_DELETE_AFTER_DAYS", 7, 0, 3650));
    j.reminder_days = numbers(r, "EXPIRY_REMINDER_DAYS", j.reminder_days, 1, 60);
    j.traffic_alert_percents = numbers(r, "TRAFFIC_ALERT_PERCENTS", j.traffic_alert_percents, 1, 99);
    j.backup_keep = static_cast<int>(r.integer("BACKUP_KEEP", 7, 1, 1000));
    j.lease = minutes(r, "JOB_LEASE_MINUTES", j.lease);
    return j;
}

discord::Snowflake snowflake(common::ConfigReader& r, std::string_view key, bool required) {
    const std::string text = required ? r.required(key) : r.optional(key);
    if (text.empty()) return {};
    const auto id = discord::Snowflake::parse(text);
    if (!id || id->empty()) {
        r.fail(key, "must be a Discord id (digits only, e.g. 123456789012345678)");
        return {};
    }
    return *id;
}

}  // namespace

common::Result<BotConfig, std::string> load_bot_config(const common::Environment& env) {
    common::ConfigReader r(env);
    BotConfig c;
    c.discord_token = r.secret("DISCORD_TOKEN", 20);
    // Every id may be left out: the application and the server are read from Discord at start,
    // the roles and channels are made by /admin setup and kept in the database.
    c.shop.application_id = snowflake(r, "DISCORD_CLIENT_ID", false);
    c.shop.guild_id = snowflake(r, "DISCORD_GUILD_ID", false);
    c.shop.admin_role_id = snowflake(r, "ADMIN_ROLE_ID", false);
    c.shop.review_channel_id = snowflake(r, "REVIEW_CHANNEL_ID", false);
    c.shop.billing_channel_id = snowflake(r, "BILLING_CHANNEL_ID", false);
    c.shop.main_panel_channel_id = snowflake(r, "MAIN_PANEL_CHANNEL_ID", false);
    c.shop.orders_category_id = snowflake(r, "ORDERS_CATEGORY_ID", false);
    if (const auto role = snowflake(r, "SUBSCRIBER_ROLE_ID", false); !role.empty()) {
        c.shop.subscriber_role_id = role;
    }
    if (const auto channel = snowflake(r, "ANNOUNCE_CHANNEL_ID", false); !channel.empty()) {
        c.shop.announce_channel_id = channel;
    }

    // The default server is optional: a shop may add every server with /admin server add.
    if (!r.optional("API_GATEWAY_URL").empty()) {
        c.default_server.gateway_url = r.url("API_GATEWAY_URL");
        if (c.default_server.gateway_url.rfind("https://", 0) != 0) {
            r.fail("API_GATEWAY_URL", "must be an https:// URL (the gateway only speaks HTTPS)");
        }
        c.default_server.key = r.secret("API_SECRET_KEY", 32);
    } else if (!r.optional("API_SECRET_KEY").empty()) {
        r.fail("API_SECRET_KEY", "is set but API_GATEWAY_URL is not: set both, or neither");
    }
    if (const auto pin = common::normalize_sha256_pin(r.optional("API_GATEWAY_PIN_SHA256"))) {
        c.default_server.tls_pin_sha256 = *pin;
    } else {
        r.fail("API_GATEWAY_PIN_SHA256", "must be " + std::string(common::kPinFormatHint));
    }
    c.default_server.name = r.optional("DEFAULT_SERVER_NAME", "Default");
    c.default_server.location = r.optional("DEFAULT_SERVER_LOCATION", "Default");
    c.default_server.inbound_id = static_cast<int>(r.integer("DEFAULT_SERVER_INBOUND_ID", 1, 1, 1'000'000));
    c.default_server.capacity = static_cast<int>(r.integer("DEFAULT_SERVER_CAPACITY", 100, 1, 1'000'000));

    auto url = db::parse_database_url(r.optional("DATABASE_URL", std::string(db::kDefaultDatabaseUrl)));
    if (url) {
        c.database = *url;
    } else {
        r.fail("DATABASE_URL", url.error());
    }
    c.db_threads = static_cast<int>(r.integer("DB_THREADS", 4, 1, 64));

    c.timezone = r.optional("TIMEZONE", "Africa/Cairo");
    c.shop_name = r.optional("SHOP_NAME", "NebulaLinks");
    c.shop.data_dir = r.optional("DATA_DIR", "data");
    const std::string locale = r.optional("DEFAULT_LOCALE", "en");
    if (locale == "en") {
        c.shop.default_locale = ui::Locale::en;
    } else if (locale == "ar") {
        c.shop.default_locale = ui::Locale::ar;
    } else {
        r.fail("DEFAULT_LOCALE", "must be en or ar");
    }
    c.receipts.max_bytes =
        static_cast<std::size_t>(r.integer("MAX_RECEIPT_BYTES", 8 * 1024 * 1024, 1024, 8 * 1024 * 1024));
    c.shop.order_channel_archive_after = r.seconds("ORDER_CHANNEL_ARCHIVE_AFTER", std::chrono::minutes(10));
    c.shop.order_channel_delete_after = r.seconds("ORDER_CHANNEL_DELETE_AFTER", std::chrono::hours(24));
    c.unpaid_timeout = std::chrono::hours(r.integer("ORDER_TIMEOUT_HOURS", 24, 1, 24 * 30));
    c.shop.trial_min_account_age = std::chrono::days(r.integer("TRIAL_MIN_ACCOUNT_AGE_DAYS", 0, 0, 3650));
    c.shop.referral_bonus_days = static_cast<int>(r.integer("REFERRAL_BONUS_DAYS", 7, 0, 365));
    c.jobs = load_jobs_config(r);
    if (const auto channel = snowflake(r, "NOTICE_CHANNEL_ID", false); !channel.empty()) {
        c.jobs.notice_channel = channel;
    }
    if (const auto channel = snowflake(r, "BACKUP_CHANNEL_ID", false); !channel.empty()) {
        c.jobs.backup_channel = channel;
    }
    if (const auto channel = snowflake(r, "AUDIT_CHANNEL_ID", false); !channel.empty()) {
        c.jobs.audit_channel = channel;
    }
    c.jobs.audit_channel_interval =
        std::chrono::seconds(r.integer("JOB_AUDIT_CHANNEL_INTERVAL_SECONDS", 15, 1, 3600));
    c.jobs.backup_upload_limit =
        static_cast<std::size_t>(r.integer("BACKUP_UPLOAD_LIMIT_MB", 10, 1, 500)) * 1024 * 1024;
    c.jobs.backup_command = r.optional("BACKUP_COMMAND");
    c.jobs.backup_command_timeout =
        std::chrono::minutes(r.integer("BACKUP_COMMAND_TIMEOUT_MINUTES", 30, 1, 24 * 60));
    c.jobs.pg_dump = r.optional("PG_DUMP", "pg_dump");
    if (c.jobs.backup_channel || !c.jobs.backup_command.empty()) {
        // Backups leave the machine only encrypted, with a passphrase worth the name.
        c.jobs.backup_passphrase = r.secret("BACKUP_PASSPHRASE", 16);
    } else {
        c.jobs.backup_passphrase = r.optional("BACKUP_PASSPHRASE");
    }

    c.discord_api_base = r.url("DISCORD_API_BASE", std::string("https://discord.com/api/v10"));
    c.discord_gateway_url = r.optional("DISCORD_GATEWAY_URL");
    if (!c.discord_gateway_url.empty() && c.discord_gateway_url.rfind("wss://", 0) != 0 &&
        c.discord_gateway_url.rfind("ws://", 0) != 0) {
        r.fail("DISCORD_GATEWAY_URL", "must be a ws:// or wss:// URL");
    }
    c.discord_cdn_hosts = r.list("DISCORD_CDN_HOSTS");
    if (c.discord_cdn_hosts.empty()) c.discord_cdn_hosts = {"cdn.discordapp.com", "media.discordapp.net"};
    c.discord_ca_file = r.optional("DISCORD_CA_FILE");

    const auto shared = common::read_shared_settings(r);
    c.metrics_port = shared.metrics_port;
    c.metrics_bind = shared.metrics_bind;
    c.log_level = shared.log_level;
    c.log_dir = shared.log_dir;

    if (auto status = r.finish(); !status) return common::unexpected(status.error());
    return c;
}

}  // namespace nebula::bot::app
