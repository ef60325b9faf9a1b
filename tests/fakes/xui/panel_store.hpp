#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "fakes/xui/fake_panel.hpp"

namespace nebula::fakes::xui {

/// Output JSON keeps insertion order, like Go's struct encoding.
using OJson = nlohmann::ordered_json;
/// Stored JSON columns (settings, streamSettings, sniffing) keep sorted keys, like Go re-marshalling a map.
using Json = nlohmann::json;

/// The panel's Go error text (what goes inside the parentheses of "Something went wrong (...)").
using Failure = std::string;

/// Thrown where the real panel's handler panics (gin answers 500 with an empty body).
struct Panic : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Traffic {
    int id = 0;
    int inbound_id = 0;
    bool enable = true;
    std::string email;
    std::int64_t up = 0;
    std::int64_t down = 0;
    std::int64_t all_time = 0;
    std::int64_t expiry_time = 0;
    std::int64_t total = 0;
    int reset = 0;
    std::int64_t last_online = 0;
};

struct Inbound {
    int id = 0;
    std::int64_t up = 0;
    std::int64_t down = 0;
    std::int64_t total = 0;
    std::int64_t all_time = 0;
    std::string remark;
    bool enable = true;
    std::int64_t expiry_time = 0;
    std::string listen;
    int port = 0;
    std::string protocol;
    Json settings;
    Json stream_settings;
    Json sniffing;
    std::string tag;
};

/// A G2 `clients` row plus its attachments.
struct ClientRecord {
    int id = 0;
    std::string email;
    std::string sub_id;
    std::string uuid;
    std::string password;
    std::string auth;
    std::string flow;
    std::string security;
    int limit_ip = 0;
    std::int64_t total_gb = 0;
    std::int64_t expiry_time = 0;
    bool enable = true;
    std::int64_t tg_id = 0;
    std::string group;
    std::string comment;
    int reset = 0;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    std::vector<int> inbound_ids;
};

/// Where a subscription link points and what it carries.
struct Subscription {
    std::vector<std::string> links;
    std::int64_t up = 0;
    std::int64_t down = 0;
    std::int64_t total = 0;
    std::int64_t expire_seconds = 0;
};

/// The panel's database and services for one generation: inbounds with settings.clients[], the
/// client_traffics rows and (v3) the clients table, with the real panel's rules and error texts.
/// Not thread-safe; the owner serialises access.
class PanelStore {
  public:
    PanelStore(PanelMode mode, std::function<std::int64_t()> now_ms);

    PanelMode mode() const { return mode_; }
    void seed();

    // ---- Rendering ----
    OJson inbound_json(const Inbound& inbound, bool with_stats) const;
    OJson inbounds_json() const;
    common::Result<OJson, Failure> inbound_by_id(int id) const;
    OJson traffic_json(const Traffic& traffic) const;

    // ---- G1 (v2) client routes; `settings` is the JSON text of {"clients":[...]} ----
    common::Result<OJson, Failure> g1_add_client(int inbound_id, const std::string& settings);
    common::Result<OJson, Failure> g1_update_client(const std::string& client_id, int inbound_id,
                                                    const std::string& settings);
    common::Result<OJson, Failure> g1_del_client(int inbound_id, const std::string& client_id);
    common::Result<OJson, Failure> g1_del_client_by_email(int inbound_id, const std::string& email);
    common::Result<OJson, Failure> g1_client_traffic(const std::string& email) const;
    OJson g1_client_traffics_by_uuid(const std::string& uuid) const;
    common::Result<OJson, Failure> g1_reset_client_traffic(int inbound_id, const std::string& email);

    // ---- G2 (v3) client routes ----
    OJson g2_list() const;
    common::Result<OJson, Failure> g2_get(const std::string& email) const;
    OJson g2_traffic(const std::string& email) const;
    /// `payload` is the decoded {"client":{...},"inboundIds":[...]} body.
    common::Result<OJson, Failure> g2_add(const Json& payload);
    common::Result<OJson, Failure> g2_update(const std::string& email, const Json& client,
                                             const std::vector<int>& filter);
    common::Result<OJson, Failure> g2_del(const std::string& email, bool keep_traffic);
    common::Result<OJson, Failure> g2_reset_traffic(const std::string& email);
    OJson g2_bulk_set_enable(const std::vector<std::string>& emails, bool enable);

    // ---- Both ----
    common::Result<OJson, Failure> update_traffic(const std::string& email, std::int64_t up,
                                                  std::int64_t down);
    OJson last_online() const;
    void add_traffic(const std::string& email, std::int64_t up, std::int64_t down);
    /// The periodic job: disables clients over quota or past expiry. Returns how many it disabled.
    int enforce();
    /// Links and totals for a subscription id; nullopt when no enabled inbound holds that subId.
    std::optional<Subscription> subscription(const std::string& sub_id, const std::string& host) const;
    std::optional<nlohmann::json> client_view(const std::string& email) const;
    /// Deletes the inbound as `inbounds/del/:id` does: its clients' traffic rows go with it (v2);
    /// v3 client records are detached from it. False when there is no such inbound.
    bool delete_inbound(int id);

  private:
    Inbound* find_inbound(int id);
    const Inbound* find_inbound(int id) const;
    Traffic* find_traffic(const std::string& email);
    const Traffic* find_traffic(const std::string& email) const;
    ClientRecord* find_record(const std::string& email);
    const ClientRecord* find_record(const std::string& email) const;
    bool email_taken_ignoring_case(const std::string& email, const std::string& except_exact) const;
    void add_traffic_row(int inbound_id, const std::string& email, bool enable, std::int64_t total,
                         std::int64_t expiry, int reset);
    void erase_traffic(const std::string& email);
    Json settings_client(const ClientRecord& record, const Inbound& inbound) const;
    void rebuild_settings();
    OJson record_json(const ClientRecord& record) const;
    std::string share_link(const Inbound& inbound, const Json& client, const std::string& host) const;

    PanelMode mode_;
    std::function<std::int64_t()> now_ms_;
    std::vector<Inbound> inbounds_;
    std::vector<Traffic> traffics_;
    std::vector<ClientRecord> records_;
    int next_inbound_id_ = 1;
    int next_traffic_id_ = 1;
    int next_record_id_ = 1;
};

/// True when Vision flow can run on this inbound (VLESS over TCP with TLS or REALITY).
bool flow_capable(const Inbound& inbound);
/// Go's url.QueryEscape.
std::string query_escape(const std::string& text);

}  // namespace nebula::fakes::xui
