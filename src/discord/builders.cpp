#include "discord/builders.hpp"

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "discord/text.hpp"

namespace nebula::discord {

using nlohmann::json;

namespace {

void require(bool condition, const std::string& message) {
    if (!condition) throw std::invalid_argument(message);
}

void check_custom_id(const std::string& id, std::string_view what) {
    require(!id.empty() && id.size() <= limits::kCustomId,
            std::string(what) + " custom_id must be 1-100 characters: '" + id + "'");
}

std::string iso8601(std::chrono::system_clock::time_point when) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
    char out[40];
    std::snprintf(out, sizeof out, "%s.%03dZ", buffer, static_cast<int>(ms % 1000));
    return out;
}

json button_json(const Button& button) {
    json out{{"type", 2}, {"style", static_cast<int>(button.style)}};
    if (!button.label.empty()) out["label"] = truncate_text(button.label, limits::kButtonLabel);
    if (button.style == ButtonStyle::link) {
        require(!button.url.empty() && button.custom_id.empty(), "link button needs a url and no custom_id");
        out["url"] = button.url;
    } else {
        check_custom_id(button.custom_id, "button");
        out["custom_id"] = button.custom_id;
    }
    require(!button.label.empty() || button.emoji.has_value(), "button needs a label or an emoji");
    if (button.emoji) out["emoji"] = to_json(*button.emoji);
    if (button.disabled) out["disabled"] = true;
    return out;
}

json select_json(const StringSelect& select, bool in_modal) {
    check_custom_id(select.custom_id, "select");
    require(!select.options.empty() && select.options.size() <= limits::kSelectOptions,
            "select needs 1-25 options");
    require(select.min_values >= 0 && select.max_values >= std::max(1, select.min_values) &&
                select.max_values <= static_cast<int>(select.options.size()),
            "select min/max values out of range");
    json options = json::array();
    for (const auto& option : select.options) {
        require(!option.value.empty() && option.value.size() <= limits::kSelectText,
                "select value must be 1-100");
        json item{{"label", truncate_text(option.label, limits::kSelectText)}, {"value", option.value}};
        require(!option.label.empty(), "select option needs a label");
        if (!option.description.empty())
            item["description"] = truncate_text(option.description, limits::kSelectText);
        if (option.emoji) item["emoji"] = to_json(*option.emoji);
        if (option.is_default) item["default"] = true;
        options.push_back(std::move(item));
    }
    json out{{"type", 3}, {"custom_id", select.custom_id}, {"options", std::move(options)}};
    if (!select.placeholder.empty())
        out["placeholder"] = truncate_text(select.placeholder, limits::kPlaceholder);
    if (select.min_values != 1) out["min_values"] = select.min_values;
    if (select.max_values != 1) out["max_values"] = select.max_values;
    if (in_modal) {
        if (!select.required) out["required"] = false;
    } else if (select.disabled) {
        out["disabled"] = true;
    }
    return out;
}

json option_json(const CommandOption& option) {
    json out{
        {"type", static_cast<int>(option.type)}, {"name", option.name}, {"description", option.description}};
    if (option.required) out["required"] = true;
    if (option.autocomplete) out["autocomplete"] = true;
    if (!option.choices.empty()) {
        json choices = json::array();
        for (const auto& choice : option.choices) {
            json value;
            std::visit([&](const auto& v) { value = v; }, choice.value);
            choices.push_back({{"name", choice.name}, {"value", value}});
        }
        out["choices"] = std::move(choices);
    }
    if (!option.options.empty()) {
        json nested = json::array();
        for (const auto& child : option.options) nested.push_back(option_json(child));
        out["options"] = std::move(nested);
    }
    if (option.min_length) out["min_length"] = *option.min_length;
    if (option.max_length) out["max_length"] = *option.max_length;
    if (option.min_value) out["min_value"] = *option.min_value;
    if (option.max_value) out["max_value"] = *option.max_value;
    if (!option.channel_types.empty()) out["channel_types"] = option.channel_types;
    return out;
}

bool valid_name(const std::string& name) {
    if (name.empty() || text_length(name) > 32) return false;
    for (const unsigned char c : name) {
        if (c >= 'A' && c <= 'Z') return false;
        if (c < 0x80 && !(std::isalnum(c) || c == '-' || c == '_' || c == '\'')) return false;
    }
    return true;
}

common::Status<std::string> validate_options(const std::vector<CommandOption>& options,
                                             const std::string& where, int depth) {
    if (options.size() > 25) return common::unexpected(where + ": more than 25 options");
    bool seen_optional = false;
    bool has_sub = false;
    bool has_plain = false;
    for (const auto& option : options) {
        const std::string here = where + " " + option.name;
        if (!valid_name(option.name))
            return common::unexpected(here + ": name must be 1-32 lowercase characters");
        if (option.description.empty() || text_length(option.description) > 100) {
            return common::unexpected(here + ": description must be 1-100 characters");
        }
        if (option.choices.size() > 25) return common::unexpected(here + ": more than 25 choices");
        if (option.autocomplete && !option.choices.empty())
            return common::unexpected(here + ": autocomplete with choices");
        const bool sub =
            option.type == OptionType::sub_command || option.type == OptionType::sub_command_group;
        has_sub |= sub;
        has_plain |= !sub;
        if (option.type == OptionType::sub_command_group) {
            if (depth != 0) return common::unexpected(here + ": groups may only appear at the top level");
            for (const auto& child : option.options) {
                if (child.type != OptionType::sub_command)
                    return common::unexpected(here + ": groups hold only subcommands");
            }
        }
        if (option.type == OptionType::sub_command && depth > 1)
            return common::unexpected(here + ": nested too deeply");
        if (!sub && !option.options.empty())
            return common::unexpected(here + ": only subcommands have options");
        if (!sub) {
            if (option.required && seen_optional)
                return common::unexpected(here + ": required option after an optional one");
            seen_optional |= !option.required;
        }
        if (sub) {
            if (auto status = validate_options(option.options, here, depth + 1); !status) return status;
        }
    }
    if (has_sub && has_plain)
        return common::unexpected(where + ": subcommands cannot sit beside plain options");
    return {};
}

}  // namespace

