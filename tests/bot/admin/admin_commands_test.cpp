#include <algorithm>
#include <iostream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bot/admin/admin_fixture.hpp"
#include "bot/domain/audit.hpp"
#include "bot/domain/deliveries.hpp"
#include "bot/handlers/admin.hpp"
#include "bot/ui/audit_line.hpp"
#include "discord/test_support.hpp"

namespace nebula::bot::testing {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using OT = discord::OptionType;

constexpr std::string_view kAdminId = "500000000000000001";

// ---- definition ----

TEST(AdminDefinition, IsAValidCommandAlsoWhenMergedWithTheSetupSubcommand) {
    auto command = handlers::admin_command_definition(discord::permissions::kManageGuild);
    EXPECT_TRUE(discord::validate(command).has_value()) << discord::validate(command).error();
    ASSERT_TRUE(command.default_member_permissions.has_value());
    // The panel module contributes "setup" to the same command; the merged set must stay valid.
    handlers::Router router;
    discord::Command setup;
    setup.name = "admin";
    setup.description = "Shop administration";
    setup.default_member_permissions = discord::permissions::kManageGuild;
    setup.options.push_back(
        discord::CommandOption::subcommand("setup", "Post or refresh the main panel", {}));
    router.define_command(setup);
    router.define_command(command);
    ASSERT_EQ(router.commands().size(), 1u);
    EXPECT_TRUE(discord::validate(router.commands()[0]).has_value());
    EXPECT_NO_THROW(discord::commands_to_json(router.commands()));
}

TEST(AdminDefinition, PathsCoverEverySubcommandAndPickersAutocomplete) {
    const auto paths = handlers::admin_command_paths();
    for (const auto* expected : {"admin plan create",    "admin plan edit",
                                 "admin plan list",      "admin plan enable",
                                 "admin plan disable",   "admin server add",
                                 "admin server edit",    "admin server list",
                                 "admin server remove",  "admin server test",
                                 "admin payment set",    "admin payment list",
                                 "admin stats",          "admin export orders",
                                 "admin export users",   "admin export accounts",
                                 "admin export revenue", "admin export audit",
                                 "admin audit",          "admin user info",
                                 "admin user ban",       "admin user unban",
                                 "admin account info",   "admin account extend",
                                 "admin account enable", "admin account disable",
                                 "admin account delete", "admin account reset-traffic",
                                 "admin account config", "admin order info",
                                 "admin order approve",  "admin order decline"}) {
        EXPECT_NE(std::find(paths.begin(), paths.end(), expected), paths.end()) << expected;
    }
    EXPECT_EQ(std::find(paths.begin(), paths.end(), "admin setup"), paths.end()) << "setup is the panel's";
    const json body = discord::commands_to_json({handlers::admin_command_definition(0)});
    int pickers = 0;
    std::function<void(const json&, const std::string&)> walk = [&](const json& options,
                                                                    const std::string& parent) {
        for (const auto& o : options) {
            const std::string name = o.value("name", "");
            // "/admin payment set account:" is a wallet number, not a picker.
            if ((name == "plan" || name == "server" || name == "account" || name == "order") &&
                parent != "set") {
                if (o.value("type", 0) == 3) {
                    EXPECT_TRUE(o.value("autocomplete", false)) << name;
                    ++pickers;
                }
            }
            if (o.contains("options")) walk(o["options"], name);
        }
    };
    walk(body[0]["options"], "admin");
    EXPECT_GE(pickers, 15);
}

// Discord refuses a command whose names, descriptions and values (options and choices, at every
// depth) add up to more than 8000 characters; the whole registration would fail.
TEST(AdminDefinition, FitsDiscordsSizeLimitForOneCommand) {
    const json body = discord::commands_to_json({handlers::admin_command_definition(0)});
    std::size_t characters = 0;
    std::function<void(const json&)> walk = [&](const json& node) {
        if (node.is_array()) {
            for (const auto& item : node) walk(item);
            return;
        }
        if (!node.is_object()) return;
        for (const auto& [key, value] : node.items()) {
            if ((key == "name" || key == "description" || key == "value") && value.is_string()) {
                const std::string text = value.get<std::string>();
                characters += static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
                    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // code points
                }));
            } else if (value.is_array() || value.is_object()) {
                walk(value);
            }
        }
    };
    walk(body[0]);
    // The panel's "setup" subcommand joins it.
    characters += std::string_view("setupPost or refresh the main panel").size();
    EXPECT_LE(characters, 8000u);
    RecordProperty("admin_command_characters", static_cast<int>(characters));
    std::cout << "/admin definition: " << characters << " of 8000 characters\n";
}

TEST(AdminDefinition, TrialAndPromoCommandsAreRegistered) {
    const auto paths = handlers::admin_command_paths();
    for (const auto* expected : {"admin trial set", "admin trial disable", "admin trial show",
                                 "admin promo create", "admin promo list", "admin promo disable"}) {
        EXPECT_NE(std::find(paths.begin(), paths.end(), expected), paths.end()) << expected;
    }
}

TEST(AdminDefinition, AnnounceCommandsAreRegisteredWithinTheirShareOfTheLimit) {
    const auto paths = handlers::admin_command_paths();
    for (const auto* expected : {"admin announce send", "admin announce status"}) {
        EXPECT_NE(std::find(paths.begin(), paths.end(), expected), paths.end()) << expected;
    }
    const json body = discord::commands_to_json({handlers::admin_command_definition(0)});
    const json* group = nullptr;
    for (const auto& option : body[0]["options"])
        if (option["name"] == "announce") group = &option;
    ASSERT_NE(group, nullptr);
    std::size_t characters = 0;
    std::function<void(const json&)> walk = [&](const json& node) {
        if (node.is_array()) {
            for (const auto& item : node) walk(item);
            return;
        }
        if (!node.is_object()) return;
        for (const auto& [key, value] : node.items()) {
            if ((key == "name" || key == "description" || key == "value") && value.is_string()) {
                const std::string text = value.get<std::string>();
                characters += static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
                    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
                }));
            } else if (value.is_array() || value.is_object()) {
                walk(value);
            }
        }
    };
    walk(*group);
    EXPECT_LE(characters, 600u);
    std::cout << "/admin announce: " << characters << " characters\n";
}

