// SPDX-License-Identifier: MIT
// libFuzzer target: SPF record parsing and macro expansion (RFC 7208 §4.5, §12, §7). The input
// is one TXT record text; when it parses, every domain-spec in it is expanded with a fixed
// context, for IPv4 and IPv6, and the whole input is also expanded as an explanation string.
// Nothing may crash, hang or grow without bound (expansions are capped at max_spf_expansion).
#include "mailauth/spf_record.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace postern::mailauth;

namespace {

void expand_all(const spf_record& r, const spf_macro_context& ctx) {
    for (const auto& m : r.mechanisms)
        if (!m.domain_spec.empty()) {
            auto d = expand_spf_macro(m.domain_spec, ctx, spf_macro_use::domain_spec);
            if (d && d->size() > 253) __builtin_trap();  // §7.3: cut to 253 octets
        }
    if (r.redirect) (void)expand_spf_macro(*r.redirect, ctx, spf_macro_use::domain_spec);
    if (r.exp) (void)expand_spf_macro(*r.exp, ctx, spf_macro_use::domain_spec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)select_spf_record({std::string(text), "v=spf1 -all"});
    spf_macro_context ctx{"strong-bad@email.example.com", "email.example.com", *parse_spf_ip("192.0.2.3"),
                          "mx.example.org", "mx.example.net", 1700000000, "mail.example.com"};
    (void)expand_spf_macro(text, ctx, spf_macro_use::explanation);
    (void)spf_macro_uses(text, 'p');
    (void)parse_spf_ip(text);
    auto r = parse_spf_record(text);
    if (!r) {
        (void)r.error().message();
        return 0;
    }
    expand_all(*r, ctx);
    ctx.ip = *parse_spf_ip("2001:db8::cb01");
    ctx.sender = "@x.example";
    expand_all(*r, ctx);
    return 0;
}
