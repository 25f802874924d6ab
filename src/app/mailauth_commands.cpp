// SPDX-License-Identifier: MIT
#include "app/mailauth_commands.hpp"

#include "app/client_common.hpp"
#include "mailauth/dkim_keys.hpp"
#include "mailauth/evaluate.hpp"

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

namespace postern::app {
namespace {

namespace asio = boost::asio;

struct check_flags {
    std::string file, ip, helo, mail_from, dns, receiver;
    double timeout = 20;
    bool json = false;
};

// The message through a dkim_verifier in chunks, as the server reads it (never whole in memory).
result<mailauth::dkim_message> read_message(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(std::error_code(errno ? errno : ENOENT, std::system_category()));
    mailauth::dkim_verifier v;
    char chunk[64 * 1024];
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) v.feed(std::span<const char>(chunk, static_cast<std::size_t>(in.gcount())));
    if (in.bad()) return fail(std::make_error_code(std::errc::io_error));
    return v.finish();
}

void print_text(const mailauth::auth_verdict& v) {
    std::printf("spf:      %s (%s)%s%s\n", std::string(to_string(v.spf.result)).c_str(), v.spf.domain.c_str(),
                v.spf.reason.empty() ? "" : ": ", v.spf.reason.c_str());
    std::printf("helo spf: %s (%s)\n", std::string(to_string(v.helo_spf.result)).c_str(), v.helo_spf.domain.c_str());
    if (v.dkim.empty()) std::printf("dkim:     none (no signature)\n");
    for (const auto& d : v.dkim)
        std::printf("dkim:     %s (d=%s s=%s)%s%s\n", std::string(to_string(d.result)).c_str(), d.domain.c_str(),
                    d.selector.c_str(), d.reason.empty() ? "" : ": ", d.reason.c_str());
    std::printf("dmarc:    %s (policy %s, From domain %s)%s%s\n", std::string(to_string(v.dmarc.result)).c_str(),
                std::string(to_string(v.dmarc.policy)).c_str(), v.dmarc.from_domain.c_str(),
                v.dmarc.reason.empty() ? "" : ": ", v.dmarc.reason.c_str());
    std::printf("aligned:  %s\n%s\n", v.aligned ? "yes" : "no", v.summary.c_str());
}

int run_check(const check_flags& f) {
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(f.ip, ec);
    if (ec) return usage_error("auth check", "--ip: not an IP address: " + f.ip);
    auto message = read_message(f.file);
    if (!message) {
        std::fprintf(stderr, "postern auth check: %s: %s\n", f.file.c_str(), message.error().message().c_str());
        return 1;
    }
    std::optional<client_runtime> rt;
    try {
        rt.emplace(f.dns, f.timeout);
    } catch (const std::exception& e) {
        return usage_error("auth check", e.what());
    }
    mailauth::evaluate_request req{ip, f.helo, f.mail_from, f.receiver.empty() ? system_host_name() : f.receiver,
                                   std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch()).count(),
                                   0};
    mailauth::auth_verdict verdict;
    auto limit = std::chrono::milliseconds(static_cast<long long>(f.timeout * 1000));
    rt->run([](dns::resolver& r, mailauth::evaluate_request q, mailauth::dkim_message m, std::chrono::milliseconds l,
               mailauth::auth_verdict& out) -> asio::awaitable<void> {
        auto task = mailauth::timed_evaluate(r, std::move(q), std::move(m), l);
        out = co_await std::move(task);
    }(rt->resolver(), std::move(req), std::move(*message), limit, verdict));
    if (f.json) std::printf("%s\n", mailauth::to_json(verdict).dump(2).c_str());
    else print_text(verdict);
    return 0;
}

struct keygen_flags {
    std::string domain, selector, out, algorithm = "rsa";
    unsigned bits = 2048;
    bool json = false;
};

// O_EXCL: a key already there is somebody's published key; never replace it. Half a key is no
// key: on any failure the file is removed again.
result<void> write_private(const std::string& path, const std::string& pem) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fail(std::error_code(errno, std::system_category()));
    std::error_code ec;
    for (std::size_t done = 0; !ec && done < pem.size();) {
        ssize_t n = ::write(fd, pem.data() + done, pem.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) ec = std::error_code(errno, std::system_category());
        else done += static_cast<std::size_t>(n);
    }
    if (!ec && ::fsync(fd) != 0) ec = std::error_code(errno, std::system_category());
    if (::close(fd) != 0 && !ec) ec = std::error_code(errno, std::system_category());
    if (ec) {
        ::unlink(path.c_str());
        return fail(ec);
    }
    return {};
}

