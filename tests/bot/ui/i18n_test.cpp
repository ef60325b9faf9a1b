#include "bot/ui/i18n.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

namespace nebula::bot::ui {
namespace {

using namespace std::chrono_literals;
using domain::Piasters;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

constexpr std::string_view kLri = "\u2066";
constexpr std::string_view kFsi = "\u2068";
constexpr std::string_view kPdi = "\u2069";

std::vector<Msg> all_keys() {
    std::vector<Msg> keys;
    for (std::size_t i = 0; i < kMsgCount; ++i) keys.push_back(static_cast<Msg>(i));
    return keys;
}

// Placeholder names of a template, parsed here independently of the library.
std::set<std::string> placeholders_in(std::string_view text) {
    std::set<std::string> names;
    for (std::size_t open = text.find('{'); open != std::string_view::npos; open = text.find('{', open + 1)) {
        const std::size_t close = text.find('}', open);
        if (close == std::string_view::npos) break;
        names.emplace(text.substr(open + 1, close - open - 1));
    }
    return names;
}

bool contains_arabic(std::string_view text) {
    for (char c : text) {
        const auto b = static_cast<unsigned char>(c);
        if (b >= 0xD8 && b <= 0xDB) return true;
    }
    return false;
}

std::string render_with(Locale locale, Msg msg, const std::string& value) {
    std::vector<Arg> args;
    for (std::string_view name : msg_placeholders(msg)) args.emplace_back(name, value);
    // tr takes an initializer_list; build the call for up to the catalogue's widest key.
    switch (args.size()) {
        case 0:
            return tr(locale, msg);
        case 1:
            return tr(locale, msg, {args[0]});
        case 2:
            return tr(locale, msg, {args[0], args[1]});
        case 3:
            return tr(locale, msg, {args[0], args[1], args[2]});
        case 4:
            return tr(locale, msg, {args[0], args[1], args[2], args[3]});
        case 5:
            return tr(locale, msg, {args[0], args[1], args[2], args[3], args[4]});
        case 6:
            return tr(locale, msg, {args[0], args[1], args[2], args[3], args[4], args[5]});
        case 7:
            return tr(locale, msg, {args[0], args[1], args[2], args[3], args[4], args[5], args[6]});
        case 8:
            return tr(locale, msg, {args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7]});
        default:
            throw std::logic_error("extend render_with");
    }
}

// Walks rendered text like a bidi reader: every Latin letter must sit inside an isolate or in
// code, isolates must pair up, and code blocks must hold no bidi controls.
std::string rtl_problem(std::string_view text) {
    int depth = 0;
    bool in_block = false;
    bool in_inline = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text.substr(i, 3) == "```") {
            in_block = !in_block;
            i += 2;
            continue;
        }
        if (text[i] == '`' && !in_block) {
            if (!in_inline && depth == 0) return "inline code outside an isolate at " + std::to_string(i);
            in_inline = !in_inline;
            continue;
        }
        const std::string_view three = text.substr(i, 3);
        if (three == kLri || three == kFsi || three == "\u2067") {
            if (in_block) return "isolate inside a code block";
            ++depth;
            i += 2;
            continue;
        }
        if (three == kPdi) {
            if (in_block) return "isolate inside a code block";
            if (--depth < 0) return "PDI without an opener";
            i += 2;
            continue;
        }
        const char c = text[i];
        const bool latin = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (latin && depth == 0 && !in_block && !in_inline) {
            return "bare Latin letter '" + std::string(1, c) + "' at " + std::to_string(i);
        }
    }
    if (depth != 0) return "unclosed isolate";
    return {};
}

