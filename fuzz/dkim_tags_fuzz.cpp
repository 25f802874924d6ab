// SPDX-License-Identifier: MIT
// libFuzzer target: the DKIM tag-list, DKIM-Signature and key record parsers (RFC 6376 §3.2,
// §3.5, §3.6.1), and the header canonicalization of what parses. They must never crash, throw,
// or read past their input; the b= span they report must lie inside the input.
#include "mailauth/dkim_canon.hpp"
#include "mailauth/dkim_tags.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace postern::mailauth;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    if (auto tags = parse_tag_list(text)) {
        for (const auto& t : *tags)
            if (t.value_begin > t.value_end || t.value_end > text.size()) std::abort();
    }
    (void)parse_dkim_key(text);
    if (auto sig = parse_dkim_signature(text)) {
        if (sig->b_value_begin > sig->b_value_end || sig->b_value_end > text.size()) std::abort();
        if (sig->signed_headers.empty()) std::abort();  // h= must name From
        // The signed-data builder on a field holding this value.
        header_field field{"DKIM-Signature:" + std::string(text), 14};
        const std::string out = signed_header_data(dkim_canon::relaxed, {field}, sig->signed_headers, field,
                                                   sig->b_value_begin, sig->b_value_end);
        (void)out;
    }
    // The body canonicalizer: both algorithms, input split in two at a point the data chooses.
    for (auto canon : {dkim_canon::simple, dkim_canon::relaxed}) {
        body_canonicalizer body(canon);
        std::size_t octets = 0;
        const canon_sink sink = [&](std::string_view s) { octets += s.size(); };
        const std::size_t split = size > 0 ? data[0] % (size + 1) : 0;
        body.feed(text.substr(0, split), sink);
        body.feed(text.substr(split), sink);
        body.finish(sink);
        if (octets > 2 * size + 2) std::abort();  // a bare LF grows to CRLF at most
    }
    return 0;
}
