// SPDX-License-Identifier: MIT
#pragma once
/// The inbox page's files (src/web/assets/), embedded at build time by cmake/embed_assets.cmake.
#include <string_view>

namespace postern::web {

struct asset {
    std::string_view name;          ///< the file name, e.g. "app.js"
    std::string_view content_type;  ///< from the extension
    std::string_view bytes;
};

/// The asset called `name`, or nullptr.
const asset* find_asset(std::string_view name);

}  // namespace postern::web
