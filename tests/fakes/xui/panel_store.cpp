#include "fakes/xui/panel_store.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "common/crypto.hpp"
#include "common/http.hpp"
#include "fakes/xui/go_json.hpp"

namespace nebula::fakes::xui {
namespace {

constexpr const char* kRecordNotFound = "record not found";

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string trim(std::string_view text) {
    auto b = text.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    auto e = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(b, e - b + 1));
}

// v3 rejects '/', '\\', space and control characters in emails and subIds (client_crud.go).
bool has_forbidden_char(std::string_view text) {
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '/' || c == '\\' || c == ' ' || c < 0x20 || c == 0x7f) return true;
    }
    return false;
}

// The credential that identifies a client inside an inbound (G1 update/delete path key).
std::string client_key_field(const std::string& protocol) {
    if (protocol == "trojan") return "password";
    if (protocol == "shadowsocks") return "email";
    if (protocol == "hysteria" || protocol == "hysteria2") return "auth";
    return "id";
}

std::size_t random_index(std::size_t n) {
    if (n <= 1) return 0;
    std::string bytes = common::random_bytes(4);
    std::uint32_t v = 0;
    for (char b : bytes) v = (v << 8) | static_cast<unsigned char>(b);
    return v % n;
}

OJson to_ojson(const Json& j) { return OJson::parse(j.dump()); }

const Json* path(const Json& j, std::initializer_list<const char*> keys) {
    const Json* cur = &j;
    for (const char* k : keys) {
        if (!cur->is_object()) return nullptr;
        auto it = cur->find(k);
        if (it == cur->end()) return nullptr;
        cur = &*it;
    }
    return cur;
}

std::string path_str(const Json& j, std::initializer_list<const char*> keys) {
    const Json* v = path(j, keys);
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

}  // namespace

bool flow_capable(const Inbound& inbound) {
    if (inbound.protocol != "vless") return false;
    std::string network = path_str(inbound.stream_settings, {"network"});
    std::string security = path_str(inbound.stream_settings, {"security"});
    return (network == "tcp" || network == "raw") && (security == "tls" || security == "reality");
}

std::string query_escape(const std::string& text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += ch;
        } else if (c == ' ') {
            out += '+';
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

PanelStore::PanelStore(PanelMode mode, std::function<std::int64_t()> now_ms)
    : mode_(mode), now_ms_(std::move(now_ms)) {}

// ---------------------------------------------------------------------------------------------
// Seed data: two inbounds shaped like ones the panel UI creates.

void PanelStore::seed() {
    Inbound reality;
    reality.id = next_inbound_id_++;
    reality.remark = "reality-tcp";
    reality.port = 443;
    reality.protocol = "vless";
    reality.tag = "inbound-443";
    reality.settings =
        Json::parse(R"({"clients":[],"decryption":"none","encryption":"none","fallbacks":[]})");
    reality.stream_settings = Json::parse(R"({
        "network":"tcp","security":"reality","externalProxy":[],
        "realitySettings":{"show":false,"xver":0,"target":"www.example.org:443",
            "serverNames":["www.example.org","example.org"],
            "privateKey":"8hwtm3lJ-Jf0NkHsiXHzVteDzbST90uTZK46nBdOPtM",
            "minClientVer":"","maxClientVer":"","maxTimediff":0,"shortIds":["a3f1","0b"],"mldsa65Seed":"",
            "settings":{"publicKey":"OyEhZdTMdtqrREdSLCootBX8E3hRZn5ZY4nL6kIa5pc","fingerprint":"chrome",
                        "serverName":"","spiderX":"/","mldsa65Verify":""}},
        "tcpSettings":{"acceptProxyProtocol":false,"header":{"type":"none"}}})");
    reality.sniffing = Json::parse(
        R"({"enabled":false,"destOverride":["http","tls","quic","fakedns"],"metadataOnly":false,"routeOnly":false})");

    Inbound ws = reality;
    ws.id = next_inbound_id_++;
    ws.remark = "tls-ws";
    ws.port = 8443;
    ws.tag = "inbound-8443";
    ws.stream_settings = Json::parse(R"({
        "network":"ws","security":"tls","externalProxy":[],
        "tlsSettings":{"serverName":"cdn.example.com","minVersion":"1.2","maxVersion":"1.3","cipherSuites":"",
            "rejectUnknownSni":false,"disableSystemRoot":false,"enableSessionResumption":false,
            "certificates":[{"certificateFile":"/root/cert/cdn.example.com/fullchain.pem",
                "keyFile":"/root/cert/cdn.example.com/privkey.pem","ocspStapling":3600,"oneTimeLoading":false,
                "usage":"encipherment","buildChain":false}],
            "alpn":["h2","http/1.1"],"echServerKeys":"","echForceQuery":"none",
            "settings":{"fingerprint":"chrome","echConfigList":""}},
        "wsSettings":{"acceptProxyProtocol":false,"path":"/ws","host":"cdn.example.com","headers":{},
            "heartbeatPeriod":0}})");
    inbounds_.push_back(std::move(reality));
    inbounds_.push_back(std::move(ws));

    struct SeedClient {
        int inbound;
        const char* email;
        const char* uuid;
        const char* sub_id;
        const char* flow;
    };
    const SeedClient seeds[] = {
        {1, "seed-reality", "55f692ec-20d7-40fe-8524-f372a57137d3", "q8r2m5x9k1v7c3z0", "xtls-rprx-vision"},
        {2, "seed-ws", "dde41cdf-1c1a-498a-9be8-913b835c847a", "w4n6p1t8j2h5d9s3", ""},
    };
    const std::int64_t now = now_ms_() / 1000 * 1000;
    for (const auto& s : seeds) {
        if (mode_ == PanelMode::v2) {
            Json c = {{"id", s.uuid},      {"flow", s.flow},   {"email", s.email}, {"limitIp", 0},
                      {"totalGB", 0},      {"expiryTime", 0},  {"enable", true},   {"tgId", 0},
                      {"subId", s.sub_id}, {"comment", ""},    {"reset", 0},       {"security", ""},
                      {"created_at", now}, {"updated_at", now}};
            find_inbound(s.inbound)->settings["clients"].push_back(c);
        } else {
            ClientRecord r;
            r.id = next_record_id_++;
            r.email = s.email;
            r.sub_id = s.sub_id;
            r.uuid = s.uuid;
            r.flow = s.flow;
            r.created_at = r.updated_at = now;
            r.inbound_ids = {s.inbound};
            records_.push_back(r);
        }
        add_traffic_row(s.inbound, s.email, true, 0, 0, 0);
    }
    if (mode_ == PanelMode::v3) rebuild_settings();
}

