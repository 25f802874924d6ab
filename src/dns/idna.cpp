// SPDX-License-Identifier: MIT
#include "dns/idna.hpp"

#include "dns/types.hpp"

#include <idn2.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace postern::dns {
namespace {

constexpr std::size_t max_label = 63;   // RFC 1035 §2.3.4
constexpr std::size_t max_name = 253;   // 255 octets on the wire, less the first length and the root

bool is_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Labels of 1..63 allowed octets; no empty label ("a..b", ".a").
bool well_formed(std::string_view name) {
    if (name.empty() || name.size() > max_name) return false;
    std::size_t label = 0;
    for (char c : name) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
        } else if (!name_char(c) || ++label > max_label) {
            return false;
        }
    }
    return label > 0;
}

}  // namespace

result<std::string> to_a_label(std::string_view utf8) {
    std::string out;
    if (is_ascii(utf8)) {
        out.assign(utf8);
        std::transform(out.begin(), out.end(), out.begin(),
                       [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
    } else {
        // idn2 wants a NUL-terminated string: an embedded NUL would cut the name short silently.
        if (utf8.find('\0') != std::string_view::npos) return fail(status::bad_name);
        const std::string input(utf8);
        char* converted = nullptr;
        const int rc = idn2_to_ascii_8z(input.c_str(), &converted, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
        const std::unique_ptr<char, decltype(&std::free)> owner(converted, &std::free);
        if (rc != IDN2_OK || converted == nullptr) return fail(status::bad_name);
        out = converted;  // already lower-case: the UTS #46 mapping folds case
    }
    if (!out.empty() && out.back() == '.') out.pop_back();
    if (!well_formed(out)) return fail(status::bad_name);
    return out;
}

}  // namespace postern::dns
