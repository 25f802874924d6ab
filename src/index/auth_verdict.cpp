// SPDX-License-Identifier: MIT
// The SPF/DKIM/DMARC verdict in the index: badges from the verdict JSON, and the verdict read back
// from the Authentication-Results field (RFC 8601) the store wrote, for rebuild().
//
// Theory of operation: a message the server checked carries our Authentication-Results field
// right after Return-Path (both written by the store; a field the sender wrote comes after our
// Received). rebuild() has nothing else to go on, so the field is split into its resinfos
// (RFC 8601 §2.2: "; method=result (comment) reason=... ptype.property=value ..."), the words
// are mapped back onto mailauth::to_json's shape, and describe() takes the badges from that JSON
// exactly as it does for a verdict handed over on arrival: one path, so both give the same badges.
#include "index/maildir_scan.hpp"
#include "index/message_index.hpp"

#include <libpsl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <memory>

namespace postern::index {
namespace {

using json = nlohmann::json;

constexpr std::size_t max_header_scan = 64 * 1024;  // trace fields come first
constexpr std::size_t max_field = 16 * 1024;        // far above what verdict.cpp writes
constexpr std::size_t max_resinfos = 64;
constexpr std::size_t max_comment_depth = 8;

// RFC 8601 §2.7.1-2.7.2, RFC 7489 §11.2: the result words each method may give.
constexpr std::array<std::string_view, 7> spf_words{"none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"};
constexpr std::array<std::string_view, 7> dkim_words{"none", "pass", "fail", "policy", "neutral", "temperror", "permerror"};
constexpr std::array<std::string_view, 5> dmarc_words{"none", "pass", "fail", "temperror", "permerror"};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = lower(c);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

template <std::size_t N>
std::string known_word(std::string_view w, const std::array<std::string_view, N>& words) {
    std::string l = lowered(w);
    return std::find(words.begin(), words.end(), l) != words.end() ? l : std::string("none");
}

std::string string_at(const json& j, std::string_view key) {
    if (!j.is_object()) return {};
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// ---- the header section --------------------------------------------------------------------

struct field {
    std::string_view name;
    std::string value;  // unfolded: each CRLF WSP becomes the WSP
};

// The first two fields of the header section, unfolded and bounded.
std::vector<field> first_fields(std::string_view raw, std::size_t count) {
    std::vector<field> out;
    raw = raw.substr(0, std::min(raw.size(), max_header_scan));
    while (!raw.empty()) {
        std::string_view line = detail::take_line(raw);
        if (line.empty()) break;  // end of the header section
        if (line.front() == ' ' || line.front() == '\t') {
            if (!out.empty() && out.back().value.size() < max_field) out.back().value.append(line);
            continue;
        }
        if (out.size() == count) break;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) break;  // not a header field: stop reading
        out.push_back({line.substr(0, colon), std::string(line.substr(colon + 1))});
    }
    for (auto& f : out)
        if (f.value.size() > max_field) f.value.resize(max_field);
    return out;
}

// ---- RFC 8601 §2.2 resinfo -----------------------------------------------------------------

struct resinfo {
    std::string method, result, reason;
    std::vector<std::pair<std::string, std::string>> props;  // ("smtp.mailfrom", value), names lower-cased

