#include "discord/model.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace nebula::discord {
namespace {

using nlohmann::json;

TEST(Snowflake, ParsesOnlyDecimalDigitsThatFit) {
    EXPECT_EQ(Snowflake::parse("1234567890123456789")->value(), 1234567890123456789ULL);
    EXPECT_EQ(Snowflake::parse("18446744073709551615")->value(), UINT64_MAX);
    EXPECT_FALSE(Snowflake::parse("18446744073709551616"));
    EXPECT_FALSE(Snowflake::parse(""));
    EXPECT_FALSE(Snowflake::parse("-1"));
    EXPECT_FALSE(Snowflake::parse("+1"));
    EXPECT_FALSE(Snowflake::parse(" 1"));
    EXPECT_FALSE(Snowflake::parse("12a"));
    EXPECT_FALSE(Snowflake::parse("123456789012345678901"));
}

TEST(Snowflake, CreationTimeFromDiscordEpoch) {
    // 175928847299117063 is the example in Discord's reference: 2016-04-30 11:18:25.796 UTC.
    const auto at = Snowflake(175928847299117063ULL).created_at();
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count(),
              1462015105796LL);
}

json slash_command() {
    return json::parse(R"({
      "id": "1100000000000000001", "application_id": "1200000000000000002", "type": 2,
      "token": "tok-abc", "guild_id": "1300000000000000003", "channel_id": "1400000000000000004",
      "locale": "ar", "app_permissions": "2251799813685247", "attachment_size_limit": 10485760,
      "member": {"user": {"id": "1500000000000000005", "username": "ahmed", "global_name": "أحمد"},
                 "roles": ["1600000000000000006", "1600000000000000007"], "permissions": "8", "nick": null},
      "data": {"id": "1700000000000000008", "name": "admin", "type": 1,
        "options": [{"name": "plan", "type": 2, "options": [{"name": "create", "type": 1, "options": [
          {"name": "title", "type": 3, "value": "Gold 30 days"},
          {"name": "price", "type": 4, "value": 15000},
          {"name": "public", "type": 5, "value": true},
          {"name": "brief", "type": 11, "value": "1800000000000000009"}]}]}],
        "resolved": {"attachments": {"1800000000000000009": {"id": "1800000000000000009",
          "filename": "receipt.png", "content_type": "image/png", "size": 1234,
          "url": "https://cdn.example/x.png", "proxy_url": "https://media.example/x.png", "ephemeral": true}}}}
    })");
}

TEST(ParseInteraction, SlashCommandWithGroupSubcommandAndOptions) {
    const auto parsed = parse_interaction(slash_command());
    ASSERT_TRUE(parsed) << parsed.error().describe();
    const Interaction& i = *parsed;
    EXPECT_EQ(i.type, InteractionType::application_command);
    EXPECT_EQ(i.user.id, Snowflake(1500000000000000005ULL));
    EXPECT_EQ(i.user.global_name, "أحمد");
    ASSERT_TRUE(i.member);
    EXPECT_TRUE(i.member->has_role(Snowflake(1600000000000000007ULL)));
    EXPECT_FALSE(i.member->has_role(Snowflake(1)));
    EXPECT_EQ(i.member->permissions, 8u);
    EXPECT_EQ(i.app_permissions, 2251799813685247ULL);
    EXPECT_EQ(i.attachment_size_limit, 10485760u);
    const CommandData* command = i.command();
    ASSERT_NE(command, nullptr);
    EXPECT_EQ(command->path(), (std::vector<std::string>{"admin", "plan", "create"}));
    EXPECT_EQ(command->string_option("title"), "Gold 30 days");
    EXPECT_EQ(command->integer_option("price"), 15000);
    EXPECT_EQ(command->boolean_option("public"), true);
    EXPECT_FALSE(command->string_option("price"));
    EXPECT_FALSE(command->string_option("missing"));
    const Attachment* brief = command->attachment_option("brief");
    ASSERT_NE(brief, nullptr);
    EXPECT_EQ(brief->filename, "receipt.png");
    EXPECT_EQ(brief->size, 1234u);
    EXPECT_TRUE(brief->ephemeral);
}

