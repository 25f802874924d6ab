// SPDX-License-Identifier: MIT
#pragma once
/// `postern reindex [--data DIR] [--json]`: rebuilds DATA/index.sqlite from the Maildir under
/// DATA/mail (the Maildir is the source of truth; read flags already in the index are kept).
/// Exit status: 0 done, 1 the index could not be opened or written, 2 usage error.

namespace CLI {
class App;
}

namespace postern::app {

void add_reindex_command(CLI::App& app, int& exit_code);

}  // namespace postern::app