// ---------------------------------------------------------------------------------------------
// Lookups

Inbound* PanelStore::find_inbound(int id) {
    for (auto& i : inbounds_) {
        if (i.id == id) return &i;
    }
    return nullptr;
}
const Inbound* PanelStore::find_inbound(int id) const {
    return const_cast<PanelStore*>(this)->find_inbound(id);
}

Traffic* PanelStore::find_traffic(const std::string& email) {
    for (auto& t : traffics_) {
        if (t.email == email) return &t;
    }
    return nullptr;
}
const Traffic* PanelStore::find_traffic(const std::string& email) const {
    return const_cast<PanelStore*>(this)->find_traffic(email);
}

ClientRecord* PanelStore::find_record(const std::string& email) {
    for (auto& r : records_) {
        if (r.email == email) return &r;
    }
    return nullptr;
}
const ClientRecord* PanelStore::find_record(const std::string& email) const {
    return const_cast<PanelStore*>(this)->find_record(email);
}

// The G1 duplicate check: every email in every inbound's settings, compared ignoring case.
bool PanelStore::email_taken_ignoring_case(const std::string& email, const std::string& except_exact) const {
    const std::string needle = lower(email);
    for (const auto& ib : inbounds_) {
        const Json* clients = path(ib.settings, {"clients"});
        if (clients == nullptr || !clients->is_array()) continue;
        for (const auto& c : *clients) {
            std::string e = loose_str(c, "email");
            if (!except_exact.empty() && e == except_exact) continue;
            if (!e.empty() && lower(e) == needle) return true;
        }
    }
    return false;
}

void PanelStore::add_traffic_row(int inbound_id, const std::string& email, bool enable, std::int64_t total,
                                 std::int64_t expiry, int reset) {
    // client_traffics.email is UNIQUE and the panel ignores the failed insert.
    if (find_traffic(email) != nullptr) return;
    Traffic t;
    t.id = next_traffic_id_++;
    t.inbound_id = inbound_id;
    t.enable = enable;
    t.email = email;
    t.total = total;
    t.expiry_time = expiry;
    t.reset = reset;
    traffics_.push_back(t);
}

void PanelStore::erase_traffic(const std::string& email) {
    std::erase_if(traffics_, [&](const Traffic& t) { return t.email == email; });
}

bool PanelStore::delete_inbound(int id) {
    const Inbound* inbound = find_inbound(id);
    if (inbound == nullptr) return false;
    if (mode_ == PanelMode::v2) {
        for (const auto& client : inbound->settings.value("clients", Json::array()))
            erase_traffic(client.value("email", ""));
    }
    for (auto& record : records_) std::erase(record.inbound_ids, id);
    std::erase_if(inbounds_, [&](const Inbound& i) { return i.id == id; });
    return true;
}

// ---------------------------------------------------------------------------------------------
// Rendering

OJson PanelStore::traffic_json(const Traffic& t) const {
    std::string uuid;
    std::string sub_id;
    if (mode_ == PanelMode::v3) {
        if (const auto* r = find_record(t.email)) {
            uuid = r->uuid;
            sub_id = r->sub_id;
        }
    } else if (const auto* ib = find_inbound(t.inbound_id)) {
        const Json* clients = path(ib->settings, {"clients"});
        if (clients != nullptr && clients->is_array()) {
            for (const auto& c : *clients) {
                if (lower(loose_str(c, "email")) == lower(t.email)) {
                    uuid = loose_str(c, "id");
                    sub_id = loose_str(c, "subId");
                    break;
                }
            }
        }
    }
    OJson j;
    j["id"] = t.id;
    j["inboundId"] = t.inbound_id;
    j["enable"] = t.enable;
    j["email"] = t.email;
    j["uuid"] = uuid;
    j["subId"] = sub_id;
    j["up"] = t.up;
    j["down"] = t.down;
    if (mode_ == PanelMode::v2) j["allTime"] = t.all_time;
    j["expiryTime"] = t.expiry_time;
    j["total"] = t.total;
    j["reset"] = t.reset;
    j["lastOnline"] = t.last_online;
    return j;
}

OJson PanelStore::inbound_json(const Inbound& ib, bool with_stats) const {
    OJson stats = OJson::array();
    for (const auto& t : traffics_) {
        if (t.inbound_id == ib.id) stats.push_back(traffic_json(t));
    }
    OJson j;
    j["id"] = ib.id;
    j["up"] = ib.up;
    j["down"] = ib.down;
    j["total"] = ib.total;
    if (mode_ == PanelMode::v2) {
        j["allTime"] = ib.all_time;
        j["remark"] = ib.remark;
    } else {
        j["remark"] = ib.remark;
        j["subSortIndex"] = 1;
    }
    j["enable"] = ib.enable;
    j["expiryTime"] = ib.expiry_time;
    j["trafficReset"] = "never";
    if (mode_ == PanelMode::v3) j["trafficResetDay"] = 1;
    j["lastTrafficResetTime"] = 0;
    j["clientStats"] = with_stats ? stats : OJson(nullptr);
    j["listen"] = ib.listen;
    j["port"] = ib.port;
    j["protocol"] = ib.protocol;
    if (mode_ == PanelMode::v2) {
        // G1 keeps the JSON columns as text; the panel re-marshals them with two-space indents.
        j["settings"] = ib.settings.dump(2);
        j["streamSettings"] = ib.stream_settings.dump(2);
        j["tag"] = ib.tag;
        j["sniffing"] = ib.sniffing.dump(2);
    } else {
        j["tag"] = ib.tag;
        j["shareAddrStrategy"] = "node";
        j["shareAddr"] = "";
        j["settings"] = to_ojson(ib.settings);
        j["streamSettings"] = to_ojson(ib.stream_settings);
        j["sniffing"] = to_ojson(ib.sniffing);
    }
    return j;
}