TEST(I18nCatalogue, EveryKeyHasBothLanguagesWithTheSamePlaceholders) {
    std::set<std::string_view> ids;
    for (Msg msg : all_keys()) {
        SCOPED_TRACE(std::string(msg_id(msg)));
        EXPECT_TRUE(ids.insert(msg_id(msg)).second) << "duplicate id";
        const std::string_view en = msg_template(Locale::en, msg);
        const std::string_view ar = msg_template(Locale::ar, msg);
        EXPECT_FALSE(en.empty());
        EXPECT_FALSE(ar.empty());
        EXPECT_EQ(placeholders_in(en), placeholders_in(ar));
        const auto listed = msg_placeholders(msg);
        EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), placeholders_in(en));
        // Text with words in English must have Arabic words in Arabic (not a copy of the English).
        bool english_words = false;
        std::string stripped(en);
        for (const auto& name : placeholders_in(en)) {
            for (auto at = stripped.find("{" + name + "}"); at != std::string::npos;
                 at = stripped.find("{" + name + "}")) {
                stripped.erase(at, name.size() + 2);
            }
        }
        for (char c : stripped) english_words = english_words || (c >= 'a' && c <= 'z');
        if (english_words) {
            EXPECT_TRUE(contains_arabic(ar)) << ar;
        }
        EXPECT_EQ(en.find(kFsi), std::string_view::npos);
        EXPECT_EQ(en.find(kLri), std::string_view::npos);
    }
    EXPECT_EQ(ids.size(), kMsgCount);
}

TEST(I18nCatalogue, EveryKeyRendersInBothLanguages) {
    for (Msg msg : all_keys()) {
        SCOPED_TRACE(std::string(msg_id(msg)));
        for (Locale locale : {Locale::en, Locale::ar}) {
            const std::string text = render_with(locale, msg, "Value 42");
            EXPECT_EQ(text.find('{'), std::string::npos) << text;
            EXPECT_EQ(text.find('}'), std::string::npos) << text;
            if (!msg_placeholders(msg).empty()) {
                EXPECT_NE(text.find("Value 42"), std::string::npos);
            }
        }
    }
}

TEST(I18nCatalogue, ArabicKeepsLatinTokensIsolated) {
    for (Msg msg : all_keys()) {
        SCOPED_TRACE(std::string(msg_id(msg)));
        const std::string text = render_with(Locale::ar, msg, "vless://abc@host:443#NL-000123");
        EXPECT_EQ(rtl_problem(text), "") << text;
        // The checker itself must catch what it is there for.
        const std::string english = render_with(Locale::en, msg, "Latin");
        if (english.find_first_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos) {
            EXPECT_NE(rtl_problem(english), "") << "English text would have passed as isolated Arabic";
        }
    }
}

// Length as Discord counts it: UTF-16 code units.
std::size_t utf16_length(std::string_view text) {
    std::size_t units = 0;
    for (char c : text) {
        const auto b = static_cast<unsigned char>(c);
        if ((b & 0xC0) == 0x80) continue;  // continuation byte
        units += b >= 0xF0 ? 2 : 1;
    }
    return units;
}

TEST(I18nCatalogue, FitsDiscordComponentLimits) {
    struct Limit {
        Msg msg;
        std::size_t max;  // button label 80, modal title and text input label 45, placeholders 100
    };
    const std::vector<Limit> limits = {{Msg::button_buy, 80},
                                       {Msg::button_my_account, 80},
                                       {Msg::button_renew, 80},
                                       {Msg::button_help, 80},
                                       {Msg::button_cancel_order, 80},
                                       {Msg::button_change_method, 80},
                                       {Msg::button_claim, 80},
                                       {Msg::button_approve, 80},
                                       {Msg::button_decline, 80},
                                       {Msg::button_show_config, 80},
                                       {Msg::decline_modal_title, 45},
                                       {Msg::decline_reason_label, 45},
                                       {Msg::decline_reason_placeholder, 100},
                                       {Msg::plan_select_placeholder, 100},
                                       {Msg::payment_method_placeholder, 100},
                                       {Msg::account_select_placeholder, 100},
                                       {Msg::button_usage_chart, 80}};
    for (const Limit& limit : limits) {
        for (Locale locale : {Locale::en, Locale::ar}) {
            const std::string text = render_with(locale, limit.msg, "NL-000123");
            EXPECT_LE(utf16_length(text), limit.max) << msg_id(limit.msg) << ": " << text;
        }
    }
}