std::string Embed::set(std::string_view text, std::size_t limit) {
    std::string out = truncate_text(text, limit);
    if (out != sanitize_utf8(text)) truncated_ = true;
    return out;
}

Embed& Embed::title(std::string_view text) {
    title_ = set(text, limits::kEmbedTitle);
    return *this;
}
Embed& Embed::description(std::string_view text) {
    description_ = set(text, limits::kEmbedDescription);
    return *this;
}
Embed& Embed::url(std::string_view url) {
    url_ = std::string(url);
    return *this;
}
Embed& Embed::color(std::uint32_t rgb) {
    color_ = rgb & 0xFFFFFFu;
    return *this;
}
Embed& Embed::field(std::string_view name, std::string_view value, bool inline_field) {
    if (fields_.size() >= limits::kEmbedFields) {
        truncated_ = true;
        return *this;
    }
    // Discord rejects empty field names and values; a zero-width space stands in.
    std::string n = set(name, limits::kFieldName);
    std::string v = set(value, limits::kFieldValue);
    if (n.empty()) n = "\u200b";
    if (v.empty()) v = "\u200b";
    fields_.push_back(Field{std::move(n), std::move(v), inline_field});
    return *this;
}
Embed& Embed::footer(std::string_view text, std::string_view icon_url) {
    footer_ = set(text, limits::kFooter);
    footer_icon_ = std::string(icon_url);
    return *this;
}
Embed& Embed::author(std::string_view name, std::string_view icon_url) {
    author_ = set(name, limits::kAuthor);
    author_icon_ = std::string(icon_url);
    return *this;
}
Embed& Embed::image(std::string_view url) {
    image_ = std::string(url);
    return *this;
}
Embed& Embed::thumbnail(std::string_view url) {
    thumbnail_ = std::string(url);
    return *this;
}
Embed& Embed::timestamp(std::chrono::system_clock::time_point when) {
    timestamp_ = when;
    return *this;
}

std::size_t Embed::text_length() const {
    std::size_t total = discord::text_length(title_) + discord::text_length(description_) +
                        discord::text_length(footer_) + discord::text_length(author_);
    for (const auto& f : fields_) total += discord::text_length(f.name) + discord::text_length(f.value);
    return total;
}