OJson PanelStore::inbounds_json() const {
    OJson list = OJson::array();
    for (const auto& ib : inbounds_) list.push_back(inbound_json(ib, true));
    return list;
}

common::Result<OJson, Failure> PanelStore::inbound_by_id(int id) const {
    const Inbound* ib = find_inbound(id);
    if (ib == nullptr) return common::unexpected(Failure(kRecordNotFound));
    // G1 loads the row without preloading clientStats (3x-ui issue #3783); v3 includes them.
    return inbound_json(*ib, mode_ == PanelMode::v3);
}

// ---------------------------------------------------------------------------------------------
// G1 (2.9.x) client routes

namespace {

struct ParsedSettings {
    Json settings;
    std::vector<Json> clients;  // the typed view, decoded leniently like the panel's GetClients
};

common::Result<ParsedSettings, Failure> parse_settings(const std::string& text) {
    ParsedSettings out;
    out.settings = Json::parse(text, nullptr, false);
    if (out.settings.is_discarded()) return common::unexpected(go_syntax_error(text));
    if (!out.settings.is_object()) {
        return common::unexpected("json: cannot unmarshal " + go_kind(out.settings) +
                                  " into Go value of type map[string]interface {}");
    }
    auto it = out.settings.find("clients");
    // The handler type-asserts settings["clients"].([]any) without checking.
    if (it == out.settings.end() || !it->is_array()) throw Panic("interface conversion: settings.clients");
    for (const auto& c : *it) out.clients.push_back(c.is_object() ? c : Json::object());
    return out;
}

}  // namespace

common::Result<OJson, Failure> PanelStore::g1_add_client(int inbound_id, const std::string& settings_text) {
    auto parsed = parse_settings(settings_text);
    if (!parsed) return common::unexpected(parsed.error());
    Json& new_clients = parsed->settings["clients"];
    const std::int64_t now = now_ms_() / 1000 * 1000;
    for (auto& c : new_clients) {
        if (!c.is_object()) continue;
        if (!c.contains("created_at")) c["created_at"] = now;
        c["updated_at"] = now;
    }
    std::vector<std::string> seen;
    for (const auto& c : parsed->clients) {
        std::string email = loose_str(c, "email");
        if (email.empty()) continue;
        for (const auto& s : seen) {
            if (lower(s) == lower(email)) return common::unexpected(go_new_error("Duplicate email:", email));
        }
        if (email_taken_ignoring_case(email, ""))
            return common::unexpected(go_new_error("Duplicate email:", email));
        seen.push_back(email);
    }
    Inbound* ib = find_inbound(inbound_id);
    if (ib == nullptr) return common::unexpected(Failure(kRecordNotFound));
    const std::string key = client_key_field(ib->protocol);
    for (const auto& c : parsed->clients) {
        if (loose_str(c, key).empty()) return common::unexpected(go_new_error("empty client ID"));
    }
    Json* old_clients =
        ib->settings.is_object() && ib->settings.contains("clients") ? &ib->settings["clients"] : nullptr;
    if (old_clients == nullptr || !old_clients->is_array())
        throw Panic("interface conversion: settings.clients");
    for (const auto& c : new_clients) old_clients->push_back(c);
    for (const auto& c : parsed->clients) {
        std::string email = loose_str(c, "email");
        if (email.empty()) continue;
        add_traffic_row(ib->id, email, loose_bool(c, "enable"), loose_i64(c, "totalGB"),
                        loose_i64(c, "expiryTime"), static_cast<int>(loose_i64(c, "reset")));
    }
    return OJson(nullptr);
}

common::Result<OJson, Failure> PanelStore::g1_update_client(const std::string& client_id, int inbound_id,
                                                            const std::string& settings_text) {
    auto parsed = parse_settings(settings_text);
    if (!parsed) return common::unexpected(parsed.error());
    Inbound* ib = find_inbound(inbound_id);
    if (ib == nullptr) return common::unexpected(Failure(kRecordNotFound));
    Json& old_clients = ib->settings["clients"];
    if (parsed->clients.empty()) throw Panic("index out of range [0] with length 0");
    const std::string key = client_key_field(ib->protocol);
    const Json& incoming = parsed->clients.front();
    const std::string new_client_id = loose_str(incoming, key);
    int index = -1;
    std::string old_email;
    for (std::size_t i = 0; i < old_clients.size(); ++i) {
        if (loose_str(old_clients[i], key) == client_id) {
            index = static_cast<int>(i);
            old_email = loose_str(old_clients[i], "email");
            break;
        }
    }
    if (new_client_id.empty() || index < 0) return common::unexpected(go_new_error("empty client ID"));
    const std::string new_email = loose_str(incoming, "email");
    // The duplicate check runs over every stored email, the client's own old one included.
    if (!new_email.empty() && new_email != old_email && email_taken_ignoring_case(new_email, "")) {
        return common::unexpected(go_new_error("Duplicate email:", new_email));
    }
    Json replacement = parsed->settings["clients"].front();
    if (!replacement.is_object()) replacement = Json::object();
    Json& slot = old_clients[static_cast<std::size_t>(index)];
    const std::int64_t now = now_ms_() / 1000 * 1000;
    replacement["created_at"] =
        slot.is_object() && slot.contains("created_at") ? slot["created_at"] : Json(now);
    replacement["updated_at"] = now;
    slot = replacement;  // replaced whole: anything left out is gone

    if (!new_email.empty()) {
        if (!old_email.empty()) {
            if (Traffic* t = find_traffic(old_email)) {
                t->enable = loose_bool(incoming, "enable");
                t->email = new_email;
                t->total = loose_i64(incoming, "totalGB");
                t->expiry_time = loose_i64(incoming, "expiryTime");
                t->reset = static_cast<int>(loose_i64(incoming, "reset"));
            }
        } else {
            add_traffic_row(ib->id, new_email, loose_bool(incoming, "enable"), loose_i64(incoming, "totalGB"),
                            loose_i64(incoming, "expiryTime"),
                            static_cast<int>(loose_i64(incoming, "reset")));
        }
    } else {
        erase_traffic(old_email);
    }
    return OJson(nullptr);
}

