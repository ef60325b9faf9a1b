#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/result.hpp"
#include "discord/snowflake.hpp"

namespace nebula::discord {

/// Why a payload from Discord could not be read: where (a JSON path like
/// `data.options[0].value`) and what was wrong. Hostile or malformed input yields this, never a
/// crash or exception.
struct ParseError {
    std::string path;
    std::string message;
    std::string describe() const { return path.empty() ? message : path + ": " + message; }
};

template <typename T>
using Parsed = common::Result<T, ParseError>;

struct User {
    Snowflake id;
    std::string username;
    std::string global_name;  ///< display name; empty when unset
    bool bot = false;
};

/// A guild member. `permissions` is only present in interaction payloads (the member's
/// permissions in the channel the interaction came from).
struct Member {
    std::optional<User> user;  ///< absent inside MESSAGE_CREATE's `member`
    std::string nick;
    std::vector<Snowflake> roles;
    std::optional<std::uint64_t> permissions;

    bool has_role(Snowflake role) const;
};

struct Attachment {
    Snowflake id;
    std::string filename;
    std::string content_type;  ///< as reported by Discord; may be empty
    std::uint64_t size = 0;
    std::string url;
    std::string proxy_url;
    bool ephemeral = false;
};

enum class OverwriteType { role = 0, member = 1 };

/// One permission overwrite on a channel: bits allowed and denied for a role or a member.
struct PermissionOverwrite {
    Snowflake id;
    OverwriteType type = OverwriteType::role;
    std::uint64_t allow = 0;
    std::uint64_t deny = 0;

    friend bool operator==(const PermissionOverwrite&, const PermissionOverwrite&) = default;
};

/// Channel type values used by the product.
enum class ChannelType : int { guild_text = 0, dm = 1, guild_category = 4, private_thread = 12 };

struct Channel {
    Snowflake id;
    int type = 0;
    std::optional<Snowflake> guild_id;
    std::optional<Snowflake> parent_id;
    std::string name;
    std::string topic;
    std::vector<PermissionOverwrite> permission_overwrites;
};

/// A guild role: its permission bits and its place in the hierarchy (higher manages lower).
struct Role {
    Snowflake id;  ///< the @everyone role has the guild's id
    std::string name;
    std::uint64_t permissions = 0;
    int position = 0;
};

/// What GET /guilds/{id} says that the product uses.
struct Guild {
    Snowflake id;
    std::string name;
    Snowflake owner_id;
    std::vector<Role> roles;

    const Role* role(Snowflake id) const;
};

struct Message {
    Snowflake id;
    Snowflake channel_id;
    std::optional<Snowflake> guild_id;
    User author;
    std::optional<Member> member;  ///< guild messages over the gateway
    std::string content;
    std::vector<Attachment> attachments;
    std::optional<std::string> nonce;
    bool webhook = false;  ///< sent by a webhook (webhook_id present)
};

enum class InteractionType {
    ping = 1,
    application_command = 2,
    message_component = 3,
    autocomplete = 4,
    modal_submit = 5
};

enum class OptionType {
    sub_command = 1,
    sub_command_group = 2,
    string = 3,
    integer = 4,
    boolean = 5,
    user = 6,
    channel = 7,
    role = 8,
    mentionable = 9,
    number = 10,
    attachment = 11
};

/// Data that interactions may reference by id (`data.resolved`).
struct Resolved {
    std::map<Snowflake, Attachment> attachments;
    std::map<Snowflake, User> users;
    std::map<Snowflake, Member> members;  ///< without `user`; pair with `users`
};

/// An option as received. Strings, user/channel/role/attachment ids and mentionables arrive as
/// `std::string`; integers as int64; numbers as double; booleans as bool. Subcommands and
/// groups carry nested `options` and no value.
struct ReceivedOption {
    std::string name;
    OptionType type = OptionType::string;
    std::variant<std::monostate, std::string, std::int64_t, double, bool> value;
    bool focused = false;  ///< the option being typed, in autocomplete interactions
    std::vector<ReceivedOption> options;
};

struct CommandData {
    Snowflake id;
    std::string name;
    int type = 1;
    std::vector<ReceivedOption> options;
    Resolved resolved;

    /// The invoked path, e.g. {"admin", "plan", "create"} for `/admin plan create`.
    std::vector<std::string> path() const;
    /// Options of the innermost subcommand (or of the command when it has none).
    const std::vector<ReceivedOption>& leaf_options() const;
    /// A leaf option by name.
    const ReceivedOption* option(std::string_view name) const;
    std::optional<std::string> string_option(std::string_view name) const;
    std::optional<std::int64_t> integer_option(std::string_view name) const;
    std::optional<bool> boolean_option(std::string_view name) const;
    /// A user/channel/role/attachment option's id.
    std::optional<Snowflake> id_option(std::string_view name) const;
    /// An attachment option resolved to its attachment.
    const Attachment* attachment_option(std::string_view name) const;
    /// The focused option in an autocomplete interaction.
    const ReceivedOption* focused() const;
};

struct ComponentData {
    std::string custom_id;
    int component_type = 0;
    std::vector<std::string> values;  ///< select menus
    Resolved resolved;
};

/// One interactive field of a submitted modal, found anywhere in its component tree.
struct ModalField {
    std::string custom_id;
    int type = 0;                     ///< 4 text input, 3 string select, 19 file upload, ...
    std::string value;                ///< text input
    std::vector<std::string> values;  ///< selects; attachment ids for file uploads
};

struct ModalData {
    std::string custom_id;
    std::vector<ModalField> fields;
    Resolved resolved;

    const ModalField* field(std::string_view custom_id) const;
    /// Uploaded files of a file upload field, resolved to attachments (unknown ids skipped).
    std::vector<const Attachment*> files(std::string_view custom_id) const;
};

struct Interaction {
    Snowflake id;
    Snowflake application_id;
    InteractionType type = InteractionType::ping;
    std::string token;
    std::optional<Snowflake> guild_id;
    std::optional<Snowflake> channel_id;
    std::optional<Member> member;    ///< in guilds (with permissions)
    User user;                       ///< the invoking user (from `member.user` in guilds)
    std::optional<Message> message;  ///< the message a component was on
    std::uint64_t app_permissions = 0;
    std::string locale;
    std::uint64_t attachment_size_limit = 0;
    std::variant<std::monostate, CommandData, ComponentData, ModalData> data;

    const CommandData* command() const { return std::get_if<CommandData>(&data); }
    const ComponentData* component() const { return std::get_if<ComponentData>(&data); }
    const ModalData* modal() const { return std::get_if<ModalData>(&data); }
};

Parsed<User> parse_user(const nlohmann::json& json);
Parsed<Member> parse_member(const nlohmann::json& json);
Parsed<Attachment> parse_attachment(const nlohmann::json& json);
Parsed<Channel> parse_channel(const nlohmann::json& json);
Parsed<Guild> parse_guild(const nlohmann::json& json);
Parsed<Message> parse_message(const nlohmann::json& json);
Parsed<Interaction> parse_interaction(const nlohmann::json& json);

}  // namespace nebula::discord