class AdminCommandsTest : public AdminTest {};

TEST_F(AdminCommandsTest, DefinitionIsAcceptedByTheBulkOverwrite) {
    bool ok = false;
    nebula::discord::testing::run(io_, [&]() -> asio::awaitable<void> {
        auto put = co_await rest_->bulk_overwrite_guild_commands(shop_.application_id, shop_.guild_id,
                                                                 router_.commands());
        ok = put.has_value();
    });
    EXPECT_TRUE(ok);
    EXPECT_EQ(fake_->requests_matching("PUT /applications/.*/guilds/.*/commands").size(), 1u);
}

// ---- the admin role ----

TEST_F(AdminCommandsTest, MemberWithoutTheAdminRoleIsRefusedAndNothingChanges) {
    auto answer = admin({"plan", "create"}, {str("name", "Gold"), number("price", 100), integer("days", 30)},
                        /*with_role=*/false);
    EXPECT_EQ(answer.type, 4);
    EXPECT_TRUE(answer.ephemeral());
    EXPECT_EQ(answer.content(), "Only admins can do that.");
    EXPECT_TRUE(with_db([&](db::Connection& c) { return catalog_.plans(c, false); }).empty());
    EXPECT_TRUE(with_db([&](db::Connection& c) { return domain::recent_audit(c, 10); }).empty());
}

TEST_F(AdminCommandsTest, AutocompleteGivesNothingToANonAdmin) {
    make_plan("Monthly", domain::Piasters::from_pounds(150));
    auto answer = autocomplete({"plan", "edit"}, {focused("plan", "")}, /*with_role=*/false);
    EXPECT_EQ(answer.type, 8);
    EXPECT_TRUE(answer.data["choices"].empty());
}

// ---- plans ----

TEST_F(AdminCommandsTest, PlanCreateStoresThePlanAndAuditsTheAdmin) {
    auto answer = admin({"plan", "create"}, {str("name", "Gold"), number("price", 99.5), integer("days", 30),
                                             number("traffic_gb", 100), integer("devices", 3)});
    EXPECT_TRUE(answer.ephemeral());
    EXPECT_THAT(answer.content(), HasSubstr("Plan **Gold** created: 99.50 EGP, 30 days, 100 GB, 3 devices"));
    const auto plans = with_db([&](db::Connection& c) { return catalog_.plans(c, false); });
    ASSERT_EQ(plans.size(), 1u);
    EXPECT_EQ(plans[0].spec.price.value, 9950);
    EXPECT_EQ(plans[0].spec.traffic_bytes, std::int64_t{100} << 30);
    EXPECT_EQ(plans[0].spec.device_limit, 3);
    const auto audit = with_db([&](db::Connection& c) { return domain::recent_audit(c, 1); });
    ASSERT_EQ(audit.size(), 1u);
    EXPECT_EQ(audit[0].entry.actor, kAdminId);
    EXPECT_EQ(audit[0].entry.action, "plan.created");
}

TEST_F(AdminCommandsTest, PlanCreateRefusesBadInputWithClearMessages) {
    EXPECT_THAT(
        admin({"plan", "create"}, {str("name", "A"), number("price", -5), integer("days", 30)}).content(),
        HasSubstr("price cannot be negative"));
    EXPECT_THAT(
        admin({"plan", "create"}, {str("name", "A"), number("price", 10), integer("days", 0)}).content(),
        HasSubstr("at least 1 day"));
    EXPECT_THAT(
        admin({"plan", "create"}, {str("name", "A"), number("price", 10.555), integer("days", 3)}).content(),
        HasSubstr("at most two decimals"));
    EXPECT_THAT(admin({"plan", "create"},
                      {str("name", "A"), number("price", 10), integer("days", 3), number("traffic_gb", -1)})
                    .content(),
                HasSubstr("traffic cannot be negative"));
    EXPECT_TRUE(with_db([&](db::Connection& c) { return catalog_.plans(c, false); }).empty());

    make_plan("Monthly", domain::Piasters::from_pounds(150));
    EXPECT_THAT(admin({"plan", "create"}, {str("name", "Monthly"), number("price", 10), integer("days", 3)})
                    .content(),
                HasSubstr("a plan named Monthly already exists"));
    EXPECT_EQ(with_db([&](db::Connection& c) { return catalog_.plans(c, false); }).size(), 1u);
}

TEST_F(AdminCommandsTest, PlanEditChangesOnlyTheGivenFieldsAndListShowsThem) {
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    auto answer = admin({"plan", "edit"}, {str("plan", std::to_string(plan.id.value)), number("price", 120)});
    EXPECT_EQ(answer.content(), "Plan **Monthly** updated.");
    const auto after = with_db([&](db::Connection& c) { return catalog_.plan(c, plan.id); });
    EXPECT_EQ(after->spec.price.value, 12000);
    EXPECT_EQ(after->spec.duration_days, 30);

    // A name typed instead of picked works too; nothing to change is refused.
    EXPECT_THAT(admin({"plan", "edit"}, {str("plan", "monthly")}).content(), HasSubstr("at least one field"));
    // The Arabic name shown to Arabic customers, beside the English one.
    EXPECT_EQ(admin({"plan", "edit"}, {str("plan", "monthly"), str("name_ar", "شهري")}).content(),
              "Plan **Monthly** updated.");
    EXPECT_EQ(with_db([&](db::Connection& c) { return catalog_.plan(c, plan.id); })->spec.name_ar, "شهري");
    EXPECT_THAT(
        admin({"plan", "edit"}, {str("plan", "monthly"), str("name_ar", std::string(65, 'x'))}).content(),
        HasSubstr("Arabic plan name must be at most 64 characters"));
    EXPECT_THAT(admin({"plan", "edit"}, {str("plan", "Nope"), number("price", 1)}).content(),
                HasSubstr("no plan matches \"Nope\""));

    auto list = admin({"plan", "list"});
    EXPECT_TRUE(list.ephemeral());
    EXPECT_THAT(list.embed_text(),
                HasSubstr("**Monthly** — 120 EGP · 30 days · 50 GB · 2 devices · enabled"));
}

