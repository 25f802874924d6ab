// SPDX-License-Identifier: MIT
// postern send: build a MIME message (or take an .eml as it is) and deliver it, to one
// --server or straight to each recipient domain's MX hosts. See docs/client.md.
#include "app/client_common.hpp"
#include "app/send_command.hpp"
#include "app/send_dkim.hpp"
#include "auth/sasl_client.hpp"
#include "client/smtp_client.hpp"
#include "message/mime_build.hpp"
#include "proto/reply_parser.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>

namespace postern::app {
namespace {

struct send_flags {
    std::string from, subject, text, html, eml, server, dns, tls = "starttls", user, ca, helo, auth_method;
    std::string notify, ret, envid;  // DSN (RFC 3461), sent where the server offers DSN
    std::vector<std::string> to, cc, bcc, attach, headers;
    send_dkim_flags dkim;
    std::uint16_t port = 25;
    double timeout = 60;
    bool password_stdin = false, insecure = false, json = false, transcript = false;
};

// One recipient's outcome.
struct rcpt_result {
    std::string address;
    std::string status = "failed";  // sent, refused, deferred, failed
    std::string server;
    std::optional<proto::reply> reply;
    std::string error;
};

message::mail_address parse_mail_address(const std::string& text) {
    const auto lt = text.rfind('<');
    if (lt == std::string::npos || text.back() != '>') return {{}, text};
    std::string name = text.substr(0, lt);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
    return {name, text.substr(lt + 1, text.size() - lt - 2)};
}

result<std::string> read_whole(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(std::error_code(errno ? errno : ENOENT, std::system_category()));
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string base_name(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The message to send: built from the flags, or the .eml file as it is.
struct outgoing {
    std::string data;  // empty with --eml: streamed from the file
    std::string dkim_field;  // with --eml and --dkim-*: the DKIM-Signature sent before the file
    std::string message_id;
    std::vector<std::string> recipients;
    std::uint64_t size = 0;
    bool smtputf8 = false, eight_bit = false;
};

bool non_ascii(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// --eml: streamed, never held whole: one pass now for the SIZE estimate, the 8-bit check
// (bare LFs counted as the CRLFs they become) and the DKIM signer (fed exactly the bytes that
// will be sent), the file again when sending.
result<void> measure_eml(const std::string& path, outgoing& out, mailauth::dkim_signer* signer, std::string& error) {
    auto file = client::file_body::open(path);
    if (!file) {
        error = "cannot read " + path + ": " + file.error().message();
        return fail(file.error());
    }
    client::crlf_body body(std::move(*file));
    std::array<char, 64 * 1024> chunk;
    for (;;) {
        auto n = body.read(std::span<char>(chunk.data(), chunk.size()));
        if (!n) {
            error = "cannot read " + path + ": " + n.error().message();
            return fail(n.error());
        }
        if (*n == 0) return {};
        if (signer) signer->feed(std::span<const char>(chunk.data(), *n));
        out.size += *n;
        out.eight_bit = out.eight_bit || non_ascii(std::string_view(chunk.data(), *n));
    }
}

// The body, attachments and extra headers of the flags into `spec`, then the built message.
result<void> build_from_flags(const send_flags& f, message::message_spec& spec, outgoing& out, std::string& error) {
    spec.subject = f.subject;
    if (!f.text.empty() || f.html.empty()) spec.text = f.text;
    if (!f.html.empty()) spec.html = f.html;
    for (const auto& path : f.attach) {
        auto bytes = read_whole(path);
        if (!bytes) {
            error = "cannot read " + path + ": " + bytes.error().message();
            return fail(bytes.error());
        }
        spec.attachments.push_back({base_name(path), {}, std::move(*bytes)});
    }
    for (const auto& h : f.headers) {
        const auto colon = h.find(':');
        if (colon == std::string::npos) {
            error = "--header needs \"Name: value\", not \"" + h + "\"";
            return fail(std::errc::invalid_argument);
        }
        std::string value = h.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        spec.headers.push_back({h.substr(0, colon), value});
    }
    spec.date = std::chrono::system_clock::now();
    spec.host_name = system_host_name();
    std::mt19937_64 rng(std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32));
    auto built = message::build_message(spec, [&rng] { return rng(); });
    if (!built) {
        error = "cannot build the message: " + built.error().message();
        return fail(built.error());
    }
    out.data = std::move(built->data);
    out.message_id = built->message_id;
    out.recipients = std::move(built->envelope_recipients);
    out.smtputf8 = built->smtputf8;
    out.eight_bit = built->eight_bit;
    out.size = out.data.size();
    return {};
}

// RFC 6376 §5.6: the DKIM-Signature field goes in front of the message as it is sent.
result<void> add_signature(const mailauth::dkim_signer_config& config, mailauth::dkim_signer* signer, outgoing& out,
                           std::string& error) {
    auto field = signer ? finish_field(*signer, unix_now()) : sign_whole(config, out.data, unix_now());
    if (!field) {
        error = "cannot DKIM-sign the message: " + field.error().message();
        return fail(field.error());
    }
    out.size += field->size();
    if (signer) out.dkim_field = std::move(*field);
    else out.data.insert(0, *field);
    return {};
}

result<outgoing> prepare(const send_flags& f, std::string& error) {
    message::message_spec spec;
    spec.from = parse_mail_address(f.from);
    for (const auto& a : f.to) spec.to.push_back(parse_mail_address(a));
    for (const auto& a : f.cc) spec.cc.push_back(parse_mail_address(a));
    for (const auto& a : f.bcc) spec.bcc.push_back(parse_mail_address(a));
    outgoing out;
    std::optional<mailauth::dkim_signer_config> dkim;
    if (f.dkim.any()) {
        auto c = load_dkim_config(f.dkim, error);
        if (!c) return fail(c.error());
        dkim = std::move(*c);
    }
    std::optional<mailauth::dkim_signer> signer;
    if (dkim && !f.eml.empty()) signer.emplace(*dkim);
    if (!f.eml.empty()) {
        if (auto r = measure_eml(f.eml, out, signer ? &*signer : nullptr, error); !r) return fail(r.error());
        out.recipients = message::envelope_recipients(spec);
    } else if (auto r = build_from_flags(f, spec, out, error); !r) {
        return fail(r.error());
    }
    if (dkim)
        if (auto r = add_signature(*dkim, signer ? &*signer : nullptr, out, error); !r) return fail(r.error());
    out.smtputf8 = out.smtputf8 || non_ascii(spec.from.address) ||
                   std::any_of(out.recipients.begin(), out.recipients.end(), [](const std::string& r) { return non_ascii(r); });
    return out;
}

proto::client_tls tls_mode(const std::string& s) {
    if (s == "none") return proto::client_tls::none;
    if (s == "implicit") return proto::client_tls::implicit;
    if (s == "required") return proto::client_tls::required;
    return proto::client_tls::opportunistic;
}

struct delivery {
    const send_flags* flags;
    const outgoing* msg;
    std::string password;
    std::vector<std::string> transcript;
    proto::rcpt_params rcpt_params;  // NOTIFY for every recipient
};

// What happened to recipient i of the transaction: the first refusal that applies to it (MAIL,
// its RCPT, the data), else the reply to the data.
void classify(rcpt_result& r, const proto::transaction_result& tx, std::size_t i, const std::string& where,
              const std::string& failure_text) {
    r.server = where;
    if (tx.refused) {
        r.error = tx.refused_why;
        return;
    }
    const std::optional<proto::reply> rcpt = i < tx.rcpts.size() ? tx.rcpts[i] : std::nullopt;
    if (tx.mail && !tx.mail->completed()) r.reply = tx.mail;
    else if (rcpt && !rcpt->completed()) r.reply = rcpt;
    else if (rcpt) r.reply = tx.data;
    if (!r.reply) {
        r.error = failure_text.empty() ? "no reply from the server" : failure_text;
        return;
    }
    r.status = r.reply->completed() ? "sent" : r.reply->transient() ? "deferred" : "refused";
}

// One session to one target for `rcpts`; fills `results` from the server's replies. Returns
// false when the next target should be tried (no connection, or a temporary refusal of all).
boost::asio::awaitable<bool> try_target(delivery* d, client::probe_target t, std::vector<rcpt_result*> results) {
    const auto& f = *d->flags;
    proto::client_config cfg;
    cfg.helo_name = f.helo.empty() ? system_host_name() : f.helo;
    cfg.tls = tls_mode(f.tls);
    // A password goes only inside TLS unless the user said --tls none (then only SCRAM or CRAM-MD5).
    if (!f.user.empty() && cfg.tls == proto::client_tls::opportunistic) cfg.tls = proto::client_tls::required;
    proto::outgoing_message m;
    m.reverse_path = parse_mail_address(f.from).address;
    m.params.size = d->msg->size;
    m.params.smtputf8 = d->msg->smtputf8;
    if (d->msg->eight_bit) m.params.body = proto::body_type::eight_bit_mime;
    for (auto* r : results) m.recipients.push_back({r->address, d->rcpt_params});
    m.params.ret = f.ret == "FULL" ? proto::dsn_ret::full : f.ret == "HDRS" ? proto::dsn_ret::hdrs : proto::dsn_ret::unspecified;
    if (!f.envid.empty()) m.params.envid = f.envid;
    client::session_options o;
    o.tls.verify = !f.insecure;
    if (!f.ca.empty()) o.tls.ca_file = f.ca;
    o.tls.server_name = t.host;
    o.connect_timeout = std::chrono::milliseconds(static_cast<long long>(f.timeout * 1000));
    std::unique_ptr<proto::client_session> session;
    client::connect_report rep;
    for (const auto& addr : t.addresses) {  // a fresh session per address: a failed one stays failed
        session = f.user.empty() ? std::make_unique<proto::client_session>(cfg)
                                 : std::make_unique<proto::client_session>(
                                       cfg, auth::choose_client_mechanism(f.user, d->password, f.auth_method));
        session->set_tracer([d](bool in, std::string_view l) { d->transcript.push_back((in ? "<-  " : " -> ") + std::string(l)); });
        session->add(m);
        std::unique_ptr<client::body_source> body;
        if (!f.eml.empty()) {
            auto fb = client::file_body::open(f.eml);
            if (!fb) {  // gone since it was measured (and signed): send nothing rather than an empty message
                for (auto* r : results) r->error = "cannot read " + f.eml + ": " + fb.error().message();
                co_return true;
            }
            body = std::make_unique<client::crlf_body>(std::move(*fb));
            if (!d->msg->dkim_field.empty()) body = std::make_unique<prefixed_body>(d->msg->dkim_field, std::move(body));
        } else {
            body = std::make_unique<client::memory_body>(d->msg->data);
        }
        d->transcript.push_back("=== Trying " + t.host + " [" + addr.to_string() + "]:" + std::to_string(t.port));
        const boost::asio::ip::tcp::endpoint to(addr, t.port);
        std::vector<client::body_source*> bodies{body.get()};
        auto task = client::run_session(to, o, session.get(), std::move(bodies));  // see docs/coroutines.md
        rep = co_await std::move(task);
        if (rep.connected) break;
    }
    const std::string where = t.host + ":" + std::to_string(t.port);
    if (!session || !rep.connected) {
        const std::string why = rep.error.empty() ? (t.dns_error.empty() ? "no address" : t.dns_error) : rep.error;
        for (auto* r : results) r->error = where + ": " + why;
        co_return false;  // the next MX host
    }
    const auto& res = session->result();
    if (res.transactions.empty()) {
        // Refused before MAIL (a 421 or 4xx greeting, a timeout, TLS, AUTH): the next MX may do
        // better, except for our own problems (AUTH, a certificate we do not trust).
        std::string why = res.failure_text.empty() ? "the session ended before MAIL" : res.failure_text;
        if (why.starts_with("certificate not trusted")) why += " (--ca FILE trusts it; --insecure skips the check)";
        for (auto* r : results) r->error = where + ": " + why;
        const bool ours = res.failure == proto::client_failure::auth || res.failure == proto::client_failure::tls;
        co_return ours;
    }
    const auto& tx = res.transactions.front();
    bool any_temporary = false;
    for (std::size_t i = 0; i < results.size(); ++i) {
        classify(*results[i], tx, i, where, res.failure_text);
        any_temporary = any_temporary || results[i]->status == "deferred";
    }
    co_return !any_temporary;  // RFC 5321 §5.1: a 4xx may be worth the next MX
}

boost::asio::awaitable<void> send_main(dns::resolver* resolver, delivery* d, std::vector<rcpt_result>* results) {
    const auto& f = *d->flags;
    if (!f.server.empty()) {
        auto lookup = server_target(*resolver, f.server);
        auto targets = co_await std::move(lookup);
        std::vector<rcpt_result*> all;
        for (auto& r : *results) all.push_back(&r);
        if (targets.decided) {
            for (auto* r : all) r->error = targets.reason;
            co_return;
        }
        auto task = try_target(d, targets.list.front(), all);
        co_await std::move(task);
        co_return;
    }
    std::map<std::string, std::vector<rcpt_result*>> by_domain;  // straight to each domain's MX
    for (auto& r : *results) {
        const auto at = r.address.rfind('@');
        by_domain[at == std::string::npos ? std::string{} : r.address.substr(at + 1)].push_back(&r);
    }
    for (auto& [domain, rcpts] : by_domain) {
        auto lookup = mx_targets(*resolver, domain, f.port);
        auto targets = co_await std::move(lookup);
        if (targets.decided) {
            for (auto* r : rcpts) {
                r->error = domain + ": " + targets.reason;
                r->status = targets.verdict == client::verdict::undeliverable ? "refused" : "failed";
            }
            continue;
        }
        for (const auto& t : targets.list) {
            auto task = try_target(d, t, rcpts);
            if (co_await std::move(task)) break;
        }
    }
}

nlohmann::json results_json(const outgoing& msg, const std::vector<rcpt_result>& results, bool ok) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : results) {
        nlohmann::json reply = nullptr;
        if (r.reply)
            reply = {{"code", r.reply->code}, {"enhanced", r.reply->esc ? nlohmann::json(r.reply->esc->to_string()) : nlohmann::json(nullptr)},
                     {"text", proto::reply_text(*r.reply)}};
        list.push_back({{"address", r.address}, {"status", r.status}, {"server", r.server}, {"reply", reply},
                        {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)}});
    }
    return {{"ok", ok}, {"message_id", msg.message_id}, {"size", msg.size}, {"recipients", list}};
}

int run_send(const send_flags& f) {
    if (f.from.empty()) return usage_error("send", "--from is required");
    if (f.to.empty() && f.cc.empty() && f.bcc.empty()) return usage_error("send", "at least one --to, --cc or --bcc is required");
    if (f.tls != "none" && f.tls != "starttls" && f.tls != "implicit" && f.tls != "required")
        return usage_error("send", "--tls must be none, starttls, required or implicit");
    if (!f.user.empty() && !f.password_stdin) return usage_error("send", "--user needs --password-stdin");
    if (!f.helo.empty() && !valid_helo_name(f.helo)) return usage_error("send", "--helo must be a domain or an address literal");
    if (auto e = check_dkim_flags(f.dkim); !e.empty()) return usage_error("send", e);
    delivery d{&f, nullptr, {}, {}, {}};
    if (!f.notify.empty()) {
        proto::dsn_notify n;
        for (std::size_t pos = 0; pos <= f.notify.size();) {
            const auto comma = std::min(f.notify.find(',', pos), f.notify.size());
            const std::string word = f.notify.substr(pos, comma - pos);
            if (word == "NEVER") n.never = true;
            else if (word == "SUCCESS") n.success = true;
            else if (word == "FAILURE") n.failure = true;
            else if (word == "DELAY") n.delay = true;
            else return usage_error("send", "--notify takes NEVER or SUCCESS,FAILURE,DELAY (RFC 3461 §4.1)");
            pos = comma + 1;
        }
        if (n.never && (n.success || n.failure || n.delay)) return usage_error("send", "--notify NEVER stands alone");
        d.rcpt_params.notify = n;
    }
    if (!f.ret.empty() && f.ret != "FULL" && f.ret != "HDRS") return usage_error("send", "--ret takes FULL or HDRS");
    if (!f.envid.empty() && !proto::is_xtext(f.envid)) return usage_error("send", "--envid must be xtext (RFC 3461 §4)");
    if (f.password_stdin) {
        std::getline(std::cin, d.password);
        if (!d.password.empty() && d.password.back() == '\r') d.password.pop_back();
    }
    if (f.insecure) std::fprintf(stderr, "postern send: warning: --insecure: the server's certificate is not checked\n");
    std::string error;
    auto msg = prepare(f, error);
    if (!msg) return usage_error("send", error);
    d.msg = &*msg;
    std::vector<rcpt_result> results;
    for (const auto& r : msg->recipients) results.push_back(rcpt_result{r, "failed", {}, std::nullopt, {}});
    std::unique_ptr<client_runtime> rt;
    try {
        rt = std::make_unique<client_runtime>(f.dns, f.timeout);
    } catch (const std::exception& e) {
        return usage_error("send", e.what());
    }
    rt->run(send_main(&rt->resolver(), &d, &results));
    const bool ok = std::all_of(results.begin(), results.end(), [](const rcpt_result& r) { return r.status == "sent"; });
    if (f.transcript)
        for (const auto& l : d.transcript) std::fprintf(f.json ? stderr : stdout, "%s\n", l.c_str());
    if (f.json) {
        std::printf("%s\n", results_json(*msg, results, ok).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
        for (const auto& r : results)
            std::printf("%-8s %s%s%s\n", r.status.c_str(), r.address.c_str(),
                        r.reply ? ("  " + r.server + "  " + proto::reply_text(*r.reply)).c_str() : "",
                        r.error.empty() ? "" : ("  " + r.error).c_str());
    }
    return ok ? 0 : 1;
}

}  // namespace

void add_send_command(CLI::App& app, int& exit_code) {
    auto f = std::make_shared<send_flags>();
    auto* s = app.add_subcommand("send", "Build a MIME message (or take an .eml) and send it to a server or to the recipients' MX");
    s->add_option("--from", f->from, "Sender: address or \"Name <address>\" (also the envelope sender)");
    s->add_option("--to", f->to, "Recipient (repeatable)");
    s->add_option("--cc", f->cc, "Copy recipient (repeatable)");
    s->add_option("--bcc", f->bcc, "Blind copy recipient: envelope only (repeatable)");
    s->add_option("--subject", f->subject, "Subject (UTF-8 becomes RFC 2047 encoded words)");
    s->add_option("--text", f->text, "Plain-text body");
    s->add_option("--html", f->html, "HTML body (with --text: multipart/alternative)");
    s->add_option("--attach", f->attach, "Attach a file (repeatable)");
    s->add_option("--header", f->headers, "Extra header \"Name: value\" (repeatable)");
    s->add_option("--eml", f->eml, "Send this message file as it is (recipients from --to/--cc/--bcc)");
    s->add_option("--server", f->server, "Send through HOST:PORT instead of the recipients' MX hosts");
    s->add_option("--port", f->port, "Port for MX hosts (default 25)");
    s->add_option("--dns", f->dns, "DNS server ADDR:PORT (default: /etc/resolv.conf)");
    s->add_option("--tls", f->tls, "none, starttls (when offered; default), required (STARTTLS or fail), implicit (RFC 8314)");
    s->add_option("--user", f->user, "AUTH user name");
    s->add_flag("--password-stdin", f->password_stdin, "Read the AUTH password from the first line of standard input");
    s->add_option("--auth-method", f->auth_method, "PLAIN, LOGIN, CRAM-MD5 or SCRAM-SHA-256 (default: chosen from the server's list)");
    s->add_option("--notify", f->notify, "DSN: NEVER, or SUCCESS,FAILURE,DELAY (RFC 3461; where the server offers DSN)");
    s->add_option("--ret", f->ret, "DSN: FULL or HDRS, what a bounce returns");
    s->add_option("--envid", f->envid, "DSN: an envelope id (xtext)");
    s->add_option("--ca", f->ca, "Trust this CA or certificate (PEM) besides the system store");
    s->add_flag("--insecure", f->insecure, "Do not check the server's certificate");
    s->add_option("--dkim-key", f->dkim.key_file, "DKIM-sign the message with this private key (PEM; RSA or Ed25519)");
    s->add_option("--dkim-selector", f->dkim.selector, "DKIM selector (s=), with --dkim-key");
    s->add_option("--dkim-domain", f->dkim.domain, "DKIM signing domain (d=), with --dkim-key");
    s->add_option("--helo", f->helo, "EHLO name (default: this host's name)");
    s->add_option("--timeout", f->timeout, "Seconds to connect (default 60); replies wait as RFC 5321 says");
    s->add_flag("--transcript", f->transcript, "Show the SMTP dialogue (AUTH masked)");
    s->add_flag("--json", f->json, "One JSON object: ok, message_id, size, recipients[]");
    s->callback([f, &exit_code] { exit_code = run_send(*f); });
}

}  // namespace postern::app
