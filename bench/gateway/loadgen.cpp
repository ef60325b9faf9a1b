// nebula-loadgen: a closed-loop HTTP/1.1 load generator for nebula-gateway.
//
// N keep-alive connections each send one request, wait for the whole response, and send the next,
// for a warm-up period and then a measured period. Every request may carry a fresh v1 signature
// (new nonce each time), exactly as nebula-bot signs. Latencies of the responses completed inside the
// measured period go into a log-linear histogram (under 0.8 % relative error).
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/resource.h>
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.hpp"
#include "common/http.hpp"
#include "common/http_client.hpp"
#include "common/signing.hpp"

namespace nebula::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

struct Options {
    std::string url;
    std::string method = "GET";
    std::string body;
    int connections = 64;
    int threads = 1;
    double duration_s = 10;
    double warmup_s = 2;
    std::string key;
    bool sign = false;
    std::string pinned_sha256;
    std::string ca_file;
    std::string engine = "raw";
    int timeout_ms = 10'000;
    double rate = 0;  ///< total requests/s across all connections; 0 = closed loop (back-to-back)
    bool json = false;
};

/// Latencies in nanoseconds, log-linear: exact below 128 ns, then 128 sub-buckets per power of two.
class Histogram {
  public:
    static constexpr int kSubBits = 7;
    static constexpr std::uint64_t kSub = 1u << kSubBits;

    Histogram() : counts_(kSub + 57 * kSub, 0) {}

    void record(std::uint64_t ns) {
        ++counts_[index(ns)];
        ++total_;
        sum_ += ns;
        max_ = std::max(max_, ns);
    }
    void merge(const Histogram& other) {
        for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
        total_ += other.total_;
        sum_ += other.sum_;
        max_ = std::max(max_, other.max_);
    }
    std::uint64_t count() const { return total_; }
    std::uint64_t max() const { return max_; }
    double mean() const {
        return total_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(total_);
    }

    /// The smallest recorded bucket's upper bound below which `q` of the values lie.
    std::uint64_t quantile(double q) const {
        if (total_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
        if (rank >= total_) rank = total_ - 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen > rank) return std::min(upper(i), max_);
        }
        return max_;
    }

  private:
    static std::size_t index(std::uint64_t v) {
        if (v < kSub) return static_cast<std::size_t>(v);
        const int shift = std::bit_width(v) - kSubBits - 1;
        return static_cast<std::size_t>(kSub + static_cast<std::uint64_t>(shift) * kSub +
                                        ((v >> shift) - kSub));
    }
    static std::uint64_t upper(std::size_t i) {
        if (i < kSub) return i;
        const std::size_t shift = (i - kSub) / kSub;
        const std::uint64_t mantissa = (i - kSub) % kSub + kSub;
        return ((mantissa + 1) << shift) - 1;
    }

    std::vector<std::uint64_t> counts_;
    std::uint64_t total_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
};

/// v1 signing without per-request set-up: HMAC-SHA256 keyed once (the key's inner and outer pads are
/// hashed once; each request re-initialises from them), the body's hash computed once. The output is
/// checked against common::signing at start-up. One per thread.
class Signer {
  public:
    Signer(std::string_view key, std::string_view method, std::string_view target, std::string_view body);
    ~Signer();
    Signer(const Signer&) = delete;
    Signer& operator=(const Signer&) = delete;

    common::signing::SignedHeaders sign_with_nonce(std::int64_t now, std::string nonce);
    common::signing::SignedHeaders sign(std::int64_t now) {
        return sign_with_nonce(now, common::random_hex(common::signing::kMinNonceBytes));
    }

  private:
    EVP_MAC* mac_ = nullptr;
    EVP_MAC_CTX* keyed_ = nullptr;
    std::string prefix_;  ///< "v1\nMETHOD\nTARGET\n"
    std::string body_hash_;
    std::string canonical_;
};