void Embed::shrink_to(std::size_t budget) {
    auto over = [&] { return text_length() > budget ? text_length() - budget : std::size_t{0}; };
    auto cut = [&](std::string& text, std::size_t minimum) {
        const std::size_t excess = over();
        if (excess == 0) return;
        const std::size_t length = discord::text_length(text);
        if (length <= minimum) return;
        const std::size_t target = length - std::min(excess, length - minimum);
        text = truncate_text(text, target);
        truncated_ = true;
    };
    cut(description_, 0);
    for (auto it = fields_.rbegin(); it != fields_.rend() && over() > 0; ++it) cut(it->value, 1);
    while (over() > 0 && !fields_.empty()) {
        fields_.pop_back();
        truncated_ = true;
    }
    cut(footer_, 0);
    cut(author_, 0);
    cut(title_, 0);
}

json Embed::to_json() const {
    json out = json::object();
    if (!title_.empty()) out["title"] = title_;
    if (!description_.empty()) out["description"] = description_;
    if (!url_.empty()) out["url"] = url_;
    if (color_) out["color"] = *color_;
    if (timestamp_) out["timestamp"] = iso8601(*timestamp_);
    if (!footer_.empty()) {
        out["footer"] = {{"text", footer_}};
        if (!footer_icon_.empty()) out["footer"]["icon_url"] = footer_icon_;
    }
    if (!author_.empty()) {
        out["author"] = {{"name", author_}};
        if (!author_icon_.empty()) out["author"]["icon_url"] = author_icon_;
    }
    if (!image_.empty()) out["image"] = {{"url", image_}};
    if (!thumbnail_.empty()) out["thumbnail"] = {{"url", thumbnail_}};
    if (!fields_.empty()) {
        json fields = json::array();
        for (const auto& f : fields_)
            fields.push_back({{"name", f.name}, {"value", f.value}, {"inline", f.inline_field}});
        out["fields"] = std::move(fields);
    }
    return out;
}

json to_json(const Emoji& emoji) {
    json out{{"name", emoji.name}};
    if (emoji.id) out["id"] = emoji.id->str();
    return out;
}

json to_json(const ActionRow& row) {
    json components = json::array();
    if (const auto* buttons = std::get_if<std::vector<Button>>(&row.content)) {
        require(!buttons->empty() && buttons->size() <= limits::kButtonsPerRow, "a row holds 1-5 buttons");
        for (const auto& button : *buttons) components.push_back(button_json(button));
    } else {
        components.push_back(select_json(std::get<StringSelect>(row.content), false));
    }
    return {{"type", 1}, {"components", std::move(components)}};
}

json to_json(const Modal& modal) {
    check_custom_id(modal.custom_id, "modal");
    require(!modal.title.empty(), "modal needs a title");
    require(!modal.fields.empty() && modal.fields.size() <= 5, "a modal holds 1-5 fields");
    json components = json::array();
    for (const auto& field : modal.fields) {
        require(!field.label.empty(), "modal field needs a label");
        json label{{"type", 18}, {"label", truncate_text(field.label, limits::kLabel)}};
        if (!field.description.empty()) {
            label["description"] = truncate_text(field.description, limits::kLabelDescription);
        }
        if (const auto* input = std::get_if<TextInput>(&field.component)) {
            check_custom_id(input->custom_id, "text input");
            json c{{"type", 4}, {"custom_id", input->custom_id}, {"style", static_cast<int>(input->style)}};
            if (input->min_length) c["min_length"] = *input->min_length;
            if (input->max_length) c["max_length"] = *input->max_length;
            if (!input->required) c["required"] = false;
            if (!input->value.empty()) c["value"] = truncate_text(input->value, limits::kTextInputValue, "");
            if (!input->placeholder.empty()) c["placeholder"] = truncate_text(input->placeholder, 100);
            label["component"] = std::move(c);
        } else if (const auto* upload = std::get_if<FileUpload>(&field.component)) {
            check_custom_id(upload->custom_id, "file upload");
            require(upload->min_values >= 0 && upload->max_values >= 1 && upload->max_values <= 10 &&
                        upload->min_values <= upload->max_values,
                    "file upload min/max values out of range");
            json c{{"type", 19}, {"custom_id", upload->custom_id}};
            if (upload->min_values != 1) c["min_values"] = upload->min_values;
            if (upload->max_values != 1) c["max_values"] = upload->max_values;
            if (!upload->required) c["required"] = false;
            label["component"] = std::move(c);
        } else {
            label["component"] = select_json(std::get<StringSelect>(field.component), true);
        }
        components.push_back(std::move(label));
    }
    return {{"custom_id", modal.custom_id},
            {"title", truncate_text(modal.title, limits::kModalTitle)},
            {"components", std::move(components)}};
}