TEST(I18nTr, FillsNamedPlaceholders) {
    EXPECT_EQ(tr(Locale::en, Msg::order_title, {{"reference", "NL-000123"}}), "Order NL-000123");
    EXPECT_EQ(tr(Locale::en, Msg::traffic_used_of, {{"used", "12 GB"}, {"total", "30 GB"}}),
              "12 GB of 30 GB");
    EXPECT_EQ(tr(Locale::en, Msg::admin_server_remove_busy, {{"name", "eg-1"}, {"count", 12}}),
              "Server **eg-1** still holds accounts (12); disable it instead, or move them first.");
    EXPECT_EQ(tr(Locale::en, Msg::button_buy), "Buy Access");
    EXPECT_EQ(tr(Locale::ar, Msg::button_buy), "\u200Fشراء اشتراك\u200F");
}

TEST(I18nTr, ArabicWrapsValuesInFirstStrongIsolates) {
    const std::string text =
        tr(Locale::ar, Msg::error_open_order, {{"reference", "NL-000123"}, {"channel", "<#1234567890>"}});
    EXPECT_EQ(text,
              "\u200Fلديك طلب مفتوح بالفعل (\u2068NL-000123\u2069) في \u2068<#1234567890>\u2069. "
              "يُرجى إكماله أو إلغاؤه أولًا.\u200F");
    // English is left alone.
    EXPECT_EQ(tr(Locale::en, Msg::error_open_order, {{"reference", "NL-000123"}, {"channel", "<#1>"}}),
              "You already have an open order (NL-000123) in <#1>. Please finish or cancel it first.");
}

// The wallet steps as Egyptian wallets work: the number is not in the text (it has its own embed
// field), the reference is optional (USSD transfers have no note field), the screenshot is of the
// confirmation SMS or screen showing the amount and the sending number, and the fee is the
// customer's.
TEST(I18nTr, PaymentInstructionsMatchTheWallets) {
    const std::string ar = tr(Locale::ar, Msg::payment_wallet_instructions,
                              {{"amount", format_money(Locale::ar, Piasters{15000})},
                               {"method", tr(Locale::ar, Msg::method_vodafone_cash)},
                               {"reference", "NL-000123"}});
    EXPECT_NE(ar.find("\u2066`NL-000123`\u2069"), std::string::npos) << ar;
    EXPECT_NE(ar.find("\u2068150 جنيه\u2069"), std::string::npos) << ar;
    EXPECT_NE(ar.find("إذا كانت في التحويل خانة للملاحظات"), std::string::npos) << ar;
    EXPECT_NE(ar.find("رسالة التأكيد"), std::string::npos) << ar;
    EXPECT_NE(ar.find("الرقم الذي حوّلت منه"), std::string::npos) << ar;
    EXPECT_NE(ar.find("رسوم التحويل على حسابك"), std::string::npos) << ar;
    EXPECT_EQ(rtl_problem(ar), "");

    const std::string en =
        tr(Locale::en, Msg::payment_instapay_instructions,
           {{"amount", format_money(Locale::en, Piasters{15000})}, {"reference", "NL-000123"}});
    EXPECT_EQ(
        en,
        "**Pay 150 EGP with InstaPay**\n"
        "1. In InstaPay, send exactly **150 EGP** to the IPA below. Any transfer fee is on you: the full "
        "amount must arrive.\n"
        "2. If there is a note field, write `NL-000123` in it; if not, skip this step.\n"
        "3. Upload **here** a screenshot of the confirmation screen, showing the amount and the account you "
        "sent from.");
    const std::string instapay = tr(Locale::ar, Msg::payment_instapay_instructions,
                                    {{"amount", "150 جنيه"}, {"reference", "NL-000123"}});
    EXPECT_NE(instapay.find("عنوان الدفع اللحظي"), std::string::npos) << instapay;
    EXPECT_EQ(instapay.find("عنوان إنستاباي"), std::string::npos) << instapay;
}