Signer::Signer(std::string_view key, std::string_view method, std::string_view target, std::string_view body)
    : prefix_("v1\n" + std::string(method) + "\n" + std::string(target) + "\n"),
      body_hash_(common::sha256_hex(body)) {
    mac_ = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
    keyed_ = mac_ != nullptr ? EVP_MAC_CTX_new(mac_) : nullptr;
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (keyed_ == nullptr ||
        EVP_MAC_init(keyed_, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) != 1) {
        EVP_MAC_CTX_free(keyed_);
        EVP_MAC_free(mac_);
        throw std::runtime_error("cannot set up HMAC-SHA256");
    }
}

Signer::~Signer() {
    EVP_MAC_CTX_free(keyed_);
    EVP_MAC_free(mac_);
}

common::signing::SignedHeaders Signer::sign_with_nonce(std::int64_t now, std::string nonce) {
    common::signing::SignedHeaders h;
    h.timestamp = std::to_string(now);
    canonical_.assign(prefix_);
    canonical_ += h.timestamp;
    canonical_ += '\n';
    canonical_ += nonce;
    canonical_ += '\n';
    canonical_ += body_hash_;
    unsigned char digest[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    // A null key re-initialises from the pads hashed in the constructor.
    if (EVP_MAC_init(keyed_, nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(keyed_, reinterpret_cast<const unsigned char*>(canonical_.data()),
                       canonical_.size()) != 1 ||
        EVP_MAC_final(keyed_, digest, &length, sizeof digest) != 1) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    h.signature = "v1=" + common::to_hex({reinterpret_cast<const char*>(digest), length});
    h.nonce = std::move(nonce);
    return h;
}

/// What one thread measured.
struct Tally {
    std::unique_ptr<Signer> signer;  ///< null when unsigned
    Histogram latency;
    std::uint64_t responses = 0;  ///< every response, warm-up included
    std::map<int, std::uint64_t> statuses;
    std::map<std::string, std::uint64_t> errors;
    std::uint64_t connects = 0;
};

/// The fixed parts of every request and the measuring window, shared read-only by all connections.
struct Plan {
    Options options;
    common::http::Url url;
    std::string target;
    Clock::time_point measure_from;
    Clock::time_point measure_until;
    tcp::endpoint endpoint;
};

/// Open-loop pacing of one connection: request k is due at first + k * interval. Latency is measured
/// from the due time, so a server that falls behind is charged for the queueing it causes.
class Pacer {
  public:
    Pacer(const Plan& plan, int index);
    /// Waits until the next request is due (at once when late) and returns its due time.
    asio::awaitable<Clock::time_point> next();

  private:
    bool paced_;
    Clock::duration interval_{};
    Clock::time_point due_;
};

bool in_window(const Plan& plan, Clock::time_point done) {
    return done >= plan.measure_from && done < plan.measure_until;
}

void count_error(const Plan& plan, Tally& tally, const std::string& kind) {
    if (in_window(plan, Clock::now())) ++tally.errors[kind];
}

Pacer::Pacer(const Plan& plan, int index) : paced_(plan.options.rate > 0) {
    if (!paced_) return;
    const double per_connection = plan.options.rate / plan.options.connections;
    interval_ =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / per_connection));
    // Spread the connections' schedules evenly over one interval.
    due_ = Clock::now() + interval_ * index / plan.options.connections;
}

asio::awaitable<Clock::time_point> Pacer::next() {
    if (!paced_) co_return Clock::now();
    const auto due = due_;
    due_ += interval_;
    if (due > Clock::now()) {
        asio::steady_timer timer(co_await asio::this_coro::executor, due);
        co_await timer.async_wait(kUseTuple);
    }
    co_return due;
}

std::string error_kind(const beast::error_code& ec) {
    if (ec == beast::error::timeout) return "timeout";
    return ec.message();
}

/// Adds the three v1 signature headers, or nothing when the plan is unsigned.
template <typename Message>
void sign_into(Tally& tally, Message& req) {
    if (!tally.signer) return;
    auto h = tally.signer->sign(std::time(nullptr));
    req.set(common::signing::kTimestampHeader, h.timestamp);
    req.set(common::signing::kNonceHeader, h.nonce);
    req.set(common::signing::kSignatureHeader, h.signature);
}

