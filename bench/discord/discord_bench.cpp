// Discord client benchmarks: gateway events decoded per second, REST requests scheduled against
// a bucket (how close to the allowed rate, with zero 429s), and memory per member view.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "discord/events.hpp"
#include "discord/rate_limit.hpp"

namespace {

using namespace nebula;
using namespace std::chrono_literals;

const std::string kInteraction = R"({"op":0,"s":42,"t":"INTERACTION_CREATE","d":{
  "id":"1100000000000000001","application_id":"1200000000000000002","type":2,"token":"aW50ZXJhY3Rpb246MTEwMDAwMDAwMDAwMDAwMDAwMTpzZWNyZXQ",
  "guild_id":"1300000000000000003","channel_id":"1400000000000000004","locale":"ar","app_permissions":"2251799813685247",
  "member":{"user":{"id":"1500000000000000005","username":"ahmed","global_name":"أحمد"},
            "roles":["1600000000000000006","1600000000000000007"],"permissions":"8","nick":null},
  "data":{"id":"1700000000000000008","name":"admin","type":1,"options":[{"name":"plan","type":2,"options":[
    {"name":"create","type":1,"options":[{"name":"title","type":3,"value":"Gold 30 days"},{"name":"price","type":4,"value":15000}]}]}]}}})";

const std::string kMessage =
    R"({"op":0,"s":43,"t":"MESSAGE_CREATE","d":{"id":"10","channel_id":"11","guild_id":"12",
  "content":"receipt attached for order 42","author":{"id":"13","username":"cust"},"member":{"roles":["14"]},
  "attachments":[{"id":"15","filename":"r.jpg","content_type":"image/jpeg","size":99321,"url":"https://cdn.discordapp.com/x"}]}})";

void decode(benchmark::State& state, const std::string& text) {
    for (auto _ : state) {
        auto payload = nlohmann::json::parse(text);
        auto event = discord::make_event(payload["t"].get<std::string>(), payload["s"].get<std::int64_t>(),
                                         std::move(payload["d"]));
        benchmark::DoNotOptimize(event);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}

void BM_DecodeInteractionCreate(benchmark::State& state) { decode(state, kInteraction); }
void BM_DecodeMessageCreate(benchmark::State& state) { decode(state, kMessage); }

// A simulated Discord bucket (limit per window, windows starting at the first request) and the
// client's RateLimiter on virtual time: the client sends as soon as the limiter allows, the
// bucket answers with real headers. Reports the achieved rate as a fraction of the allowed one
// and the number of 429s (which must be zero).
void BM_ScheduleAgainstBucket(benchmark::State& state) {
    const int limit = static_cast<int>(state.range(0));
    const auto window = std::chrono::milliseconds(state.range(1));
    const int requests = 10'000;
    double efficiency = 0;
    std::int64_t rejected = 0;
    for (auto _ : state) {
        common::ManualClock clock;
        discord::RateLimiter limiter(clock, discord::RateLimiterOptions{});
        const auto key = discord::route_key("POST", "/channels/1/messages");
        auto window_start = clock.steady_now();
        int used = 0;
        const auto start = clock.steady_now();
        rejected = 0;
        for (int i = 0; i < requests; ++i) {
            const auto ready = limiter.ready_at(key);
            if (ready > clock.steady_now()) clock.advance(ready - clock.steady_now());
            limiter.on_send(key);
            const auto now = clock.steady_now();
            if (used == 0 || now >= window_start + window) {
                window_start = now;
                used = 0;
            }
            common::http::Response response;
            if (used >= limit) {
                ++rejected;
                response.status = 429;
            } else {
                ++used;
                response.status = 200;
            }
            response.headers.set("X-RateLimit-Limit", std::to_string(limit));
            response.headers.set("X-RateLimit-Remaining", std::to_string(limit - used));
            response.headers.set(
                "X-RateLimit-Reset-After",
                std::to_string(std::chrono::duration<double>(window_start + window - now).count()));
            response.headers.set("X-RateLimit-Bucket", "bench");
            limiter.on_response(key, response.status, discord::RateLimitInfo::from(response));
            clock.advance(5ms);  // round trip
        }
        const double seconds = std::chrono::duration<double>(clock.steady_now() - start).count();
        const double allowed = static_cast<double>(limit) / std::chrono::duration<double>(window).count();
        efficiency = (requests / seconds) / allowed;
    }
    state.counters["rate_vs_allowed"] = efficiency;
    state.counters["429s"] = static_cast<double>(rejected);
    state.SetItemsProcessed(state.iterations() * requests);
}

void BM_MemberViewBytes(benchmark::State& state) {
    const auto member_json = nlohmann::json::parse(
        R"({"user":{"id":"1500000000000000005","username":"ahmed_2024","global_name":"أحمد"},"nick":"Ahmed",
            "roles":["1","2","3","4","5"],"permissions":"8"})");
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto member = discord::parse_member(member_json);
        benchmark::DoNotOptimize(member);
        const auto& m = member.value();
        bytes = sizeof(discord::Member) + m.roles.capacity() * sizeof(discord::Snowflake);
        const auto heap = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
        bytes += heap(m.nick) + heap(m.user->username) + heap(m.user->global_name);
    }
    state.counters["bytes_per_member"] = static_cast<double>(bytes);
}

}  // namespace

BENCHMARK(BM_DecodeInteractionCreate);
BENCHMARK(BM_DecodeMessageCreate);
BENCHMARK(BM_ScheduleAgainstBucket)
    ->Args({5, 1000})
    ->Args({50, 1000})
    ->Args({2, 400})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MemberViewBytes);
BENCHMARK_MAIN();
