#include "fakes/xui/go_json.hpp"

#include <cctype>
#include <cstdio>

#include "common/http.hpp"

namespace nebula::fakes::xui {

using nlohmann::json;

std::string go_syntax_error(std::string_view text) {
    try {
        json parsed = json::parse(text);
        (void)parsed;
    } catch (const json::parse_error& e) {
        if (e.byte == 0 || e.byte > text.size()) return "unexpected end of JSON input";
        char c = text[e.byte - 1];
        if (std::isspace(static_cast<unsigned char>(c))) return "unexpected end of JSON input";
        return std::string("invalid character '") + c + "' looking for beginning of value";
    }
    return "unexpected end of JSON input";
}

std::string go_kind(const json& value) {
    if (value.is_string()) return "string";
    if (value.is_number()) return "number";
    if (value.is_object()) return "object";
    if (value.is_array()) return "array";
    if (value.is_boolean()) return "bool";
    return "null";
}

std::string go_new_error(std::string_view a) { return std::string(a) + "\n"; }

std::string go_new_error(std::string_view a, std::string_view b) {
    return std::string(a) + " " + std::string(b) + "\n";
}

std::string go_quote(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

const json* go_field(const json& object, std::string_view name) {
    if (!object.is_object()) return nullptr;
    auto exact = object.find(std::string(name));
    if (exact != object.end()) return &*exact;
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (common::http::iequals(it.key(), name)) return &*it;
    }
    return nullptr;
}

void GoDecoder::fail(std::string_view name, const json& value, std::string_view go_type) {
    if (error_) return;
    std::string kind = go_kind(value);
    if (value.is_number()) kind = "number " + value.dump();
    if (value.is_number() && (value.is_number_integer() || value.is_number_unsigned())) kind = "number";
    error_ = "json: cannot unmarshal " + kind + " into Go struct field " + path_ + "." + std::string(name) +
             " of type " + std::string(go_type);
}

std::string GoDecoder::str(std::string_view name) {
    const json* v = go_field(object_, name);
    if (v == nullptr || v->is_null()) return {};
    if (!v->is_string()) {
        fail(name, *v, "string");
        return {};
    }
    return v->get<std::string>();
}

std::int64_t GoDecoder::i64(std::string_view name, std::string_view go_type) {
    const json* v = go_field(object_, name);
    if (v == nullptr || v->is_null()) return 0;
    if (v->is_number_integer() || v->is_number_unsigned()) return v->get<std::int64_t>();
    fail(name, *v, go_type);
    return 0;
}

bool GoDecoder::boolean(std::string_view name) {
    const json* v = go_field(object_, name);
    if (v == nullptr || v->is_null()) return false;
    if (!v->is_boolean()) {
        fail(name, *v, "bool");
        return false;
    }
    return v->get<bool>();
}

std::string loose_str(const json& object, std::string_view name) {
    const json* v = go_field(object, name);
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

std::int64_t loose_i64(const json& object, std::string_view name) {
    const json* v = go_field(object, name);
    return v != nullptr && (v->is_number_integer() || v->is_number_unsigned()) ? v->get<std::int64_t>() : 0;
}

bool loose_bool(const json& object, std::string_view name) {
    const json* v = go_field(object, name);
    return v != nullptr && v->is_boolean() && v->get<bool>();
}

}  // namespace nebula::fakes::xui