    std::string prop(std::string_view name) const {
        for (const auto& [k, v] : props)
            if (k == name) return v;
        return {};
    }
};

bool is_wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Skips white space and comments (RFC 5322 §3.2.2 CFWS, nested, with quoted-pairs).
void skip_cfws(std::string_view s, std::size_t& i) {
    while (i < s.size()) {
        if (is_wsp(s[i])) {
            ++i;
        } else if (s[i] == '(') {
            std::size_t depth = 0;
            for (; i < s.size(); ++i) {
                if (s[i] == '\\') ++i;
                else if (s[i] == '(') ++depth;
                else if (s[i] == ')' && --depth == 0) break;
                if (depth > max_comment_depth) break;  // malformed beyond reason: the rest is comment
            }
            if (i < s.size()) ++i;
        } else {
            return;
        }
    }
}

// A quoted-string at s[i] == '"': its content, quoted-pairs undone.
std::string quoted(std::string_view s, std::size_t& i) {
    std::string out;
    for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        out += s[i];
    }
    if (i < s.size()) ++i;
    return out;
}

// The next token: a quoted-string, or a run up to white space, ';', '(' or '"'. `end_of_info`
// is set at a ';' (not consumed past).
std::string next_token(std::string_view s, std::size_t& i, bool& was_quoted) {
    skip_cfws(s, i);
    was_quoted = false;
    if (i >= s.size() || s[i] == ';') return {};
    if (s[i] == '"') {
        was_quoted = true;
        return quoted(s, i);
    }
    std::size_t b = i;
    while (i < s.size() && !is_wsp(s[i]) && s[i] != ';' && s[i] != '(' && s[i] != '"') ++i;
    return std::string(s.substr(b, i - b));
}

// Reads "key=value" items up to the next ';'. Our writer puts no white space around '=', but
// RFC 8601 allows CFWS there: "spf = pass" reads the same.
std::vector<std::pair<std::string, std::string>> read_items(std::string_view s, std::size_t& i) {
    std::vector<std::pair<std::string, std::string>> items;
    bool q = false;
    std::string pending_key;
    while (i < s.size() && s[i] != ';' && items.size() < 64) {
        std::size_t before = i;
        std::string tok = next_token(s, i, q);
        if (i == before) { ++i; continue; }  // a stray ')' or the like: step over it
        if (tok.empty() && !q) continue;
        if (!pending_key.empty() && !q && tok.starts_with('=')) {
            tok.erase(0, 1);
            if (tok.empty()) tok = next_token(s, i, q);
            items.emplace_back(std::move(pending_key), std::move(tok));
            pending_key.clear();
            continue;
        }
        pending_key.clear();  // a word without "=": a key only when "=" follows
        auto eq = q ? std::string::npos : tok.find('=');
        if (eq == std::string::npos || eq == 0) {
            if (!q && eq == std::string::npos) pending_key = lowered(tok);  // "spf" then "= pass"
            continue;
        }
        std::string value = tok.substr(eq + 1);
        if (value.empty()) value = next_token(s, i, q);  // reason="..."
        items.emplace_back(lowered(std::string_view(tok).substr(0, eq)), std::move(value));
    }
    return items;
}

// The resinfos of an Authentication-Results value; the authserv-id before the first ';' and a
// "none" (§2.2 no-result) give none.
std::vector<resinfo> parse_resinfos(std::string_view v) {
    std::vector<resinfo> out;
    std::size_t i = 0;
    bool q = false;
    (void)next_token(v, i, q);  // authserv-id (a quoted one may hold ';')
    while (i < v.size() && v[i] != ';') {
        std::size_t before = i;
        (void)next_token(v, i, q);  // authres-version or "none"
        if (i == before) ++i;
    }
    while (i < v.size() && out.size() < max_resinfos) {
        ++i;  // the ';'
        auto items = read_items(v, i);
        if (items.empty()) continue;
        resinfo r{items.front().first, lowered(items.front().second), {}, {}};
        for (std::size_t k = 1; k < items.size(); ++k) {
            if (items[k].first == "reason") r.reason = std::move(items[k].second);
            else r.props.push_back(std::move(items[k]));
        }
        out.push_back(std::move(r));
    }
    return out;
}

// ---- alignment (RFC 7489 §3.1, relaxed mode) -------------------------------------------------

const psl_ctx_t* public_suffixes() {
    struct psl_free_ctx {
        void operator()(psl_ctx_t* p) const noexcept { psl_free(p); }
    };
    // The system list when there is one (as the DMARC check uses), else libpsl's built-in one.
    static const std::unique_ptr<psl_ctx_t, psl_free_ctx> latest{psl_latest(nullptr)};
    return latest ? latest.get() : psl_builtin();
}

std::string organizational_domain(const std::string& domain) {
    const char* r = psl_registrable_domain(public_suffixes(), domain.c_str());
    return r ? std::string(r) : domain;
}

// The result of the store's verdict.cpp is not at hand after a rebuild, only the field; the DMARC
// record's aspf/adkim modes are not in it either, so relaxed alignment is assumed (the default,
// RFC 7489 §6.3), and a dmarc=pass or dmarc=fail result decides where the field states it.
bool aligned_with(std::string domain, const std::string& from) {
    if (domain.empty() || from.empty()) return false;
    domain = lowered(domain);
    return domain == from || organizational_domain(domain) == organizational_domain(from);
}

std::string domain_of(std::string_view mailbox) {
    auto at = mailbox.rfind('@');
    return std::string(at == std::string_view::npos ? mailbox : mailbox.substr(at + 1));
}

json spf_json(const resinfo* r, std::string sender, std::string domain) {
    return {{"result", r ? known_word(r->result, spf_words) : "none"},
            {"domain", std::move(domain)},
            {"sender", std::move(sender)},
            {"mechanism", ""},
            {"explanation", ""},
            {"reason", r ? r->reason : ""}};
}

json verdict_json(const std::vector<resinfo>& infos) {
    const resinfo *spf = nullptr, *helo = nullptr, *dmarc = nullptr;
    json dkim = json::array();
    std::vector<std::string> dkim_pass;
    for (const auto& r : infos) {
        if (iequals(r.method, "spf")) {
            // verdict.cpp writes the MAIL FROM result first, then the HELO one (smtp.helo alone).
            if (!spf) spf = &r;
            else if (!helo) helo = &r;
        } else if (iequals(r.method, "dkim")) {
            // "dkim=none" without header.d is how an unsigned message is written (RFC 8601 §2.7.1).
            if (r.prop("header.d").empty() && r.result == "none") continue;
            if (r.result == "pass") dkim_pass.push_back(lowered(r.prop("header.d")));
            dkim.push_back({{"result", known_word(r.result, dkim_words)}, {"domain", r.prop("header.d")},
                            {"selector", r.prop("header.s")}, {"identity", r.prop("header.i")},
                            {"algorithm", ""}, {"reason", r.reason}, {"testing", false}});
        } else if (iequals(r.method, "dmarc") && !dmarc) {
            dmarc = &r;
        }
    }
    if (!spf && !dmarc) return nullptr;
    const std::string mailfrom = spf ? spf->prop("smtp.mailfrom") : "";
    const std::string from = dmarc ? lowered(dmarc->prop("header.from")) : "";
    const std::string dmarc_word = dmarc ? known_word(dmarc->result, dmarc_words) : "none";
    bool spf_aligned = spf && spf->result == "pass" && aligned_with(domain_of(mailfrom), from);
    bool dkim_aligned = std::any_of(dkim_pass.begin(), dkim_pass.end(), [&](const auto& d) { return aligned_with(d, from); });
    if (dmarc_word == "fail") spf_aligned = dkim_aligned = false;
    bool aligned = !from.empty() && (spf_aligned || dkim_aligned || dmarc_word == "pass");
    std::string policy = dmarc ? lowered(dmarc->prop("policy.dmarc")) : "";
    if (policy != "quarantine" && policy != "reject") policy = "none";
    return {{"spf", spf_json(spf, mailfrom, domain_of(mailfrom))},
            {"helo_spf", helo ? spf_json(helo, "", helo->prop("smtp.helo")) : spf_json(nullptr, "", "")},
            {"dkim", std::move(dkim)},
            {"dmarc",
             {{"result", dmarc_word}, {"policy", policy}, {"from_domain", dmarc ? dmarc->prop("header.from") : ""},
              {"record_domain", ""}, {"organizational_domain", from.empty() ? "" : organizational_domain(from)},
              {"spf_aligned", spf_aligned}, {"dkim_aligned", dkim_aligned}, {"sampled_out", false},
              {"reason", dmarc ? dmarc->reason : ""}}},
            {"aligned", aligned},
            {"summary", ""},
            {"summary_case", ""},
            {"rebuilt", true}};
}

}  // namespace

std::optional<auth_badges> badges_of(std::string_view verdict_json) {
    if (verdict_json.empty()) return std::nullopt;
    const json j = json::parse(verdict_json, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    auth_badges b;
    b.spf = known_word(string_at(j.value("spf", json()), "result"), spf_words);
    b.dmarc = known_word(string_at(j.value("dmarc", json()), "result"), dmarc_words);
    b.dkim = "none";
    if (auto d = j.find("dkim"); d != j.end() && d->is_array()) {
        for (const auto& sig : *d) {
            auto word = known_word(string_at(sig, "result"), dkim_words);
            if (word == "pass") {
                b.dkim = word;
                break;
            }
            if (&sig == &d->front()) b.dkim = word;  // no pass: the first signature speaks
        }
    }
    auto a = j.find("aligned");
    b.aligned = a != j.end() && a->is_boolean() && a->get<bool>();
    return b;
}

std::string verdict_from_header(std::string_view raw) {
    auto fields = first_fields(raw, 2);
    if (fields.size() < 2 || !iequals(fields[0].name, "Return-Path") || !iequals(fields[1].name, "Authentication-Results"))
        return {};
    const json v = verdict_json(parse_resinfos(fields[1].value));
    return v.is_null() ? std::string() : v.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace postern::index
