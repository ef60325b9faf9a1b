#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/result.hpp"
#include "discord/model.hpp"
#include "discord/snowflake.hpp"

namespace nebula::discord {

/// Discord's documented limits, counted in UTF-16 code units (see text_length()).
namespace limits {
inline constexpr std::size_t kContent = 2000;
inline constexpr std::size_t kEmbedTitle = 256;
inline constexpr std::size_t kEmbedDescription = 4096;
inline constexpr std::size_t kEmbedFields = 25;
inline constexpr std::size_t kFieldName = 256;
inline constexpr std::size_t kFieldValue = 1024;
inline constexpr std::size_t kFooter = 2048;
inline constexpr std::size_t kAuthor = 256;
inline constexpr std::size_t kEmbedTotal = 6000;  ///< all embeds of one message together
inline constexpr std::size_t kEmbedsPerMessage = 10;
inline constexpr std::size_t kCustomId = 100;
inline constexpr std::size_t kButtonLabel = 80;
inline constexpr std::size_t kSelectOptions = 25;
inline constexpr std::size_t kSelectText = 100;  ///< option label, value, description
inline constexpr std::size_t kPlaceholder = 150;
inline constexpr std::size_t kActionRows = 5;
inline constexpr std::size_t kButtonsPerRow = 5;
inline constexpr std::size_t kModalTitle = 45;
inline constexpr std::size_t kLabel = 45;
inline constexpr std::size_t kLabelDescription = 100;
inline constexpr std::size_t kTextInputValue = 4000;
inline constexpr std::size_t kAttachments = 10;
inline constexpr std::size_t kNonce = 25;
}  // namespace limits

/// Permission bits used by the product.
namespace permissions {
inline constexpr std::uint64_t kAdministrator = 1ULL << 3;
inline constexpr std::uint64_t kManageChannels = 1ULL << 4;
inline constexpr std::uint64_t kManageGuild = 1ULL << 5;
inline constexpr std::uint64_t kViewChannel = 1ULL << 10;
inline constexpr std::uint64_t kSendMessages = 1ULL << 11;
inline constexpr std::uint64_t kManageMessages = 1ULL << 13;
inline constexpr std::uint64_t kEmbedLinks = 1ULL << 14;
inline constexpr std::uint64_t kAttachFiles = 1ULL << 15;
inline constexpr std::uint64_t kReadMessageHistory = 1ULL << 16;
inline constexpr std::uint64_t kManageRoles = 1ULL << 28;
}  // namespace permissions

/// A rich embed. Every setter sanitises UTF-8 and truncates to Discord's limit for that field
/// (never splitting a character); fields beyond 25 are dropped and flagged. Plain value.
class Embed {
  public:
    Embed& title(std::string_view text);
    Embed& description(std::string_view text);
    Embed& url(std::string_view url);
    Embed& color(std::uint32_t rgb);
    Embed& field(std::string_view name, std::string_view value, bool inline_field = false);
    Embed& footer(std::string_view text, std::string_view icon_url = {});
    Embed& author(std::string_view name, std::string_view icon_url = {});
    Embed& image(std::string_view url);  ///< "attachment://name.png" shows an uploaded file
    Embed& thumbnail(std::string_view url);
    Embed& timestamp(std::chrono::system_clock::time_point when);

    /// Characters counted towards the 6000 total (title, description, field names and values,
    /// footer text, author name).
    std::size_t text_length() const;
    /// Shrinks the embed until text_length() <= budget: first the description, then field
    /// values from the last, then whole fields, then footer and title.
    void shrink_to(std::size_t budget);
    /// True when any text was cut or a field dropped.
    bool truncated() const { return truncated_; }

    nlohmann::json to_json() const;

  private:
    struct Field {
        std::string name;
        std::string value;
        bool inline_field = false;
    };
    std::string set(std::string_view text, std::size_t limit);

    std::string title_, description_, url_, footer_, footer_icon_, author_, author_icon_, image_, thumbnail_;
    std::optional<std::uint32_t> color_;
    std::optional<std::chrono::system_clock::time_point> timestamp_;
    std::vector<Field> fields_;
    bool truncated_ = false;
};

enum class ButtonStyle { primary = 1, secondary = 2, success = 3, danger = 4, link = 5 };

struct Emoji {
    std::string name;  ///< a Unicode emoji, or a custom emoji's name
    std::optional<Snowflake> id;
};

/// A button. Non-link buttons need a custom_id (1–100 chars); link buttons a URL. A violated
/// invariant is a programming error and throws std::invalid_argument from to_json().
struct Button {
    ButtonStyle style = ButtonStyle::primary;
    std::string label;      ///< truncated to 80
    std::string custom_id;  ///< non-link styles
    std::string url;        ///< link style
    std::optional<Emoji> emoji;
    bool disabled = false;

