#include "common/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <variant>

#include <spdlog/spdlog.h>
#include <boost/asio/ip/address.hpp>

namespace nebula::common::metrics {
namespace {

bool valid_name(std::string_view name, bool allow_colon) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
        const bool digit = c >= '0' && c <= '9';
        if (!(letter || (i > 0 && digit))) return false;
    }
    return true;
}

void check_label_names(const std::string& metric, const std::vector<std::string>& names, bool histogram) {
    for (const auto& label : names) {
        if (!valid_name(label, false) || label.starts_with("__") || (histogram && label == "le")) {
            throw std::invalid_argument("metric " + metric + ": invalid label name \"" + label + "\"");
        }
    }
}

std::string escape_help(std::string_view help) {
    std::string out;
    out.reserve(help.size());
    for (char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

/// `{a="x",b="y"}` with an optional extra label last (a histogram's le); empty without labels.
std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
    if (names.empty() && extra_name.empty()) return {};
    std::string out = "{";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += ',';
        out += names[i];
        out += "=\"";
        out += escape_label_value(values[i]);
        out += '"';
    }
    if (!extra_name.empty()) {
        if (!names.empty()) out += ',';
        out += extra_name;
        out += "=\"";
        out += extra_value;
        out += '"';
    }
    out += '}';
    return out;
}

void sample(std::string& out, std::string_view name, std::string_view labels, std::string_view value) {
    out += name;
    out += labels;
    out += ' ';
    out += value;
    out += '\n';
}

void render_child(std::string& out, const std::string& name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, const Counter& c) {
    sample(out, name, label_set(names, values), format_value(c.value()));
}

void render_child(std::string& out, const std::string& name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, const Gauge& g) {
    sample(out, name, label_set(names, values), format_value(g.value()));
}

void render_child(std::string& out, const std::string& name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, const Histogram& h) {
    const auto snap = h.snapshot();
    const std::string bucket = name + "_bucket";
    for (std::size_t i = 0; i < snap.bounds.size(); ++i) {
        sample(out, bucket, label_set(names, values, "le", format_value(snap.bounds[i])),
               std::to_string(snap.cumulative[i]));
    }
    sample(out, bucket, label_set(names, values, "le", "+Inf"), std::to_string(snap.count));
    sample(out, name + "_sum", label_set(names, values), format_value(snap.sum));
    sample(out, name + "_count", label_set(names, values), std::to_string(snap.count));
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char buffer[64];
    // Shortest round-trip form: 0.005 stays "0.005", 3.0 becomes "3".
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    if (ec != std::errc()) throw std::logic_error("cannot format a metric value");
    return std::string(buffer, end);
}

void Counter::inc(double amount) {
    if (amount < 0) throw std::invalid_argument("a counter cannot decrease");
    value_.fetch_add(amount, std::memory_order_relaxed);
}

void Counter::set_total(double total) {
    double current = value_.load(std::memory_order_relaxed);
    while (total > current && !value_.compare_exchange_weak(current, total, std::memory_order_relaxed)) {
    }
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
    if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
        std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end() ||
        std::any_of(bounds_.begin(), bounds_.end(), [](double b) { return !std::isfinite(b); })) {
        throw std::invalid_argument("histogram bounds must be finite and strictly ascending");
    }
}

void Histogram::observe(double value) {
    // A bucket counts observations less than or equal to its bound.
    const auto index =
        static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
    std::lock_guard lock(mutex_);
    ++counts_[index];
    sum_ += value;
    ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
    Snapshot s;
    s.bounds = bounds_;
    std::lock_guard lock(mutex_);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        running += counts_[i];
        s.cumulative.push_back(running);
    }
    s.cumulative.push_back(count_);
    s.sum = sum_;
    s.count = count_;
    return s;
}

std::vector<double> default_latency_buckets() {
    return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

template <typename Metric>
Family<Metric>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                       std::function<std::unique_ptr<Metric>()> make)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      make_(std::move(make)) {}

template <typename Metric>
Metric& Family<Metric>::labels(const std::vector<std::string>& values) {
    if (values.size() != label_names_.size()) {
        throw std::invalid_argument("metric " + name_ + ": expected " + std::to_string(label_names_.size()) +
                                    " label value(s), got " + std::to_string(values.size()));
    }
    std::lock_guard lock(mutex_);
    auto& child = children_[values];
    if (!child) child = make_();
    return *child;
}

