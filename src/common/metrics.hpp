#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/http_server.hpp"
#include "common/result.hpp"

namespace nebula::common::metrics {

/// The Content-Type of the Prometheus text exposition format this registry renders.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

/// A monotonically increasing value. Thread-safe.
class Counter {
  public:
    /// Adds `amount` (must not be negative; a negative amount is a bug and throws).
    void inc(double amount = 1.0);
    /// Mirrors a count kept elsewhere (a client's own statistics): the value becomes `total`
    /// when that is larger, so the counter never goes down.
    void set_total(double total);
    double value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0.0};
};

/// A value that goes up and down. Thread-safe.
class Gauge {
  public:
    void set(double value) { value_.store(value, std::memory_order_relaxed); }
    void inc(double amount = 1.0) { value_.fetch_add(amount, std::memory_order_relaxed); }
    void dec(double amount = 1.0) { value_.fetch_sub(amount, std::memory_order_relaxed); }
    double value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0.0};
};

/// Observations counted into fixed buckets (upper bounds, ascending), with their sum.
/// Thread-safe.
class Histogram {
  public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double value);

    struct Snapshot {
        std::vector<double> bounds;
        std::vector<std::uint64_t> cumulative;  ///< per bound, then one more for +Inf
        double sum = 0;
        std::uint64_t count = 0;
    };
    Snapshot snapshot() const;

  private:
    const std::vector<double> bounds_;
    mutable std::mutex mutex_;
    std::vector<std::uint64_t> counts_;  ///< per bucket (not cumulative), last one is +Inf
    double sum_ = 0;
    std::uint64_t count_ = 0;
};

/// Latency buckets in seconds, 5 ms to 10 s.
std::vector<double> default_latency_buckets();

/// The metrics of one name, one per combination of label values. Children live as long as the
/// family, so references returned by labels() stay valid. Thread-safe.
template <typename Metric>
class Family {
  public:
    /// The child for these label values (one per label name, in order); created at zero on
    /// first use. The wrong number of values is a bug and throws std::invalid_argument.
    Metric& labels(const std::vector<std::string>& values);
    /// The child of a family without labels.
    Metric& get() { return labels({}); }

    const std::string& name() const { return name_; }

  private:
    friend class Registry;
    Family(std::string name, std::string help, std::vector<std::string> label_names,
           std::function<std::unique_ptr<Metric>()> make);
    void render(std::string& out) const;

    std::string name_;
    std::string help_;
    std::vector<std::string> label_names_;
    std::function<std::unique_ptr<Metric>()> make_;
    mutable std::mutex mutex_;
    std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

/// The metric families of one process and their text rendering (Prometheus exposition format
/// 0.0.4: HELP and TYPE lines, escaped label values, cumulative histogram buckets with +Inf,
/// _sum and _count). Families render in registration order, children in label order.
/// Registering is done at start-up; a bad or repeated name is a bug and throws
/// std::invalid_argument. Updating and rendering are thread-safe.
class Registry {
  public:
    Registry();
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
    Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
    Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> label_names,
                                 std::vector<double> bounds);

    /// Called at the start of every render(), on the rendering thread: lets a component copy
    /// its own statistics into counters and gauges just before a scrape.
    void on_collect(std::function<void()> collect);

    /// The exposition text. Ends with a newline.
    std::string render() const;

  private:
    struct Entry;
    void add(std::string name, std::unique_ptr<Entry> entry);
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Entry>> entries_;
    std::vector<std::function<void()>> collectors_;
};

/// Escapes a label value: backslash, double quote and line feed.
std::string escape_label_value(std::string_view value);
/// Formats a sample value: integers without a fraction, +Inf, -Inf and NaN as Prometheus spells them.
std::string format_value(double value);

/// Serves GET /metrics from a registry on a nebula::common::http::Server; any other path is 404 and
/// any other method 405. `refresh`, when given, runs before each render on the server's
/// executor (for values that must be queried, such as database counts); if it throws, the
/// error is logged and the registry is rendered as it stands.
class Handler final : public common::http::Handler {
  public:
    using Refresh = std::function<boost::asio::awaitable<void>()>;
    explicit Handler(const Registry& registry, Refresh refresh = {});

    std::optional<common::http::Response> screen(const common::http::Request& head,
                                                 const common::http::Peer& peer) override;
    boost::asio::awaitable<common::http::Response> handle(common::http::Request request,
                                                          common::http::Peer peer) override;

  private:
    const Registry& registry_;
    Refresh refresh_;
};

/// True when `address` is an IPv4 or IPv6 loopback address literal (127.0.0.0/8, ::1).
bool is_loopback_literal(std::string_view address);

/// Starts a metrics server on `bind_address`:`port` (port 0 = a free port). Refuses an address
/// that is not a loopback literal: the metrics endpoint has no authentication.
common::Result<std::unique_ptr<common::http::Server>, std::string> start_server(
    boost::asio::any_io_executor executor, const std::string& bind_address, std::uint16_t port,
    Handler& handler);

}  // namespace nebula::common::metrics
