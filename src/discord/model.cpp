#include "discord/model.hpp"

#include <algorithm>

#include "discord/json_reader.hpp"

namespace nebula::discord {

using detail::Node;

const Role* Guild::role(Snowflake wanted) const {
    const auto it = std::find_if(roles.begin(), roles.end(), [&](const Role& r) { return r.id == wanted; });
    return it == roles.end() ? nullptr : &*it;
}

bool Member::has_role(Snowflake role) const {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
}

namespace detail {

namespace {
constexpr std::size_t kMaxList = 1000;
constexpr int kMaxOptionDepth = 4;
constexpr int kMaxComponentDepth = 6;
}  // namespace

User read_user(const Node& node) {
    User user;
    user.id = node.at("id").snowflake();
    user.username = node.string_or("username");
    user.global_name = node.string_or("global_name");
    user.bot = node.bool_or("bot", false);
    return user;
}

Member read_member(const Node& node) {
    Member member;
    if (const auto user = node.find("user")) member.user = read_user(*user);
    member.nick = node.string_or("nick");
    if (const auto roles = node.find("roles")) {
        const std::size_t n = roles->array_size(kMaxList);
        for (std::size_t i = 0; i < n; ++i) member.roles.push_back(roles->index(i).snowflake());
    }
    if (const auto permissions = node.find("permissions")) member.permissions = permissions->bitset();
    return member;
}

Attachment read_attachment(const Node& node) {
    Attachment attachment;
    attachment.id = node.at("id").snowflake();
    attachment.filename = node.string_or("filename");
    attachment.content_type = node.string_or("content_type");
    if (const auto size = node.find("size")) attachment.size = size->unsigned_integer();
    attachment.url = node.string_or("url");
    attachment.proxy_url = node.string_or("proxy_url");
    attachment.ephemeral = node.bool_or("ephemeral", false);
    return attachment;
}

Channel read_channel(const Node& node) {
    Channel channel;
    channel.id = node.at("id").snowflake();
    channel.type = static_cast<int>(node.at("type").integer());
    channel.guild_id = node.optional_snowflake("guild_id");
    channel.parent_id = node.optional_snowflake("parent_id");
    channel.name = node.string_or("name");
    channel.topic = node.string_or("topic");
    if (const auto overwrites = node.find("permission_overwrites")) {
        const std::size_t n = overwrites->array_size(kMaxList);
        for (std::size_t i = 0; i < n; ++i) {
            const Node item = overwrites->index(i);
            PermissionOverwrite overwrite;
            overwrite.id = item.at("id").snowflake();
            const auto type = item.at("type").integer();
            if (type != 0 && type != 1) item.at("type").fail("unknown overwrite type");
            overwrite.type = static_cast<OverwriteType>(type);
            if (const auto allow = item.find("allow")) overwrite.allow = allow->bitset();
            if (const auto deny = item.find("deny")) overwrite.deny = deny->bitset();
            channel.permission_overwrites.push_back(overwrite);
        }
    }
    return channel;
}

Guild read_guild(const Node& node) {
    Guild guild;
    guild.id = node.at("id").snowflake();
    guild.name = node.string_or("name");
    guild.owner_id = node.at("owner_id").snowflake();
    if (const auto roles = node.find("roles")) {
        const std::size_t n = roles->array_size(kMaxList);
        for (std::size_t i = 0; i < n; ++i) {
            const Node item = roles->index(i);
            Role role;
            role.id = item.at("id").snowflake();
            role.name = item.string_or("name");
            role.permissions = item.at("permissions").bitset();
            role.position = static_cast<int>(item.at("position").integer());
            guild.roles.push_back(std::move(role));
        }
    }
    return guild;
}

Message read_message(const Node& node) {
    Message message;
    message.id = node.at("id").snowflake();
    message.channel_id = node.at("channel_id").snowflake();
    message.guild_id = node.optional_snowflake("guild_id");
    message.author = read_user(node.at("author"));
    if (const auto member = node.find("member")) message.member = read_member(*member);
    message.content = node.string_or("content");
    if (const auto attachments = node.find("attachments")) {
        const std::size_t n = attachments->array_size(kMaxList);
        for (std::size_t i = 0; i < n; ++i)
            message.attachments.push_back(read_attachment(attachments->index(i)));
    }
    if (const auto nonce = node.find("nonce")) {
        message.nonce = nonce->json().is_string() ? nonce->string() : std::to_string(nonce->integer());
    }
    message.webhook = node.has("webhook_id");
    return message;
}

namespace {

Resolved read_resolved(const Node& data) {
    Resolved resolved;
    const auto node = data.find("resolved");
    if (!node) return resolved;
    auto each = [&](std::string_view key, auto&& read) {
        const auto map = node->find(key);
        if (!map) return;
        if (!map->json().is_object()) map->fail("expected an object");
        if (map->json().size() > kMaxList) map->fail("too many entries");
        for (const auto& [id_text, value] : map->json().items()) {
            const auto id = Snowflake::parse(id_text);
            if (!id) map->fail("key is not a snowflake");
            read(*id, Node(value, map->path() + "." + id_text));
        }
    };
    each("attachments",
         [&](Snowflake id, const Node& n) { resolved.attachments.emplace(id, read_attachment(n)); });
    each("users", [&](Snowflake id, const Node& n) { resolved.users.emplace(id, read_user(n)); });
    each("members", [&](Snowflake id, const Node& n) { resolved.members.emplace(id, read_member(n)); });
    return resolved;
}

ReceivedOption read_option(const Node& node, int depth) {
    if (depth > kMaxOptionDepth) node.fail("options nested too deeply");
    ReceivedOption option;
    option.name = node.at("name").string();
    const auto type = node.at("type").integer();
    if (type < 1 || type > 11) node.at("type").fail("unknown option type");
    option.type = static_cast<OptionType>(type);
    option.focused = node.bool_or("focused", false);
    if (const auto value = node.find("value")) {
        switch (option.type) {
            case OptionType::integer:
                // Autocomplete sends the partial text as a string even for numeric options.
                if (value->json().is_string())
                    option.value = value->string();
                else
                    option.value = value->integer();
                break;
            case OptionType::number:
                if (value->json().is_string())
                    option.value = value->string();
                else if (value->json().is_number())
                    option.value = value->json().get<double>();
                else
                    value->fail("expected a number");
                break;
            case OptionType::boolean:
                option.value = value->boolean();
                break;
            case OptionType::sub_command:
            case OptionType::sub_command_group:
                value->fail("subcommands carry no value");
            default:
                option.value = value->string();
        }
    }
    if (const auto options = node.find("options")) {
        const std::size_t n = options->array_size(25);
        for (std::size_t i = 0; i < n; ++i)
            option.options.push_back(read_option(options->index(i), depth + 1));
    }
    return option;
}

void read_modal_fields(const Node& node, int depth, std::vector<ModalField>& out) {
    if (depth > kMaxComponentDepth) node.fail("components nested too deeply");
    if (!node.json().is_object()) node.fail("expected an object");
    if (node.has("custom_id")) {
        ModalField field;
        field.custom_id = node.at("custom_id").string();
        field.type = static_cast<int>(node.at("type").integer());
        field.value = node.string_or("value");
        if (const auto values = node.find("values")) {
            const std::size_t n = values->array_size(25);
            for (std::size_t i = 0; i < n; ++i) field.values.push_back(values->index(i).string());
        }
        out.push_back(std::move(field));
    }
    if (const auto child = node.find("component")) read_modal_fields(*child, depth + 1, out);
    if (const auto children = node.find("components")) {
        const std::size_t n = children->array_size(40);
        for (std::size_t i = 0; i < n; ++i) read_modal_fields(children->index(i), depth + 1, out);
    }
}

}  // namespace
}  // namespace detail

Parsed<User> parse_user(const nlohmann::json& json) {
    return detail::guarded<User>([&] { return detail::read_user(Node(json, "")); });
}
Parsed<Member> parse_member(const nlohmann::json& json) {
    return detail::guarded<Member>([&] { return detail::read_member(Node(json, "")); });
}
Parsed<Attachment> parse_attachment(const nlohmann::json& json) {
    return detail::guarded<Attachment>([&] { return detail::read_attachment(Node(json, "")); });
}
Parsed<Channel> parse_channel(const nlohmann::json& json) {
    return detail::guarded<Channel>([&] { return detail::read_channel(Node(json, "")); });
}
Parsed<Guild> parse_guild(const nlohmann::json& json) {
    return detail::guarded<Guild>([&] { return detail::read_guild(Node(json, "")); });
}
Parsed<Message> parse_message(const nlohmann::json& json) {
    return detail::guarded<Message>([&] { return detail::read_message(Node(json, "")); });
}

Parsed<Interaction> parse_interaction(const nlohmann::json& json) {
    return detail::guarded<Interaction>([&] {
        const Node node(json, "");
        Interaction interaction;
        interaction.id = node.at("id").snowflake();
        interaction.application_id = node.at("application_id").snowflake();
        const auto type = node.at("type").integer();
        if (type < 1 || type > 5) node.at("type").fail("unknown interaction type");
        interaction.type = static_cast<InteractionType>(type);
        interaction.token = node.at("token").string();
        if (interaction.token.empty() || interaction.token.size() > 500) node.at("token").fail("bad token");
        interaction.guild_id = node.optional_snowflake("guild_id");
        interaction.channel_id = node.optional_snowflake("channel_id");
        if (const auto member = node.find("member")) {
            interaction.member = detail::read_member(*member);
            if (!interaction.member->user) member->fail("member without user");
            interaction.user = *interaction.member->user;
        } else if (const auto user = node.find("user")) {
            interaction.user = detail::read_user(*user);
        } else if (interaction.type != InteractionType::ping) {
            node.fail("neither member nor user");
        }
        if (const auto message = node.find("message")) interaction.message = detail::read_message(*message);
        if (const auto permissions = node.find("app_permissions"))
            interaction.app_permissions = permissions->bitset();
        interaction.locale = node.string_or("locale");
        if (const auto limit = node.find("attachment_size_limit")) {
            interaction.attachment_size_limit = limit->unsigned_integer();
        }
        if (interaction.type == InteractionType::ping) return interaction;

        const Node data = node.at("data");
        switch (interaction.type) {
            case InteractionType::application_command:
            case InteractionType::autocomplete: {
                CommandData command;
                command.id = data.at("id").snowflake();
                command.name = data.at("name").string();
                if (const auto t = data.find("type")) command.type = static_cast<int>(t->integer());
                if (const auto options = data.find("options")) {
                    const std::size_t n = options->array_size(25);
                    for (std::size_t i = 0; i < n; ++i) {
                        command.options.push_back(detail::read_option(options->index(i), 1));
                    }
                }
                command.resolved = detail::read_resolved(data);
                interaction.data = std::move(command);
                break;
            }
            case InteractionType::message_component: {
                ComponentData component;
                component.custom_id = data.at("custom_id").string();
                component.component_type = static_cast<int>(data.at("component_type").integer());
                if (const auto values = data.find("values")) {
                    const std::size_t n = values->array_size(25);
                    for (std::size_t i = 0; i < n; ++i) component.values.push_back(values->index(i).string());
                }
                component.resolved = detail::read_resolved(data);
                interaction.data = std::move(component);
                break;
            }
            case InteractionType::modal_submit: {
                ModalData modal;
                modal.custom_id = data.at("custom_id").string();
                const Node components = data.at("components");
                const std::size_t n = components.array_size(40);
                for (std::size_t i = 0; i < n; ++i)
                    detail::read_modal_fields(components.index(i), 1, modal.fields);
                modal.resolved = detail::read_resolved(data);
                interaction.data = std::move(modal);
                break;
            }
            case InteractionType::ping:
                break;
        }
        return interaction;
    });
}

std::vector<std::string> CommandData::path() const {
    std::vector<std::string> out{name};
    const std::vector<ReceivedOption>* level = &options;
    while (level->size() == 1 && ((*level)[0].type == OptionType::sub_command ||
                                  (*level)[0].type == OptionType::sub_command_group)) {
        out.push_back((*level)[0].name);
        level = &(*level)[0].options;
    }
    return out;
}

const std::vector<ReceivedOption>& CommandData::leaf_options() const {
    const std::vector<ReceivedOption>* level = &options;
    while (level->size() == 1 && ((*level)[0].type == OptionType::sub_command ||
                                  (*level)[0].type == OptionType::sub_command_group)) {
        level = &(*level)[0].options;
    }
    return *level;
}

const ReceivedOption* CommandData::option(std::string_view wanted) const {
    for (const auto& o : leaf_options()) {
        if (o.name == wanted) return &o;
    }
    return nullptr;
}

std::optional<std::string> CommandData::string_option(std::string_view wanted) const {
    const auto* o = option(wanted);
    if (o == nullptr || o->type != OptionType::string) return std::nullopt;
    const auto* value = std::get_if<std::string>(&o->value);
    return value ? std::optional<std::string>(*value) : std::nullopt;
}

std::optional<std::int64_t> CommandData::integer_option(std::string_view wanted) const {
    const auto* o = option(wanted);
    if (o == nullptr) return std::nullopt;
    const auto* value = std::get_if<std::int64_t>(&o->value);
    return value ? std::optional<std::int64_t>(*value) : std::nullopt;
}

std::optional<bool> CommandData::boolean_option(std::string_view wanted) const {
    const auto* o = option(wanted);
    if (o == nullptr) return std::nullopt;
    const auto* value = std::get_if<bool>(&o->value);
    return value ? std::optional<bool>(*value) : std::nullopt;
}

std::optional<Snowflake> CommandData::id_option(std::string_view wanted) const {
    const auto* o = option(wanted);
    if (o == nullptr) return std::nullopt;
    switch (o->type) {
        case OptionType::user:
        case OptionType::channel:
        case OptionType::role:
        case OptionType::mentionable:
        case OptionType::attachment:
            break;
        default:
            return std::nullopt;
    }
    const auto* value = std::get_if<std::string>(&o->value);
    return value ? Snowflake::parse(*value) : std::nullopt;
}

const Attachment* CommandData::attachment_option(std::string_view wanted) const {
    const auto id = id_option(wanted);
    if (!id) return nullptr;
    const auto it = resolved.attachments.find(*id);
    return it == resolved.attachments.end() ? nullptr : &it->second;
}

const ReceivedOption* CommandData::focused() const {
    for (const auto& o : leaf_options()) {
        if (o.focused) return &o;
    }
    return nullptr;
}

const ModalField* ModalData::field(std::string_view wanted) const {
    for (const auto& f : fields) {
        if (f.custom_id == wanted) return &f;
    }
    return nullptr;
}

std::vector<const Attachment*> ModalData::files(std::string_view wanted) const {
    std::vector<const Attachment*> out;
    const auto* f = field(wanted);
    if (f == nullptr) return out;
    for (const auto& value : f->values) {
        const auto id = Snowflake::parse(value);
        if (!id) continue;
        const auto it = resolved.attachments.find(*id);
        if (it != resolved.attachments.end()) out.push_back(&it->second);
    }
    return out;
}

}  // namespace nebula::discord