template <typename Metric>
void Family<Metric>::render(std::string& out) const {
    std::lock_guard lock(mutex_);
    for (const auto& [values, child] : children_) render_child(out, name_, label_names_, values, *child);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

struct Registry::Entry {
    std::string name;
    std::string help;
    std::string_view type;
    std::variant<std::unique_ptr<Family<Counter>>, std::unique_ptr<Family<Gauge>>,
                 std::unique_ptr<Family<Histogram>>>
        family;
};

Registry::Registry() = default;
Registry::~Registry() = default;

void Registry::add(std::string name, std::unique_ptr<Entry> entry) {
    if (!valid_name(name, true)) throw std::invalid_argument("invalid metric name \"" + name + "\"");
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_) {
        if (e->name == name) throw std::invalid_argument("metric " + name + " is registered twice");
    }
    entries_.push_back(std::move(entry));
}

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
    check_label_names(name, label_names, false);
    std::unique_ptr<Family<Counter>> family(
        new Family<Counter>(name, help, std::move(label_names), [] { return std::make_unique<Counter>(); }));
    auto& ref = *family;
    add(name, std::make_unique<Entry>(Entry{name, std::move(help), "counter", std::move(family)}));
    return ref;
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
    check_label_names(name, label_names, false);
    std::unique_ptr<Family<Gauge>> family(
        new Family<Gauge>(name, help, std::move(label_names), [] { return std::make_unique<Gauge>(); }));
    auto& ref = *family;
    add(name, std::make_unique<Entry>(Entry{name, std::move(help), "gauge", std::move(family)}));
    return ref;
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<std::string> label_names, std::vector<double> bounds) {
    check_label_names(name, label_names, true);
    Histogram probe(bounds);  // validates the bounds now rather than on first use
    std::unique_ptr<Family<Histogram>> family(new Family<Histogram>(
        name, help, std::move(label_names), [bounds] { return std::make_unique<Histogram>(bounds); }));
    auto& ref = *family;
    add(name, std::make_unique<Entry>(Entry{name, std::move(help), "histogram", std::move(family)}));
    return ref;
}

void Registry::on_collect(std::function<void()> collect) {
    std::lock_guard lock(mutex_);
    collectors_.push_back(std::move(collect));
}

std::string Registry::render() const {
    std::vector<std::function<void()>> collectors;
    {
        std::lock_guard lock(mutex_);
        collectors = collectors_;
    }
    for (const auto& collect : collectors) collect();
    std::string out;
    std::lock_guard lock(mutex_);
    for (const auto& entry : entries_) {
        out += "# HELP " + entry->name + ' ' + escape_help(entry->help) + '\n';
        out += "# TYPE " + entry->name + ' ' + std::string(entry->type) + '\n';
        std::visit([&](const auto& family) { family->render(out); }, entry->family);
    }
    return out;
}

Handler::Handler(const Registry& registry, Refresh refresh)
    : registry_(registry), refresh_(std::move(refresh)) {}

std::optional<common::http::Response> Handler::screen(const common::http::Request& head,
                                                      const common::http::Peer&) {
    const std::string_view path = std::string_view(head.target).substr(0, head.target.find('?'));
    common::http::Response r;
    r.headers.set("Content-Type", "text/plain; charset=utf-8");
    if (path != "/metrics") {
        r.status = 404;
        r.body = "metrics are served at /metrics\n";
        return r;
    }
    if (head.method != "GET") {
        r.status = 405;
        r.headers.set("Allow", "GET");
        r.body = "use GET\n";
        return r;
    }
    return std::nullopt;
}

boost::asio::awaitable<common::http::Response> Handler::handle(common::http::Request, common::http::Peer) {
    if (refresh_) {
        try {
            co_await refresh_();
        } catch (const std::exception& e) {
            spdlog::warn("metrics: refreshing before a scrape failed: {}", e.what());
        }
    }
    common::http::Response r;
    r.headers.set("Content-Type", std::string(kContentType));
    r.headers.set("Cache-Control", "no-store");
    r.body = registry_.render();
    co_return r;
}

bool is_loopback_literal(std::string_view address) {
    boost::system::error_code ec;
    const auto parsed = boost::asio::ip::make_address(std::string(address), ec);
    return !ec && parsed.is_loopback();
}

common::Result<std::unique_ptr<common::http::Server>, std::string> start_server(
    boost::asio::any_io_executor executor, const std::string& bind_address, std::uint16_t port,
    Handler& handler) {
    if (!is_loopback_literal(bind_address)) {
        return common::unexpected("METRICS_BIND " + bind_address +
                                  " is not a loopback address; metrics are unauthenticated and served on "
                                  "127.0.0.1 or ::1 only");
    }
    common::http::ServerOptions options;
    options.address = bind_address;
    options.port = port;
    options.max_connections = 16;
    options.max_body_bytes = 1024;
    auto server = common::http::Server::create(std::move(executor), options, handler);
    if (!server) return common::unexpected("metrics server: " + server.error());
    (*server)->start();
    return std::move(*server);
}

}  // namespace nebula::common::metrics
