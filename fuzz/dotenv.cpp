// dotenv: any text, as an operator's .env file. Never throws; every error names a line of the
// input; every key read is a valid variable name.
#include <algorithm>
#include <cctype>

#include "common/dotenv.hpp"
#include "fuzz_util.hpp"

using namespace nebula;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    const auto lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
    auto parsed = common::parse_dotenv(text);
    if (parsed) {
        for (const auto& [key, value] : *parsed) {
            fuzz::check(!key.empty(), "a key is never empty");
            fuzz::check(!std::isdigit(static_cast<unsigned char>(key.front())),
                        "a key never starts with a digit");
            fuzz::check(
                std::all_of(key.begin(), key.end(),
                            [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }),
                "a key is letters, digits and '_'");
        }
        const auto env = common::Environment::from_map(std::move(*parsed));
        (void)env.find("DATABASE_URL");
    } else {
        fuzz::check(!parsed.error().empty(), "a failed parse names at least one line");
        for (const auto& error : parsed.error()) {
            fuzz::check(error.line >= 1 && error.line <= lines,
                        "an error's line number is a line of the input");
            fuzz::check(!error.message.empty(), "an error has a message");
        }
    }
    return 0;
}
