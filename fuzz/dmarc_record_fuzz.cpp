// SPDX-License-Identifier: MIT
// libFuzzer target over the DMARC record parser (RFC 7489 §6.3), the RFC5322.From domain parser
// (§6.6.1) and the Authentication-Results builder fed with what they return. Each input is used
// whole by every parser; the checks below are the invariants the callers rely on, and a broken
// one traps so that the fuzzer reports it. No main(): the fuzz CMake links libFuzzer's.
#include "mailauth/dmarc_record.hpp"
#include "mailauth/from_parse.hpp"
#include "message/authentication_results.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

void require(bool ok) {
    if (!ok) __builtin_trap();
}

// A CR or LF in the field may only be part of a fold (CRLF TAB) or the final CRLF.
void check_field(const std::string& field) {
    require(field.size() >= 2 && field.compare(field.size() - 2, 2, "\r\n") == 0);
    for (std::size_t i = 0; i + 2 < field.size(); ++i) {
        if (field[i] == '\n') require(i > 0 && field[i - 1] == '\r' && field[i + 1] == '\t');
        if (field[i] == '\r') require(field[i + 1] == '\n');
    }
}

void fuzz_record(std::string_view in) {
    const bool looks_dmarc = postern::mailauth::is_dmarc_record(in);
    const auto r = postern::mailauth::parse_dmarc_record(in);
    if (!r) return;
    require(looks_dmarc);
    require(r->pct <= 100);
    require(r->rua.size() <= postern::mailauth::max_report_uris);
    require(r->ruf.size() <= postern::mailauth::max_report_uris);
    require(r->warnings.size() <= postern::mailauth::max_warnings);
    require(!r->policy_from_rua || !r->rua.empty());
}

void fuzz_from(std::string_view in) {
    const auto d = postern::mailauth::from_domain(in);
    if (!d) return;
    require(!d->empty() && d->back() != '.');
    for (char c : *d) require(!(c >= 'A' && c <= 'Z'));
    postern::message::authentication_results_field f{std::string(in.substr(0, 64)), {}};
    f.results.push_back({"dmarc", "pass", std::string(in.substr(0, 40)), std::string(in.substr(0, 20)),
                         {{"header", "from", *d}}});
    const std::string field = postern::message::format_authentication_results(f);
    check_field(field);
    (void)postern::message::is_own_authentication_results(field.substr(23), f.authserv_id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    fuzz_record(in);
    fuzz_from(in);
    (void)postern::message::is_own_authentication_results(in, "mx.example.org");
    check_field(postern::message::format_authentication_results({"mx.example.org", {{"spf", "pass", "", "", {{"smtp", "mailfrom", std::string(in)}}}}}));
    return 0;
}
