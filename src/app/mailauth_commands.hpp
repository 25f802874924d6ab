// SPDX-License-Identifier: MIT
#pragma once
/// `postern auth check FILE.eml --ip IP --helo NAME --mail-from ADDR [--dns ADDR:PORT] [--json]`:
/// SPF (MAIL FROM and HELO), DKIM and DMARC for a message, offline, with the verdict the server
/// would store. Exit status: 0 checked (whatever the results), 1 the file cannot be read, 2 usage.
///
/// `postern dkim keygen --domain D --selector S --out FILE [--algorithm rsa|ed25519] [--bits N]`:
/// writes a new private key (PEM, mode 0600, never over an existing file) and prints the TXT
/// record to publish at S._domainkey.D. Exit status: 0 written, 1 failed, 2 usage.

namespace CLI {
class App;
}

namespace postern::app {

void add_auth_command(CLI::App& app, int& exit_code);
void add_dkim_command(CLI::App& app, int& exit_code);

}  // namespace postern::app