common::Result<OJson, Failure> PanelStore::g1_del_client(int inbound_id, const std::string& client_id) {
    Inbound* ib = find_inbound(inbound_id);
    if (ib == nullptr) return common::unexpected(Failure(kRecordNotFound));
    const std::string key = client_key_field(ib->protocol);
    Json& clients = ib->settings["clients"];
    Json remaining = Json::array();
    bool found = false;
    std::string email;
    for (const auto& c : clients) {
        if (!c.is_object()) throw Panic("interface conversion: client");
        if (!found && loose_str(c, key) == client_id) {
            found = true;
            email = loose_str(c, "email");
        } else {
            remaining.push_back(c);
        }
    }
    if (!found) return common::unexpected(go_new_error("Client Not Found In Inbound For ID:", client_id));
    if (remaining.empty()) return common::unexpected(go_new_error("no client remained in Inbound"));
    if (!email.empty() && find_traffic(email) == nullptr) return common::unexpected(Failure(kRecordNotFound));
    clients = remaining;
    erase_traffic(email);
    return OJson(nullptr);
}

common::Result<OJson, Failure> PanelStore::g1_del_client_by_email(int inbound_id, const std::string& email) {
    Inbound* ib = find_inbound(inbound_id);
    if (ib == nullptr) return common::unexpected(Failure(kRecordNotFound));
    Json& clients = ib->settings["clients"];
    if (!clients.is_array())
        return common::unexpected(go_new_error("invalid clients format in inbound settings"));
    Json remaining = Json::array();
    bool found = false;
    for (const auto& c : clients) {
        if (!c.is_object()) continue;
        if (loose_str(c, "email") == email) {
            found = true;
        } else {
            remaining.push_back(c);
        }
    }
    if (!found) return common::unexpected(go_new_error("client with email " + email + " not found"));
    if (remaining.empty()) return common::unexpected(go_new_error("no client remained in Inbound"));
    if (find_traffic(email) == nullptr)
        return common::unexpected(go_new_error("Inbound Not Found For Email:", email));
    clients = remaining;
    erase_traffic(email);
    return OJson(nullptr);
}

common::Result<OJson, Failure> PanelStore::g1_client_traffic(const std::string& email) const {
    const Traffic* t = find_traffic(email);
    if (t == nullptr) return common::unexpected(go_new_error("Inbound Not Found For Email:", email));
    const Inbound* ib = find_inbound(t->inbound_id);
    if (ib == nullptr) return common::unexpected(Failure(kRecordNotFound));
    const Json* clients = path(ib->settings, {"clients"});
    if (clients != nullptr && clients->is_array()) {
        for (const auto& c : *clients) {
            if (loose_str(c, "email") == email) return traffic_json(*t);
        }
    }
    return common::unexpected(go_new_error("Client Not Found In Inbound For Email:", email));
}

OJson PanelStore::g1_client_traffics_by_uuid(const std::string& uuid) const {
    OJson out = OJson::array();
    for (const auto& t : traffics_) {
        for (const auto& ib : inbounds_) {
            const Json* clients = path(ib.settings, {"clients"});
            if (clients == nullptr || !clients->is_array()) continue;
            for (const auto& c : *clients) {
                if (loose_str(c, "id") == uuid && loose_str(c, "email") == t.email) {
                    OJson j = traffic_json(t);
                    j["enable"] = loose_bool(c, "enable");  // reconciled with the settings flag
                    out.push_back(j);
                }
            }
        }
    }
    return out;
}

common::Result<OJson, Failure> PanelStore::g1_reset_client_traffic(int inbound_id, const std::string& email) {
    auto traffic = g1_client_traffic(email);
    if (!traffic) return common::unexpected(traffic.error());
    Traffic* t = find_traffic(email);
    if (!t->enable && find_inbound(inbound_id) == nullptr)
        return common::unexpected(Failure(kRecordNotFound));
    // The settings flag stays as it is: a client auto-disabled in settings stays disabled (3x-ui issue
    // #4396).
    t->up = 0;
    t->down = 0;
    t->enable = true;
    return OJson(nullptr);
}

// ---------------------------------------------------------------------------------------------
// G2 (3.6.x) client routes

Json PanelStore::settings_client(const ClientRecord& r, const Inbound& ib) const {
    Json c = Json::object();
    if (!r.uuid.empty()) c["id"] = r.uuid;
    c["security"] = r.security;
    if (!r.password.empty()) c["password"] = r.password;
    if (!r.flow.empty() && flow_capable(ib)) c["flow"] = r.flow;
    if (!r.auth.empty()) c["auth"] = r.auth;
    c["email"] = r.email;
    c["limitIp"] = r.limit_ip;
    c["totalGB"] = r.total_gb;
    c["expiryTime"] = r.expiry_time;
    c["enable"] = r.enable;
    c["tgId"] = r.tg_id;
    c["subId"] = r.sub_id;
    if (!r.group.empty()) c["group"] = r.group;
    c["comment"] = r.comment;
    c["reset"] = r.reset;
    if (r.created_at != 0) c["created_at"] = r.created_at;
    if (r.updated_at != 0) c["updated_at"] = r.updated_at;
    return c;
}

