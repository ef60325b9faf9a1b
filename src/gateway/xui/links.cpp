#include "gateway/xui/links.hpp"

#include <map>

#include "common/crypto.hpp"
#include "common/http.hpp"

namespace nebula::gateway::xui {

using nlohmann::json;

namespace {

using Params = std::map<std::string, std::string>;  // sorted, as url.Values.Encode writes them

// The panel reads nested keys with a recursive search (searchKey). It takes a key at the level
// it is given first here, then looks into children in key order, so the answer never depends on
// map iteration order.
const json* find_key(const json* node, std::string_view key) {
    if (node == nullptr) return nullptr;
    if (node->is_object()) {
        if (auto it = node->find(key); it != node->end()) return &*it;
        for (const auto& [name, child] : node->items()) {
            if (const json* hit = find_key(&child, key)) return hit;
        }
    } else if (node->is_array()) {
        for (const auto& child : *node) {
            if (const json* hit = find_key(&child, key)) return hit;
        }
    }
    return nullptr;
}

const json* member(const json& node, std::string_view key) {
    if (!node.is_object()) return nullptr;
    auto it = node.find(key);
    return it == node.end() ? nullptr : &*it;
}

std::string as_string(const json* value) {
    return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

bool as_true(const json* value) { return value != nullptr && value->is_boolean() && value->get<bool>(); }

// The Host header in a headers object: a string or the first of a list, name compared without case.
std::string search_host(const json* headers) {
    if (headers == nullptr || !headers->is_object()) return {};
    for (const auto& [name, value] : headers->items()) {
        if (!common::http::iequals(name, "host")) continue;
        if (value.is_string()) return value.get<std::string>();
        if (value.is_array() && !value.empty()) return as_string(&value[0]);
    }
    return {};
}

std::string join_strings(const json* list) {
    std::string out;
    if (list == nullptr || !list->is_array()) return out;
    for (const auto& item : *list) {
        if (!item.is_string() || item.get_ref<const std::string&>().empty()) continue;
        if (!out.empty()) out += ',';
        out += item.get<std::string>();
    }
    return out;
}

void path_and_host(const json* settings, Params& p) {
    p["path"] = settings ? as_string(member(*settings, "path")) : "";
    std::string host = settings ? as_string(member(*settings, "host")) : "";
    p["host"] = !host.empty() ? host : (settings ? search_host(member(*settings, "headers")) : "");
}

bool non_zero(const json& v) {
    if (v.is_string()) return !v.get_ref<const std::string&>().empty();
    if (v.is_number()) return v.get<double>() != 0;
    return false;
}

// The client-visible xhttp options beyond path/host/mode, dropped when equal to the core's defaults.
json xhttp_extra(const json& x) {
    json extra = json::object();
    if (auto mode = as_string(member(x, "mode")); !mode.empty()) extra["mode"] = mode;
    if (auto padding = as_string(member(x, "xPaddingBytes")); !padding.empty())
        extra["xPaddingBytes"] = padding;
    if (as_true(member(x, "xPaddingObfsMode"))) {
        extra["xPaddingObfsMode"] = true;
        for (const char* field : {"xPaddingKey", "xPaddingHeader", "xPaddingPlacement", "xPaddingMethod"}) {
            if (auto v = as_string(member(x, field)); !v.empty()) extra[field] = v;
        }
    }
    const std::map<std::string_view, std::string_view> core_defaults{{"scMaxEachPostBytes", "1000000"},
                                                                     {"scMinPostsIntervalMs", "30"}};
    for (const char* field : {"uplinkHTTPMethod", "sessionIDPlacement", "sessionIDKey", "sessionIDTable",
                              "sessionIDLength", "seqPlacement", "seqKey", "uplinkDataPlacement",
                              "uplinkDataKey", "scMaxEachPostBytes", "scMinPostsIntervalMs"}) {
        auto v = as_string(member(x, field));
        auto def = core_defaults.find(field);
        if (!v.empty() && (def == core_defaults.end() || def->second != v)) extra[field] = v;
    }
    for (auto [legacy, renamed] :
         {std::pair{"sessionPlacement", "sessionIDPlacement"}, std::pair{"sessionKey", "sessionIDKey"}}) {
        if (extra.contains(renamed)) continue;
        if (auto v = as_string(member(x, legacy)); !v.empty()) extra[renamed] = v;
    }
    if (const json* chunk = member(x, "uplinkChunkSize"); chunk && non_zero(*chunk))
        extra["uplinkChunkSize"] = *chunk;
    if (as_true(member(x, "noGRPCHeader"))) extra["noGRPCHeader"] = true;
    for (const char* field : {"xmux", "downloadSettings"}) {
        const json* v = member(x, field);
        if (v && (v->is_object() || v->is_array()) && !v->empty()) extra[field] = *v;
    }
    if (const json* headers = member(x, "headers"); headers && headers->is_object()) {
        json kept = json::object();
        for (const auto& [name, value] : headers->items()) {
            if (!common::http::iequals(name, "host")) kept[name] = value;
        }
        if (!kept.empty()) extra["headers"] = kept;
    }
    return extra;
}

common::Result<bool, std::string> network_params(const json& stream, const std::string& network, Params& p) {
    if (network == "tcp" || network == "raw") {
        const json* tcp = member(stream, "tcpSettings");
        const json* header = tcp ? member(*tcp, "header") : nullptr;
        if (header == nullptr || as_string(member(*header, "type")) != "http") return true;
        const json* request = member(*header, "request");
        const json* paths = request ? member(*request, "path") : nullptr;
        if (paths && paths->is_array() && !paths->empty()) p["path"] = as_string(&(*paths)[0]);
        const json* response = member(*header, "response");
        std::string host = response ? search_host(member(*response, "headers")) : "";
        if (host.empty() && request) host = search_host(member(*request, "headers"));
        p["host"] = host;
        p["headerType"] = "http";
    } else if (network == "ws") {
        path_and_host(member(stream, "wsSettings"), p);
    } else if (network == "httpupgrade") {
        path_and_host(member(stream, "httpupgradeSettings"), p);
    } else if (network == "grpc") {
        const json* grpc = member(stream, "grpcSettings");
        p["serviceName"] = grpc ? as_string(member(*grpc, "serviceName")) : "";
        p["authority"] = grpc ? as_string(member(*grpc, "authority")) : "";
        if (grpc && as_true(member(*grpc, "multiMode"))) p["mode"] = "multi";
    } else if (network == "xhttp") {
        const json* x = member(stream, "xhttpSettings");
        if (x == nullptr || !x->is_object()) return true;
        path_and_host(x, p);
        if (const json* mode = member(*x, "mode"); mode && mode->is_string())
            p["mode"] = mode->get<std::string>();
        if (auto padding = as_string(member(*x, "xPaddingBytes")); !padding.empty())
            p["x_padding_bytes"] = padding;
        if (auto extra = xhttp_extra(*x); !extra.empty()) p["extra"] = extra.dump();
    } else {
        return common::unexpected("transport '" + network + "' is not supported for share links");
    }
    return true;
}

void tls_params(const json& stream, Params& p) {
    p["security"] = "tls";
    const json* tls = member(stream, "tlsSettings");
    if (tls == nullptr || !tls->is_object()) return;
    if (auto alpn = join_strings(member(*tls, "alpn")); !alpn.empty()) p["alpn"] = alpn;
    if (const json* sni = find_key(tls, "serverName")) p["sni"] = as_string(sni);
    const json* settings = find_key(tls, "settings");
    if (const json* fp = find_key(settings, "fingerprint")) p["fp"] = as_string(fp);
    if (auto ech = as_string(find_key(settings, "echConfigList")); !ech.empty()) p["ech"] = ech;
    std::string vcn = as_string(find_key(settings, "verifyPeerCertByName"));
    vcn.erase(0, vcn.find_first_not_of(" \t\r\n"));
    vcn.erase(vcn.find_last_not_of(" \t\r\n") + 1);
    if (!vcn.empty()) p["vcn"] = vcn;
    if (auto pcs = join_strings(find_key(settings, "pinnedPeerCertSha256")); !pcs.empty()) p["pcs"] = pcs;
    if (as_true(find_key(settings, "allowInsecure"))) p["allowInsecure"] = "1";
}

void reality_params(const json& stream, const Client& client, Params& p) {
    p["security"] = "reality";
    const json* reality = member(stream, "realitySettings");
    if (reality == nullptr || !reality->is_object()) return;
    const json* settings = find_key(reality, "settings");
    if (const json* names = find_key(reality, "serverNames"); names && names->is_array() && !names->empty()) {
        p["sni"] = as_string(&(*names)[0]);
    }
    if (const json* pbk = find_key(settings, "publicKey")) p["pbk"] = as_string(pbk);
    if (const json* ids = find_key(reality, "shortIds"); ids && ids->is_array() && !ids->empty()) {
        p["sid"] = as_string(&(*ids)[0]);
    }
    if (auto fp = as_string(find_key(settings, "fingerprint")); !fp.empty()) p["fp"] = fp;
    if (auto pqv = as_string(find_key(settings, "mldsa65Verify")); !pqv.empty()) p["pqv"] = pqv;
    const std::string seed = as_string(find_key(settings, "spiderX"));
    const std::string& key = client.sub_id.empty() ? client.email : client.sub_id;
    p["spx"] = "/" + common::sha256_hex(seed + "|" + key).substr(0, 15);
}

bool vless_encryption_on(const json& settings) {
    for (const char* key : {"encryption", "decryption"}) {
        auto v = as_string(member(settings, key));
        if (!v.empty() && v != "none") return true;
    }
    return false;
}

}  // namespace

std::string query_escape(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '-' ||
            c == '_' || c == '.' || c == '~') {
            out.push_back(c);
        } else if (c == ' ') {
            out.push_back('+');
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 0x0F]);
        }
    }
    return out;
}

