// SPDX-License-Identifier: MIT
#pragma once
/// `postern probe ADDRESS|DOMAIN [--server HOST:PORT] [--port N] [--dns ADDR:PORT] [--from A]
/// [--json] [--transcript]`. Exit status: 0 deliverable, 1 undeliverable, 3 unknown, 4 risky,
/// 2 usage error.

namespace CLI {
class App;
}

namespace postern::app {

void add_probe_command(CLI::App& app, int& exit_code);

}  // namespace postern::app
