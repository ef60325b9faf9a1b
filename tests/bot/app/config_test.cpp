#include "bot/app/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace nebula::bot::app {
namespace {

using namespace std::chrono_literals;

std::map<std::string, std::string> valid() {
    return {{"DISCORD_TOKEN", "discord-token-0123456789abcdef"},
            {"DISCORD_CLIENT_ID", "100000000000000001"},
            {"DISCORD_GUILD_ID", "100000000000000002"},
            {"API_GATEWAY_URL", "https://vpn1.example.com:8443"},
            {"API_SECRET_KEY", "0123456789abcdef0123456789abcdef"},
            {"DATABASE_URL", "sqlite:/tmp/nebula-config-test.db"},
            {"ADMIN_ROLE_ID", "100000000000000003"},
            {"REVIEW_CHANNEL_ID", "100000000000000004"},
            {"BILLING_CHANNEL_ID", "100000000000000005"},
            {"MAIN_PANEL_CHANNEL_ID", "100000000000000006"},
            {"ORDERS_CATEGORY_ID", "100000000000000007"}};
}

TEST(BotConfig, ReadsEveryKeyWithDefaults) {
    auto config = load_bot_config(common::Environment::from_map(valid()));
    ASSERT_TRUE(config) << config.error();
    EXPECT_EQ(config->shop.guild_id.value(), 100000000000000002ULL);
    EXPECT_EQ(config->shop.orders_category_id.value(), 100000000000000007ULL);
    EXPECT_FALSE(config->shop.subscriber_role_id.has_value());
    EXPECT_EQ(config->timezone, "Africa/Cairo");
    EXPECT_EQ(config->discord_api_base, "https://discord.com/api/v10");
    EXPECT_EQ(config->discord_cdn_hosts,
              (std::vector<std::string>{"cdn.discordapp.com", "media.discordapp.net"}));
    EXPECT_EQ(config->receipts.max_bytes, 8u * 1024 * 1024);
    EXPECT_EQ(config->default_server.gateway_url, "https://vpn1.example.com:8443");
    EXPECT_EQ(config->unpaid_timeout, std::chrono::hours(24));
    EXPECT_EQ(config->shop.trial_min_account_age, std::chrono::days(0));
    EXPECT_EQ(config->shop.referral_bonus_days, 7);
}

TEST(BotConfig, TrialMinimumAccountAgeIsReadAndChecked) {
    auto values = valid();
    values["TRIAL_MIN_ACCOUNT_AGE_DAYS"] = "30";
    auto config = load_bot_config(common::Environment::from_map(values));
    ASSERT_TRUE(config) << config.error();
    EXPECT_EQ(config->shop.trial_min_account_age, std::chrono::days(30));
    values["TRIAL_MIN_ACCOUNT_AGE_DAYS"] = "-1";
    config = load_bot_config(common::Environment::from_map(values));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().find("TRIAL_MIN_ACCOUNT_AGE_DAYS"), std::string::npos) << config.error();
}

TEST(BotConfig, ReferralBonusDaysIsReadAndZeroTurnsReferralsOff) {
    auto values = valid();
    values["REFERRAL_BONUS_DAYS"] = "0";
    auto config = load_bot_config(common::Environment::from_map(values));
    ASSERT_TRUE(config) << config.error();
    EXPECT_EQ(config->shop.referral_bonus_days, 0);
    values["REFERRAL_BONUS_DAYS"] = "400";
    config = load_bot_config(common::Environment::from_map(values));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().find("REFERRAL_BONUS_DAYS"), std::string::npos) << config.error();
}

// "Go live in ten minutes": bot.env holds the token and nothing else.
TEST(BotConfig, TheTokenAloneIsAValidConfiguration) {
    auto config =
        load_bot_config(common::Environment::from_map({{"DISCORD_TOKEN", "discord-token-0123456789abcdef"}}));
    ASSERT_TRUE(config) << config.error();
    EXPECT_TRUE(config->shop.application_id.empty());
    EXPECT_TRUE(config->shop.guild_id.empty());
    EXPECT_TRUE(config->shop.admin_role_id.empty());
    EXPECT_TRUE(config->shop.orders_category_id.empty());
    EXPECT_TRUE(config->default_server.gateway_url.empty());
    // A key without the URL it belongs to is a mistake, said as such.
    auto half = load_bot_config(common::Environment::from_map(
        {{"DISCORD_TOKEN", "discord-token-0123456789abcdef"}, {"API_SECRET_KEY", std::string(40, 'k')}}));
    ASSERT_FALSE(half);
    EXPECT_NE(half.error().find("API_SECRET_KEY is set but API_GATEWAY_URL is not"), std::string::npos)
        << half.error();
    // The URL still needs its key.
    auto keyless = load_bot_config(
        common::Environment::from_map({{"DISCORD_TOKEN", "discord-token-0123456789abcdef"},
                                       {"API_GATEWAY_URL", "https://vpn1.example.com:8443"}}));
    ASSERT_FALSE(keyless);
    EXPECT_NE(keyless.error().find("API_SECRET_KEY is required"), std::string::npos) << keyless.error();
}