void PanelStore::rebuild_settings() {
    for (auto& ib : inbounds_) {
        Json clients = Json::array();
        for (const auto& r : records_) {
            if (std::find(r.inbound_ids.begin(), r.inbound_ids.end(), ib.id) != r.inbound_ids.end()) {
                clients.push_back(settings_client(r, ib));
            }
        }
        ib.settings["clients"] = clients;
    }
}

OJson PanelStore::record_json(const ClientRecord& r) const {
    OJson j;
    j["id"] = r.id;
    j["email"] = r.email;
    j["subId"] = r.sub_id;
    j["uuid"] = r.uuid;
    j["password"] = r.password;
    j["auth"] = r.auth;
    j["flow"] = r.flow;
    j["security"] = r.security;
    j["privateKey"] = "";
    j["publicKey"] = "";
    j["allowedIPs"] = "";
    j["preSharedKey"] = "";
    j["keepAlive"] = 0;
    j["secret"] = "";
    j["adTag"] = "";
    j["limitIp"] = r.limit_ip;
    j["totalGB"] = r.total_gb;
    j["expiryTime"] = r.expiry_time;
    j["enable"] = r.enable;
    j["tgId"] = r.tg_id;
    j["group"] = r.group;
    j["comment"] = r.comment;
    j["reset"] = r.reset;
    j["createdAt"] = r.created_at;
    j["updatedAt"] = r.updated_at;
    j["reverse"] = nullptr;
    return j;
}

OJson PanelStore::g2_list() const {
    OJson out = OJson::array();
    for (const auto& r : records_) {
        OJson j = record_json(r);
        j["inboundIds"] = r.inbound_ids.empty() ? OJson(nullptr) : OJson(r.inbound_ids);
        if (const Traffic* t = find_traffic(r.email)) j["traffic"] = traffic_json(*t);
        out.push_back(j);
    }
    return out;
}

common::Result<OJson, Failure> PanelStore::g2_get(const std::string& email) const {
    const ClientRecord* r = find_record(email);
    if (r == nullptr) return common::unexpected(Failure(kRecordNotFound));
    ClientRecord shown = *r;
    // The displayed flow is the one stored on the first flow-capable inbound.
    shown.flow.clear();
    for (int id : r->inbound_ids) {
        const Inbound* ib = find_inbound(id);
        if (ib != nullptr && flow_capable(*ib) && !r->flow.empty()) {
            shown.flow = r->flow;
            break;
        }
    }
    std::int64_t used = 0;
    if (const Traffic* t = find_traffic(email)) used = t->up + t->down;
    OJson j;
    j["client"] = record_json(shown);
    j["inboundIds"] = r->inbound_ids.empty() ? OJson(nullptr) : OJson(r->inbound_ids);
    j["externalLinks"] = OJson::array();
    j["usedTraffic"] = used;
    return j;
}

OJson PanelStore::g2_traffic(const std::string& email) const {
    const Traffic* t = find_traffic(email);
    return t == nullptr ? OJson(nullptr) : traffic_json(*t);
}

namespace {

struct G2Client {
    std::string id, security, password, flow, auth, email, sub_id, group, comment;
    int limit_ip = 0, reset = 0;
    std::int64_t total_gb = 0, expiry_time = 0, tg_id = 0, created_at = 0;
    bool enable = false;
};

common::Result<G2Client, Failure> decode_client(const Json& object, const std::string& struct_path) {
    if (!object.is_null() && !object.is_object()) {
        return common::unexpected("json: cannot unmarshal " + go_kind(object) + " into Go struct field " +
                                  struct_path + " of type model.Client");
    }
    const Json& o = object.is_object() ? object : Json::object();
    GoDecoder d(o, struct_path);
    G2Client c;
    c.id = d.str("id");
    c.security = d.str("security");
    c.password = d.str("password");
    c.flow = d.str("flow");
    c.auth = d.str("auth");
    c.email = d.str("email");
    c.limit_ip = static_cast<int>(d.i64("limitIp", "int"));
    c.total_gb = d.i64("totalGB");
    c.expiry_time = d.i64("expiryTime");
    c.enable = d.boolean("enable");
    c.tg_id = d.i64("tgId");
    c.sub_id = d.str("subId");
    c.group = d.str("group");
    c.comment = d.str("comment");
    c.reset = static_cast<int>(d.i64("reset", "int"));
    c.created_at = d.i64("created_at");
    if (d.error()) return common::unexpected(*d.error());
    return c;
}

}  // namespace

