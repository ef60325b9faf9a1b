#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace nebula::common::http {

/// Header fields in arrival order; names compare case-insensitively.
class Headers {
  public:
    /// The first value for `name`, if any.
    std::optional<std::string_view> find(std::string_view name) const;
    /// Replaces every field called `name` with one field.
    void set(std::string_view name, std::string value);
    void add(std::string name, std::string value);
    void remove(std::string_view name);
    const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

  private:
    std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
    std::string method;  ///< upper case, e.g. "GET"
    std::string target;  ///< path with query, exactly as on the request line
    Headers headers;
    std::string body;
};

struct Response {
    int status = 200;
    Headers headers;
    std::string body;
    bool close = false;  ///< close the connection after sending
    /// Close the connection without sending anything (test fakes: an answer lost on the way).
    bool abandon = false;
};

/// An absolute http(s) URL split into parts. `path` keeps a trailing slash if given ("/" when empty).
struct Url {
    std::string scheme;  ///< "http" or "https"
    std::string host;    ///< without brackets for IPv6 literals
    std::uint16_t port = 0;
    std::string path = "/";

    bool tls() const { return scheme == "https"; }
    /// host, bracketed when it is an IPv6 literal, plus ":port" when not the scheme's default.
    std::string authority() const;

    static common::Result<Url, std::string> parse(std::string_view text);
};

bool iequals(std::string_view a, std::string_view b);
/// Percent-encodes everything except RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);
/// Decodes %XX escapes (and '+' as space when `plus_is_space`); nothing on a malformed escape.
std::optional<std::string> url_decode(std::string_view text, bool plus_is_space = false);
/// The standard reason phrase for a status code ("Not Found").
std::string_view reason(int status);

}  // namespace nebula::common::http
