#pragma once

// Internal: defensive access to JSON from the network. Not installed as a public header.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "discord/model.hpp"
#include "discord/snowflake.hpp"

namespace nebula::discord::detail {

/// Thrown inside parsers only; every public parse function catches it and returns a ParseError.
struct BadField : std::runtime_error {
    BadField(std::string path, const std::string& message)
        : std::runtime_error(message), path(std::move(path)) {}
    std::string path;
};

/// A position in a JSON document plus its path, for error messages.
class Node {
  public:
    Node(const nlohmann::json& json, std::string path) : json_(json), path_(std::move(path)) {}

    const nlohmann::json& json() const { return json_; }
    const std::string& path() const { return path_; }
    [[noreturn]] void fail(const std::string& message) const { throw BadField(path_, message); }

    bool has(std::string_view key) const {
        if (!json_.is_object()) return false;
        const auto it = json_.find(key);
        return it != json_.end() && !it->is_null();
    }
    /// A present, non-null member, or a failure.
    Node at(std::string_view key) const {
        if (!json_.is_object()) fail("expected an object");
        const auto it = json_.find(key);
        if (it == json_.end() || it->is_null()) throw BadField(join(key), "missing");
        return Node(*it, join(key));
    }
    std::optional<Node> find(std::string_view key) const {
        if (!has(key)) return std::nullopt;
        return Node(*json_.find(key), join(key));
    }
    Node index(std::size_t i) const { return Node(json_[i], path_ + "[" + std::to_string(i) + "]"); }
    std::size_t array_size(std::size_t max) const {
        if (!json_.is_array()) fail("expected an array");
        if (json_.size() > max) fail("array too long");
        return json_.size();
    }

    std::string string() const {
        if (!json_.is_string()) fail("expected a string");
        return json_.get<std::string>();
    }
    Snowflake snowflake() const {
        if (json_.is_number_unsigned()) return Snowflake(json_.get<std::uint64_t>());
        if (!json_.is_string()) fail("expected a snowflake string");
        const auto id = Snowflake::parse(json_.get_ref<const std::string&>());
        if (!id) fail("not a snowflake");
        return *id;
    }
    std::int64_t integer() const {
        if (json_.is_number_integer()) return json_.get<std::int64_t>();
        if (json_.is_number_unsigned() && json_.get<std::uint64_t>() <= INT64_MAX) {
            return static_cast<std::int64_t>(json_.get<std::uint64_t>());
        }
        fail("expected an integer");
    }
    std::uint64_t unsigned_integer() const {
        if (json_.is_number_unsigned()) return json_.get<std::uint64_t>();
        if (json_.is_number_integer() && json_.get<std::int64_t>() >= 0) {
            return static_cast<std::uint64_t>(json_.get<std::int64_t>());
        }
        fail("expected a non-negative integer");
    }
    /// Permission bit sets arrive as decimal strings.
    std::uint64_t bitset() const {
        if (json_.is_string()) {
            const auto value = Snowflake::parse(json_.get_ref<const std::string&>());
            if (!value) fail("expected a decimal bit set");
            return value->value();
        }
        return unsigned_integer();
    }
    bool boolean() const {
        if (!json_.is_boolean()) fail("expected a boolean");
        return json_.get<bool>();
    }

    std::string string_or(std::string_view key, std::string fallback = {}) const {
        const auto node = find(key);
        return node ? node->string() : fallback;
    }
    bool bool_or(std::string_view key, bool fallback) const {
        const auto node = find(key);
        return node ? node->boolean() : fallback;
    }
    std::optional<Snowflake> optional_snowflake(std::string_view key) const {
        const auto node = find(key);
        if (!node) return std::nullopt;
        return node->snowflake();
    }

  private:
    std::string join(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }
    const nlohmann::json& json_;
    std::string path_;
};

/// Runs `parse` and turns a BadField or a JSON library error into a ParseError.
template <typename T, typename F>
Parsed<T> guarded(F&& parse) {
    try {
        return parse();
    } catch (const BadField& e) {
        return nebula::common::unexpected(ParseError{e.path, e.what()});
    } catch (const nlohmann::json::exception& e) {
        return nebula::common::unexpected(ParseError{"", e.what()});
    }
}

User read_user(const Node& node);
Member read_member(const Node& node);
Attachment read_attachment(const Node& node);
Channel read_channel(const Node& node);
Guild read_guild(const Node& node);
Message read_message(const Node& node);

}  // namespace nebula::discord::detail
