#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace nebula::fakes::xui {

/// Go's errors for json.Unmarshal and gin's binders, so the fake's messages read like the panel's.

/// The error encoding/json gives for text that does not parse ("unexpected end of JSON input",
/// "invalid character 'x' looking for beginning of value").
std::string go_syntax_error(std::string_view text);
/// The JSON kind name Go uses in UnmarshalTypeError ("string", "number", "object", "array", "bool").
std::string go_kind(const nlohmann::json& value);
/// common.NewError(a, b): fmt.Sprintln joins with spaces and ends with a newline.
std::string go_new_error(std::string_view a);
std::string go_new_error(std::string_view a, std::string_view b);
/// Go's %q of a string (double quotes, backslash escapes).
std::string go_quote(std::string_view text);

/// The value of `name` in `object`: an exact key first, else a case-insensitive match (Go's rule).
const nlohmann::json* go_field(const nlohmann::json& object, std::string_view name);

/// Decodes fields of a JSON object into Go-typed values the way encoding/json does: a null or
/// missing field gives the zero value, a wrong kind records the first UnmarshalTypeError and gives
/// the zero value. `struct_path` names the Go struct for messages ("Client", "ClientCreatePayload.client").
class GoDecoder {
  public:
    GoDecoder(const nlohmann::json& object, std::string struct_path)
        : object_(object), path_(std::move(struct_path)) {}

    std::string str(std::string_view name);
    std::int64_t i64(std::string_view name, std::string_view go_type = "int64");
    bool boolean(std::string_view name);
    /// The first type error, formatted like Go ("json: cannot unmarshal ...").
    const std::optional<std::string>& error() const { return error_; }

  private:
    void fail(std::string_view name, const nlohmann::json& value, std::string_view go_type);

    const nlohmann::json& object_;
    std::string path_;
    std::optional<std::string> error_;
};

/// Lenient reads used where the panel ignores decode errors (settings.clients entries).
std::string loose_str(const nlohmann::json& object, std::string_view name);
std::int64_t loose_i64(const nlohmann::json& object, std::string_view name);
bool loose_bool(const nlohmann::json& object, std::string_view name);

}  // namespace nebula::fakes::xui
