#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "gateway/xui/types.hpp"

namespace nebula::gateway::xui {

/// Builds the `vless://` share link 3x-ui would give for `client` on `inbound`, from the
/// inbound's own settings: transport tcp (plain or with an http header), ws, grpc, httpupgrade
/// or xhttp; security none, tls or reality; `encryption` from the inbound settings; the client's
/// flow only where Vision can run. The address is `public_host` (IPv6 literals bracketed) and the
/// fragment is the client's email. Where the panel picks at random the choice is fixed: sni is
/// the first server name, sid the first short id, and spx is the panel's 3.5+ derivation
/// ("/" + 15 hex digits of sha256(spiderX + "|" + (subId or email))). Query keys are sorted and
/// values escaped as Go's url.Values.Encode does, so equal input gives the panel's exact link.
/// Errors (a message for the operator): not a VLESS inbound, a transport or security this
/// function does not know, a missing UUID, email or host. Pure function, thread-safe.
common::Result<std::string, std::string> vless_link(const Inbound& inbound, const Client& client,
                                                    std::string_view public_host);

/// True when a VLESS client on `inbound` may carry the Vision flow (3x-ui's rule): TCP with TLS or
/// REALITY, or XHTTP with VLESS encryption on, and never on an inbound with `disable_flow`.
bool vision_flow_allowed(const Inbound& inbound);

/// The subscription URL for `sub_id` under the panel's subscription base (the panel's subURI,
/// e.g. "https://vpn.example.com:2096/sub/"): base + "/" if needed + escaped sub id.
std::string subscription_url(std::string_view sub_url_base, std::string_view sub_id);

/// Escapes like Go's url.QueryEscape: RFC 3986 unreserved bytes stay, space becomes '+', every
/// other byte becomes %XX (upper-case hex).
std::string query_escape(std::string_view text);

}  // namespace nebula::gateway::xui