common::Result<OJson, Failure> PanelStore::g2_add(const Json& payload) {
    if (!payload.is_object()) {
        return common::unexpected("json: cannot unmarshal " + go_kind(payload) +
                                  " into Go value of type service.ClientCreatePayload");
    }
    std::vector<int> inbound_ids;
    if (const Json* ids = go_field(payload, "inboundIds"); ids != nullptr && !ids->is_null()) {
        if (!ids->is_array()) {
            return common::unexpected("json: cannot unmarshal " + go_kind(*ids) +
                                      " into Go struct field ClientCreatePayload.inboundIds of type []int");
        }
        for (const auto& v : *ids) {
            if (!v.is_number_integer() && !v.is_number_unsigned()) {
                return common::unexpected("json: cannot unmarshal " + go_kind(v) +
                                          " into Go struct field ClientCreatePayload.inboundIds of type int");
            }
            inbound_ids.push_back(v.get<int>());
        }
    }
    const Json* client_field = go_field(payload, "client");
    auto decoded =
        decode_client(client_field != nullptr ? *client_field : Json(), "ClientCreatePayload.client");
    if (!decoded) return common::unexpected(decoded.error());
    G2Client client = *decoded;

    if (trim(client.email).empty()) return common::unexpected(go_new_error("client email is required"));
    if (has_forbidden_char(client.email)) {
        return common::unexpected(go_new_error("client email contains an invalid character:", client.email));
    }
    if (has_forbidden_char(client.sub_id)) {
        return common::unexpected(go_new_error("client subId contains an invalid character:", client.sub_id));
    }
    if (inbound_ids.empty()) return common::unexpected(go_new_error("at least one inbound is required"));
    if (client.sub_id.empty()) client.sub_id = common::uuid_v4();
    client.enable = true;
    const std::int64_t now = now_ms_();
    if (client.created_at == 0) client.created_at = now;

    ClientRecord* existing = find_record(client.email);
    if (existing != nullptr) {
        if (existing->sub_id.empty() || existing->sub_id != client.sub_id) {
            return common::unexpected(go_new_error("email already in use:", client.email));
        }
        if (client.id.empty()) client.id = existing->uuid;
        if (client.password.empty()) client.password = existing->password;
        if (client.auth.empty()) client.auth = existing->auth;
    }
    for (const auto& r : records_) {
        if (r.sub_id == client.sub_id && r.email != client.email) {
            return common::unexpected(go_new_error("subId already in use:", client.sub_id));
        }
    }

    // Each inbound is applied in turn; a failure part-way leaves the earlier ones applied.
    for (int ib_id : inbound_ids) {
        Inbound* ib = find_inbound(ib_id);
        if (ib == nullptr) return common::unexpected(Failure(kRecordNotFound));
        if ((ib->protocol == "vless" || ib->protocol == "vmess") && client.id.empty())
            client.id = common::uuid_v4();
        if (ib->protocol == "trojan" && client.password.empty()) client.password = common::random_alnum(10);
        // Another identity with the same email in any case fails; the same subId means the same identity.
        for (const auto& r : records_) {
            if (lower(r.email) == lower(client.email) && r.sub_id != client.sub_id) {
                return common::unexpected(go_new_error("Duplicate email:", client.email));
            }
        }
        ClientRecord* rec = find_record(client.email);
        if (rec == nullptr) {
            ClientRecord r;
            r.id = next_record_id_++;
            r.email = client.email;
            records_.push_back(r);
            rec = &records_.back();
        }
        rec->sub_id = client.sub_id;
        rec->uuid = client.id;
        rec->password = client.password;
        rec->auth = client.auth;
        if (!client.flow.empty() || rec->flow.empty()) rec->flow = client.flow;
        rec->security = client.security;
        rec->limit_ip = client.limit_ip;
        rec->total_gb = client.total_gb;
        rec->expiry_time = client.expiry_time;
        rec->enable = client.enable;
        rec->tg_id = client.tg_id;
        rec->group = client.group;
        rec->comment = client.comment;
        rec->reset = client.reset;
        if (rec->created_at == 0) rec->created_at = client.created_at;
        rec->updated_at = now;
        if (std::find(rec->inbound_ids.begin(), rec->inbound_ids.end(), ib_id) == rec->inbound_ids.end()) {
            rec->inbound_ids.push_back(ib_id);
            std::sort(rec->inbound_ids.begin(), rec->inbound_ids.end());
        }
        add_traffic_row(ib_id, client.email, true, client.total_gb, client.expiry_time, client.reset);
        rebuild_settings();
    }
    return OJson(nullptr);
}

common::Result<OJson, Failure> PanelStore::g2_update(const std::string& email, const Json& body,
                                                     const std::vector<int>& filter) {
    ClientRecord* existing = find_record(email);
    if (existing == nullptr) return common::unexpected(Failure(kRecordNotFound));
    if (!body.is_object()) {
        return common::unexpected("json: cannot unmarshal " + go_kind(body) +
                                  " into Go value of type model.Client");
    }
    auto decoded = decode_client(body, "Client");
    if (!decoded) return common::unexpected(decoded.error());
    G2Client u = *decoded;
    if (trim(u.email).empty()) return common::unexpected(go_new_error("client email is required"));
    if (has_forbidden_char(u.email)) {
        return common::unexpected(go_new_error("client email contains an invalid character:", u.email));
    }
    if (has_forbidden_char(u.sub_id)) {
        return common::unexpected(go_new_error("client subId contains an invalid character:", u.sub_id));
    }
    if (u.sub_id.empty()) u.sub_id = existing->sub_id;
    if (u.sub_id.empty()) u.sub_id = common::uuid_v4();
    if (u.id.empty()) u.id = existing->uuid;
    if (u.password.empty()) u.password = existing->password;
    if (u.auth.empty()) u.auth = existing->auth;
    if (u.email != existing->email) {
        for (const auto& r : records_) {
            if (&r != existing && lower(r.email) == lower(u.email)) {
                return common::unexpected(go_new_error("Duplicate email:", u.email));
            }
        }
    }
    if (u.sub_id != existing->sub_id) {
        for (const auto& r : records_) {
            if (&r != existing && r.sub_id == u.sub_id)
                return common::unexpected(go_new_error("Duplicate subId:", u.sub_id));
        }
    }
    (void)
        filter;  // every attached inbound carries the same record here, so the filter changes nothing visible
    const std::string old_email = existing->email;
    // A full replacement: every field not carried over above takes the body's value or its zero value.
    existing->email = u.email;
    existing->sub_id = u.sub_id;
    existing->uuid = u.id;
    existing->password = u.password;
    existing->auth = u.auth;
    existing->flow = u.flow;
    existing->security = u.security;
    existing->limit_ip = u.limit_ip;
    existing->total_gb = u.total_gb;
    existing->expiry_time = u.expiry_time;
    existing->enable = u.enable;
    existing->tg_id = u.tg_id;
    existing->group = u.group;
    existing->comment = u.comment;
    existing->reset = u.reset;
    if (u.created_at != 0) existing->created_at = u.created_at;
    existing->updated_at = now_ms_();
    if (Traffic* t = find_traffic(old_email)) {
        t->enable = u.enable;
        t->email = u.email;
        t->total = u.total_gb;
        t->expiry_time = u.expiry_time;
        t->reset = u.reset;
    }
    rebuild_settings();
    return OJson(nullptr);
}