    static Button action(ButtonStyle style, std::string label, std::string custom_id) {
        Button b;
        b.style = style;
        b.label = std::move(label);
        b.custom_id = std::move(custom_id);
        return b;
    }
    static Button link(std::string label, std::string url) {
        Button b;
        b.style = ButtonStyle::link;
        b.label = std::move(label);
        b.url = std::move(url);
        return b;
    }
};

struct SelectOption {
    std::string label;  ///< truncated to 100
    std::string value;  ///< 1–100 chars (throws when longer: values are program data)
    std::string description;
    std::optional<Emoji> emoji;
    bool is_default = false;
};

struct StringSelect {
    std::string custom_id;
    std::vector<SelectOption> options;  ///< 1–25
    std::string placeholder;
    int min_values = 1;
    int max_values = 1;
    bool disabled = false;
    bool required = true;  ///< modals only
};

/// A row holds up to 5 buttons or exactly one select.
struct ActionRow {
    std::variant<std::vector<Button>, StringSelect> content;
};

enum class TextInputStyle { short_text = 1, paragraph = 2 };

struct TextInput {
    std::string custom_id;
    TextInputStyle style = TextInputStyle::short_text;
    std::optional<int> min_length;
    std::optional<int> max_length;
    bool required = true;
    std::string value;  ///< prefill
    std::string placeholder;
};

/// File upload inside a modal (component type 19).
struct FileUpload {
    std::string custom_id;
    int min_values = 1;
    int max_values = 1;
    bool required = true;
};

/// A labelled modal field (component type 18).
struct Label {
    std::string label;  ///< truncated to 45
    std::string description;
    std::variant<TextInput, FileUpload, StringSelect> component;
};

struct Modal {
    std::string custom_id;
    std::string title;          ///< truncated to 45
    std::vector<Label> fields;  ///< 1–5
};

/// Who a message may ping. The default pings nobody, which is the safe choice whenever user
/// text is echoed.
struct AllowedMentions {
    std::vector<Snowflake> users;
    std::vector<Snowflake> roles;
    bool replied_user = false;
};

/// A file to upload with a message (multipart/form-data).
struct FileData {
    std::string filename;
    std::string content_type = "application/octet-stream";
    std::string data;
    std::string description;  ///< alt text
};

inline constexpr std::uint64_t kEphemeralFlag = 1ULL << 6;

/// The body of a message create/edit, an interaction reply or a follow-up.
struct MessagePayload {
    std::string content;
    std::vector<Embed> embeds;
    std::vector<ActionRow> components;
    std::vector<FileData> files;
    AllowedMentions allowed_mentions;
    std::uint64_t flags = 0;
    std::optional<Snowflake> reply_to;
    std::string nonce;  ///< message create only; sent with enforce_nonce
    /// Edits only: attachments to keep (ids of the existing message's files). Files not listed
    /// are removed when `replace_attachments` is set.
    std::vector<Snowflake> keep_attachments;
    bool replace_attachments = false;
    /// Edits only: send `components: []` to remove all components.
    bool clear_components = false;

    /// The JSON body (without files' bytes; an `attachments` array describes them). Content is
    /// truncated to 2000, at most 10 embeds are kept and shrunk to the 6000 total, at most 5 rows.
    nlohmann::json to_json() const;
};

nlohmann::json to_json(const ActionRow& row);
nlohmann::json to_json(const Modal& modal);
nlohmann::json to_json(const PermissionOverwrite& overwrite);
nlohmann::json to_json(const Emoji& emoji);

/// A slash-command option definition (also subcommands and groups).
struct OptionChoice {
    std::string name;
    std::variant<std::string, std::int64_t, double> value;
};

struct CommandOption {
    OptionType type = OptionType::string;
    std::string name;
    std::string description;
    bool required = false;
    bool autocomplete = false;
    std::vector<OptionChoice> choices;
    std::vector<CommandOption> options;  ///< subcommands and groups
    std::optional<int> min_length, max_length;
    std::optional<double> min_value, max_value;
    std::vector<int> channel_types;

    /// A plain option (string, integer, user, attachment, ...).
    static CommandOption value(OptionType type, std::string name, std::string description, bool required) {
        CommandOption o;
        o.type = type;
        o.name = std::move(name);
        o.description = std::move(description);
        o.required = required;
        return o;
    }
    static CommandOption subcommand(std::string name, std::string description,
                                    std::vector<CommandOption> options) {
        CommandOption o = value(OptionType::sub_command, std::move(name), std::move(description), false);
        o.options = std::move(options);
        return o;
    }
    static CommandOption group(std::string name, std::string description,
                               std::vector<CommandOption> subcommands) {
        CommandOption o =
            value(OptionType::sub_command_group, std::move(name), std::move(description), false);
        o.options = std::move(subcommands);
        return o;
    }
};

/// A chat-input command for the bulk overwrite (`PUT .../guilds/{guild}/commands`).
struct Command {
    std::string name;
    std::string description;
    std::optional<std::uint64_t> default_member_permissions;  ///< nullopt: everyone
    std::vector<CommandOption> options;
};

/// Checks names (lowercase, 1–32), descriptions (1–100), at most 25 options and choices per
/// level, required before optional, groups holding only subcommands, no options beside
/// subcommands. Returns one message naming the first problem.
common::Status<std::string> validate(const Command& command);
/// The array body for the bulk overwrite. Throws std::invalid_argument on an invalid command.
nlohmann::json commands_to_json(const std::vector<Command>& commands);

}  // namespace nebula::discord
