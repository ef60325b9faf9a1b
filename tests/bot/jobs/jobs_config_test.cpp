#include <gtest/gtest.h>

#include "bot/app/config.hpp"

namespace nebula::bot::app {
namespace {

using namespace std::chrono_literals;

std::map<std::string, std::string> valid() {
    return {{"DISCORD_TOKEN", "discord-token-0123456789abcdef"},
            {"DISCORD_CLIENT_ID", "100000000000000001"},
            {"DISCORD_GUILD_ID", "100000000000000002"},
            {"API_GATEWAY_URL", "https://vpn1.example.com:8443"},
            {"API_SECRET_KEY", "0123456789abcdef0123456789abcdef"},
            {"DATABASE_URL", "sqlite:/tmp/nebula-jobs-config-test.db"},
            {"ADMIN_ROLE_ID", "100000000000000003"},
            {"REVIEW_CHANNEL_ID", "100000000000000004"},
            {"BILLING_CHANNEL_ID", "100000000000000005"},
            {"MAIN_PANEL_CHANNEL_ID", "100000000000000006"},
            {"ORDERS_CATEGORY_ID", "100000000000000007"}};
}

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
    ASSERT_TRUE(j.notice_channel.has_value());
    EXPECT_EQ(j.notice_channel->value(), 100000000000000009ULL);
}

TEST(JobsConfig, NamesEveryBadKey) {
    auto values = valid();
    values["REVENUE_SNAPSHOT_TIME"] = "24:00";
    values["TRAFFIC_ALERT_PERCENTS"] = "80,abc";
    values["JOB_HEALTH_INTERVAL_MINUTES"] = "0";
    auto config = load_bot_config(common::Environment::from_map(values));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().find("REVENUE_SNAPSHOT_TIME"), std::string::npos) << config.error();
    EXPECT_NE(config.error().find("TRAFFIC_ALERT_PERCENTS"), std::string::npos) << config.error();
    EXPECT_NE(config.error().find("JOB_HEALTH_INTERVAL_MINUTES"), std::string::npos) << config.error();
}

}  // namespace
}  // namespace nebula::bot::app