/// One keep-alive connection on raw Beast streams: write, read, record, repeat.
template <typename Stream>
asio::awaitable<bool> exchange_loop(const Plan& plan, Tally& tally, Pacer& pacer, Stream& stream,
                                    beast::tcp_stream& lowest) {
    bhttp::request<bhttp::string_body> req;
    req.method_string(plan.options.method);
    req.target(plan.target);
    req.version(11);
    req.set(bhttp::field::host, plan.url.authority());
    req.set(bhttp::field::user_agent, "nebula-loadgen");
    req.body() = plan.options.body;
    req.keep_alive(true);
    req.prepare_payload();
    beast::flat_buffer buffer;
    const auto timeout = std::chrono::milliseconds(plan.options.timeout_ms);
    while (Clock::now() < plan.measure_until) {
        const auto started = co_await pacer.next();
        sign_into(tally, req);
        lowest.expires_after(timeout);
        auto [wec, wn] = co_await bhttp::async_write(stream, req, kUseTuple);
        if (wec) {
            count_error(plan, tally, error_kind(wec));
            co_return true;
        }
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(16 * 1024 * 1024);
        auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, kUseTuple);
        const auto done = Clock::now();
        if (rec) {
            count_error(plan, tally, error_kind(rec));
            co_return true;
        }
        ++tally.responses;
        if (in_window(plan, done)) {
            tally.latency.record(static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(done - started).count()));
            ++tally.statuses[static_cast<int>(parser.get().result_int())];
        }
        if (!parser.get().keep_alive()) co_return true;
    }
    co_return false;
}

/// Connects (and reconnects after an error or a server close) until the measured period ends.
asio::awaitable<void> raw_connection(const Plan& plan, Tally& tally, int index, asio::ssl::context* tls) {
    auto executor = co_await asio::this_coro::executor;
    Pacer pacer(plan, index);
    const auto timeout = std::chrono::milliseconds(plan.options.timeout_ms);
    while (Clock::now() < plan.measure_until) {
        beast::tcp_stream lowest(executor);
        lowest.expires_after(timeout);
        auto [cec] = co_await lowest.async_connect(plan.endpoint, kUseTuple);
        if (!cec) {
            ++tally.connects;
            beast::error_code ignored;
            lowest.socket().set_option(tcp::no_delay(true), ignored);
            if (tls == nullptr) {
                if (!co_await exchange_loop(plan, tally, pacer, lowest, lowest)) co_return;
                continue;
            }
            asio::ssl::stream<beast::tcp_stream> secure(std::move(lowest), *tls);
            auto [hec] = co_await secure.async_handshake(asio::ssl::stream_base::client, kUseTuple);
            if (!hec) {
                if (!co_await exchange_loop(plan, tally, pacer, secure, secure.next_layer())) co_return;
                continue;
            }
            count_error(plan, tally, "tls handshake: " + error_kind(hec));
        } else {
            count_error(plan, tally, "connect: " + error_kind(cec));
        }
        // Do not spin on a server that refuses connections.
        asio::steady_timer pause(executor, std::chrono::milliseconds(10));
        co_await pause.async_wait(kUseTuple);
    }
}