TEST(ParseInteraction, DirectMessageHasUserAndNoMember) {
    json j = slash_command();
    j.erase("member");
    j.erase("guild_id");
    j["user"] = {{"id", "42"}, {"username", "dm-user"}};
    const auto parsed = parse_interaction(j);
    ASSERT_TRUE(parsed) << parsed.error().describe();
    EXPECT_FALSE(parsed->member);
    EXPECT_FALSE(parsed->guild_id);
    EXPECT_EQ(parsed->user.id, Snowflake(42));
}

TEST(ParseInteraction, ButtonAndSelect) {
    const auto parsed = parse_interaction(json::parse(R"({
      "id": "1", "application_id": "2", "type": 3, "token": "t", "channel_id": "3",
      "user": {"id": "4", "username": "u"},
      "message": {"id": "5", "channel_id": "3", "author": {"id": "2", "username": "bot", "bot": true}, "content": "hi"},
      "data": {"custom_id": "plan:select", "component_type": 3, "values": ["gold", "silver"]}})"));
    ASSERT_TRUE(parsed) << parsed.error().describe();
    const ComponentData* component = parsed->component();
    ASSERT_NE(component, nullptr);
    EXPECT_EQ(component->custom_id, "plan:select");
    EXPECT_EQ(component->values, (std::vector<std::string>{"gold", "silver"}));
    ASSERT_TRUE(parsed->message);
    EXPECT_TRUE(parsed->message->author.bot);
}

TEST(ParseInteraction, ModalSubmitWithTextInputAndFileUpload) {
    const auto parsed = parse_interaction(json::parse(R"({
      "id": "1", "application_id": "2", "type": 5, "token": "t", "guild_id": "9", "channel_id": "3",
      "member": {"user": {"id": "4", "username": "u"}, "roles": [], "permissions": "0"},
      "data": {"custom_id": "receipt:77", "components": [
        {"type": 18, "id": 1, "component": {"type": 4, "id": 2, "custom_id": "ref", "value": "TX-9"}},
        {"type": 18, "id": 3, "component": {"type": 19, "id": 4, "custom_id": "file", "values": ["111", "222"]}},
        {"type": 1, "components": [{"type": 4, "custom_id": "legacy", "value": "old style"}]}],
        "resolved": {"attachments": {"111": {"id": "111", "filename": "a.png", "size": 10, "url": "u1"}}}}})"));
    ASSERT_TRUE(parsed) << parsed.error().describe();
    const ModalData* modal = parsed->modal();
    ASSERT_NE(modal, nullptr);
    EXPECT_EQ(modal->custom_id, "receipt:77");
    ASSERT_NE(modal->field("ref"), nullptr);
    EXPECT_EQ(modal->field("ref")->value, "TX-9");
    EXPECT_EQ(modal->field("legacy")->value, "old style");
    const auto files = modal->files("file");
    ASSERT_EQ(files.size(), 1u);  // "222" is not resolved and is skipped
    EXPECT_EQ(files[0]->filename, "a.png");
}

TEST(ParseInteraction, AutocompleteFocusedOption) {
    const auto parsed = parse_interaction(json::parse(R"({
      "id": "1", "application_id": "2", "type": 4, "token": "t", "user": {"id": "4"},
      "data": {"id": "5", "name": "admin", "options": [{"name": "plan", "type": 2, "options": [
        {"name": "close", "type": 1, "options": [{"name": "id", "type": 4, "value": "12", "focused": true}]}]}]}})"));
    ASSERT_TRUE(parsed) << parsed.error().describe();
    const ReceivedOption* focused = parsed->command()->focused();
    ASSERT_NE(focused, nullptr);
    EXPECT_EQ(std::get<std::string>(focused->value), "12");
}