common::Result<OJson, Failure> PanelStore::g2_del(const std::string& email, bool keep_traffic) {
    if (email.empty()) return common::unexpected(go_new_error("client email is required"));
    auto it = std::find_if(records_.begin(), records_.end(),
                           [&](const ClientRecord& r) { return r.email == email; });
    if (it == records_.end()) {
        return common::unexpected(
            go_new_error("client " + go_quote(email) + " not found in any inbound or client record"));
    }
    records_.erase(it);
    if (!keep_traffic) erase_traffic(email);
    rebuild_settings();
    return OJson(nullptr);
}

common::Result<OJson, Failure> PanelStore::g2_reset_traffic(const std::string& email) {
    if (email.empty()) return common::unexpected(go_new_error("client email is required"));
    ClientRecord* r = find_record(email);
    if (r == nullptr) return common::unexpected(Failure(kRecordNotFound));
    // 3.6 re-enables a client disabled by quota, expiry or by hand.
    if (!r->enable) {
        r->enable = true;
        r->updated_at = now_ms_();
    }
    if (Traffic* t = find_traffic(email)) {
        t->up = 0;
        t->down = 0;
        t->enable = true;
    }
    rebuild_settings();
    return OJson(nullptr);
}

OJson PanelStore::g2_bulk_set_enable(const std::vector<std::string>& emails, bool enable) {
    std::vector<std::string> clean;
    for (const auto& e : emails) {
        std::string t = trim(e);
        if (t.empty() || std::find(clean.begin(), clean.end(), t) != clean.end()) continue;
        clean.push_back(t);
    }
    int changed = 0;
    OJson skipped = OJson::array();
    const std::int64_t now = now_ms_();
    for (const auto& e : clean) {
        ClientRecord* r = find_record(e);
        if (r == nullptr) {
            skipped.push_back(OJson{{"email", e}, {"reason", "client not found"}});
            continue;
        }
        r->enable = enable;
        r->updated_at = now;
        if (Traffic* t = find_traffic(e)) t->enable = enable;
        ++changed;
    }
    rebuild_settings();
    OJson out;
    out["changed"] = changed;
    if (!skipped.empty()) out["skipped"] = skipped;
    return out;
}

// ---------------------------------------------------------------------------------------------
// Both generations

common::Result<OJson, Failure> PanelStore::update_traffic(const std::string& email, std::int64_t up,
                                                          std::int64_t down) {
    if (Traffic* t = find_traffic(email)) {
        t->up = up;
        t->down = down;
        t->all_time = std::max(t->all_time, up + down);
    }
    return OJson(nullptr);
}

OJson PanelStore::last_online() const {
    OJson out = OJson::object();
    for (const auto& t : traffics_) {
        if (t.last_online > 0) out[t.email] = t.last_online;
    }
    return out;
}

void PanelStore::add_traffic(const std::string& email, std::int64_t up, std::int64_t down) {
    Traffic* t = find_traffic(email);
    if (t == nullptr) return;
    const std::int64_t now = now_ms_();
    t->up += up;
    t->down += down;
    t->all_time += up + down;
    if (up + down > 0) t->last_online = now;
    if (Inbound* ib = find_inbound(t->inbound_id)) {
        ib->up += up;
        ib->down += down;
        ib->all_time += up + down;
    }
    // A negative expiry is a duration that starts with the first traffic.
    if (t->expiry_time < 0 && up + down > 0) {
        const std::int64_t absolute = now - t->expiry_time;
        t->expiry_time = absolute;
        if (mode_ == PanelMode::v3) {
            if (ClientRecord* r = find_record(email)) r->expiry_time = absolute;
            rebuild_settings();
        } else {
            for (auto& ib : inbounds_) {
                for (auto& c : ib.settings["clients"]) {
                    if (loose_str(c, "email") == email) c["expiryTime"] = absolute;
                }
            }
        }
    }
    enforce();
}

int PanelStore::enforce() {
    const std::int64_t now = now_ms_();
    int disabled = 0;
    for (auto& t : traffics_) {
        if (!t.enable) continue;
        const bool over_quota = t.total > 0 && t.up + t.down >= t.total;
        const bool expired = t.expiry_time > 0 && t.expiry_time <= now;
        if (!over_quota && !expired) continue;
        t.enable = false;
        ++disabled;
        if (mode_ == PanelMode::v3) {
            if (ClientRecord* r = find_record(t.email)) {
                r->enable = false;
                r->updated_at = now;
            }
        } else if (Inbound* ib = find_inbound(t.inbound_id)) {
            for (auto& c : ib->settings["clients"]) {
                if (c.is_object() && loose_str(c, "email") == t.email) {
                    c["enable"] = false;
                    c["updated_at"] = now / 1000 * 1000;
                }
            }
        }
    }
    if (disabled > 0 && mode_ == PanelMode::v3) rebuild_settings();
    return disabled;
}