/// One connection through nebula::common::http::Client (a pool of one), for comparison with the raw loop.
asio::awaitable<void> client_connection(const Plan& plan, Tally& tally, int index) {
    auto executor = co_await asio::this_coro::executor;
    Pacer pacer(plan, index);
    common::http::ClientOptions o;
    o.base = plan.url;
    o.max_idle_connections = 1;
    o.request_timeout = std::chrono::milliseconds(plan.options.timeout_ms);
    o.pinned_sha256 = plan.options.pinned_sha256;
    o.ca_file = plan.options.ca_file;
    o.user_agent = "nebula-loadgen";
    auto created = common::http::Client::create(executor, o);
    if (!created) {
        count_error(plan, tally, created.error());
        co_return;
    }
    auto client = std::move(created.value());
    while (Clock::now() < plan.measure_until) {
        const auto started = co_await pacer.next();
        common::http::Request req;
        req.method = plan.options.method;
        req.target = plan.target;
        req.body = plan.options.body;
        if (tally.signer) {
            auto h = tally.signer->sign(std::time(nullptr));
            req.headers.set(common::signing::kTimestampHeader, std::move(h.timestamp));
            req.headers.set(common::signing::kNonceHeader, std::move(h.nonce));
            req.headers.set(common::signing::kSignatureHeader, std::move(h.signature));
        }
        auto res = co_await client->send(std::move(req));
        const auto done = Clock::now();
        if (!res) {
            count_error(plan, tally, std::string(common::http::to_string(res.error().code)));
            continue;
        }
        ++tally.responses;
        if (in_window(plan, done)) {
            tally.latency.record(static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(done - started).count()));
            ++tally.statuses[res->status];
        }
    }
}

std::optional<std::string> normalise_pin(std::string pin) {
    std::erase(pin, ':');
    for (auto& c : pin) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (pin.size() != 64 || !common::is_hex(pin)) return std::nullopt;
    return pin;
}

/// The TLS client context: the pinned leaf certificate, or the CA file, or the system store.
asio::ssl::context make_tls_context(const Options& options) {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    if (!options.pinned_sha256.empty()) {
        auto pin = normalise_pin(options.pinned_sha256);
        if (!pin) throw std::runtime_error("--pin-sha256 must be 64 hex digits");
        ctx.set_verify_callback([pin = *pin](bool, asio::ssl::verify_context& vc) {
            X509_STORE_CTX* store = vc.native_handle();
            if (X509_STORE_CTX_get_error_depth(store) > 0) return true;
            X509* cert = X509_STORE_CTX_get_current_cert(store);
            if (cert == nullptr) return false;
            unsigned char* der = nullptr;
            const int length = i2d_X509(cert, &der);
            if (length <= 0) return false;
            const std::string fingerprint = common::sha256_hex(
                std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(length)));
            OPENSSL_free(der);
            return fingerprint == pin;
        });
    } else if (!options.ca_file.empty()) {
        ctx.load_verify_file(options.ca_file);
    } else {
        ctx.set_default_verify_paths();
    }
    return ctx;
}

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

nlohmann::json report_json(const Plan& plan, const Tally& t, double cpu_s) {
    const auto& o = plan.options;
    std::uint64_t ok = 0;
    std::uint64_t non_2xx = 0;
    nlohmann::json statuses = nlohmann::json::object();
    for (const auto& [status, n] : t.statuses) {
        statuses[std::to_string(status)] = n;
        (status >= 200 && status < 300 ? ok : non_2xx) += n;
    }
    std::uint64_t errors = 0;
    nlohmann::json error_kinds = nlohmann::json::object();
    for (const auto& [kind, n] : t.errors) {
        error_kinds[kind] = n;
        errors += n;
    }
    const auto& h = t.latency;
    return {{"url", o.url},
            {"method", o.method},
            {"signed", o.sign},
            {"engine", o.engine},
            {"connections", o.connections},
            {"threads", o.threads},
            {"warmup_s", o.warmup_s},
            {"duration_s", o.duration_s},
            {"requests", h.count()},
            {"requests_per_s", static_cast<double>(h.count()) / o.duration_s},
            {"ok_2xx", ok},
            {"non_2xx", non_2xx},
            {"errors", errors},
            {"statuses", statuses},
            {"error_kinds", error_kinds},
            {"connects", t.connects},
            {"rate", o.rate},
            {"responses_total", t.responses},
            {"cpu_s", cpu_s},
            {"cpu_us_per_response", t.responses == 0 ? 0.0 : cpu_s * 1e6 / static_cast<double>(t.responses)},
            {"latency_ms",
             {{"mean", h.mean() / 1e6},
              {"p50", ms(h.quantile(0.50))},
              {"p90", ms(h.quantile(0.90))},
              {"p99", ms(h.quantile(0.99))},
              {"p99_9", ms(h.quantile(0.999))},
              {"max", ms(h.max())}}}};
}

