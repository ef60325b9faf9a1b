// The /admin command tree. Option names here are read back by the handlers in admin_*.cpp.
#include "bot/handlers/admin_commands.hpp"

#include <algorithm>

namespace nebula::bot::handlers {
namespace {

using discord::CommandOption;
using discord::OptionType;

CommandOption required(OptionType type, std::string name, std::string description) {
    return CommandOption::value(type, std::move(name), std::move(description), true);
}

CommandOption optional(OptionType type, std::string name, std::string description) {
    return CommandOption::value(type, std::move(name), std::move(description), false);
}

CommandOption picker(std::string name, std::string description, bool is_required = true) {
    CommandOption o =
        CommandOption::value(OptionType::string, std::move(name), std::move(description), is_required);
    o.autocomplete = true;
    o.max_length = 100;
    return o;
}

CommandOption text(std::string name, std::string description, bool is_required, int max_length) {
    CommandOption o =
        CommandOption::value(OptionType::string, std::move(name), std::move(description), is_required);
    o.min_length = 1;
    o.max_length = max_length;
    return o;
}

CommandOption integer(std::string name, std::string description, bool is_required, int min, int max) {
    CommandOption o =
        CommandOption::value(OptionType::integer, std::move(name), std::move(description), is_required);
    o.min_value = min;
    o.max_value = max;
    return o;
}

CommandOption number(std::string name, std::string description, bool is_required, double min, double max) {
    CommandOption o =
        CommandOption::value(OptionType::number, std::move(name), std::move(description), is_required);
    o.min_value = min;
    o.max_value = max;
    return o;
}

// The fields of a plan; every one required when creating, optional when editing.
std::vector<CommandOption> plan_fields(bool creating) {
    return {text("name", "Plan name shown to customers", creating, 64),
            number("price", "Price in EGP, e.g. 150 or 99.50", creating, 0, 1'000'000),
            integer("days", "Duration in days", creating, 1, 3650),
            number("traffic_gb", "Traffic quota in GB (0 = unlimited)", false, 0, 1'048'576),
            integer("devices", "Simultaneous devices (0 = unlimited)", false, 0, 100),
            integer("sort", "Position in the plan list (lower first)", false, -1000, 1000),
            text("name_ar", "Arabic name shown to Arabic customers (default: the name)", false, 64)};
}

std::vector<CommandOption> server_fields(bool adding) {
    return {text("name", "Server name", adding, 64),
            text("location", "Location shown to customers, e.g. Frankfurt", adding, 64),
            text("url", "Gateway URL, https://host:port", adding, 200),
            text("key", "Gateway HMAC key (at least 32 characters)", adding, 200),
            text("pin", "Gateway certificate SHA-256, as openssl -fingerprint prints it; empty trusts CAs",
                 false, 128),
            integer("inbound", "3x-ui inbound id (default 1)", false, 1, 1'000'000),
            integer("capacity", "Accounts this server may hold (default 100)", false, 1, 1'000'000),
            integer("weight", "Load-balancer tie-break, higher first (default 1)", false, 1, 1000)};
}

// The ready-made reasons: the customer reads the one chosen in their own language.
CommandOption decline_preset() {
    CommandOption o = optional(OptionType::string, "preset", "A ready-made reason (English / Arabic)");
    for (std::string_view code : ui::decline_presets()) {
        const auto msg = *ui::decline_preset_msg(code);
        std::string name = std::string(ui::msg_template(ui::Locale::en, msg)) + " / " +
                           std::string(ui::msg_template(ui::Locale::ar, msg));
        // Discord allows 100 characters; the English alone when both do not fit.
        const auto characters = std::count_if(name.begin(), name.end(), [](char c) {
            return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // not a UTF-8 continuation byte
        });
        if (characters > 100) name = std::string(ui::msg_template(ui::Locale::en, msg));
        o.choices.push_back({std::move(name), std::string(code)});
    }
    return o;
}

CommandOption format_option() {
    CommandOption o = required(OptionType::string, "format", "File format");
    o.choices = {{"CSV", std::string("csv")}, {"JSON", std::string("json")}};
    return o;
}

}  // namespace

discord::Command admin_command_definition(std::uint64_t default_member_permissions) {
    using G = CommandOption;

    auto server_edit = server_fields(false);
    server_edit.insert(server_edit.begin(), picker("server", "Server to edit"));
    server_edit.push_back(optional(OptionType::boolean, "enabled", "Offer this server for new accounts"));

    auto plan_edit = plan_fields(false);
    plan_edit.insert(plan_edit.begin(), picker("plan", "Plan to edit"));

    CommandOption method = required(OptionType::string, "method", "Payment method");
    method.choices = {{"Vodafone Cash", std::string("vodafone_cash")},
                      {"Orange Cash", std::string("orange_cash")},
                      {"Etisalat/e& Cash", std::string("etisalat_cash")},
                      {"WE Pay", std::string("we_pay")},
                      {"InstaPay", std::string("instapay")}};

    CommandOption period = optional(OptionType::string, "period", "Time range (default: last 30 days)");
    period.choices = {{"Today", std::string("today")},
                      {"Last 7 days", std::string("7d")},
                      {"Last 30 days", std::string("30d")},
                      {"All time", std::string("all")}};

    CommandOption audience = required(OptionType::string, "audience", "Who it is for");
    audience.choices = {{"All customers", std::string("all")},
                        {"Active accounts", std::string("active")},
                        {"Ended accounts", std::string("expired")},
                        {"Server", std::string("server")}};

    const auto account = [] { return picker("account", "Account: id, nl-… email or customer"); };
    const auto order = [] { return picker("order", "Order reference (NL-000123) or id"); };
    const auto member = [] { return required(OptionType::user, "user", "Discord member"); };
    const auto query = [](bool needed) {
        return text("query", "Name, id, order or account email", needed, 30);
    };
    const auto reason = [] { return text("reason", "Reason (audit log)", true, 200); };
    CommandOption customer_status = optional(OptionType::string, "status", "Which customers (default: all)");
    customer_status.choices = {{"Active", std::string("active")},
                               {"Banned", std::string("banned")},
                               {"With an active account", std::string("subscribed")}};
    CommandOption expiry_from = required(OptionType::string, "from", "Count the new expiry from");
    expiry_from.choices = {{"Now", std::string("now")}, {"Current expiry", std::string("expiry")}};

    discord::Command command;
    command.name = "admin";
    command.description = "Shop administration";
    command.default_member_permissions = default_member_permissions;
    command.options = {
        G::group("plan", "Plans",
                 {G::subcommand("create", "Create a plan", plan_fields(true)),
                  G::subcommand("edit", "Change a plan", std::move(plan_edit)),
                  G::subcommand("list", "List plans", {}),
                  G::subcommand("enable", "Put a plan on sale", {picker("plan", "Plan")}),
                  G::subcommand("disable", "Take a plan off sale", {picker("plan", "Plan")})}),
        G::group(
            "server", "VPN servers",
            {G::subcommand("add", "Add a server", server_fields(true)),
             G::subcommand("edit", "Change a server", std::move(server_edit)),
             G::subcommand("list", "List servers with health and load", {}),
             G::subcommand("remove", "Remove a server that holds no accounts", {picker("server", "Server")}),
             G::subcommand("test", "Signed health check of the server's gateway",
                           {picker("server", "Server")})}),
        G::group("payment", "Payment methods",
                 {G::subcommand("set", "Set a wallet number or InstaPay handle",
                                {method, text("account", "Wallet number or InstaPay handle", false, 100),
                                 text("instructions_en", "Extra instructions (English)", false, 1000),
                                 text("instructions_ar", "Extra instructions (Arabic)", false, 1000),
                                 optional(OptionType::boolean, "enabled", "Offer this method to customers")}),
                  G::subcommand("list", "List payment methods", {})}),
        G::subcommand("stats", "Revenue, orders, customers and a revenue chart", {period}),
        G::group("export", "Export data as a file",
                 {G::subcommand("orders", "Export orders", {format_option()}),
                  G::subcommand("users", "Export customers", {format_option()}),
                  G::subcommand("accounts", "Export VPN accounts", {format_option()}),
                  G::subcommand("revenue", "Export daily revenue snapshots", {format_option()}),
                  G::subcommand("audit", "Export the audit log", {format_option()})}),
        G::subcommand("audit", "Recent audit entries",
                      {optional(OptionType::user, "user", "Only entries by or about this member"),
                       integer("limit", "How many entries (default 15)", false, 1, 50)}),
        G::group("user", "Customers",
                 {G::subcommand("info", "Customer details", {member()}),
                  G::subcommand("ban", "Stop a customer from ordering",
                                {member(), text("reason", "Reason (kept in the audit log)", true, 200)}),
                  G::subcommand("unban", "Allow a customer to order again", {member()}),
                  G::subcommand("list", "List customers", {customer_status, query(false)}),
                  G::subcommand("search", "Find customers", {query(true)}),
                  G::subcommand("note", "Keep a note on a customer",
                                {member(), text("text", "The note", true, 1000)})}),
        G::group("account", "VPN accounts",
                 {G::subcommand("info", "Account details", {account()}),
                  G::subcommand("extend", "Add days to an account",
                                {account(), integer("days", "Days to add", true, 1, 3650)}),
                  G::subcommand("enable", "Re-enable an account", {account()}),
                  G::subcommand("disable", "Suspend an account", {account()}),
                  G::subcommand("delete", "Delete the account's panel client", {account()}),
                  G::subcommand("reset-traffic", "Reset the account's used traffic", {account()}),
                  G::subcommand("config", "Show the account's link and QR code", {account()}),
                  G::subcommand("create", "Give an account without payment",
                                {member(), picker("plan", "Plan"), reason(),
                                 picker("server", "Server (default: least loaded)", false),
                                 integer("days", "Days (default: the plan's)", false, 1, 3650)}),
                  G::subcommand("change-plan", "Move an account to another plan",
                                {account(), picker("plan", "New plan"), expiry_from}),
                  G::subcommand("move", "Move to another server (new link first)",
                                {account(), picker("server", "Target server")})}),
        G::group(
            "order", "Orders",
            {G::subcommand("info", "Order details", {order()}),
             G::subcommand("approve", "Approve an order under review", {order()}),
             G::subcommand(
                 "decline", "Decline an order under review",
                 {order(), decline_preset(),
                  text("reason", "Reason shown to the customer (or beside a ready-made one)", false, 500),
                  optional(OptionType::boolean, "allow_reupload",
                           "Let the customer upload another receipt (default yes)")}),
             G::subcommand("refund", "Mark a fulfilled order refunded",
                           {order(), text("reason", "Reason shown to the customer", true, 200),
                            optional(OptionType::boolean, "disable_account", "Also disable its account")})}),
        G::group(
            "trial", "Free trial",
            {G::subcommand("set", "Offer a free trial (one per customer)",
                           {picker("plan", "Plan the trial follows (its device limit)"),
                            integer("days", "Trial length in days", true, 1, 365),
                            number("traffic_gb", "Traffic quota in GB (0 = unlimited)", true, 0, 1'048'576)}),
             G::subcommand("disable", "Stop offering the free trial", {}),
             G::subcommand("show", "The free trial offered now", {})}),
        G::group(
            "promo", "Promo codes",
            {G::subcommand(
                 "create",
                 "Create a promo code",
                 {text("code", "The code customers type: letters, digits, - or _", true, 32),
                  integer("percent", "Percent off (or give an amount)", false, 1, 100),
                  number("amount", "EGP off (or give a percent)", false, 0.01, 1'000'000),
                  text("plans", "Only these plans: names or ids, comma-separated (default: all)", false, 500),
                  integer("max_uses", "Approved orders that may use it in all (default: no limit)", false, 1,
                          1'000'000),
                  integer("per_customer", "Approved orders per customer (default: no limit)", false, 1, 1000),
                  text("expires", "Last day it works, YYYY-MM-DD in the shop's time zone", false, 10)}),
             G::subcommand("list", "List promo codes", {}),
             G::subcommand("disable", "Stop a promo code", {text("code", "The code", true, 32)})}),
        G::group("announce", "Announcements to customers",
                 {G::subcommand("send", "Preview, then post and DM to those who opted in",
                                {audience, text("message", "The text (up to 1800 characters)", true, 1800),
                                 picker("server", "The server, with audience Server", false)}),
                  G::subcommand("status", "Progress of recent announcements; cancel one", {})}),
    };
    return command;
}

std::vector<std::string> admin_command_paths() {
    std::vector<std::string> paths;
    const auto command = admin_command_definition(0);
    for (const auto& option : command.options) {
        if (option.type == OptionType::sub_command_group) {
            for (const auto& sub : option.options)
                paths.push_back(command.name + " " + option.name + " " + sub.name);
        } else {
            paths.push_back(command.name + " " + option.name);
        }
    }
    return paths;
}

}  // namespace nebula::bot::handlers
