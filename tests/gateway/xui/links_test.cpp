// Expected links are written out by hand from 3x-ui's genVlessLink rules (keys sorted as Go's
// url.Values.Encode sorts them, values escaped as url.QueryEscape does); each spx was computed
// separately with `printf '%s' "<spiderX>|<subId or email>" | sha256sum | cut -c1-15`.
#include "gateway/xui/links.hpp"

#include <gtest/gtest.h>

namespace nebula::gateway::xui {
namespace {

using nlohmann::json;

constexpr const char* kUuid = "5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11";

Inbound make_inbound(int port, const char* settings, const char* stream) {
    Inbound in;
    in.id = 7;
    in.protocol = "vless";
    in.port = port;
    in.settings = json::parse(settings);
    in.stream_settings = json::parse(stream);
    return in;
}

Client make_client(std::string email, std::string sub_id, std::string flow = "xtls-rprx-vision") {
    Client c;
    c.uuid = kUuid;
    c.email = std::move(email);
    c.sub_id = std::move(sub_id);
    c.flow = std::move(flow);
    return c;
}

std::string link_or_error(const Inbound& in, const Client& c, std::string_view host) {
    auto r = vless_link(in, c, host);
    return r ? r.value() : "error: " + r.error();
}

constexpr const char* kRealityTcp = R"({
    "network": "tcp", "security": "reality",
    "tcpSettings": {"acceptProxyProtocol": false, "header": {"type": "none"}},
    "realitySettings": {"show": false, "dest": "www.example.org:443", "privateKey": "PRIVATE",
        "serverNames": ["www.example.org", "alt.example.org"], "shortIds": ["a3f1", "b2"],
        "settings": {"publicKey": "Tx5yPUBKEY", "fingerprint": "chrome", "serverName": "",
                     "spiderX": "/", "mldsa65Verify": ""}}})";

TEST(VlessLink, RealityTcpVision) {
    auto in =
        make_inbound(443, R"({"clients": [], "decryption": "none", "encryption": "none"})", kRealityTcp);
    EXPECT_EQ(link_or_error(in, make_client("tg_12345", "k3v9q2m8x1z7p4w0"), "vpn.example.com"),
              "vless://5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11@vpn.example.com:443"
              "?encryption=none&flow=xtls-rprx-vision&fp=chrome&pbk=Tx5yPUBKEY&security=reality&sid=a3f1"
              "&sni=www.example.org&spx=%2Fd0b26f269c7ab9e&type=tcp#tg_12345");
}

TEST(VlessLink, RealitySpiderXSeedFallsBackToEmailWithoutSubId) {
    auto in = make_inbound(8443, R"({"encryption": "none"})", R"({
        "network": "tcp", "security": "reality",
        "realitySettings": {"serverNames": ["a.example"], "shortIds": [""],
            "settings": {"publicKey": "PK", "fingerprint": "", "spiderX": "", "mldsa65Verify": "MLDSA"}}})");
    // Empty fingerprint is left out on REALITY; an empty first short id is still written.
    EXPECT_EQ(link_or_error(in, make_client("tg_1", ""), "vpn.example.com"),
              "vless://5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11@vpn.example.com:8443"
              "?encryption=none&flow=xtls-rprx-vision&pbk=PK&pqv=MLDSA&security=reality&sid=&sni=a.example"
              "&spx=%2F0bfaf2bf6ead188&type=tcp#tg_1");
}

TEST(VlessLink, RealityGrpcMultiModeDropsFlow) {
    auto in = make_inbound(2083, R"({"encryption": "none"})", R"({
        "network": "grpc", "security": "reality",
        "grpcSettings": {"serviceName": "svc name", "authority": "", "multiMode": true},
        "realitySettings": {"serverNames": ["g.example"], "shortIds": ["0f"],
            "settings": {"publicKey": "PK2", "fingerprint": "firefox", "spiderX": "/"}}})");
    EXPECT_EQ(
        link_or_error(in, make_client("grpc-user", ""), "vpn.example.com"),
        "vless://5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11@vpn.example.com:2083"
        "?authority=&encryption=none&fp=firefox&mode=multi&pbk=PK2&security=reality&serviceName=svc+name"
        "&sid=0f&sni=g.example&spx=%2F226a2d39b8bb98c&type=grpc#grpc-user");
}