TEST_F(AdminCommandsTest, PlanDisableAndEnableToggleSaleAndAreAudited) {
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    EXPECT_EQ(admin({"plan", "disable"}, {str("plan", std::to_string(plan.id.value))}).content(),
              "Plan **Monthly** is no longer on sale.");
    EXPECT_FALSE(with_db([&](db::Connection& c) { return catalog_.plan(c, plan.id); })->active);
    EXPECT_EQ(admin({"plan", "enable"}, {str("plan", "#" + std::to_string(plan.id.value))}).content(),
              "Plan **Monthly** is on sale again.");
    EXPECT_TRUE(with_db([&](db::Connection& c) { return catalog_.plan(c, plan.id); })->active);
    const auto audit = with_db(
        [&](db::Connection& c) { return domain::audit_for(c, "plan", std::to_string(plan.id.value)); });
    ASSERT_EQ(audit.size(), 3u);
    EXPECT_EQ(audit[1].entry.actor, kAdminId);
}

TEST_F(AdminCommandsTest, PlanAutocompleteFiltersByWhatIsTyped) {
    make_plan("Monthly", domain::Piasters::from_pounds(150));
    const auto yearly = make_plan("Yearly", domain::Piasters::from_pounds(1500), 365);
    auto answer = autocomplete({"plan", "edit"}, {focused("plan", "year")});
    EXPECT_EQ(answer.type, 8);
    ASSERT_EQ(answer.data["choices"].size(), 1u);
    EXPECT_EQ(answer.data["choices"][0]["value"], std::to_string(yearly.id.value));
    EXPECT_THAT(answer.data["choices"][0]["name"].get<std::string>(), HasSubstr("Yearly — 1,500 EGP"));
    EXPECT_EQ(autocomplete({"plan", "disable"}, {focused("plan", "")}).data["choices"].size(), 2u);
}

TEST_F(AdminCommandsTest, RepliesInTheAdminsLanguage) {
    locale_ = ui::Locale::ar;
    auto answer = admin({"plan", "create"}, {str("name", "Gold"), number("price", 150), integer("days", 30)});
    EXPECT_THAT(answer.content(), HasSubstr("تم إنشاء الباقة"));
    EXPECT_THAT(answer.content(), HasSubstr("Gold"));
    EXPECT_THAT(
        admin({"plan", "create"}, {str("name", "Gold"), number("price", -1), integer("days", 30)}).content(),
        HasSubstr("تعذّر تنفيذ ذلك"));
    EXPECT_EQ(admin({"plan", "list"}, {}, /*with_role=*/false).content(),
              "\u200Fهذا الإجراء للمشرفين فقط.\u200F");
}

// ---- servers ----

TEST_F(AdminCommandsTest, ServerAddValidatesAndStoresTheServer) {
    const std::string key(40, 's');
    // With an audit channel, so the lines it would show are checked too.
    with_db([&](db::Connection& c) {
        domain::set_audit_channel(c, domain::DiscordId{100000000000000050ULL}, domain::Timestamp{});
        return 0;
    });
    EXPECT_THAT(admin({"server", "add"}, {str("name", "fra-1"), str("location", "Frankfurt"),
                                          str("url", "http://fra.example:8443"), str("key", key)})
                    .content(),
                HasSubstr("gateway URL must look like https://host:port"));
    EXPECT_THAT(admin({"server", "add"}, {str("name", "fra-1"), str("location", "Frankfurt"),
                                          str("url", "https://fra.example:8443"), str("key", "short")})
                    .content(),
                HasSubstr("at least 32 characters"));
    auto added = admin({"server", "add"},
                       {str("name", "fra-1"), str("location", "Frankfurt"),
                        str("url", "https://fra.example:8443"), str("key", key), integer("capacity", 250)});
    EXPECT_EQ(added.content(), "Server **fra-1** (Frankfurt) added.");
    EXPECT_THAT(admin({"server", "add"}, {str("name", "fra-1"), str("location", "Berlin"),
                                          str("url", "https://ber.example:8443"), str("key", key)})
                    .content(),
                HasSubstr("a server named fra-1 already exists"));
    const auto servers = with_db([&](db::Connection& c) { return catalog_.servers(c); });
    ASSERT_EQ(servers.size(), 1u);
    EXPECT_EQ(servers[0].spec.capacity, 250);
    // The key is a secret: it must not be echoed or audited.
    EXPECT_THAT(added.content(), Not(HasSubstr(key)));
    const auto audit = with_db([&](db::Connection& c) { return domain::recent_audit(c, 5); });
    for (const auto& record : audit) {
        if (record.entry.after) {
            EXPECT_THAT(record.entry.after->dump(), Not(HasSubstr(key)));
        }
    }
    // ... nor posted to the audit channel.
    const auto queued = with_db([&](db::Connection& c) { return domain::audit_outbox(c, 10); });
    ASSERT_FALSE(queued.empty());
    for (const auto& record : queued) EXPECT_THAT(ui::audit_line(record), Not(HasSubstr(key)));
}