// RFC 1035 §3.3: a character-string holds at most 255 octets; a 2048-bit RSA record is longer, so
// it is written as several quoted strings, which DNS joins with nothing between (RFC 6376 §3.6.2.2).
std::string zone_text(std::string_view record) {
    std::string out;
    for (std::size_t i = 0; i < record.size(); i += 255) {
        if (i) out += ' ';
        out += '"';
        out += record.substr(i, 255);
        out += '"';
    }
    return out;
}

int run_keygen(const keygen_flags& f) {
    auto domain = a_label(f.domain);
    if (!domain) return usage_error("dkim keygen", "--domain: not a domain name: " + f.domain);
    if (f.selector.empty() || !valid_helo_name(f.selector)) return usage_error("dkim keygen", "--selector: not a DNS label: " + f.selector);
    mailauth::dkim_key_algorithm alg;
    if (f.algorithm == "rsa") alg = mailauth::dkim_key_algorithm::rsa;
    else if (f.algorithm == "ed25519") alg = mailauth::dkim_key_algorithm::ed25519;
    else return usage_error("dkim keygen", "--algorithm: rsa or ed25519");
    if (alg == mailauth::dkim_key_algorithm::rsa && (f.bits < 1024 || f.bits > 8192))
        return usage_error("dkim keygen", "--bits: 1024 to 8192 (RFC 8301: 2048 recommended)");
    auto key = mailauth::generate_key(alg, f.bits);
    if (!key) {
        std::fprintf(stderr, "postern dkim keygen: %s\n", key.error().message().c_str());
        return 1;
    }
    if (auto w = write_private(f.out, key->private_pem); !w) {
        std::fprintf(stderr, "postern dkim keygen: %s: %s\n", f.out.c_str(), w.error().message().c_str());
        return 1;
    }
    const auto name = mailauth::record_name(f.selector, *domain);
    if (f.json)
        std::printf("%s\n", nlohmann::json{{"name", name}, {"type", "TXT"}, {"record", key->dns_record}, {"key_file", f.out}}.dump(2).c_str());
    else
        std::printf("%s. IN TXT %s\n", name.c_str(), zone_text(key->dns_record).c_str());
    return 0;
}

}  // namespace

void add_auth_command(CLI::App& app, int& exit_code) {
    auto* auth = app.add_subcommand("auth", "Mail authentication: SPF, DKIM and DMARC");
    auth->require_subcommand(1);
    auto f = std::make_shared<check_flags>();
    auto* c = auth->add_subcommand("check", "SPF, DKIM and DMARC of a message file, with the alignment verdict");
    c->add_option("file", f->file, "The message (.eml, as received: CRLF or LF lines)")->required();
    c->add_option("--ip", f->ip, "The SMTP client's IP address")->required();
    c->add_option("--helo", f->helo, "The EHLO/HELO name it gave")->required();
    c->add_option("--mail-from", f->mail_from, "The envelope sender (MAIL FROM), '' for <>")->required();
    c->add_option("--dns", f->dns, "DNS server ADDR:PORT (default: /etc/resolv.conf)");
    c->add_option("--receiver", f->receiver, "This host's name, for SPF's %{r} (default: the system's)");
    c->add_option("--timeout", f->timeout, "Seconds for all look-ups together (default 20)");
    c->add_flag("--json", f->json, "One JSON object: spf, helo_spf, dkim, dmarc, aligned, summary");
    c->callback([f, &exit_code] { exit_code = run_check(*f); });
}

void add_dkim_command(CLI::App& app, int& exit_code) {
    auto* dkim = app.add_subcommand("dkim", "DKIM keys");
    dkim->require_subcommand(1);
    auto f = std::make_shared<keygen_flags>();
    auto* k = dkim->add_subcommand("keygen", "Make a signing key and print its DNS TXT record");
    k->add_option("--domain", f->domain, "The signing domain (d=)")->required();
    k->add_option("--selector", f->selector, "The selector (s=)")->required();
    k->add_option("--out", f->out, "Where to write the private key (PEM; never replaces a file)")->required();
    k->add_option("--algorithm", f->algorithm, "rsa (default) or ed25519");
    k->add_option("--bits", f->bits, "RSA key size (default 2048)");
    k->add_flag("--json", f->json, "One JSON object: name, type, record, key_file");
    k->callback([f, &exit_code] { exit_code = run_keygen(*f); });
}

}  // namespace postern::app
