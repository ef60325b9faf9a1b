#include "gateway/xui/envelope.hpp"

#include <gtest/gtest.h>

namespace nebula::gateway::xui {
namespace {

TEST(Envelope, SuccessGivesObj) {
    auto r = parse_envelope(200, R"({"success":true,"msg":"","obj":{"id":3}})");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r.value()["id"], 3);
}

TEST(Envelope, SuccessWithoutObjOrMsgGivesNull) {
    // csrf-token answers carry no msg; mutations carry obj:null.
    auto r = parse_envelope(200, R"({"success":true})");
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r.value().is_null());
}

TEST(Envelope, FailureIsClassifiedFromTheEmbeddedGoError) {
    struct Case {
        const char* msg;
        PanelErrorCode code;
    };
    const Case cases[] = {
        {"Something went wrong (Duplicate email: alice)", PanelErrorCode::conflict},
        {"Something went wrong! Failed: Duplicate email: alice", PanelErrorCode::conflict},
        {"Something went wrong (email already in use: alice)", PanelErrorCode::conflict},
        {"Something went wrong (subId already in use: k3v9)", PanelErrorCode::conflict},
        {"Something went wrong (UNIQUE constraint failed: clients.email)", PanelErrorCode::conflict},
        {"Something went wrong (record not found)", PanelErrorCode::not_found},
        {"Something went wrong (Inbound Not Found For Email: bob)", PanelErrorCode::not_found},
        {"Something went wrong (Client Not Found In Inbound For ID: 5f1c)", PanelErrorCode::not_found},
        {"Something went wrong (no client remained in Inbound)", PanelErrorCode::last_client},
        {"Something went wrong (empty client ID)", PanelErrorCode::rejected},
        {"Выполнено с ошибкой (xray is not running)", PanelErrorCode::rejected},
    };
    for (const auto& c : cases) {
        auto body = nlohmann::json{{"success", false}, {"msg", c.msg}, {"obj", nullptr}}.dump();
        auto r = parse_envelope(200, body);
        ASSERT_FALSE(r.has_value()) << c.msg;
        EXPECT_EQ(r.error().code, c.code) << c.msg;
        EXPECT_NE(r.error().message.find(c.msg), std::string::npos) << r.error().message;
    }
}

TEST(Envelope, FailureWithoutMessageStillExplains) {
    auto r = parse_envelope(200, R"({"success":false,"obj":null})");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, PanelErrorCode::rejected);
    EXPECT_FALSE(r.error().message.empty());
}

TEST(Envelope, ServerErrorsAreRejectedOtherStatusesAndBodiesAreProtocol) {
    EXPECT_EQ(parse_envelope(500, "").error().code, PanelErrorCode::rejected);
    EXPECT_EQ(parse_envelope(502, "<html>").error().code, PanelErrorCode::rejected);
    EXPECT_EQ(parse_envelope(418, "{}").error().code, PanelErrorCode::protocol);
    EXPECT_EQ(parse_envelope(200, "").error().code, PanelErrorCode::protocol);
    EXPECT_EQ(parse_envelope(200, "<html>login</html>").error().code, PanelErrorCode::protocol);
    EXPECT_EQ(parse_envelope(200, R"({"success":"yes"})").error().code, PanelErrorCode::protocol);
    EXPECT_EQ(parse_envelope(200, R"([1,2])").error().code, PanelErrorCode::protocol);
}

TEST(Summarise, OneLineBoundedAndUtf8Safe) {
    EXPECT_EQ(summarise("  a\r\n\tb  c "), "a b c");
    std::string long_text(150, 'x');
    long_text += std::string(100, '\xd0');  // not valid UTF-8 pairs, still cut on a lead byte
    auto s = summarise(long_text);
    EXPECT_LE(s.size(), 200u);
    EXPECT_EQ(s.substr(s.size() - 3), "...");
    std::string arabic;
    for (int i = 0; i < 150; ++i) arabic += "\xd8\xb9";  // U+0639, two bytes each
    auto a = summarise(arabic);
    EXPECT_EQ((a.size() - 3) % 2, 0u);
    EXPECT_EQ(a.substr(a.size() - 3), "...");
    EXPECT_LE(a.size(), 200u);
}

// Found by fuzz/xui_envelope.cpp (corpus input crash-4924f9…): a cut summary was 203 bytes,
// over the documented 200, and a text of exactly 200 bytes was cut although it fitted.
TEST(Summarise, AtMost200BytesAndCutOnlyWhenLonger) {
    const std::string fits(200, 'x');
    EXPECT_EQ(summarise(fits), fits);
    const auto cut = summarise(fits + "y");
    EXPECT_EQ(cut, std::string(197, 'x') + "...");
    std::string wide;
    for (int i = 0; i < 100; ++i) wide += "\xd8\xb9";
    EXPECT_EQ(summarise(wide), wide);  // 200 bytes: kept whole
    const auto wide_cut = summarise(wide + "z");
    EXPECT_EQ(wide_cut.size(), 196u + 3u);  // 98 whole characters, never half of one
    EXPECT_EQ(wide_cut, wide.substr(0, 196) + "...");
}

}  // namespace
}  // namespace nebula::gateway::xui