TEST(BotConfig, TheGatewayPinIsReadInEveryPastedForm) {
    const std::string normal = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b";
    std::string colons;
    for (std::size_t i = 0; i < normal.size(); i += 2) {
        if (i > 0) colons += ':';
        for (char c : normal.substr(i, 2)) colons += static_cast<char>(std::toupper(c));
    }
    for (const std::string& pasted : {"sha256 Fingerprint=" + colons, colons, normal}) {
        auto values = valid();
        values["API_GATEWAY_PIN_SHA256"] = pasted;
        auto config = load_bot_config(common::Environment::from_map(values));
        ASSERT_TRUE(config) << config.error();
        EXPECT_EQ(config->default_server.tls_pin_sha256, normal) << pasted;
    }
    auto values = valid();
    values["API_GATEWAY_PIN_SHA256"] = normal.substr(0, 40);
    auto refused = load_bot_config(common::Environment::from_map(values));
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("API_GATEWAY_PIN_SHA256 must be the certificate's SHA-256 fingerprint"),
              std::string::npos)
        << refused.error();
}

TEST(BotConfig, LogLevelFollowsTheSharedRules) {
    auto values = valid();
    values["LOG_LEVEL"] = "Debug";
    auto config = load_bot_config(common::Environment::from_map(values));
    ASSERT_TRUE(config) << config.error();
    EXPECT_EQ(config->log_level, "debug");
    values["LOG_LEVEL"] = "verbose";
    auto refused = load_bot_config(common::Environment::from_map(values));
    ASSERT_FALSE(refused);
    EXPECT_NE(
        refused.error().find("LOG_LEVEL must be one of trace, debug, info, warn, error (got \"verbose\")"),
        std::string::npos);
}

TEST(BotConfig, OverridesForTheFakeDiscord) {
    auto values = valid();
    values["DISCORD_API_BASE"] = "http://127.0.0.1:4000/api/v10";
    values["DISCORD_GATEWAY_URL"] = "ws://127.0.0.1:4001";
    values["DISCORD_CDN_HOSTS"] = "127.0.0.1";
    values["SUBSCRIBER_ROLE_ID"] = "100000000000000008";
    values["DEFAULT_LOCALE"] = "ar";
    auto config = load_bot_config(common::Environment::from_map(values));
    ASSERT_TRUE(config) << config.error();
    EXPECT_EQ(config->discord_gateway_url, "ws://127.0.0.1:4001");
    EXPECT_EQ(config->discord_cdn_hosts, std::vector<std::string>{"127.0.0.1"});
    EXPECT_EQ(config->shop.subscriber_role_id->value(), 100000000000000008ULL);
    EXPECT_EQ(config->shop.default_locale, ui::Locale::ar);
}

TEST(BotConfig, NamesEveryProblemAtOnceWithoutEchoingSecrets) {
    auto values = valid();
    values.erase("DISCORD_TOKEN");
    values["DISCORD_GUILD_ID"] = "not-an-id";
    values["API_GATEWAY_URL"] = "http://vpn1.example.com";
    values["API_SECRET_KEY"] = "short-secret";
    values["DISCORD_GATEWAY_URL"] = "http://nope";
    values["DEFAULT_LOCALE"] = "fr";
    values["MAX_RECEIPT_BYTES"] = "999999999";
    auto config = load_bot_config(common::Environment::from_map(values));
    ASSERT_FALSE(config);
    for (const char* key : {"DISCORD_TOKEN", "DISCORD_GUILD_ID", "API_GATEWAY_URL", "API_SECRET_KEY",
                            "DISCORD_GATEWAY_URL", "DEFAULT_LOCALE", "MAX_RECEIPT_BYTES"}) {
        EXPECT_NE(config.error().find(key), std::string::npos) << key << " missing from:\n" << config.error();
    }
    EXPECT_EQ(config.error().find("short-secret"), std::string::npos);
}