TEST(VlessLink, TlsWebSocketHostFromHeaders) {
    auto in = make_inbound(443, R"({"clients": [], "decryption": "none", "encryption": "none"})", R"({
        "network": "ws", "security": "tls",
        "tlsSettings": {"serverName": "cdn.example.com", "alpn": ["h2", "http/1.1"],
            "certificates": [{"certificateFile": "/c.pem", "keyFile": "/k.pem"}],
            "settings": {"fingerprint": "chrome", "echConfigList": ""}},
        "wsSettings": {"path": "/ws", "host": "", "headers": {"Host": "cdn.example.com"}}})");
    EXPECT_EQ(link_or_error(in, make_client("ws-user", "sub1"), "vpn.example.com"),
              "vless://5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11@vpn.example.com:443"
              "?alpn=h2%2Chttp%2F1.1&encryption=none&fp=chrome&host=cdn.example.com&path=%2Fws&security=tls"
              "&sni=cdn.example.com&type=ws#ws-user");
}

TEST(VlessLink, TlsTcpAllowInsecureEmptyFingerprintKeepsFlow) {
    auto in = make_inbound(443, R"({"encryption": "none"})", R"({
        "network": "tcp", "security": "tls",
        "tlsSettings": {"serverName": "", "alpn": [],
            "settings": {"allowInsecure": true, "fingerprint": "",
                         "pinnedPeerCertSha256": ["AbC=", "dEf="], "verifyPeerCertByName": " vpn.example.com "}}})");
    // The panel writes sni and fp whenever the keys exist, even empty.
    EXPECT_EQ(
        link_or_error(in, make_client("tls-tcp", ""), "vpn.example.com"),
        "vless://5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11@vpn.example.com:443"
        "?allowInsecure=1&encryption=none&flow=xtls-rprx-vision&fp=&pcs=AbC%3D%2CdEf%3D&security=tls&sni="
        "&type=tcp&vcn=vpn.example.com#tls-tcp");
}

TEST(VlessLink, PlainTcpWithHttpHeader) {
    auto in = make_inbound(80, R"({"encryption": "none"})", R"({
        "network": "tcp", "security": "none",
        "tcpSettings": {"header": {"type": "http",
            "request": {"version": "1.1", "method": "GET", "path": ["/a", "/b"],
                        "headers": {"host": ["h1.example.com", "h2.example.com"]}},
            "response": {"version": "1.1", "status": "200", "headers": {}}}}})");
    EXPECT_EQ(
        link_or_error(in, make_client("http-hdr", ""), "vpn.example.com"),
        "vless://5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11@vpn.example.com:80"
        "?encryption=none&headerType=http&host=h1.example.com&path=%2Fa&security=none&type=tcp#http-hdr");
}

TEST(VlessLink, HttpHeaderHostPrefersResponseHeaders) {
    auto in = make_inbound(80, R"({})", R"({
        "network": "tcp",
        "tcpSettings": {"header": {"type": "http",
            "request": {"path": ["/"], "headers": {"Host": ["req.example.com"]}},
            "response": {"headers": {"Host": "resp.example.com"}}}}})");
    // No "encryption" in settings (panels before 2.7) means no encryption key; no security means none.
    EXPECT_EQ(link_or_error(in, make_client("resp", ""), "vpn.example.com"),
              "vless://5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11@vpn.example.com:80"
              "?headerType=http&host=resp.example.com&path=%2F&security=none&type=tcp#resp");
}

