// SPDX-License-Identifier: MIT
#pragma once
/// Domain names to the form the DNS holds: A-labels (RFC 5890), lower-case, no trailing dot.
#include "base/expected.hpp"

#include <string>
#include <string_view>

namespace postern::dns {

/// "Bücher.Example." -> "xn--bcher-kva.example"; "EXAMPLE.ORG" -> "example.org".
/// A name with a non-ASCII byte goes through libidn2: UTF-8 in, NFC, IDNA2008 with UTS #46
/// non-transitional mapping ("faß.de" stays "xn--fa-hia.de", as in browsers since 2017, rather
/// than becoming "fass.de"). An ASCII name is only lower-cased: the DNS holds names that IDNA
/// would refuse ("_25._tcp" for TLSA, "_domainkey" for DKIM, the odd leading hyphen), and
/// refusing to look them up would help nobody.
/// Then one trailing dot is removed and the result must be a host-like name: labels of 1..63
/// octets of letters, digits, '-' and '_', 253 octets in all.
/// Error: status::bad_name (in dns_category()).
result<std::string> to_a_label(std::string_view utf8);

}  // namespace postern::dns
