#pragma once
// Shared by the admin_*.cpp files only: the per-invocation context, option readers and the small
// pure helpers (validation, lookups by id or name) the handlers use.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "bot/domain/accounts.hpp"
#include "bot/handlers/admin_commands.hpp"
#include "common/result.hpp"

namespace nebula::bot::handlers {

inline constexpr std::uint32_t kAdminColor = 0x5865F2;

/// One /admin invocation: who, in which language, with which options.
struct AdminCommands::Invocation {
    const discord::Interaction& interaction;
    const discord::CommandData& data;
    ui::Locale locale{};
    domain::DiscordId actor;
    Call& source;  ///< the interaction being answered (for what the review flow shares)

    std::string t(ui::Msg msg, std::initializer_list<ui::Arg> args = {}) const {
        return ui::tr(locale, msg, args);
    }
    std::optional<std::string> string(std::string_view name) const { return data.string_option(name); }
    std::optional<std::int64_t> integer(std::string_view name) const { return data.integer_option(name); }
    std::optional<bool> boolean(std::string_view name) const { return data.boolean_option(name); }
    std::optional<double> number(std::string_view name) const;
    std::optional<discord::Snowflake> member(std::string_view name) const { return data.id_option(name); }
};

namespace admin {

/// An ephemeral reply with text.
discord::MessagePayload text_reply(std::string content);
/// An ephemeral reply with one embed.
discord::MessagePayload embed_reply(discord::Embed embed);
/// "That didn't work: <message>".
discord::MessagePayload failure(const AdminCommands::Invocation& call, std::string_view message);

// ---- validation of option values (the messages go to the admin) ----

/// A price in EGP as typed (a Discord number) → piasters: finite, not negative, at most two
/// decimals, at most 1,000,000 EGP.
common::Result<domain::Piasters, std::string> price_from_egp(double egp);
/// A quota in GB (2^30 bytes, as the panel counts) → bytes; 0 = unlimited; at most 1 PiB.
common::Result<std::int64_t, std::string> traffic_from_gb(double gb);
/// A record id as an autocomplete value or typed by hand: "12" or "#12".
std::optional<std::int64_t> parse_record_id(std::string_view text);
/// Wallet numbers are 11 digits starting with 01; InstaPay takes a handle (name@instapay) or a
/// phone number. Spaces and dashes are removed. Returns the normalised account or the problem.
common::Result<std::string, std::string> normalise_payment_account(std::string_view method_code,
                                                                   std::string_view text);

/// ASCII case-insensitive equality, for names typed instead of picked.
bool same_name(std::string_view a, std::string_view b);
/// ASCII case-insensitive "contains".
bool contains_text(std::string_view haystack, std::string_view needle);

// ---- lookups by what an option holds (an id from autocomplete, or a name typed by hand) ----

std::optional<domain::Plan> find_plan(db::Connection& connection, domain::CatalogService& catalog,
                                      std::string_view text);
std::optional<domain::Server> find_server(db::Connection& connection, domain::CatalogService& catalog,
                                          std::string_view text);
/// By id ("12", "#12") or panel client email ("nl-34").
std::optional<domain::Account> find_account(db::Connection& connection, std::string_view text);
/// By reference ("NL-000123", case-insensitive) or id.
std::optional<domain::Order> find_order(db::Connection& connection, domain::OrderService& orders,
                                        std::string_view text);

/// "#12 (nl-34)".
std::string account_label(const domain::Account& account);
/// A Discord id as a mention (no one is pinged: replies allow no mentions); other actors as is.
std::string actor_label(std::string_view actor);

/// The Previous / Next buttons of /admin user list and search: another page for the admin who
/// asked (`owner`); anyone else is refused. Registered by register_customer_paging().
boost::asio::awaitable<void> page_customers(Call& call, std::string owner, std::int64_t offset,
                                            std::string filter, std::string query);
void register_customer_paging(Router& router);

}  // namespace admin
}  // namespace nebula::bot::handlers
