// SPDX-License-Identifier: MIT
#pragma once
/// `postern send --from A --to B [--cc] [--bcc] [--subject] [--text] [--html] [--attach F]
/// [--header "N: v"] | --eml FILE, [--server HOST:PORT | --port N] [--dns ADDR:PORT]
/// [--tls none|starttls|required|implicit] [--user U --password-stdin] [--ca FILE] [--insecure]
/// [--transcript] [--json]`. Exit status: 0 every recipient accepted, 1 any refused or failed,
/// 2 usage error.

namespace CLI {
class App;
}

namespace postern::app {

void add_send_command(CLI::App& app, int& exit_code);

}  // namespace postern::app
