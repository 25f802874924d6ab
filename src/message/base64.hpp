// SPDX-License-Identifier: MIT
#pragma once
/// Base64 (RFC 4648 §4) as SMTP AUTH uses it (RFC 4954 §4): no line breaks, padding required.
#include <optional>
#include <string>
#include <string_view>

namespace postern::message {

std::string base64_encode(std::string_view raw);
/// Strict decoding: only the base64 alphabet, length a multiple of 4, '=' only as final padding
/// and with zero bits after the last symbol. nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace postern::message