TEST(I18nTr, CodeBlocksHoldTheExactValue) {
    const std::string link = "vless://3f1c9a2e@vpn1.example.com:443?security=reality&sni=a.b#NL-000123";
    const std::string sub = "https://vpn1.example.com:2096/sub/abc123";
    for (Locale locale : {Locale::en, Locale::ar}) {
        const std::string text = tr(locale, Msg::delivery_body,
                                    {{"link", link},
                                     {"subscription_url", sub},
                                     {"expiry", "5 Mar 2025"},
                                     {"traffic", "30 GB"},
                                     {"devices", format_device_limit(locale, 2)}});
        EXPECT_NE(text.find("```\n" + link + "\n```"), std::string::npos) << text;
        EXPECT_NE(text.find("```\n" + sub + "\n```"), std::string::npos) << text;
    }
}

TEST(I18nTr, ValuesAreNeverTemplates) {
    EXPECT_EQ(tr(Locale::en, Msg::order_title, {{"reference", "{reference}"}}), "Order {reference}");
    EXPECT_EQ(tr(Locale::en, Msg::review_declined_by, {{"admin", "{reason}"}, {"reason", "{admin}"}}),
              "❌ Declined by {reason}: {admin}");
}

TEST(I18nTr, ValuesCannotBreakCodeOrDirection) {
    // A backtick would close the code span early.
    EXPECT_EQ(tr(Locale::en, Msg::admin_payment_set, {{"method", "InstaPay"}, {"account", "a`b"}}),
              "InstaPay account set to `a\u02CBb`.");
    // Overrides and embeddings are removed; so are isolates that do not pair up.
    EXPECT_EQ(tr(Locale::en, Msg::order_welcome, {{"customer", "\u202Emallory\u202C"}}).find("\u202E"),
              std::string::npos);
    EXPECT_EQ(tr(Locale::en, Msg::order_title, {{"reference", "a\u2067b"}}), "Order ab");
    EXPECT_EQ(tr(Locale::en, Msg::order_title, {{"reference", "\u2068ab\u2069"}}), "Order \u2068ab\u2069");
    const std::string ar = tr(Locale::ar, Msg::order_title, {{"reference", "x\u2069\u2069y"}});
    EXPECT_EQ(rtl_problem(ar), "");
}

TEST(I18nTr, WrongArgumentsAreBugs) {
    EXPECT_THROW(tr(Locale::en, Msg::order_title), std::invalid_argument);
    EXPECT_THROW(tr(Locale::en, Msg::order_title, {{"reference", "a"}, {"extra", "b"}}),
                 std::invalid_argument);
    EXPECT_THROW(tr(Locale::en, Msg::order_title, {{"reference", "a"}, {"reference", "b"}}),
                 std::invalid_argument);
    EXPECT_THROW(tr(Locale::en, static_cast<Msg>(kMsgCount)), std::invalid_argument);
}

