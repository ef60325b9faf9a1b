// custom_id parsing: any text, as a custom_id coming back from a user's Discord client, against
// routes shaped like the bot's (prefix plus int64, uint64, Snowflake and string parameters).
// Properties: nothing throws; a matching id yields parameters that, built again with
// custom_id::make, match the same route with the same values.
#include <string>

#include "discord/custom_id.hpp"
#include "fuzz_util.hpp"

using namespace nebula;
namespace cid = discord::custom_id;

namespace {

/// Each route answers with the custom_id rebuilt from what it parsed.
cid::Router<std::string> make_router() {
    cid::Router<std::string> router;
    router.add<std::string>("panel", [](std::string action) { return cid::make("panel", action); });
    router.add<std::int64_t>("order_cancel", [](std::int64_t id) { return cid::make("order_cancel", id); });
    router.add<std::int64_t, std::string>(
        "acct", [](std::int64_t id, std::string a) { return cid::make("acct", id, a); });
    router.add<std::int64_t, std::int64_t>(
        "outage", [](std::int64_t id, std::int64_t at) { return cid::make("outage", id, at); });
    router.add<discord::Snowflake, std::uint64_t>("member", [](discord::Snowflake user, std::uint64_t bits) {
        return cid::make("member", user, bits);
    });
    router.add<>("close", [] { return cid::make("close"); });
    return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const cid::Router<std::string> router = make_router();
    const std::string_view id = fuzz::as_text(data, size);
    const auto rebuilt = router.dispatch(id);
    if (!rebuilt) return 0;
    fuzz::check(id.size() <= cid::kMaxLength, "a matching custom_id is at most 100 characters");
    const auto again = router.dispatch(*rebuilt);
    fuzz::check(again.has_value() && *again == *rebuilt, "a rebuilt custom_id matches with the same values");
    return 0;
}