TEST(ParseInteraction, HostileInputGivesErrorsNotCrashes) {
    const char* cases[] = {
        R"(null)",
        R"([])",
        R"({})",
        R"({"id": 1.5, "application_id": "2", "type": 2, "token": "t"})",
        R"({"id": "-1", "application_id": "2", "type": 2, "token": "t"})",
        R"({"id": "1", "application_id": "2", "type": 99, "token": "t", "user": {"id": "4"}})",
        R"({"id": "1", "application_id": "2", "type": 2, "token": "t", "user": {"id": "4"}})",
        R"({"id": "1", "application_id": "2", "type": 2, "token": "t", "user": {"id": "4"}, "data": []})",
        R"({"id": "1", "application_id": "2", "type": 2, "token": "t", "user": {"id": "4"},
            "data": {"id": "5", "name": "x", "options": [{"name": "a", "type": 4, "value": {"x": 1}}]}})",
        R"({"id": "1", "application_id": "2", "type": 2, "token": "t", "user": {"id": "4"},
            "data": {"id": "5", "name": "x", "options": "nope"}})",
        R"({"id": "1", "application_id": "2", "type": 2, "token": "t", "member": {"roles": ["x"]}})",
        R"({"id": "1", "application_id": "2", "type": 3, "token": "t", "user": {"id": "4"},
            "data": {"custom_id": 7, "component_type": 2}})",
        R"({"id": "1", "application_id": "2", "type": 5, "token": "t", "user": {"id": "4"},
            "data": {"custom_id": "m", "components": [{"type": 18, "component": {"type": 4, "custom_id": []}}]}})",
        R"({"id": "1", "application_id": "2", "type": 5, "token": "t", "user": {"id": "4"},
            "data": {"custom_id": "m", "components": [], "resolved": {"attachments": {"abc": {"id": "1"}}}}})",
    };
    for (const char* text : cases) {
        const auto parsed = parse_interaction(json::parse(text));
        EXPECT_FALSE(parsed) << text;
    }
    // Options nested beyond any real command are refused rather than recursed into.
    json deep = {{"name", "leaf"}, {"type", 3}, {"value", "v"}};
    for (int i = 0; i < 50; ++i) deep = {{"name", "g"}, {"type", 1}, {"options", json::array({deep})}};
    json j = {{"id", "1"},
              {"application_id", "2"},
              {"type", 2},
              {"token", "t"},
              {"user", {{"id", "4"}}},
              {"data", {{"id", "5"}, {"name", "x"}, {"options", json::array({deep})}}}};
    const auto parsed = parse_interaction(j);
    ASSERT_FALSE(parsed);
    EXPECT_NE(parsed.error().message.find("deeply"), std::string::npos);
}

TEST(ParseInteraction, ErrorNamesThePath) {
    json j = slash_command();
    j["data"]["options"][0]["options"][0]["options"][1]["value"] = "not a number";
    j["data"]["options"][0]["options"][0]["options"][1]["type"] = 5;
    const auto parsed = parse_interaction(j);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().path, "data.options[0].options[0].options[1].value");
}

TEST(ParseMessage, GuildMessageWithAttachmentsAndNonce) {
    const auto parsed = parse_message(json::parse(R"({
      "id": "10", "channel_id": "11", "guild_id": "12", "content": "receipt attached", "nonce": 123,
      "author": {"id": "13", "username": "cust"}, "member": {"roles": ["14"]},
      "attachments": [{"id": "15", "filename": "r.jpg", "content_type": "image/jpeg", "size": 99, "url": "x"}]})"));
    ASSERT_TRUE(parsed) << parsed.error().describe();
    EXPECT_EQ(parsed->nonce, "123");
    EXPECT_EQ(parsed->attachments.at(0).content_type, "image/jpeg");
    EXPECT_TRUE(parsed->member->has_role(Snowflake(14)));
    EXPECT_FALSE(parsed->webhook);
}

TEST(ParseChannel, OverwritesAsStringsOrNumbers) {
    const auto parsed = parse_channel(json::parse(R"({
      "id": "20", "type": 0, "guild_id": "21", "name": "plan-1",
      "permission_overwrites": [{"id": "21", "type": 0, "allow": "0", "deny": "1024"},
                                {"id": "22", "type": 1, "allow": 101376, "deny": 0}]})"));
    ASSERT_TRUE(parsed) << parsed.error().describe();
    ASSERT_EQ(parsed->permission_overwrites.size(), 2u);
    EXPECT_EQ(parsed->permission_overwrites[0].deny, 1024u);
    EXPECT_EQ(parsed->permission_overwrites[1].type, OverwriteType::member);
    EXPECT_EQ(parsed->permission_overwrites[1].allow, 101376u);
    EXPECT_FALSE(parse_channel(
        json::parse(R"({"id": "20", "type": 0, "permission_overwrites": [{"id": "1", "type": 7}]})")));
}

}  // namespace
}  // namespace nebula::discord
