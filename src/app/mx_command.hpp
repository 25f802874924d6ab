// SPDX-License-Identifier: MIT
#pragma once
/// `postern mx DOMAIN [--dns ADDR:PORT[,ADDR:PORT...]] [--json] [--timeout SECONDS]`: where mail
/// for DOMAIN goes (RFC 5321 §5.1): the MX hosts by preference (equal preferences shuffled),
/// each with its IPv4 then IPv6 addresses; the implicit MX when there is no MX; "accepts no
/// mail" for a null MX (RFC 7505). The domain is shown as an A-label.
///
/// Human output on standard output:
///   example.org: 2 MX
///     10 mx1.example.org  192.0.2.1, 2001:db8::1
///     20 mx2.example.org  (no address: no such domain (NXDOMAIN))
/// `--json`: {"domain": "example.org", "null_mx": false, "implicit": false, "mx": [{"preference":
/// 10, "host": "mx1.example.org", "addresses": ["192.0.2.1", "2001:db8::1"]}, ...]}, plus
/// "error" (nxdomain, null_mx, no_records, no_address, servfail, refused, timeout, error) when
/// no server was found, and "error" on a host entry that has no address.
/// Exit status: 0 a mail server with an address was found; 1 none (NXDOMAIN, null MX, no MX and
/// no address, no MX host with an address); 3 a DNS error (timeout, SERVFAIL, REFUSED, no
/// server reachable) kept us from knowing; 2 usage (bad flag, DOMAIN not a domain name).
/// `--dns` replaces the servers of /etc/resolv.conf; `--timeout` (default 10) bounds the whole
/// lookup, MX and addresses together.

namespace CLI {
class App;
}

namespace postern::app {

/// Registers the `mx` subcommand on `app`; when it runs (during app.parse()), its exit status
/// is stored in `exit_code`, which must outlive the parse.
void add_mx_command(CLI::App& app, int& exit_code);

}  // namespace postern::app
