// SPDX-License-Identifier: MIT
#pragma once
/// The bits of a request target the web server reads: the path, percent-decoded query values.
#include <optional>
#include <string>
#include <string_view>

namespace postern::web {

/// The target up to '?' (not decoded: routes compare it as sent).
std::string_view target_path(std::string_view target);

/// The value of query parameter `name` ('+' and %XX decoded), or nullopt when absent. A
/// malformed %-escape is kept as it is.
std::optional<std::string> query_param(std::string_view target, std::string_view name);

/// "%XX" and '+' decoded.
std::string percent_decode(std::string_view s, bool plus_is_space);

}  // namespace postern::web
