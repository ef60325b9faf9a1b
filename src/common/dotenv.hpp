#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace nebula::common {

/// One problem found in a .env file; `line` is 1-based.
struct DotenvError {
    int line = 0;
    std::string message;
};

/// Parses dotenv text: `KEY=value` lines, `#` comments, blank lines, an optional `export `
/// prefix, single quotes (literal), double quotes (with \n, \t, \", \\ escapes, may span lines)
/// and unquoted values (trailing ` #comment` and surrounding spaces removed).
/// Returns every bad line at once. Pure function, thread-safe.
common::Result<std::map<std::string, std::string>, std::vector<DotenvError>> parse_dotenv(
    std::string_view text);

/// The configuration environment: real environment variables win over values from the .env
/// file. Immutable after construction.
class Environment {
  public:
    /// Reads `path` when it exists (a missing file is not an error) and overlays the process
    /// environment. Parse errors name the file and each bad line.
    static common::Result<Environment, std::string> load(const std::string& path);
    /// For tests: exactly these values, nothing from the process.
    static Environment from_map(std::map<std::string, std::string> values);

    /// The value of `key`, or nothing when unset or empty.
    const std::string* find(std::string_view key) const;

  private:
    std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace nebula::common