void print_text(const nlohmann::json& r) {
    const auto& l = r["latency_ms"];
    std::cout << "nebula-loadgen: " << r["method"].get<std::string>() << " " << r["url"].get<std::string>()
              << " (" << (r["signed"].get<bool>() ? "signed" : "unsigned") << ", "
              << r["connections"].get<int>() << " connections, " << r["threads"].get<int>() << " thread(s), "
              << r["engine"].get<std::string>() << " engine)\n";
    std::printf("  measured   %.1f s after %.1f s warm-up\n", r["duration_s"].get<double>(),
                r["warmup_s"].get<double>());
    std::printf("  requests   %llu  (%.0f req/s)\n",
                static_cast<unsigned long long>(r["requests"].get<std::uint64_t>()),
                r["requests_per_s"].get<double>());
    std::printf(
        "  latency    p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms  mean %.3f ms\n",
        l["p50"].get<double>(), l["p90"].get<double>(), l["p99"].get<double>(), l["p99_9"].get<double>(),
        l["max"].get<double>(), l["mean"].get<double>());
    std::printf("  responses  2xx %llu  non-2xx %llu  errors %llu  connections opened %llu\n",
                static_cast<unsigned long long>(r["ok_2xx"].get<std::uint64_t>()),
                static_cast<unsigned long long>(r["non_2xx"].get<std::uint64_t>()),
                static_cast<unsigned long long>(r["errors"].get<std::uint64_t>()),
                static_cast<unsigned long long>(r["connects"].get<std::uint64_t>()));
    const double rate = r["rate"].get<double>();
    std::printf("  load       %s; nebula-loadgen used %.1f us of CPU per response (%llu responses)\n",
                rate > 0 ? ("open loop at " + std::to_string(static_cast<long long>(rate)) + " req/s").c_str()
                         : "closed loop",
                r["cpu_us_per_response"].get<double>(),
                static_cast<unsigned long long>(r["responses_total"].get<std::uint64_t>()));
    for (const auto& [status, n] : r["statuses"].items()) {
        if (status.front() != '2') std::cout << "    status " << status << ": " << n << "\n";
    }
    for (const auto& [kind, n] : r["error_kinds"].items())
        std::cout << "    error " << kind << ": " << n << "\n";
}