TEST(VlessLink, HttpUpgradeEscapesPathAndHost) {
    auto in = make_inbound(8080, R"({"encryption": "none"})", R"({
        "network": "httpupgrade", "security": "none",
        "httpupgradeSettings": {"path": "/up?x=1&y=2", "host": "up.example.com", "headers": {}}})");
    EXPECT_EQ(
        link_or_error(in, make_client("hu", ""), "vpn.example.com"),
        "vless://5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11@vpn.example.com:8080"
        "?encryption=none&host=up.example.com&path=%2Fup%3Fx%3D1%26y%3D2&security=none&type=httpupgrade#hu");
}

TEST(VlessLink, XhttpTlsWithExtra) {
    auto in = make_inbound(443, R"({"encryption": "none"})", R"({
        "network": "xhttp", "security": "tls",
        "tlsSettings": {"serverName": "x.example.com", "alpn": ["h2"], "settings": {"fingerprint": "chrome"}},
        "xhttpSettings": {"path": "/xh", "host": "x.example.com", "mode": "packet-up",
            "xPaddingBytes": "100-1000", "scMaxEachPostBytes": "1000000", "noSSEHeader": false,
            "headers": {"Host": "ignored.example.com", "X-A": "b"}}})");
    // Vision needs VLESS encryption on xhttp; here it is "none", so the flow is dropped.
    EXPECT_EQ(
        link_or_error(in, make_client("xh", ""), "vpn.example.com"),
        "vless://5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11@vpn.example.com:443"
        "?alpn=h2&encryption=none"
        "&extra=%7B%22headers%22%3A%7B%22X-A%22%3A%22b%22%7D%2C%22mode%22%3A%22packet-up%22%2C"
        "%22xPaddingBytes%22%3A%22100-1000%22%7D"
        "&fp=chrome&host=x.example.com&mode=packet-up&path=%2Fxh&security=tls&sni=x.example.com&type=xhttp"
        "&x_padding_bytes=100-1000#xh");
}

TEST(VlessLink, XhttpWithVlessEncryptionKeepsFlow) {
    auto in = make_inbound(443, R"({"decryption": "mlkem768x25519plus.native.600s.SRV",
                                    "encryption": "mlkem768x25519plus.native.0rtt.CLI"})",
                           R"({"network": "xhttp", "security": "none",
                               "xhttpSettings": {"path": "/", "host": "", "mode": "auto"}})");
    EXPECT_EQ(link_or_error(in, make_client("enc", ""), "vpn.example.com"),
              "vless://5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11@vpn.example.com:443"
              "?encryption=mlkem768x25519plus.native.0rtt.CLI&extra=%7B%22mode%22%3A%22auto%22%7D"
              "&flow=xtls-rprx-vision&host=&mode=auto&path=%2F&security=none&type=xhttp#enc");
}

TEST(VlessLink, DisabledFlowInboundNeverCarriesFlow) {
    auto in = make_inbound(443, R"({"encryption": "none"})", kRealityTcp);
    in.disable_flow = true;
    EXPECT_EQ(link_or_error(in, make_client("tg_12345", "k3v9q2m8x1z7p4w0"), "vpn.example.com"),
              "vless://5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11@vpn.example.com:443"
              "?encryption=none&fp=chrome&pbk=Tx5yPUBKEY&security=reality&sid=a3f1"
              "&sni=www.example.org&spx=%2Fd0b26f269c7ab9e&type=tcp#tg_12345");
}

TEST(VlessLink, Ipv6HostIsBracketedAndFragmentEscaped) {
    auto in = make_inbound(443, R"({"encryption": "none"})", R"({"network": "ws", "security": "none",
        "wsSettings": {"path": "/", "host": ""}})");
    const std::string expected =
        "vless://5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11@[2001:db8::1]:443"
        "?encryption=none&host=&path=%2F&security=none&type=ws#user%20one%40home%2B1";
    EXPECT_EQ(link_or_error(in, make_client("user one@home+1", ""), "2001:db8::1"), expected);
    EXPECT_EQ(link_or_error(in, make_client("user one@home+1", ""), "[2001:db8::1]"), expected);
}