// ---- the background jobs' keys ----

TEST(JobsConfig, DefaultsMatchTheIssue) {
    auto config = load_bot_config(common::Environment::from_map(valid()));
    ASSERT_TRUE(config) << config.error();
    const auto& j = config->jobs;
    EXPECT_TRUE(j.enabled);
    EXPECT_EQ(j.expiry_interval, 1h);
    EXPECT_EQ(j.reminder_interval, 1h);
    EXPECT_EQ(j.traffic_interval, 6h);
    EXPECT_EQ(j.order_timeout_interval, 30min);
    EXPECT_EQ(j.health_interval, 5min);
    EXPECT_EQ(j.health_alert_after_failures, 2);
    EXPECT_EQ(j.reconcile_interval, 5min);
    EXPECT_EQ(j.revenue_time, 5min);
    EXPECT_EQ(j.reminder_days, (std::vector<int>{3, 1}));
    EXPECT_EQ(j.traffic_alert_percents, (std::vector<int>{80, 95}));
    EXPECT_EQ(j.backup_keep, 7);
    EXPECT_FALSE(j.notice_channel.has_value());
}

TEST(JobsConfig, ReadsEveryKey) {
    auto values = valid();
    values["JOBS_ENABLED"] = "false";
    values["JOB_EXPIRY_INTERVAL_MINUTES"] = "15";
    values["JOB_TRAFFIC_INTERVAL_MINUTES"] = "120";
    values["REVENUE_SNAPSHOT_TIME"] = "01:30";
    values["BACKUP_TIME"] = "23:59";
    values["EXPIRY_REMINDER_DAYS"] = "7, 2";
    values["TRAFFIC_ALERT_PERCENTS"] = "50,90";
    values["EXPIRED_DELETE_AFTER_DAYS"] = "3";
    values["BACKUP_KEEP"] = "30";
    values["NOTICE_CHANNEL_ID"] = "100000000000000009";
    values["HEALTH_ALERT_AFTER_FAILURES"] = "3";
    auto config = load_bot_config(common::Environment::from_map(values));
    ASSERT_TRUE(config) << config.error();
    const auto& j = config->jobs;
    EXPECT_FALSE(j.enabled);
    EXPECT_EQ(j.expiry_interval, 15min);
    EXPECT_EQ(j.traffic_interval, 2h);
    EXPECT_EQ(j.revenue_time, 1h + 30min);
    EXPECT_EQ(j.backup_time, 23h + 59min);
    EXPECT_EQ(j.reminder_days, (std::vector<int>{7, 2}));
    EXPECT_EQ(j.traffic_alert_percents, (std::vector<int>{50, 90}));
    EXPECT_EQ(j.expired_grace, std::chrono::days(3));
    EXPECT_EQ(j.backup_keep, 30);
    EXPECT_EQ(j.health_alert_after_failures, 3);
    ASSERT_TRUE(j.notice_channel.has_value());
    EXPECT_EQ(j.notice_channel->value(), 100000000000000009ULL);
}

TEST(JobsConfig, TheAuditChannelIsOptionalAndMustBeADiscordId) {
    auto values = valid();
    auto config = load_bot_config(common::Environment::from_map(values));
    ASSERT_TRUE(config) << config.error();
    EXPECT_FALSE(config->jobs.audit_channel.has_value());
    EXPECT_EQ(config->jobs.audit_channel_interval, 15s);

    values["AUDIT_CHANNEL_ID"] = "100000000000000011";
    values["JOB_AUDIT_CHANNEL_INTERVAL_SECONDS"] = "5";
    config = load_bot_config(common::Environment::from_map(values));
    ASSERT_TRUE(config) << config.error();
    ASSERT_TRUE(config->jobs.audit_channel.has_value());
    EXPECT_EQ(config->jobs.audit_channel->value(), 100000000000000011ULL);
    EXPECT_EQ(config->jobs.audit_channel_interval, 5s);

    values["AUDIT_CHANNEL_ID"] = "#audit";
    config = load_bot_config(common::Environment::from_map(values));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().find("AUDIT_CHANNEL_ID"), std::string::npos) << config.error();
    EXPECT_NE(config.error().find("must be a Discord id"), std::string::npos) << config.error();
}