int run(Options options) {
    auto url = common::http::Url::parse(options.url);
    if (!url) {
        std::cerr << "nebula-loadgen: --url: " << url.error() << "\n";
        return 2;
    }
    if (options.sign && options.key.empty()) {
        if (const char* env = std::getenv("NEBULA_BENCH_KEY")) options.key = env;
        if (options.key.empty()) {
            std::cerr << "nebula-loadgen: --sign needs --key or NEBULA_BENCH_KEY\n";
            return 2;
        }
    }
    beast::error_code ec;
    auto address = asio::ip::make_address(url->host, ec);
    if (ec) {
        std::cerr << "nebula-loadgen: the URL host must be an IP address (got " << url->host << ")\n";
        return 2;
    }
    // The target is exactly what goes on the request line (and into the signature).
    const auto authority_end = options.url.find('/', options.url.find("://") + 3);

    Plan plan;
    plan.target = authority_end == std::string::npos ? "/" : options.url.substr(authority_end);
    plan.url = *url;
    plan.endpoint = tcp::endpoint(address, url->port);

    std::optional<asio::ssl::context> tls;
    if (url->tls() && options.engine == "raw") {
        try {
            tls.emplace(make_tls_context(options));
        } catch (const std::exception& e) {
            std::cerr << "nebula-loadgen: cannot set up TLS: " << e.what() << "\n";
            return 2;
        }
    }
    plan.options = std::move(options);
    const auto& o = plan.options;
    const auto start = Clock::now();
    plan.measure_from =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup_s));
    plan.measure_until = plan.measure_from + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(o.duration_s));

    std::vector<Tally> tallies(static_cast<std::size_t>(o.threads));
    if (o.sign) {
        for (auto& t : tallies) t.signer = std::make_unique<Signer>(o.key, o.method, plan.target, o.body);
        // The fast path must sign exactly as nebula-bot does.
        const std::string nonce(32, 'a');
        const auto mine = tallies.front().signer->sign_with_nonce(1'700'000'000, nonce);
        const auto reference =
            common::signing::sign_with_nonce(o.key, o.method, plan.target, 1'700'000'000, nonce, o.body);
        if (mine.signature != reference.signature) {
            std::cerr << "nebula-loadgen: internal error: the signature differs from common::signing\n";
            return 2;
        }
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < o.threads; ++t) {
        threads.emplace_back([&, t] {
            asio::io_context io(1);
            Tally& tally = tallies[static_cast<std::size_t>(t)];
            for (int c = t; c < o.connections; c += o.threads) {
                if (o.engine == "raw") {
                    asio::co_spawn(io, raw_connection(plan, tally, c, tls ? &*tls : nullptr), asio::detached);
                } else {
                    asio::co_spawn(io, client_connection(plan, tally, c), asio::detached);
                }
            }
            io.run();
        });
    }
    for (auto& t : threads) t.join();

    Tally all;
    for (const auto& t : tallies) {
        all.latency.merge(t.latency);
        for (const auto& [s, n] : t.statuses) all.statuses[s] += n;
        for (const auto& [k, n] : t.errors) all.errors[k] += n;
        all.connects += t.connects;
        all.responses += t.responses;
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
    const auto report = report_json(plan, all, seconds(usage.ru_utime) + seconds(usage.ru_stime));
    if (o.json) {
        std::cout << report.dump(2) << "\n";
    } else {
        print_text(report);
    }
    return all.latency.count() > 0 ? 0 : 1;
}

}  // namespace
}  // namespace nebula::bench

int main(int argc, char** argv) {
    nebula::bench::Options o;
    CLI::App app{"nebula-loadgen: closed-loop HTTP/1.1 load on keep-alive connections, with v1 signing"};
    app.add_option("--url", o.url, "http(s)://IP:PORT/path?query (the host must be an IP address)")
        ->required();
    app.add_option("--method", o.method, "request method");
    app.add_option("--body", o.body, "request body (signed with the request)");
    app.add_option("-c,--connections", o.connections, "concurrent keep-alive connections")
        ->check(CLI::Range(1, 100'000));
    app.add_option("-t,--threads", o.threads, "I/O threads (connections are spread over them)")
        ->check(CLI::Range(1, 256));
    app.add_option("-d,--duration", o.duration_s, "measured seconds")->check(CLI::Range(0.1, 86'400.0));
    app.add_option("-w,--warmup", o.warmup_s, "seconds of load before measuring")
        ->check(CLI::Range(0.0, 3'600.0));
    app.add_flag("--sign", o.sign, "sign every request (v1, fresh nonce each time)");
    app.add_option("--key", o.key, "signing key (default: the NEBULA_BENCH_KEY environment variable)");
    app.add_option("--pin-sha256", o.pinned_sha256,
                   "HTTPS: accept only the certificate with this SHA-256 (DER)");
    app.add_option("--ca-file", o.ca_file, "HTTPS: trust this CA file instead of the system store");
    app.add_option("--engine", o.engine,
                   "raw: Beast loop per connection; client: nebula::common::http::Client per connection")
        ->check(CLI::IsMember({"raw", "client"}));
    app.add_option("--timeout-ms", o.timeout_ms, "deadline of each request")->check(CLI::Range(1, 600'000));
    app.add_option("--rate", o.rate,
                   "open loop: total requests/s spread evenly over the connections, latency measured from "
                   "each request's due time (default 0: closed loop, back-to-back)")
        ->check(CLI::Range(0.0, 10'000'000.0));
    app.add_flag("--json", o.json, "print the report as JSON");
    CLI11_PARSE(app, argc, argv);
    if (o.threads > o.connections) o.threads = o.connections;
    return nebula::bench::run(std::move(o));
}
