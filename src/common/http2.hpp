#pragma once
// What the HTTP/2 client (http_client.cpp) and server (http_server.cpp) share on top of nghttp2.

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nebula::common::http::h2 {

/// A header block as HTTP/2 sends it: lower-case names, pseudo-headers first.
using Fields = std::vector<std::pair<std::string, std::string>>;

/// The header name as HTTP/2 spells it (lower case).
inline std::string lower(std::string_view name) {
    std::string out(name);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// HTTP/1.1 connection headers HTTP/2 forbids (RFC 9113 §8.2.2), and content-length, which each
/// side sets itself from the body it sends.
inline bool connection_specific(std::string_view name) {
    return name == "host" || name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
           name == "transfer-encoding" || name == "upgrade" || name == "te" || name == "content-length";
}

/// nghttp2's view of `fields`, which must outlive it.
inline std::vector<nghttp2_nv> name_values(Fields& fields) {
    std::vector<nghttp2_nv> nva;
    nva.reserve(fields.size());
    for (auto& [name, value] : fields) {
        nva.push_back({reinterpret_cast<std::uint8_t*>(name.data()),
                       reinterpret_cast<std::uint8_t*>(value.data()), name.size(), value.size(),
                       NGHTTP2_NV_FLAG_NONE});
    }
    return nva;
}

/// nghttp2's read callback for a body held by a stream object (`std::string body`, `std::size_t
/// offset`) that the data source points at: sent as the peer's flow-control window opens.
template <typename Stream>
ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length, std::uint32_t* flags,
                  nghttp2_data_source* source, void*) {
    auto& stream = *static_cast<Stream*>(source->ptr);
    const std::size_t n = std::min(length, stream.body.size() - stream.offset);
    std::copy_n(stream.body.data() + stream.offset, n, buf);
    stream.offset += n;
    if (stream.offset == stream.body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
}

}  // namespace nebula::common::http::h2
