// SPDX-License-Identifier: MIT
#pragma once
#include "app/config.hpp"

namespace postern::app {

/// Runs the server until SIGTERM/SIGINT; returns the process exit status.
int serve(const app_config& cfg);

}  // namespace postern::app
