#include "discord/builders.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "discord/text.hpp"

namespace nebula::discord {
namespace {

using nlohmann::json;

std::string repeat(std::string_view unit, std::size_t times) {
    std::string out;
    for (std::size_t i = 0; i < times; ++i) out += unit;
    return out;
}

TEST(Text, SanitizeReplacesInvalidUtf8) {
    EXPECT_EQ(sanitize_utf8("ok"), "ok");
    EXPECT_EQ(sanitize_utf8("a\xff"
                            "b"),
              "a\xEF\xBF\xBD"
              "b");
    EXPECT_EQ(sanitize_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
    EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
    EXPECT_EQ(sanitize_utf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // truncated
    EXPECT_NO_THROW((void)json(sanitize_utf8("\xff\xfe")).dump());
}

TEST(Text, LengthCountsUtf16Units) {
    EXPECT_EQ(text_length("abc"), 3u);
    EXPECT_EQ(text_length("مرحبا"), 5u);
    EXPECT_EQ(text_length("😀"), 2u);
}

TEST(Text, TruncateNeverSplitsArabicOrLeavesOrphanMarks) {
    // "بِسْمِ" = ب ِ س ْ م ِ : letters followed by harakat.
    const std::string word = "بِسْمِ";
    ASSERT_EQ(text_length(word), 6u);
    // Cutting at 3 units would keep ب ِ س and orphan the sukun on the cut side: it backs off to ب ِ.
    EXPECT_EQ(truncate_text(word, 3, ""), "بِ");
    EXPECT_EQ(truncate_text(word, 4, ""), "بِسْ");
    EXPECT_EQ(truncate_text(word, 6, ""), word);
    const std::string long_text = repeat("مرحبا بالعالم ", 500);
    const std::string cut = truncate_text(long_text, 256);
    EXPECT_LE(text_length(cut), 256u);
    EXPECT_EQ(sanitize_utf8(cut), cut);
    EXPECT_EQ(cut.substr(cut.size() - 3), "…");
    // An emoji (2 units) is never split in half.
    EXPECT_EQ(truncate_text("ab😀", 3, ""), "ab");
}

TEST(Embed, EnforcesEveryLimitOnLongArabicText) {
    const std::string arabic = repeat("اشتراك شهري في خدمة نيبولا ", 400);  // ~10,800 units
    Embed embed;
    embed.title(arabic).description(arabic).footer(arabic).author(arabic);
    for (int i = 0; i < 30; ++i) embed.field(arabic, arabic);
    EXPECT_TRUE(embed.truncated());
    const json j = embed.to_json();
    EXPECT_LE(text_length(j["title"].get<std::string>()), limits::kEmbedTitle);
    EXPECT_LE(text_length(j["description"].get<std::string>()), limits::kEmbedDescription);
    EXPECT_LE(text_length(j["footer"]["text"].get<std::string>()), limits::kFooter);
    EXPECT_LE(text_length(j["author"]["name"].get<std::string>()), limits::kAuthor);
    ASSERT_EQ(j["fields"].size(), limits::kEmbedFields);
    for (const auto& f : j["fields"]) {
        EXPECT_LE(text_length(f["name"].get<std::string>()), limits::kFieldName);
        EXPECT_LE(text_length(f["value"].get<std::string>()), limits::kFieldValue);
    }
}

TEST(MessagePayload, EmbedsShrinkToTheSixThousandTotal) {
    const std::string arabic = repeat("طلب رقم ٤٢ ", 600);
    MessagePayload payload;
    for (int i = 0; i < 12; ++i) {
        Embed e;
        e.title("طلب").description(arabic).field("الحالة", arabic).field("المبلغ", "150 ج.م");
        payload.embeds.push_back(e);
    }
    const json j = payload.to_json();
    ASSERT_EQ(j["embeds"].size(), limits::kEmbedsPerMessage);
    std::size_t total = 0;
    for (const auto& e : j["embeds"]) {
        for (const char* key : {"title", "description"}) {
            if (e.contains(key)) total += text_length(e[key].get<std::string>());
        }
        if (e.contains("fields")) {
            for (const auto& f : e["fields"]) {
                total +=
                    text_length(f["name"].get<std::string>()) + text_length(f["value"].get<std::string>());
            }
        }
        EXPECT_EQ(sanitize_utf8(e.dump()), e.dump());
    }
    EXPECT_LE(total, limits::kEmbedTotal);
    EXPECT_GT(total, limits::kEmbedTotal - 50);  // shrinking keeps as much as fits
}

TEST(MessagePayload, SafeDefaultsNonceAndFiles) {
    MessagePayload payload;
    payload.content = repeat("x", 2500);
    payload.nonce = "order-42-receipt";
    payload.files.push_back({"qr.png", "image/png", "PNGDATA", "QR code"});
    payload.allowed_mentions.users.push_back(Snowflake(7));
    const json j = payload.to_json();
    EXPECT_EQ(j["content"].get<std::string>().size(), 2000u - 1 + 3);  // 1999 'x' + "…" (3 bytes)
    EXPECT_EQ(j["allowed_mentions"]["parse"], json::array());
    EXPECT_EQ(j["allowed_mentions"]["users"], json::array({"7"}));
    EXPECT_EQ(j["nonce"], "order-42-receipt");
    EXPECT_EQ(j["enforce_nonce"], true);
    EXPECT_EQ(j["attachments"][0]["id"], "0");
    EXPECT_EQ(j["attachments"][0]["filename"], "qr.png");
    payload.nonce = repeat("n", 26);
    EXPECT_THROW((void)payload.to_json(), std::invalid_argument);
}

TEST(Components, ButtonsSelectsAndTheirInvariants) {
    ActionRow row{
        std::vector<Button>{{ButtonStyle::success, "Approve", "order:42:approve", "", std::nullopt, false},
                            {ButtonStyle::link, "Docs", "", "https://example.com", std::nullopt, false}}};
    const json j = to_json(row);
    EXPECT_EQ(j["type"], 1);
    EXPECT_EQ(j["components"][0]["custom_id"], "order:42:approve");
    EXPECT_EQ(j["components"][1]["url"], "https://example.com");
    EXPECT_FALSE(j["components"][1].contains("custom_id"));

    ActionRow too_many{
        std::vector<Button>(6, Button{ButtonStyle::primary, "x", "id", "", std::nullopt, false})};
    EXPECT_THROW((void)to_json(too_many), std::invalid_argument);
    ActionRow long_id{
        std::vector<Button>{{ButtonStyle::primary, "x", repeat("a", 101), "", std::nullopt, false}}};
    EXPECT_THROW((void)to_json(long_id), std::invalid_argument);

    StringSelect select{"plan:pick", {{"ذهبي", "gold", "30 يوم", std::nullopt, true}}, "اختر", 1, 1, false,
                        true};
    const json s = to_json(ActionRow{select});
    EXPECT_EQ(s["components"][0]["type"], 3);
    EXPECT_EQ(s["components"][0]["options"][0]["default"], true);
    select.max_values = 2;  // more than the one option
    EXPECT_THROW((void)to_json(ActionRow{select}), std::invalid_argument);
}

TEST(Components, ModalWithTextInputAndFileUpload) {
    Modal modal{"receipt:77",
                "Upload your payment receipt — please attach a clear screenshot",
                {Label{"Transfer reference", "",
                       TextInput{"ref", TextInputStyle::short_text, 1, 64, true, "", "TX-"}},
                 Label{"Screenshot", "PNG or JPG", FileUpload{"file", 1, 1, true}}}};
    const json j = to_json(modal);
    EXPECT_LE(text_length(j["title"].get<std::string>()), limits::kModalTitle);
    EXPECT_EQ(j["components"][0]["type"], 18);
    EXPECT_EQ(j["components"][0]["component"]["type"], 4);
    EXPECT_EQ(j["components"][1]["component"]["type"], 19);
    EXPECT_EQ(j["components"][1]["component"]["custom_id"], "file");
    modal.fields.clear();
    EXPECT_THROW((void)to_json(modal), std::invalid_argument);
}

TEST(PermissionOverwrites, SerialisedAsNumbersWithStringIds) {
    const json j = to_json(PermissionOverwrite{Snowflake(21), OverwriteType::member, 117760, 0});
    EXPECT_EQ(j, json::parse(R"({"id": "21", "type": 1, "allow": 117760, "deny": 0})"));
}

Command admin_command() {
    CommandOption title = CommandOption::value(OptionType::string, "title", "Plan title", true);
    title.max_length = 100;
    CommandOption brief = CommandOption::value(OptionType::attachment, "brief", "Optional file", false);
    CommandOption id = CommandOption::value(OptionType::string, "id", "Plan id", true);
    id.autocomplete = true;
    CommandOption plan =
        CommandOption::group("plan", "Manage plans",
                             {CommandOption::subcommand("create", "Create a plan", {title, brief}),
                              CommandOption::subcommand("close", "Close a plan", {id})});
    return Command{"admin", "Admin tools", permissions::kManageGuild, {plan}};
}

TEST(Commands, BulkBodyWithGroupsChoicesAndPermissions) {
    CommandOption plan = CommandOption::value(OptionType::string, "plan", "Plan", true);
    plan.choices = {{"Gold", std::string("gold")}, {"Silver", std::string("silver")}};
    Command buy{"buy", "Buy VPN access", std::nullopt, {plan}};
    const json j = commands_to_json({admin_command(), buy});
    EXPECT_EQ(j[0]["default_member_permissions"], 32);
    EXPECT_EQ(j[0]["options"][0]["type"], 2);
    EXPECT_EQ(j[0]["options"][0]["options"][0]["options"][0]["max_length"], 100);
    EXPECT_EQ(j[0]["options"][0]["options"][1]["options"][0]["autocomplete"], true);
    EXPECT_FALSE(j[1].contains("default_member_permissions"));
    EXPECT_EQ(j[1]["options"][0]["choices"][1]["value"], "silver");
}

TEST(Commands, ValidationCatchesEveryRule) {
    EXPECT_TRUE(validate(admin_command()));
    Command bad = admin_command();
    bad.name = "Admin";
    EXPECT_FALSE(validate(bad));
    bad = admin_command();
    bad.description = "";
    EXPECT_FALSE(validate(bad));
    bad = admin_command();
    bad.options[0].options[0].options[1].required =
        true;  // required after optional? no: brief first optional
    std::swap(bad.options[0].options[0].options[0], bad.options[0].options[0].options[1]);
    bad.options[0].options[0].options[0].required = false;
    EXPECT_FALSE(validate(bad));
    bad = admin_command();
    bad.options.push_back(CommandOption::value(OptionType::string, "x", "plain beside group", false));
    EXPECT_FALSE(validate(bad));
    bad = admin_command();
    bad.options[0].options[0].type = OptionType::sub_command_group;  // group inside group
    EXPECT_FALSE(validate(bad));
    bad = admin_command();
    for (int i = 0; i < 26; ++i)
        bad.options[0].options[0].options.push_back(
            CommandOption::value(OptionType::string, "o", "d", false));
    EXPECT_FALSE(validate(bad));
    EXPECT_THROW((void)commands_to_json({bad}), std::invalid_argument);
}

}  // namespace
}  // namespace nebula::discord
