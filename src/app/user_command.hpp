// SPDX-License-Identifier: MIT
#pragma once
/// `postern user add|passwd|del|list`: manage <data>/users (auth::user_db).
///   postern user add NAME [--data DIR]       password from standard input (first line), or
///   postern user passwd NAME [--data DIR]    prompted twice without echo when stdin is a terminal
///   postern user del NAME [--data DIR]
///   postern user list [--data DIR] [--json]  one name per line, or [{"name": "..."}, ...]
/// Exit status: 0 done; 1 failed (user exists, no such user, I/O error); 2 usage (bad user name,
/// empty password, the two typed passwords differ). A failure prints one line on standard error.
/// A server running on the same data folder sees the change at its next AUTH.

namespace CLI {
class App;
}

namespace postern::app {

/// Registers the `user` subcommand on `app`. When one of its subcommands runs (during
/// app.parse()), its exit status is stored in `exit_code`, which must outlive the parse.
void add_user_command(CLI::App& app, int& exit_code);

}  // namespace postern::app