std::string PanelStore::share_link(const Inbound& ib, const Json& client,
                                   const std::string& request_host) const {
    if (ib.protocol != "vless") return {};
    const Json& ss = ib.stream_settings;
    const std::string network = path_str(ss, {"network"});
    const std::string security = path_str(ss, {"security"});
    std::map<std::string, std::string> q;  // url.Values.Encode sorts the keys
    q["type"] = network;
    if (const Json* enc = path(ib.settings, {"encryption"}); enc != nullptr && enc->is_string()) {
        q["encryption"] = enc->get<std::string>();
    }
    if (network == "ws" || network == "httpupgrade") {
        const char* key = network == "ws" ? "wsSettings" : "httpupgradeSettings";
        q["path"] = path_str(ss, {key, "path"});
        std::string host = path_str(ss, {key, "host"});
        if (host.empty()) host = path_str(ss, {key, "headers", "Host"});
        q["host"] = host;
    } else if (network == "grpc") {
        q["serviceName"] = path_str(ss, {"grpcSettings", "serviceName"});
        q["authority"] = path_str(ss, {"grpcSettings", "authority"});
        if (const Json* m = path(ss, {"grpcSettings", "multiMode"});
            m != nullptr && m->is_boolean() && m->get<bool>()) {
            q["mode"] = "multi";
        }
    } else if (network == "tcp" && path_str(ss, {"tcpSettings", "header", "type"}) == "http") {
        q["headerType"] = "http";
        if (const Json* p = path(ss, {"tcpSettings", "header", "request", "path"});
            p && p->is_array() && !p->empty()) {
            q["path"] = (*p)[0].is_string() ? (*p)[0].get<std::string>() : "";
        }
    }
    q["security"] = security.empty() ? "none" : security;
    if (security == "tls") {
        q["sni"] = path_str(ss, {"tlsSettings", "serverName"});
        if (const Json* alpn = path(ss, {"tlsSettings", "alpn"}); alpn != nullptr && alpn->is_array()) {
            std::string joined;
            for (const auto& a : *alpn) {
                if (!joined.empty()) joined += ',';
                joined += a.is_string() ? a.get<std::string>() : "";
            }
            if (!joined.empty()) q["alpn"] = joined;
        }
        std::string fp = path_str(ss, {"tlsSettings", "settings", "fingerprint"});
        if (!fp.empty()) q["fp"] = fp;
    } else if (security == "reality") {
        q["pbk"] = path_str(ss, {"realitySettings", "settings", "publicKey"});
        std::string fp = path_str(ss, {"realitySettings", "settings", "fingerprint"});
        if (!fp.empty()) q["fp"] = fp;
        // sni and sid are a random pick on every call, as in the panel.
        if (const Json* names = path(ss, {"realitySettings", "serverNames"});
            names && names->is_array() && !names->empty()) {
            const Json& pick = (*names)[random_index(names->size())];
            q["sni"] = pick.is_string() ? pick.get<std::string>() : "";
        }
        if (const Json* ids = path(ss, {"realitySettings", "shortIds"});
            ids && ids->is_array() && !ids->empty()) {
            const Json& pick = (*ids)[random_index(ids->size())];
            q["sid"] = pick.is_string() ? pick.get<std::string>() : "";
        }
        std::string pqv = path_str(ss, {"realitySettings", "settings", "mldsa65Verify"});
        if (!pqv.empty()) q["pqv"] = pqv;
        const std::string spider = path_str(ss, {"realitySettings", "settings", "spiderX"});
        if (mode_ == PanelMode::v3) {
            // v3.5+: deterministic per subscriber.
            std::string who = loose_str(client, "subId");
            if (who.empty()) who = loose_str(client, "email");
            q["spx"] = "/" + common::sha256_hex(spider + "|" + who).substr(0, 15);
        } else {
            q["spx"] = "/" + common::random_alnum(15);
        }
    }
    const std::string flow = loose_str(client, "flow");
    if (!flow.empty() && flow_capable(ib)) q["flow"] = flow;

    std::string host = ib.listen;
    if (host.empty() || host == "0.0.0.0" || host == "::" || host == "::0") host = request_host;
    if (mode_ == PanelMode::v3 && host.find(':') != std::string::npos) host = "[" + host + "]";
    std::string query;
    for (const auto& [k, v] : q) {
        if (!query.empty()) query += '&';
        query += query_escape(k) + "=" + query_escape(v);
    }
    std::string remark = ib.remark + "-" + loose_str(client, "email");
    return "vless://" + loose_str(client, "id") + "@" + host + ":" + std::to_string(ib.port) + "?" + query +
           "#" + common::http::url_encode(remark);
}

std::optional<Subscription> PanelStore::subscription(const std::string& sub_id,
                                                     const std::string& host) const {
    if (sub_id.empty()) return std::nullopt;
    Subscription sub;
    std::set<std::string> emails;
    for (const auto& ib : inbounds_) {
        if (!ib.enable) continue;
        const Json* clients = path(ib.settings, {"clients"});
        if (clients == nullptr || !clients->is_array()) continue;
        for (const auto& c : *clients) {
            if (loose_str(c, "subId") != sub_id) continue;
            std::string link = share_link(ib, c, host);
            if (!link.empty()) sub.links.push_back(link);
            emails.insert(loose_str(c, "email"));
        }
    }
    if (sub.links.empty()) return std::nullopt;
    bool unlimited = false;
    bool never = false;
    for (const auto& e : emails) {
        const Traffic* t = find_traffic(e);
        if (t == nullptr) continue;
        sub.up += t->up;
        sub.down += t->down;
        sub.total += t->total;
        unlimited = unlimited || t->total == 0;
        never = never || t->expiry_time == 0;
        if (t->expiry_time > 0) sub.expire_seconds = std::max(sub.expire_seconds, t->expiry_time / 1000);
    }
    if (unlimited) sub.total = 0;
    if (never) sub.expire_seconds = 0;
    return sub;
}

std::optional<nlohmann::json> PanelStore::client_view(const std::string& email) const {
    std::optional<nlohmann::json> out;
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& ib : inbounds_) {
        const Json* clients = path(ib.settings, {"clients"});
        if (clients == nullptr || !clients->is_array()) continue;
        for (const auto& c : *clients) {
            if (loose_str(c, "email") != email) continue;
            if (!out) out = c;
            ids.push_back(ib.id);
        }
    }
    if (!out) return std::nullopt;
    const Traffic* t = find_traffic(email);
    (*out)["traffic"] =
        t == nullptr ? nlohmann::json(nullptr) : nlohmann::json::parse(traffic_json(*t).dump());
    (*out)["inboundIds"] = ids;
    return out;
}

}  // namespace nebula::fakes::xui