TEST(I18nLocale, FromDiscordCodes) {
    EXPECT_EQ(locale_from_discord("ar"), Locale::ar);
    EXPECT_EQ(locale_from_discord("AR"), Locale::ar);
    EXPECT_EQ(locale_from_discord("ar-EG"), Locale::ar);
    EXPECT_EQ(locale_from_discord("en-US"), Locale::en);
    EXPECT_EQ(locale_from_discord("en-GB"), Locale::en);
    EXPECT_EQ(locale_from_discord("fr"), Locale::en);
    EXPECT_EQ(locale_from_discord(""), Locale::en);
    EXPECT_EQ(locale_from_discord("a"), Locale::en);
    EXPECT_EQ(locale_from_discord("ar_EG"), Locale::ar);
    EXPECT_EQ(locale_from_discord("Ar-SA"), Locale::ar);
    EXPECT_EQ(locale_from_discord("bg"), Locale::en);
    EXPECT_EQ(locale_code(Locale::ar), "ar");
    // An explicit choice wins; then an Arabic client; then the shop's default (Discord has no
    // Arabic locale today, so an Egyptian customer's client usually says en-US).
    EXPECT_EQ(choose_locale("en", "ar", Locale::ar), Locale::en);
    EXPECT_EQ(choose_locale("ar", "en-US", Locale::en), Locale::ar);
    EXPECT_EQ(choose_locale("", "ar", Locale::en), Locale::ar);
    EXPECT_EQ(choose_locale("", "en-US", Locale::ar), Locale::ar);
    EXPECT_EQ(choose_locale("", "en-US", Locale::en), Locale::en);
    EXPECT_EQ(choose_locale("fr", "de", Locale::en), Locale::en);
    EXPECT_EQ(tr(Locale::en, Msg::button_language), "Language");
    EXPECT_EQ(tr(Locale::ar, Msg::button_language), "\u200Fاللغة\u200F");
    EXPECT_EQ(locale_code(Locale::en), "en");
}

TEST(I18nNames, StatusesKindsMethodsAndHealth) {
    std::set<Msg> seen;
    for (auto status : domain::kAllOrderStatuses) EXPECT_TRUE(seen.insert(order_status_msg(status)).second);
    EXPECT_EQ(tr(Locale::ar, order_status_msg(domain::OrderStatus::under_review)),
              "\u200Fقيد المراجعة\u200F");
    EXPECT_EQ(tr(Locale::en, account_status_msg(domain::AccountStatus::disabled)), "Suspended");
    EXPECT_EQ(tr(Locale::en, order_kind_msg(domain::OrderKind::renewal)), "Renewal");
    EXPECT_EQ(tr(Locale::en, server_health_msg(domain::ServerHealth::down)), "down");
    EXPECT_EQ(payment_method_msg("vodafone_cash"), Msg::method_vodafone_cash);
    EXPECT_EQ(payment_method_msg("orange_cash"), Msg::method_orange_cash);
    EXPECT_EQ(payment_method_msg("etisalat_cash"), Msg::method_etisalat_cash);
    EXPECT_EQ(payment_method_msg("we_pay"), Msg::method_we_pay);
    EXPECT_EQ(payment_method_msg("instapay"), Msg::method_instapay);
    EXPECT_EQ(payment_method_msg("paypal"), std::nullopt);
    EXPECT_EQ(tr(Locale::ar, Msg::method_etisalat_cash), "\u200Fاتصالات كاش (\u2066e&\u2069)\u200F");
}

TEST(I18nFormat, Money) {
    // Whole pounds without ".00".
    EXPECT_EQ(format_money(Locale::en, Piasters{15000}), "150 EGP");
    EXPECT_EQ(format_money(Locale::ar, Piasters{15000}), "150 جنيه");
    EXPECT_EQ(format_money(Locale::ar, Piasters{9950}), "99.50 جنيه");
    EXPECT_EQ(format_money(Locale::en, Piasters{123456789}), "1,234,567.89 EGP");
    EXPECT_EQ(format_money(Locale::en, Piasters{5}), "0.05 EGP");
    EXPECT_EQ(format_money(Locale::en, Piasters{0}), "0 EGP");
    EXPECT_EQ(format_money(Locale::en, Piasters{100000}), "1,000 EGP");
    EXPECT_EQ(format_money(Locale::en, Piasters{-250}), "-2.50 EGP");
    EXPECT_EQ(format_money(Locale::en, Piasters{-5}), "-0.05 EGP");
}

