#include "common/dotenv.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace nebula::common {
namespace {

bool is_key_char(char c, bool first) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
           (!first && std::isdigit(static_cast<unsigned char>(c)));
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

}  // namespace

common::Result<std::map<std::string, std::string>, std::vector<DotenvError>> parse_dotenv(
    std::string_view text) {
    std::map<std::string, std::string> values;
    std::vector<DotenvError> errors;
    std::size_t pos = 0;
    int line_no = 0;

    auto next_line = [&](std::string_view& line) {
        if (pos >= text.size()) return false;
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        return true;
    };

    std::string_view raw;
    while (next_line(raw)) {
        const int start_line = line_no;
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') continue;
        if (line.substr(0, 7) == "export " || line.substr(0, 7) == "export\t") line = trim(line.substr(7));

        std::size_t key_end = 0;
        while (key_end < line.size() && is_key_char(line[key_end], key_end == 0)) ++key_end;
        if (key_end == 0) {
            errors.push_back({start_line, "expected KEY=value"});
            continue;
        }
        std::string key(line.substr(0, key_end));
        std::string_view rest = trim(line.substr(key_end));
        if (rest.empty() || rest.front() != '=') {
            errors.push_back({start_line, "expected '=' after " + key});
            continue;
        }
        rest = trim(rest.substr(1));

        std::string value;
        if (!rest.empty() && rest.front() == '\'') {
            std::size_t close = rest.find('\'', 1);
            if (close == std::string_view::npos) {
                errors.push_back({start_line, "unterminated single quote in " + key});
                continue;
            }
            value = std::string(rest.substr(1, close - 1));
            std::string_view after = trim(rest.substr(close + 1));
            if (!after.empty() && after.front() != '#') {
                errors.push_back({start_line, "unexpected text after closing quote in " + key});
                continue;
            }
        } else if (!rest.empty() && rest.front() == '"') {
            // Double-quoted values may continue over following lines until the closing quote.
            std::string_view body = rest.substr(1);
            bool closed = false;
            bool bad_tail = false;
            for (;;) {
                for (std::size_t i = 0; i < body.size(); ++i) {
                    char c = body[i];
                    if (c == '\\' && i + 1 < body.size()) {
                        char n = body[++i];
                        switch (n) {
                            case 'n':
                                value += '\n';
                                break;
                            case 't':
                                value += '\t';
                                break;
                            case 'r':
                                value += '\r';
                                break;
                            case '"':
                                value += '"';
                                break;
                            case '\\':
                                value += '\\';
                                break;
                            case '$':
                                value += '$';
                                break;
                            default:
                                value += '\\';
                                value += n;
                                break;
                        }
                    } else if (c == '"') {
                        closed = true;
                        std::string_view after = trim(body.substr(i + 1));
                        bad_tail = !after.empty() && after.front() != '#';
                        break;
                    } else {
                        value += c;
                    }
                }
                if (closed) break;
                std::string_view more;
                if (!next_line(more)) break;
                value += '\n';
                body = more;
                if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
            }
            if (!closed) {
                errors.push_back({start_line, "unterminated double quote in " + key});
                continue;
            }
            if (bad_tail) {
                errors.push_back({start_line, "unexpected text after closing quote in " + key});
                continue;
            }
        } else {
            std::size_t hash = std::string_view::npos;
            for (std::size_t i = 0; i < rest.size(); ++i) {
                if (rest[i] == '#' && (i == 0 || rest[i - 1] == ' ' || rest[i - 1] == '\t')) {
                    hash = i;
                    break;
                }
            }
            value = std::string(trim(rest.substr(0, hash)));
        }
        values[key] = std::move(value);
    }
    if (!errors.empty()) return common::unexpected(std::move(errors));
    return values;
}

common::Result<Environment, std::string> Environment::load(const std::string& path) {
    Environment env;
    std::ifstream in(path, std::ios::binary);
    if (in) {
        std::stringstream buffer;
        buffer << in.rdbuf();
        auto parsed = parse_dotenv(buffer.str());
        if (!parsed) {
            std::string message = "cannot read " + path + ":";
            for (const auto& e : parsed.error())
                message += "\n  line " + std::to_string(e.line) + ": " + e.message;
            return common::unexpected(std::move(message));
        }
        for (auto& [k, v] : *parsed) env.values_[k] = v;
    }
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view entry(*e);
        auto eq = entry.find('=');
        if (eq == std::string_view::npos) continue;
        env.values_[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
    }
    return env;
}

Environment Environment::from_map(std::map<std::string, std::string> values) {
    Environment env;
    for (auto& [k, v] : values) env.values_[k] = std::move(v);
    return env;
}

const std::string* Environment::find(std::string_view key) const {
    auto it = values_.find(key);
    if (it == values_.end() || it->second.empty()) return nullptr;
    return &it->second;
}

}  // namespace nebula::common
