// SPDX-License-Identifier: MIT
#pragma once
// Helpers shared by the auth tests: a temporary directory and a whole-file reader/writer.
#include "support/temp_dir.hpp"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace postern::auth::testing {

using test_support::temp_dir;
using test_support::read_file;

inline void write_file(const std::filesystem::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace postern::auth::testing