TEST(I18nFormat, Bytes) {
    constexpr std::int64_t kGiB = 1LL << 30;
    EXPECT_EQ(format_bytes(30 * kGiB), "30 GB");
    EXPECT_EQ(format_bytes(3 * kGiB / 2), "1.5 GB");
    EXPECT_EQ(format_bytes(512LL << 20), "512 MB");
    EXPECT_EQ(format_bytes(0), "0 B");
    EXPECT_EQ(format_bytes(1023), "1023 B");
    EXPECT_EQ(format_bytes(1024), "1 KB");
    EXPECT_EQ(format_bytes(kGiB - 1), "1 GB");  // 1023.99… MB rounds up into the next unit
    EXPECT_EQ(format_bytes(2048 * kGiB), "2 TB");
    EXPECT_THROW(format_bytes(-1), std::invalid_argument);
    EXPECT_EQ(format_traffic_limit(Locale::en, 0), "Unlimited");
    EXPECT_EQ(format_traffic_limit(Locale::ar, 0), "غير محدود");
    EXPECT_EQ(format_traffic_limit(Locale::ar, 30 * kGiB), "30 GB");
}

TEST(I18nFormat, CountsWithArabicPluralForms) {
    EXPECT_EQ(format_count(Locale::en, 1, Unit::day), "1 day");
    EXPECT_EQ(format_count(Locale::en, 30, Unit::day), "30 days");
    EXPECT_EQ(format_count(Locale::en, 0, Unit::device), "0 devices");
    const std::vector<std::pair<std::int64_t, std::string_view>> days = {
        {0, "0 يوم"},     {1, "يوم واحد"},   {2, "يومان"},      {3, "3 أيام"},    {10, "10 أيام"},
        {11, "11 يومًا"},  {30, "30 يومًا"},   {99, "99 يومًا"},   {100, "100 يوم"}, {101, "101 يوم"},
        {102, "102 يوم"}, {103, "103 أيام"}, {111, "111 يومًا"}, {365, "365 يومًا"}};
    for (const auto& [n, text] : days) EXPECT_EQ(format_count(Locale::ar, n, Unit::day), text) << n;
    EXPECT_EQ(format_count(Locale::ar, 2, Unit::hour), "ساعتان");
    EXPECT_EQ(format_count(Locale::ar, 5, Unit::device), "5 أجهزة");
    EXPECT_EQ(format_device_limit(Locale::en, 0), "Unlimited devices");
    EXPECT_EQ(format_device_limit(Locale::ar, 0), "أجهزة غير محدودة");
    EXPECT_EQ(format_device_limit(Locale::en, 3), "3 devices");
    EXPECT_EQ(format_device_limit(Locale::ar, 1), "جهاز واحد");
}

TEST(I18nFormat, Durations) {
    EXPECT_EQ(format_duration(Locale::en, 24h), "1 day");
    EXPECT_EQ(format_duration(Locale::en, 72h), "3 days");
    EXPECT_EQ(format_duration(Locale::en, 36h), "36 hours");
    EXPECT_EQ(format_duration(Locale::en, 1h), "1 hour");
    EXPECT_EQ(format_duration(Locale::en, 90s), "2 minutes");
    EXPECT_EQ(format_duration(Locale::en, 0s), "0 minutes");
    EXPECT_EQ(format_duration(Locale::ar, 24h), "يوم واحد");
    EXPECT_EQ(format_duration(Locale::ar, 24h * 7), "7 أيام");
    EXPECT_THROW(format_duration(Locale::en, -1s), std::invalid_argument);
}