TEST(BotConfig, TheAnnouncementsChannelIsOptionalAndMustBeADiscordId) {
    auto values = valid();
    auto defaults = load_bot_config(common::Environment::from_map(values));
    ASSERT_TRUE(defaults) << defaults.error();
    EXPECT_FALSE(defaults->shop.announce_channel_id.has_value());
    values["ANNOUNCE_CHANNEL_ID"] = "100000000000000011";
    auto set = load_bot_config(common::Environment::from_map(values));
    ASSERT_TRUE(set) << set.error();
    ASSERT_TRUE(set->shop.announce_channel_id.has_value());
    EXPECT_EQ(set->shop.announce_channel_id->value(), 100000000000000011ULL);
    values["ANNOUNCE_CHANNEL_ID"] = "#announcements";
    auto bad = load_bot_config(common::Environment::from_map(values));
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("ANNOUNCE_CHANNEL_ID"), std::string::npos) << bad.error();
}

TEST(JobsConfig, OffMachineBackupsNeedAPassphraseThatIsKeptSecret) {
    auto values = valid();
    values["BACKUP_CHANNEL_ID"] = "100000000000000010";
    values["BACKUP_COMMAND"] = "rclone copy \"$1\" remote:nebula/";
    auto missing = load_bot_config(common::Environment::from_map(values));
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().find("BACKUP_PASSPHRASE"), std::string::npos) << missing.error();
    values["BACKUP_PASSPHRASE"] = "too short";
    auto short_one = load_bot_config(common::Environment::from_map(values));
    ASSERT_FALSE(short_one);
    EXPECT_NE(short_one.error().find("BACKUP_PASSPHRASE"), std::string::npos) << short_one.error();
    EXPECT_EQ(short_one.error().find("too short"), std::string::npos) << "the value is never echoed";

    values["BACKUP_PASSPHRASE"] = "correct horse battery staple";
    values["BACKUP_UPLOAD_LIMIT_MB"] = "50";
    values["BACKUP_COMMAND_TIMEOUT_MINUTES"] = "5";
    auto config = load_bot_config(common::Environment::from_map(values));
    ASSERT_TRUE(config) << config.error();
    const auto& j = config->jobs;
    ASSERT_TRUE(j.backup_channel.has_value());
    EXPECT_EQ(j.backup_channel->value(), 100000000000000010ULL);
    EXPECT_EQ(j.backup_command, "rclone copy \"$1\" remote:nebula/");
    EXPECT_EQ(j.backup_upload_limit, 50u * 1024 * 1024);
    EXPECT_EQ(j.backup_command_timeout, 5min);
    const auto secrets = config->secrets();
    EXPECT_NE(std::find(secrets.begin(), secrets.end(), "correct horse battery staple"), secrets.end())
        << "the passphrase is redacted from the logs";

    auto defaults = load_bot_config(common::Environment::from_map(valid()));
    ASSERT_TRUE(defaults) << defaults.error();
    EXPECT_FALSE(defaults->jobs.backup_channel.has_value());
    EXPECT_EQ(defaults->jobs.backup_upload_limit, 10u * 1024 * 1024);
    EXPECT_TRUE(defaults->jobs.backup_command.empty());
}

TEST(JobsConfig, NamesEveryBadKey) {
    auto values = valid();
    values["REVENUE_SNAPSHOT_TIME"] = "24:00";
    values["TRAFFIC_ALERT_PERCENTS"] = "80,abc";
    values["JOB_HEALTH_INTERVAL_MINUTES"] = "0";
    values["HEALTH_ALERT_AFTER_FAILURES"] = "0";
    auto config = load_bot_config(common::Environment::from_map(values));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().find("REVENUE_SNAPSHOT_TIME"), std::string::npos) << config.error();
    EXPECT_NE(config.error().find("TRAFFIC_ALERT_PERCENTS"), std::string::npos) << config.error();
    EXPECT_NE(config.error().find("JOB_HEALTH_INTERVAL_MINUTES"), std::string::npos) << config.error();
    EXPECT_NE(config.error().find("HEALTH_ALERT_AFTER_FAILURES"), std::string::npos) << config.error();
}

}  // namespace
}  // namespace nebula::bot::app