common::Result<std::string, std::string> vless_link(const Inbound& inbound, const Client& client,
                                                    std::string_view public_host) {
    if (inbound.protocol != "vless") {
        return common::unexpected("inbound " + std::to_string(inbound.id) + " speaks '" + inbound.protocol +
                                  "', not vless");
    }
    if (!common::is_uuid(client.uuid)) return common::unexpected(std::string("client has no VLESS UUID"));
    if (client.email.empty()) return common::unexpected(std::string("client has no email"));
    if (inbound.port <= 0 || inbound.port > 65535)
        return common::unexpected(std::string("inbound has no valid port"));
    std::string host(public_host);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return common::unexpected(std::string("no public host to put in the link"));
    if (host.find(':') != std::string::npos) host = "[" + host + "]";

    const json& stream = inbound.stream_settings;
    std::string network = as_string(member(stream, "network"));
    if (network.empty()) network = "tcp";
    Params p;
    p["type"] = network;
    if (const json* enc = member(inbound.settings, "encryption"); enc && enc->is_string()) {
        p["encryption"] = enc->get<std::string>();
    }
    if (auto ok = network_params(stream, network, p); !ok) return common::unexpected(ok.error());

    const std::string security = as_string(member(stream, "security"));
    if (security == "tls") {
        tls_params(stream, p);
    } else if (security == "reality") {
        reality_params(stream, client, p);
    } else if (security.empty() || security == "none") {
        p["security"] = "none";
    } else {
        return common::unexpected("security '" + security + "' is not supported for share links");
    }

    if (!client.flow.empty() && vision_flow_allowed(inbound)) p["flow"] = client.flow;

    std::string link = "vless://" + client.uuid + "@" + host + ":" + std::to_string(inbound.port);
    char sep = '?';
    for (const auto& [key, value] : p) {
        link += sep;
        link += query_escape(key) + "=" + query_escape(value);
        sep = '&';
    }
    link += '#';
    for (char c : query_escape(client.email)) {
        if (c == '+') {
            link += "%20";
        } else {
            link += c;
        }
    }
    return link;
}

bool vision_flow_allowed(const Inbound& inbound) {
    if (inbound.disable_flow) return false;
    std::string network = as_string(member(inbound.stream_settings, "network"));
    const std::string security = as_string(member(inbound.stream_settings, "security"));
    if (network.empty() || network == "raw") network = "tcp";
    if (network == "tcp") return security == "tls" || security == "reality";
    return network == "xhttp" && vless_encryption_on(inbound.settings);
}

std::string subscription_url(std::string_view sub_url_base, std::string_view sub_id) {
    std::string url(sub_url_base);
    if (url.empty() || url.back() != '/') url += '/';
    return url + common::http::url_encode(sub_id);
}

}  // namespace nebula::gateway::xui