TEST_F(AdminCommandsTest, ServerPinIsAcceptedAsOpensslPrintsItAndStoredInOneForm) {
    const std::string normal = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b";
    std::string printed = "sha256 Fingerprint=";  // `openssl x509 -noout -fingerprint -sha256`
    for (std::size_t i = 0; i < normal.size(); i += 2) {
        if (i > 0) printed += ':';
        for (char c : normal.substr(i, 2)) printed += static_cast<char>(std::toupper(c));
    }
    EXPECT_EQ(admin({"server", "add"}, {str("name", "fra-1"), str("location", "Frankfurt"),
                                        str("url", "https://fra.example:8443"),
                                        str("key", std::string(40, 's')), str("pin", printed)})
                  .content(),
              "Server **fra-1** (Frankfurt) added.");
    auto stored = with_db([&](db::Connection& c) { return catalog_.servers(c); });
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].spec.tls_pin_sha256, normal);

    std::string spaced;  // upper case with spaces, as some tools print it
    for (char c : normal) spaced += static_cast<char>(std::toupper(c));
    EXPECT_EQ(admin({"server", "edit"},
                    {str("server", "fra-1"), str("pin", spaced.substr(0, 32) + " " + spaced.substr(32))})
                  .content(),
              "Server **fra-1** updated.");
    EXPECT_EQ(with_db([&](db::Connection& c) { return catalog_.servers(c); })[0].spec.tls_pin_sha256, normal);

    EXPECT_THAT(admin({"server", "edit"}, {str("server", "fra-1"), str("pin", "sha1 Fingerprint=AB:CD:EF")})
                    .content(),
                HasSubstr("-fingerprint -sha256"));
}

TEST_F(AdminCommandsTest, ServerEditListAndDisable) {
    const auto server = make_server("fra-1");
    EXPECT_EQ(
        admin({"server", "edit"}, {str("server", "fra-1"), integer("capacity", 5), boolean("enabled", false)})
            .content(),
        "Server **fra-1** updated.");
    const auto after = with_db([&](db::Connection& c) { return catalog_.server(c, server.id); });
    EXPECT_EQ(after->spec.capacity, 5);
    EXPECT_FALSE(after->enabled);
    EXPECT_EQ(after->spec.gateway_key, std::string(40, 'k')) << "the key is kept when not given";
    EXPECT_THAT(admin({"server", "list"}).embed_text(),
                HasSubstr("**fra-1** (Frankfurt) — not checked yet · accounts: 0/5 · disabled"));
}

TEST_F(AdminCommandsTest, ServerTestIsAHealthCallThatRecordsTheResult) {
    const auto server = make_server("fra-1");
    EXPECT_THAT(admin({"server", "test"}, {str("server", std::to_string(server.id.value))}).content(),
                HasSubstr("**fra-1** is healthy"));
    EXPECT_EQ(with_db([&](db::Connection& c) { return catalog_.server(c, server.id); })->health,
              domain::ServerHealth::up);
    gateway_.set_down(domain::GatewayError{domain::GatewayErrorCode::unreachable, 0, "connection refused"});
    EXPECT_THAT(admin({"server", "test"}, {str("server", "fra-1")}).content(),
                HasSubstr("**fra-1** failed the health check"));
    EXPECT_EQ(with_db([&](db::Connection& c) { return catalog_.server(c, server.id); })->health,
              domain::ServerHealth::down);
}

TEST_F(AdminCommandsTest, ServerRemoveRefusesWhileAccountsLiveThere) {
    const auto busy = make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    fulfilled_account(kCustomer, plan.id, "receipt-1");
    EXPECT_THAT(admin({"server", "remove"}, {str("server", std::to_string(busy.id.value))}).content(),
                HasSubstr("still holds accounts (1)"));
    const auto idle = make_server("ber-1");
    EXPECT_EQ(admin({"server", "remove"}, {str("server", "ber-1")}).content(), "Server **ber-1** removed.");
    const auto servers = with_db([&](db::Connection& c) { return catalog_.servers(c); });
    ASSERT_EQ(servers.size(), 1u);
    EXPECT_EQ(servers[0].id, busy.id);
    const auto audit = with_db(
        [&](db::Connection& c) { return domain::audit_for(c, "server", std::to_string(idle.id.value)); });
    ASSERT_FALSE(audit.empty());
    EXPECT_EQ(audit.back().entry.action, "server.removed");
    EXPECT_EQ(audit.back().entry.actor, kAdminId);
}

// ---- payment methods ----

TEST_F(AdminCommandsTest, PaymentSetValidatesTheWalletNumberAndEnables) {
    EXPECT_THAT(
        admin({"payment", "set"}, {str("method", "vodafone_cash"), str("account", "12345")}).content(),
        HasSubstr("11 digits starting with 01"));
    EXPECT_THAT(
        admin({"payment", "set"}, {str("method", "instapay"), str("account", "not a handle")}).content(),
        HasSubstr("name@instapay"));
    auto set = admin({"payment", "set"}, {str("method", "vodafone_cash"), str("account", "010 1234 5678")});
    EXPECT_THAT(set.content(), HasSubstr("account set to `01012345678`"));
    auto off = admin({"payment", "set"}, {str("method", "vodafone_cash"), boolean("enabled", false)});
    EXPECT_THAT(off.content(), HasSubstr("no longer offered"));
    EXPECT_TRUE(with_db([&](db::Connection& c) { return catalog_.available_payment_methods(c); }).empty());
    admin({"payment", "set"}, {str("method", "vodafone_cash"), boolean("enabled", true)});
    const auto available = with_db([&](db::Connection& c) { return catalog_.available_payment_methods(c); });
    ASSERT_EQ(available.size(), 1u);
    EXPECT_EQ(available[0].account, "01012345678");
    EXPECT_THAT(admin({"payment", "set"}, {str("method", "we_pay")}).content(), HasSubstr("give an account"));
    EXPECT_THAT(admin({"payment", "list"}).embed_text(), HasSubstr("01012345678 · enabled"));
}