json to_json(const PermissionOverwrite& overwrite) {
    // discord-api-spec types allow/deny as numbers; every permission bit is below 2^53, so
    // the value survives JavaScript number precision.
    return {{"id", overwrite.id.str()},
            {"type", static_cast<int>(overwrite.type)},
            {"allow", overwrite.allow},
            {"deny", overwrite.deny}};
}

json MessagePayload::to_json() const {
    json out = json::object();
    if (!content.empty()) out["content"] = truncate_text(content, limits::kContent);
    if (!embeds.empty()) {
        json list = json::array();
        std::size_t budget = limits::kEmbedTotal;
        const std::size_t count = std::min(embeds.size(), limits::kEmbedsPerMessage);
        for (std::size_t i = 0; i < count; ++i) {
            Embed embed = embeds[i];
            embed.shrink_to(budget);
            budget -= embed.text_length();
            list.push_back(embed.to_json());
        }
        out["embeds"] = std::move(list);
    }
    if (!components.empty() || clear_components) {
        require(components.size() <= limits::kActionRows, "a message holds at most 5 action rows");
        json rows = json::array();
        for (const auto& row : components) rows.push_back(discord::to_json(row));
        out["components"] = std::move(rows);
    }
    json mentions{{"parse", json::array()}};
    if (!allowed_mentions.users.empty()) {
        json users = json::array();
        for (const auto id : allowed_mentions.users) users.push_back(id.str());
        mentions["users"] = std::move(users);
    }
    if (!allowed_mentions.roles.empty()) {
        json roles = json::array();
        for (const auto id : allowed_mentions.roles) roles.push_back(id.str());
        mentions["roles"] = std::move(roles);
    }
    if (allowed_mentions.replied_user) mentions["replied_user"] = true;
    out["allowed_mentions"] = std::move(mentions);
    if (flags != 0) out["flags"] = flags;
    if (reply_to) out["message_reference"] = {{"message_id", reply_to->str()}, {"fail_if_not_exists", false}};
    if (!nonce.empty()) {
        require(nonce.size() <= limits::kNonce, "nonce longer than 25 characters");
        out["nonce"] = nonce;
        out["enforce_nonce"] = true;
    }
    require(files.size() + keep_attachments.size() <= limits::kAttachments, "at most 10 attachments");
    if (!files.empty() || replace_attachments) {
        json attachments = json::array();
        for (const auto id : keep_attachments) attachments.push_back({{"id", id.str()}});
        for (std::size_t i = 0; i < files.size(); ++i) {
            require(!files[i].filename.empty(), "file needs a filename");
            json item{{"id", std::to_string(i)}, {"filename", sanitize_utf8(files[i].filename)}};
            if (!files[i].description.empty())
                item["description"] = truncate_text(files[i].description, 1024);
            attachments.push_back(std::move(item));
        }
        out["attachments"] = std::move(attachments);
    }
    return out;
}

common::Status<std::string> validate(const Command& command) {
    if (!valid_name(command.name))
        return common::unexpected("/" + command.name + ": name must be 1-32 lowercase characters");
    if (command.description.empty() || text_length(command.description) > 100) {
        return common::unexpected("/" + command.name + ": description must be 1-100 characters");
    }
    return validate_options(command.options, "/" + command.name, 0);
}

json commands_to_json(const std::vector<Command>& commands) {
    json out = json::array();
    for (const auto& command : commands) {
        if (auto status = validate(command); !status) throw std::invalid_argument(status.error());
        json item{{"name", command.name}, {"type", 1}, {"description", command.description}};
        if (command.default_member_permissions)
            item["default_member_permissions"] = *command.default_member_permissions;
        json options = json::array();
        for (const auto& option : command.options) options.push_back(option_json(option));
        item["options"] = std::move(options);
        out.push_back(std::move(item));
    }
    return out;
}

}  // namespace nebula::discord