TEST(VlessLink, SpiderXSeedWithSubIdContainingSpaces) {
    auto in = make_inbound(443, R"({"encryption": "none"})", R"({"network": "tcp", "security": "reality",
        "realitySettings": {"serverNames": ["s"], "shortIds": ["1"], "settings": {"publicKey": "P", "spiderX": "/path"}}})");
    EXPECT_EQ(link_or_error(in, make_client("e", "sub with space", ""), "h"),
              "vless://5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11@h:443"
              "?encryption=none&pbk=P&security=reality&sid=1&sni=s&spx=%2F1d3cd9fe31a510b&type=tcp#e");
}

TEST(VlessLink, RefusesWhatItCannotBuild) {
    auto good = make_inbound(443, R"({"encryption": "none"})", kRealityTcp);
    auto c = make_client("a", "");

    auto trojan = good;
    trojan.protocol = "trojan";
    EXPECT_FALSE(vless_link(trojan, c, "h").has_value());

    auto xtls = make_inbound(443, "{}", R"({"network": "tcp", "security": "xtls"})");
    EXPECT_NE(vless_link(xtls, c, "h").error().find("xtls"), std::string::npos);

    auto kcp = make_inbound(443, "{}", R"({"network": "kcp", "security": "none"})");
    EXPECT_NE(vless_link(kcp, c, "h").error().find("kcp"), std::string::npos);

    auto no_uuid = c;
    no_uuid.uuid.clear();
    EXPECT_FALSE(vless_link(good, no_uuid, "h").has_value());
    auto no_email = c;
    no_email.email.clear();
    EXPECT_FALSE(vless_link(good, no_email, "h").has_value());
    EXPECT_FALSE(vless_link(good, c, "").has_value());
    auto no_port = good;
    no_port.port = 0;
    EXPECT_FALSE(vless_link(no_port, c, "h").has_value());
}

TEST(VisionFlow, OnlyWhereThePanelAllowsIt) {
    auto with = [](const char* settings, const char* stream) { return make_inbound(443, settings, stream); };
    EXPECT_TRUE(vision_flow_allowed(with("{}", R"({"network":"tcp","security":"reality"})")));
    EXPECT_TRUE(vision_flow_allowed(with("{}", R"({"network":"raw","security":"tls"})")));
    EXPECT_FALSE(vision_flow_allowed(with("{}", R"({"network":"tcp","security":"none"})")));
    EXPECT_FALSE(vision_flow_allowed(with("{}", R"({"network":"ws","security":"tls"})")));
    EXPECT_FALSE(vision_flow_allowed(with("{}", R"({"network":"grpc","security":"reality"})")));
    EXPECT_FALSE(
        vision_flow_allowed(with(R"({"encryption":"none"})", R"({"network":"xhttp","security":"tls"})")));
    EXPECT_TRUE(vision_flow_allowed(with(R"({"decryption":"mlkem768x25519plus.native.600s.K"})",
                                         R"({"network":"xhttp","security":"none"})")));
    auto disabled = with("{}", R"({"network":"tcp","security":"reality"})");
    disabled.disable_flow = true;
    EXPECT_FALSE(vision_flow_allowed(disabled));
}

TEST(SubscriptionUrl, JoinsBaseAndEscapedSubId) {
    EXPECT_EQ(subscription_url("https://vpn.example.com:2096/sub/", "k3v9q2m8x1z7p4w0"),
              "https://vpn.example.com:2096/sub/k3v9q2m8x1z7p4w0");
    EXPECT_EQ(subscription_url("https://vpn.example.com/s", "a b/c"), "https://vpn.example.com/s/a%20b%2Fc");
}

TEST(QueryEscape, MatchesGoQueryEscape) {
    EXPECT_EQ(query_escape("aZ09-_.~"), "aZ09-_.~");
    EXPECT_EQ(query_escape("a b+c/d,e=f&g"), "a+b%2Bc%2Fd%2Ce%3Df%26g");
    EXPECT_EQ(query_escape("\xc3\xa9"), "%C3%A9");
}

}  // namespace
}  // namespace nebula::gateway::xui