// ---- stats, export, audit ----

TEST_F(AdminCommandsTest, StatsShowsTheFiguresWithARevenueChart) {
    make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    fulfilled_account(kCustomer, plan.id, "receipt-1");
    fulfilled_account(kCustomer + 1, plan.id, "receipt-2");
    auto answer = admin({"stats"}, {str("period", "7d")});
    EXPECT_TRUE(answer.ephemeral());
    const auto text = answer.embed_text();
    EXPECT_THAT(text, HasSubstr("Statistics — Last 7 days"));
    EXPECT_THAT(text, HasSubstr("Revenue: 300 EGP"));
    EXPECT_THAT(text, HasSubstr("Orders: 2"));
    EXPECT_THAT(text, HasSubstr("Conversion: 100.0% (2/2)"));
    EXPECT_THAT(text, HasSubstr("Active accounts: 2"));
    ASSERT_EQ(answer.files.size(), 1u);
    EXPECT_EQ(answer.files[0].filename, "revenue.png");
    EXPECT_EQ(answer.files[0].data.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(answer.data["embeds"][0]["image"]["url"], "attachment://revenue.png");
    EXPECT_THAT(admin({"stats"}, {str("period", "fortnight")}).content(), HasSubstr("period must be"));
    EXPECT_EQ(admin({"stats"}, {str("period", "all")}).files.size(), 1u);
}

// The chart's texts come in the admin's language: its alt text is the chart's title, and the
// Arabic image differs from the English one drawn from the same figures.
TEST_F(AdminCommandsTest, StatsChartIsDrawnInTheAdminsLanguage) {
    make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    fulfilled_account(kCustomer, plan.id, "receipt-1");
    const auto english = admin({"stats"}, {str("period", "7d")});
    locale_ = ui::Locale::ar;
    const auto arabic = admin({"stats"}, {str("period", "7d")});
    ASSERT_EQ(english.files.size(), 1u);
    ASSERT_EQ(arabic.files.size(), 1u);
    const auto alt_text = [](const Answer& a) {
        return a.data["attachments"][0].value("description", std::string());
    };
    EXPECT_EQ(alt_text(english), "Revenue — Last 7 days");
    EXPECT_THAT(alt_text(arabic), HasSubstr("الإيرادات — "));
    EXPECT_THAT(alt_text(arabic), HasSubstr("آخر 7 أيام"));
    const auto size_of = [](const std::string& png) {
        // The IHDR chunk's width and height, big-endian, at bytes 16..23.
        const auto be32 = [&](std::size_t at) {
            std::uint32_t value = 0;
            for (std::size_t i = 0; i < 4; ++i)
                value = value << 8 | static_cast<unsigned char>(png.at(at + i));
            return value;
        };
        return std::pair{be32(16), be32(20)};
    };
    EXPECT_EQ(size_of(arabic.files[0].data), (std::pair<std::uint32_t, std::uint32_t>{900, 400}));
    EXPECT_FALSE(arabic.files[0].data == english.files[0].data);
}

TEST_F(AdminCommandsTest, ExportSendsTheTableAsAFile) {
    make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    fulfilled_account(kCustomer, plan.id, "receipt-1");
    auto csv = admin({"export", "orders"}, {str("format", "csv")});
    EXPECT_THAT(csv.content(), HasSubstr("orders export (CSV, rows: 1)"));
    ASSERT_EQ(csv.files.size(), 1u);
    EXPECT_THAT(csv.files[0].filename, HasSubstr("nebula-orders-"));
    EXPECT_THAT(csv.files[0].data, HasSubstr("NL-000001"));
    EXPECT_THAT(csv.files[0].data, HasSubstr("\r\n"));

    auto users = admin({"export", "users"}, {str("format", "json")});
    ASSERT_EQ(users.files.size(), 1u);
    const auto parsed = json::parse(users.files[0].data, nullptr, false);
    ASSERT_TRUE(parsed.is_array());
    EXPECT_EQ(parsed.size(), 1u);
    EXPECT_EQ(parsed[0]["discord_id"], std::to_string(kCustomer));

    auto audit = admin({"export", "audit"}, {str("format", "csv")});
    ASSERT_EQ(audit.files.size(), 1u);
    EXPECT_THAT(audit.files[0].data, HasSubstr("order.approved"));
}

TEST_F(AdminCommandsTest, AuditListsRecentEntriesAndFiltersByMember) {
    make_plan("Monthly", domain::Piasters::from_pounds(150));
    admin({"plan", "create"}, {str("name", "Gold"), number("price", 10), integer("days", 3)});
    make_user(kCustomer);
    admin({"user", "ban"}, {user_option("user", kCustomer), str("reason", "chargeback")});

    auto all = admin({"audit"}, {integer("limit", 10)});
    EXPECT_THAT(all.embed_text(), HasSubstr("`plan.created`"));
    EXPECT_THAT(all.embed_text(), HasSubstr("`user.banned`"));
    auto about_customer = admin({"audit"}, {user_option("user", kCustomer)});
    EXPECT_THAT(about_customer.embed_text(), HasSubstr("`user.banned`"));
    EXPECT_THAT(about_customer.embed_text(), Not(HasSubstr("plan.created")));
    auto by_admin = admin({"audit"}, {user_option("user", kAdmin), integer("limit", 1)});
    EXPECT_THAT(by_admin.embed_text(), HasSubstr("<@500000000000000001> `user.banned`"));
    EXPECT_EQ(admin({"audit"}, {user_option("user", 123456789)}).content(), "No audit entries match.");

    // Another admin's decision about the customer's order shows under the customer too.
    make_server("fra-1");
    const auto plans = with_db([&](db::Connection& c) { return catalog_.plans(c, false); });
    const auto order = order_under_review(make_user(kCustomer + 1), plans[0].id, "receipt-9");
    const auto declined = with_db([&](db::Connection& c) {
        return orders_->decline(c, order.id, domain::DiscordId{42}, "blurry", true);
    });
    ASSERT_TRUE(declined.has_value());
    auto about_order = admin({"audit"}, {user_option("user", kCustomer + 1)});
    EXPECT_THAT(about_order.embed_text(),
                HasSubstr("<@42> `order.declined` order #" + std::to_string(order.id.value)));
    EXPECT_THAT(about_order.embed_text(), HasSubstr("`order.receipt_submitted`"));
}

// ---- users ----

TEST_F(AdminCommandsTest, UserBanInfoAndUnban) {
    make_user(kCustomer);
    const json resolved{
        {"users", {{std::to_string(kCustomer), {{"id", std::to_string(kCustomer)}, {"username", "cust"}}}}}};
    EXPECT_EQ(
        admin({"user", "ban"}, {user_option("user", kCustomer), str("reason", "chargeback")}, true, resolved)
            .content(),
        "<@500000000000000002> is banned: chargeback");
    const auto banned =
        with_db([&](db::Connection& c) { return users_.find(c, domain::DiscordId{kCustomer}); });
    EXPECT_EQ(banned->status, domain::UserStatus::banned);
    EXPECT_THAT(admin({"user", "info"}, {user_option("user", kCustomer)}).content(),
                HasSubstr("banned (chargeback) · orders: 0 · accounts: 0"));
    EXPECT_EQ(admin({"user", "unban"}, {user_option("user", kCustomer)}).content(),
              "<@500000000000000002> is no longer banned.");
    EXPECT_EQ(
        with_db([&](db::Connection& c) { return users_.find(c, domain::DiscordId{kCustomer}); })->status,
        domain::UserStatus::active);
    EXPECT_THAT(admin({"user", "unban"}, {user_option("user", 42)}).content(),
                HasSubstr("never used the bot"));
    EXPECT_EQ(admin({"user", "info"}, {user_option("user", 42)}).content(), "Nothing found for <@42>.");
}

TEST_F(AdminCommandsTest, BanningAMemberTheBotHasNotSeenStopsTheirFirstOrder) {
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    admin({"user", "ban"}, {user_option("user", kCustomer), str("reason", "fraud")});
    const auto user = make_user(kCustomer);
    const auto placed = with_db([&](db::Connection& c) { return orders_->place(c, user, plan.id); });
    ASSERT_FALSE(placed.has_value());
    EXPECT_EQ(placed.error().code, domain::ErrorCode::forbidden);
}

// ---- accounts ----

TEST_F(AdminCommandsTest, AccountOperationsChangeThePanelAndTheDatabase) {
    make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    const auto account = fulfilled_account(kCustomer, plan.id, "receipt-1");
    const std::string id = std::to_string(account.id.value);

    auto info = admin({"account", "info"}, {str("account", id)});
    EXPECT_THAT(info.embed_text(), HasSubstr(account.client_email));
    EXPECT_THAT(info.embed_text(), HasSubstr("Status: Active"));
    EXPECT_THAT(info.embed_text(), HasSubstr("30 days left"));

    auto extended = admin({"account", "extend"}, {str("account", id), integer("days", 10)});
    EXPECT_THAT(extended.content(), HasSubstr("extended by 10 days"));
    const auto after = with_db([&](db::Connection& c) { return domain::accounts::get(c, account.id); });
    EXPECT_EQ(after->expires_at, account.expires_at + std::chrono::days(10));
    EXPECT_EQ(gateway_.clients().at(account.client_email).expiry_ms,
              domain::epoch_seconds(after->expires_at) * 1000);

    EXPECT_THAT(admin({"account", "disable"}, {str("account", account.client_email)}).content(),
                HasSubstr("disabled"));
    EXPECT_FALSE(gateway_.clients().at(account.client_email).enable);
    EXPECT_EQ(with_db([&](db::Connection& c) { return domain::accounts::get(c, account.id); })->status,
              domain::AccountStatus::disabled);
    EXPECT_THAT(admin({"account", "enable"}, {str("account", id)}).content(), HasSubstr("enabled"));
    EXPECT_TRUE(gateway_.clients().at(account.client_email).enable);

    gateway_.set_usage(account.client_email, 1000, 2000);
    EXPECT_THAT(admin({"account", "reset-traffic"}, {str("account", id)}).content(), HasSubstr("reset"));
    EXPECT_EQ(gateway_.clients().at(account.client_email).up, 0);

    auto config = admin({"account", "config"}, {str("account", id)});
    EXPECT_THAT(config.content(), HasSubstr("vless://"));
    ASSERT_EQ(config.files.size(), 1u);
    EXPECT_EQ(config.files[0].data.substr(1, 3), "PNG");

    EXPECT_THAT(admin({"account", "extend"}, {str("account", id), integer("days", 0)}).content(),
                HasSubstr("at least 1"));
    EXPECT_THAT(admin({"account", "info"}, {str("account", "999")}).content(),
                HasSubstr("no account matches"));

    EXPECT_THAT(admin({"account", "delete"}, {str("account", id)}).content(), HasSubstr("deleted"));
    EXPECT_EQ(gateway_.clients().count(account.client_email), 0u);
    EXPECT_EQ(with_db([&](db::Connection& c) { return domain::accounts::get(c, account.id); })->status,
              domain::AccountStatus::deleted);
    const auto audit = with_db([&](db::Connection& c) { return domain::audit_for(c, "account", id); });
    std::vector<std::string> actions;
    for (const auto& record : audit) {
        if (record.entry.actor == kAdminId) actions.push_back(record.entry.action);
    }
    EXPECT_THAT(actions, ::testing::ElementsAre("account.extended", "account.disabled", "account.enabled",
                                                "account.traffic_reset", "account.deleted"));
}

TEST_F(AdminCommandsTest, AccountChangeWithTheGatewayDownLeavesTheDatabaseAlone) {
    make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    const auto account = fulfilled_account(kCustomer, plan.id, "receipt-1");
    gateway_.set_down(domain::GatewayError{domain::GatewayErrorCode::server_error, 503, "panel down"});
    EXPECT_THAT(
        admin({"account", "extend"}, {str("account", std::to_string(account.id.value)), integer("days", 5)})
            .content(),
        HasSubstr("That didn't work"));
    EXPECT_EQ(with_db([&](db::Connection& c) { return domain::accounts::get(c, account.id); })->expires_at,
              account.expires_at);
}

TEST_F(AdminCommandsTest, AccountAutocompleteFindsByEmailAndCustomer) {
    make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    const auto account = fulfilled_account(kCustomer, plan.id, "receipt-1");
    fulfilled_account(kCustomer + 1, plan.id, "receipt-2");
    auto by_email = autocomplete({"account", "info"}, {focused("account", account.client_email)});
    ASSERT_EQ(by_email.data["choices"].size(), 1u);
    EXPECT_EQ(by_email.data["choices"][0]["value"], std::to_string(account.id.value));
    auto by_name = autocomplete({"account", "extend"},
                                {focused("account", "user50000000000000000"), integer("days", 3)});
    EXPECT_EQ(by_name.data["choices"].size(), 2u);
    EXPECT_EQ(autocomplete({"account", "info"}, {focused("account", "")}).data["choices"].size(), 2u);
}

// ---- orders ----

TEST_F(AdminCommandsTest, OrderApproveProvisionsOnceAndTellsTheReviewFlow) {
    make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    const auto order = order_under_review(make_user(kCustomer), plan.id, "receipt-1");
    auto info = admin({"order", "info"}, {str("order", order.reference)});
    EXPECT_THAT(info.embed_text(), HasSubstr("Under review"));
    EXPECT_THAT(info.embed_text(), HasSubstr("150 EGP"));

    EXPECT_EQ(admin({"order", "approve"}, {str("order", order.reference)}).content(),
              "Order " + order.reference + " approved.");
    EXPECT_THAT(hook_calls_, ::testing::ElementsAre("fulfilled " + order.reference));
    EXPECT_EQ(with_db([&](db::Connection& c) { return orders_->get(c, order.id); })->status,
              domain::OrderStatus::fulfilled);
    // A second approve (another admin, a double click) changes nothing.
    EXPECT_THAT(admin({"order", "approve"}, {str("order", std::to_string(order.id.value))}).content(),
                HasSubstr("That didn't work"));
    EXPECT_EQ(gateway_.create_calls(), 1);
    EXPECT_EQ(gateway_.clients().size(), 1u);
}

// The admin sees whether the customer has everything of a fulfilled order.
TEST_F(AdminCommandsTest, OrderInfoShowsWhetherDeliveryIsComplete) {
    make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    const auto order = order_under_review(make_user(kCustomer), plan.id, "receipt-1");
    EXPECT_THAT(admin({"order", "info"}, {str("order", order.reference)}).embed_text(),
                ::testing::Not(HasSubstr("Delivery")));
    EXPECT_EQ(admin({"order", "approve"}, {str("order", order.reference)}).content(),
              "Order " + order.reference + " approved.");
    // Nothing reached Discord yet (this test's review flow delivers nothing).
    auto info = admin({"order", "info"}, {str("order", order.reference)});
    EXPECT_THAT(info.embed_text(), HasSubstr("Delivery"));
    EXPECT_THAT(info.embed_text(), HasSubstr("pending: review card, link in the order channel, link by DM, "
                                             "Subscriber role, billing line, channel closing"));
    with_db([&](db::Connection& c) {
        const auto t = domain::to_timestamp(std::chrono::system_clock::now());
        for (auto part : {domain::DeliveryPart::card, domain::DeliveryPart::channel, domain::DeliveryPart::dm,
                          domain::DeliveryPart::role, domain::DeliveryPart::billing}) {
            domain::deliveries::mark_done(c, order.id, part, t, "1");
        }
        EXPECT_FALSE(domain::deliveries::complete_if_done(c, order.id, t));
        return 0;
    });
    info = admin({"order", "info"}, {str("order", order.reference)});
    EXPECT_THAT(info.embed_text(), HasSubstr("pending: channel closing"));
    with_db([&](db::Connection& c) {
        const auto t = domain::to_timestamp(std::chrono::system_clock::now());
        domain::deliveries::mark_done(c, order.id, domain::DeliveryPart::closing, t);
        EXPECT_TRUE(domain::deliveries::complete_if_done(c, order.id, t));
        return 0;
    });
    info = admin({"order", "info"}, {str("order", order.reference)});
    EXPECT_THAT(info.embed_text(), HasSubstr("complete"));
    EXPECT_THAT(info.embed_text(), ::testing::Not(HasSubstr("pending")));
}

TEST_F(AdminCommandsTest, OrderApproveWithTheGatewayDownStaysApproved) {
    make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    const auto order = order_under_review(make_user(kCustomer), plan.id, "receipt-1");
    gateway_.script_create({CreateFault::server_error});
    EXPECT_THAT(admin({"order", "approve"}, {str("order", order.reference)}).content(),
                HasSubstr("Approved, but the account is not created yet"));
    EXPECT_THAT(hook_calls_, ::testing::ElementsAre("pending " + order.reference));
    EXPECT_EQ(with_db([&](db::Connection& c) { return orders_->get(c, order.id); })->status,
              domain::OrderStatus::approved);
}

TEST_F(AdminCommandsTest, OrderDeclineNeedsUnderReviewAndRecordsTheReason) {
    make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    const auto order = order_under_review(make_user(kCustomer), plan.id, "receipt-1");
    EXPECT_EQ(admin({"order", "decline"}, {str("order", order.reference), str("reason", "amount too low"),
                                           boolean("allow_reupload", false)})
                  .content(),
              "Order " + order.reference + " declined: amount too low");
    const auto after = with_db([&](db::Connection& c) { return orders_->get(c, order.id); });
    EXPECT_EQ(after->status, domain::OrderStatus::declined);
    EXPECT_EQ(after->decline_reason, "amount too low");
    EXPECT_FALSE(after->allow_reupload);
    EXPECT_EQ(after->reviewer_id, domain::DiscordId{kAdmin});
    EXPECT_THAT(hook_calls_, ::testing::ElementsAre("declined " + order.reference));
    EXPECT_THAT(
        admin({"order", "decline"}, {str("order", order.reference), str("reason", "again")}).content(),
        HasSubstr("That didn't work"));
    EXPECT_THAT(admin({"order", "info"}, {str("order", "NL-999999")}).content(),
                HasSubstr("no order matches"));
}

// A ready-made reason: stored in English, read by each customer in their language; with the admin's
// own words beside it, or alone; neither is refused.
TEST_F(AdminCommandsTest, OrderDeclineOffersReadyMadeBilingualReasons) {
    make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    const auto command = handlers::admin_command_definition(0);
    EXPECT_TRUE(discord::validate(command).has_value());
    const auto definition = discord::commands_to_json({command});
    EXPECT_NE(definition.dump().find("\"preset\""), std::string::npos);
    EXPECT_NE(definition.dump().find("المبلغ الذي وصلنا لا يطابق قيمة الطلب."), std::string::npos)
        << "the choices show both languages";

    const auto first = order_under_review(make_user(kCustomer), plan.id, "receipt-1");
    EXPECT_THAT(admin({"order", "decline"}, {str("order", first.reference)}).content(),
                HasSubstr("give a reason for the customer"));
    EXPECT_EQ(
        admin({"order", "decline"},
              {str("order", first.reference), str("preset", "amount"), str("reason", "we got 100")})
            .content(),
        "Order " + first.reference + " declined: The amount received does not match the order. — we got 100");
    const auto after = with_db([&](db::Connection& c) { return orders_->get(c, first.id); });
    EXPECT_EQ(after->decline_reason, "The amount received does not match the order. — we got 100");
    EXPECT_EQ(ui::translate_decline_reason(ui::Locale::ar, *after->decline_reason),
              ui::tr(ui::Locale::ar, ui::Msg::decline_reason_amount) + " — we got 100");
}

TEST_F(AdminCommandsTest, DefaultHooksTellTheCustomerInTheOrderChannel) {
    make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    const auto order = order_under_review(make_user(kCustomer), plan.id, "receipt-1");
    std::optional<discord::Snowflake> channel;
    nebula::discord::testing::run(io_, [&]() -> asio::awaitable<void> {
        discord::ChannelCreate create;
        create.name = "order-000001";
        auto made = co_await rest_->create_guild_channel(shop_.guild_id, std::move(create), "");
        EXPECT_TRUE(made.has_value());
        if (made) channel = made->id;
    });
    ASSERT_TRUE(channel.has_value());
    ASSERT_TRUE(with_db([&](db::Connection& c) { return orders_->set_channel(c, order.id, *channel); }));

    // The app's registration: no hooks passed, the defaults tell the customer.
    handlers::Router router;
    handlers::register_admin_handlers(router, *ctx_);
    const auto raw = fake_->make_interaction(
        2, kAdmin, {kAdminRole},
        json{{"id", "990000000000000001"},
             {"name", "admin"},
             {"type", 1},
             {"options",
              json::array({json{
                  {"name", "order"},
                  {"type", 2},
                  {"options",
                   json::array({json{{"name", "decline"},
                                     {"type", 1},
                                     {"options", json::array({str("order", order.reference),
                                                              str("reason", "wrong amount")})}}})}}})}});
    auto interaction = discord::parse_interaction(raw);
    ASSERT_TRUE(interaction);
    auto responder = discord::make_responder(io_.get_executor(), *rest_, system_clock_, *interaction);
    handlers::Call call{*ctx_, responder->interaction(), *responder, ui::Locale::en, true};
    const auto* handler = router.command("admin order decline");
    ASSERT_NE(handler, nullptr);
    nebula::discord::testing::run(io_, [&]() -> asio::awaitable<void> { co_await (*handler)(call); });

    const auto posted = fake_->requests_matching("POST /channels/" + channel->str() + "/messages");
    ASSERT_EQ(posted.size(), 1u);
    EXPECT_THAT(posted[0].json.value("content", ""), HasSubstr("was declined: wrong amount"));
    EXPECT_TRUE(hook_calls_.empty());
}

TEST_F(AdminCommandsTest, OrderAutocompleteListsOrdersUnderReviewFirst) {
    make_server("fra-1");
    const auto plan = make_plan("Monthly", domain::Piasters::from_pounds(150));
    fulfilled_account(kCustomer, plan.id, "receipt-1");
    const auto pending = order_under_review(make_user(kCustomer + 1), plan.id, "receipt-2");
    auto answer = autocomplete({"order", "approve"}, {focused("order", "NL-")});
    ASSERT_EQ(answer.data["choices"].size(), 2u);
    EXPECT_EQ(answer.data["choices"][0]["value"], std::to_string(pending.id.value));
    EXPECT_THAT(answer.data["choices"][0]["name"].get<std::string>(), HasSubstr("under_review"));
}

}  // namespace
}  // namespace nebula::bot::testing