TEST(I18nFormat, DatesInTheShopTimeZone) {
    const auto cairo = TimeZone::load("Africa/Cairo");
    ASSERT_TRUE(cairo.has_value()) << cairo.error();
    // 22:30 UTC on 5 March is already 6 March in Cairo (UTC+2 in winter).
    const sys_seconds winter = sys_seconds{sys_days{std::chrono::year{2025} / 3 / 5}} + 22h + 30min;
    EXPECT_EQ(format_date(Locale::en, winter, *cairo), "6 Mar 2025");
    EXPECT_EQ(format_date(Locale::ar, winter, *cairo), "6 مارس 2025");
    EXPECT_EQ(format_date_time(Locale::en, winter, *cairo), "6 Mar 2025, 00:30");
    // Arabic reads the 12-hour clock with ص (morning) and م (afternoon, evening).
    EXPECT_EQ(format_date_time(Locale::ar, winter, *cairo), "6 مارس 2025، 12:30 ص");
    EXPECT_EQ(format_date_time(Locale::ar, winter - 1h, *cairo), "5 مارس 2025، 11:30 م");
    EXPECT_EQ(format_date_time(Locale::ar, winter - 12h, *cairo), "5 مارس 2025، 12:30 م");
    EXPECT_EQ(format_date_time(Locale::ar, winter + 9h, *cairo), "6 مارس 2025، 9:30 ص");
    EXPECT_EQ(format_date_time(Locale::en, winter, TimeZone::utc()), "5 Mar 2025, 22:30");
    // Summer time (UTC+3): 21:30 UTC on 31 July is 00:30 on 1 August.
    const sys_seconds summer = sys_seconds{sys_days{std::chrono::year{2025} / 7 / 31}} + 21h + 30min;
    EXPECT_EQ(format_date_time(Locale::en, summer, *cairo), "1 Aug 2025, 00:30");
    EXPECT_EQ(format_date(Locale::ar, summer, *cairo), "1 أغسطس 2025");
}

TEST(I18nFormat, DaysLeftRoundsUp) {
    const sys_seconds now = sys_seconds{sys_days{std::chrono::year{2025} / 1 / 1}};
    EXPECT_EQ(days_left(now, now + 5h), 1);
    EXPECT_EQ(days_left(now, now + 72h), 3);
    EXPECT_EQ(days_left(now, now + 72h + 1s), 4);
    EXPECT_EQ(days_left(now, now), 0);
    EXPECT_EQ(days_left(now, now - 48h), 0);
}

TEST(I18nFormat, ProgressBar) {
    EXPECT_EQ(progress_bar(3, 10), "▰▰▰▱▱▱▱▱▱▱ 30%");
    EXPECT_EQ(progress_bar(3, 5, 5), "▰▰▰▱▱ 60%");
    EXPECT_EQ(progress_bar(0, 10), "▱▱▱▱▱▱▱▱▱▱ 0%");
    EXPECT_EQ(progress_bar(10, 10), "▰▰▰▰▰▰▰▰▰▰ 100%");
    EXPECT_EQ(progress_bar(999, 1000), "▰▰▰▰▰▰▰▰▰▱ 99%");
    EXPECT_EQ(progress_bar(15, 10), "▰▰▰▰▰▰▰▰▰▰ 150%");
    constexpr std::int64_t kGiB = 1LL << 30;
    EXPECT_EQ(progress_bar(24 * kGiB, 30 * kGiB), "▰▰▰▰▰▰▰▰▱▱ 80%");
    EXPECT_EQ(progress_bar(95 * (1LL << 40), 100 * (1LL << 40)), "▰▰▰▰▰▰▰▰▰▱ 95%");
    EXPECT_THROW(progress_bar(1, 0), std::invalid_argument);
    EXPECT_THROW(progress_bar(-1, 10), std::invalid_argument);
    EXPECT_THROW(progress_bar(1, 10, 0), std::invalid_argument);
}

// Every Arabic line outside code has its direction fixed: a RIGHT-TO-LEFT MARK at both ends and
// after a list marker ("1. ", "• "); nothing invisible inside code blocks, where people copy.
std::string direction_problem(const std::string& text) {
    const std::string rlm = "\u200F";
    bool in_block = false;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const std::string line = text.substr(start, end - start);
        std::size_t fences = 0;
        for (auto at = line.find("```"); at != std::string::npos; at = line.find("```", at + 3)) ++fences;
        if (in_block || line.starts_with("```")) {
            if (line.find(rlm) != std::string::npos) return "a mark inside a code block: " + line;
        } else if (!line.empty()) {
            if (!line.starts_with(rlm)) return "no mark at the start of: " + line;
            if (fences == 0 && !line.ends_with(rlm)) return "no mark at the end of: " + line;
            std::string_view rest(line);
            rest.remove_prefix(rlm.size());
            std::size_t digits = 0;
            while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
            std::size_t marker = 0;
            if (digits > 0 && rest.substr(digits).starts_with(". ")) marker = digits + 2;
            if (rest.starts_with("• ")) marker = std::string_view("• ").size();
            if (marker > 0 && !rest.substr(marker).starts_with(rlm))
                return "no mark after the list marker: " + line;
        }
        if (fences % 2 == 1) in_block = !in_block;
        if (end == text.size()) break;
        start = end + 1;
    }
    return {};
}

TEST(I18nDirection, EveryArabicLineIsMarkedOutsideCode) {
    for (Msg msg : all_keys()) {
        SCOPED_TRACE(std::string(msg_id(msg)));
        const std::string ar = render_with(Locale::ar, msg, "vless://abc@host:443#NL-000123");
        EXPECT_EQ(direction_problem(ar), "") << ar;
        EXPECT_EQ(render_with(Locale::en, msg, "x").find("\u200F"), std::string::npos)
            << "English is left alone";
    }
    // The code blocks of the delivery hold exactly the link, nothing invisible around it.
    const std::string link = "vless://id@host:443?security=reality#NL-000001";
    const std::string delivery = tr(Locale::ar, Msg::delivery_body,
                                    {{"link", link},
                                     {"subscription_url", "https://h/sub/x"},
                                     {"expiry", "1"},
                                     {"traffic", "2"},
                                     {"devices", "3"}});
    EXPECT_NE(delivery.find("```\n" + link + "\n```"), std::string::npos) << delivery;
    // A list keeps its marker first, then the mark.
    const std::string help = tr(Locale::ar, Msg::help_body, {{"duration", "يوم واحد"}});
    EXPECT_TRUE(help.starts_with("\u200F1. \u200F")) << help;
}

TEST(I18nDecline, ReadyMadeReasonsReachTheCustomerInTheirLanguage) {
    EXPECT_EQ(decline_presets().size(), 5u);
    for (std::string_view code : decline_presets()) {
        SCOPED_TRACE(std::string(code));
        const auto msg = decline_preset_msg(code);
        ASSERT_TRUE(msg.has_value());
        const std::string stored = decline_reason(Locale::en, code, "");
        EXPECT_EQ(stored, tr(Locale::en, *msg));
        EXPECT_EQ(translate_decline_reason(Locale::ar, stored), tr(Locale::ar, *msg));
        EXPECT_EQ(translate_decline_reason(Locale::en, stored), stored);
    }
    EXPECT_EQ(decline_preset_msg("nonsense"), std::nullopt);
    const std::string both = decline_reason(Locale::en, "amount", "we got 100");
    EXPECT_EQ(both, "The amount received does not match the order. — we got 100");
    EXPECT_EQ(translate_decline_reason(Locale::ar, both),
              tr(Locale::ar, Msg::decline_reason_amount) + " — we got 100");
    // The admin's own words alone are kept as typed.
    EXPECT_EQ(decline_reason(Locale::en, "", "blurry"), "blurry");
    EXPECT_EQ(translate_decline_reason(Locale::ar, "blurry"), "blurry");
    EXPECT_EQ(translate_decline_reason(Locale::ar, "The amount received does not match the order.!"),
              "The amount received does not match the order.!");
}

TEST(I18nFormat, IsolateHelper) { EXPECT_EQ(isolate("NL-000123"), "\u2068NL-000123\u2069"); }

}  // namespace
}  // namespace nebula::bot::ui
