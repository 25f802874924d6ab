// SPDX-License-Identifier: MIT
// Theory of operation. build_message() first validates the whole spec (addresses through
// parse_mailbox, UTF-8, header names and values), so that nothing is written from bad input.
// It then builds the body bottom-up as entities (content header fields + body): text parts,
// attachments, then the multipart/alternative and multipart/mixed around them. A multipart's
// boundary is drawn from the random source and redrawn while it occurs in any child, which
// with "=_" at its start (impossible in quoted-printable or base64) practically never happens.
// Last come the message header fields, each folded by header_writer.
#include "message/mime_build.hpp"

#include "message/address.hpp"
#include "message/encoding.hpp"
#include "message/encoding_detail.hpp"
#include "message/header_scan.hpp"
#include "message/mime_build_detail.hpp"
#include "message/trace_headers.hpp"

#include <algorithm>
#include <array>

namespace postern::message {
namespace {

using detail::header_writer;

class mime_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "postern.mime"; }
    std::string message(int ev) const override;
};

std::string mime_category_impl::message(int ev) const {
    switch (static_cast<mime_errc>(ev)) {
    case mime_errc::no_from: return "no From address";
    case mime_errc::no_recipients: return "no recipients";
    case mime_errc::bad_address: return "invalid address";
    case mime_errc::bad_utf8: return "text is not valid UTF-8";
    case mime_errc::bad_header_name: return "invalid header field name";
    case mime_errc::header_injection: return "CR, LF or NUL in a header value";
    case mime_errc::reserved_header: return "header field is written by the builder";
    case mime_errc::bad_content_type: return "invalid attachment content type";
    case mime_errc::line_too_long: return "header line longer than 998 octets";
    case mime_errc::bad_message_id: return "invalid Message-ID or host name";
    case mime_errc::no_random_source: return "no random source";
    }
    return "unknown MIME error";
}

// ---- validation ---------------------------------------------------------------------------

// Text that goes into a header field: a CR or LF would end the field and start another of
// the caller's (or an attacker's) choosing; NUL is allowed nowhere (RFC 5322 §2.2).
std::error_code check_header_text(std::string_view s) {
    if (s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) return mime_errc::header_injection;
    if (!is_valid_utf8(s)) return mime_errc::bad_utf8;
    return {};
}

result<mailbox> check_address(const mail_address& a) {
    if (auto ec = check_header_text(a.name)) return fail(ec);
    auto m = parse_mailbox(detail::trim_wsp(a.address), true);
    if (!m) return fail(mime_errc::bad_address);
    return m;
}

bool is_ftext_name(std::string_view name) noexcept {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c >= 33 && c <= 126 && c != ':';
    });
}

std::error_code check_extra_header(const extra_header& h) {
    if (!is_ftext_name(h.name)) return mime_errc::bad_header_name;
    if (is_reserved_header(h.name)) return mime_errc::reserved_header;
    return check_header_text(h.value);
}

std::error_code check_attachment(const mime_attachment& a) {
    if (auto ec = check_header_text(a.filename)) return ec;
    if (a.content_type.empty()) return {};
    const std::string type = detail::ascii_lower(a.content_type);
    if (!is_valid_content_type(type)) return mime_errc::bad_content_type;
    // RFC 2045 §6.4, RFC 2046 §5.2.2-3: these may not be base64-encoded, and an opaque file is
    // not a multipart we could vouch for.
    if (detail::istarts_with(type, "multipart/") || type == "message/partial" || type == "message/external-body")
        return mime_errc::bad_content_type;
    return {};
}

// RFC 5322 §3.6.4: id-left "@" id-right, printable ASCII without white space or angle brackets.
bool is_msg_id(std::string_view id) noexcept {
    const auto at = id.find('@');
    if (at == 0 || at == std::string_view::npos || at + 1 == id.size() || id.find('@', at + 1) != std::string_view::npos)
        return false;
    return std::all_of(id.begin(), id.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c > 32 && c < 127 && c != '<' && c != '>' && c != '"' && c != '\\';
    });
}

struct checked_spec {
    mailbox from;
    std::vector<mailbox> to, cc, bcc;
};

std::error_code check_list(const std::vector<mail_address>& in, std::vector<mailbox>& out) {
    for (const mail_address& a : in) {
        auto m = check_address(a);
        if (!m) return m.error();
        out.push_back(std::move(*m));
    }
    return {};
}

result<checked_spec> check_spec(const message_spec& spec) {
    checked_spec c;
    if (detail::trim_wsp(spec.from.address).empty()) return fail(mime_errc::no_from);
    auto from = check_address(spec.from);
    if (!from) return fail(from.error());
    c.from = std::move(*from);
    for (auto [in, out] : {std::pair{&spec.to, &c.to}, std::pair{&spec.cc, &c.cc}, std::pair{&spec.bcc, &c.bcc}})
        if (auto ec = check_list(*in, *out)) return fail(ec);
    if (c.to.empty() && c.cc.empty() && c.bcc.empty()) return fail(mime_errc::no_recipients);
    if (auto ec = check_header_text(spec.subject)) return fail(ec);
    for (const auto* body : {&spec.text, &spec.html})
        if (*body && !is_valid_utf8(**body)) return fail(mime_errc::bad_utf8);
    for (const mime_attachment& a : spec.attachments)
        if (auto ec = check_attachment(a)) return fail(ec);
    for (const extra_header& h : spec.headers)
        if (auto ec = check_extra_header(h)) return fail(ec);
    if (!spec.message_id.empty() && !is_msg_id(spec.message_id)) return fail(mime_errc::bad_message_id);
    return c;
}

// ---- entities -------------------------------------------------------------------------------

struct entity {
    std::string headers;  // content header fields, each ending in CRLF
    std::string body;     // no CRLF is added after it
};

std::string normalize_line_endings(std::string_view s) {
    std::string out;
    out.reserve(s.size() + s.size() / 32);
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' || s[i] == '\n') {
            out += "\r\n";
            if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
        } else {
            out += s[i];
        }
    }
    return out;
}

// 7bit when every octet is printable ASCII or TAB and no line passes 78 octets (RFC 5322
// §2.1.1's SHOULD); the text is already in CRLF form.
bool fits_7bit(std::string_view crlf_text, std::size_t max_line) noexcept {
    std::size_t line = 0;
    for (std::size_t i = 0; i < crlf_text.size(); ++i) {
        const auto c = static_cast<unsigned char>(crlf_text[i]);
        if (c == '\r' && i + 1 < crlf_text.size() && crlf_text[i + 1] == '\n') {
            line = 0;
            ++i;
        } else if ((c < 32 && c != '\t') || c >= 127 || ++line > max_line) {
            return false;
        }
    }
    return true;
}

// One field whose value is a single token, e.g. Message-ID; "" when it cannot fit in 998 octets.
std::string simple_field(std::string_view name, std::string_view value) {
    header_writer w(name);
    w.token(value);
    return w.too_long() ? std::string() : std::move(w).finish();
}

// "value; a=b; c=d": each ';' is glued to the token before it, and the space after it is where
// header_writer may fold.
std::string field_with_params(std::string_view name, std::string_view value, const std::vector<std::string>& params) {
    header_writer w(name);
    w.token(params.empty() ? value : std::string(value) + ";");
    for (std::size_t i = 0; i < params.size(); ++i) w.token(i + 1 < params.size() ? params[i] + ";" : params[i]);
    return std::move(w).finish();
}

entity text_entity(std::string_view subtype, std::string_view text) {
    const std::string crlf = normalize_line_endings(text);
    const bool plain = fits_7bit(crlf, 78);
    entity e;
    e.headers = field_with_params("Content-Type", "text/" + std::string(subtype), {"charset=utf-8"});
    e.headers += plain ? "Content-Transfer-Encoding: 7bit\r\n" : "Content-Transfer-Encoding: quoted-printable\r\n";
    e.body = plain ? crlf : qp_encode(crlf);
    return e;
}

std::vector<std::string> name_params(std::string_view param, std::string_view filename) {
    if (filename.empty()) return {};
    return encode_parameter(param, filename, true);
}

entity attachment_entity(const mime_attachment& a) {
    std::string type = a.content_type.empty() ? std::string(content_type_for_filename(a.filename))
                                              : detail::ascii_lower(a.content_type);
    std::vector<std::string> type_params = name_params("name", a.filename);
    entity e;
    if (type == "message/rfc822") {
        // RFC 2046 §5.2.1: only 7bit, 8bit or binary. A 7-bit-clean message goes as it is (in
        // CRLF form); anything else as an opaque file, which is always safe.
        std::string crlf = normalize_line_endings(a.bytes);
        if (fits_7bit(crlf, detail::max_line)) {
            e.headers = field_with_params("Content-Type", type, type_params);
            e.headers += "Content-Transfer-Encoding: 7bit\r\n";
            e.body = std::move(crlf);
        } else {
            type = "application/octet-stream";
        }
    }
    if (e.headers.empty()) {
        // A text file is very likely UTF-8 when it decodes as such; say so, or readers assume us-ascii.
        if (detail::istarts_with(type, "text/") && is_valid_utf8(a.bytes)) type_params.insert(type_params.begin(), "charset=utf-8");
        e.headers = field_with_params("Content-Type", type, type_params);
        e.headers += "Content-Transfer-Encoding: base64\r\n";
        e.body = base64_encode_lines(a.bytes);
    }
    e.headers += field_with_params("Content-Disposition", "attachment", name_params("filename", a.filename));
    return e;
}

std::string serialize(const entity& e) { return e.headers + "\r\n" + e.body; }

// "=_" and 24 letters and digits: about 143 bits, and "=_" cannot occur in QP or base64 text.
std::string draw_boundary(const random_source& random) {
    constexpr std::string_view alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string b = "=_";
    for (int word = 0; word < 3; ++word) {
        std::uint64_t r = random();
        for (int i = 0; i < 8; ++i, r /= alphabet.size()) b += alphabet[r % alphabet.size()];
    }
    return b;
}

entity multipart_entity(std::string_view subtype, const std::vector<entity>& children, const random_source& random) {
    std::vector<std::string> parts;
    for (const entity& c : children) parts.push_back(serialize(c));
    std::string boundary = draw_boundary(random);
    // Redraw while the boundary occurs anywhere in a child; a numbered suffix guarantees an end
    // even with a random source that keeps returning the same value.
    for (std::size_t attempt = 1;; ++attempt) {
        const bool clash = std::any_of(parts.begin(), parts.end(), [&](const std::string& p) { return p.find(boundary) != std::string::npos; });
        if (!clash) break;
        boundary = draw_boundary(random) + "." + std::to_string(attempt);
    }
    entity e;
    e.headers = field_with_params("Content-Type", "multipart/" + std::string(subtype), encode_parameter("boundary", boundary, false));
    for (const std::string& p : parts) e.body += "--" + boundary + "\r\n" + p + "\r\n";
    e.body += "--" + boundary + "--\r\n";
    return e;
}

entity body_entity(const message_spec& spec, const random_source& random) {
    std::vector<entity> alternatives;
    if (spec.text) alternatives.push_back(text_entity("plain", *spec.text));
    if (spec.html) alternatives.push_back(text_entity("html", *spec.html));
    if (alternatives.empty() && spec.attachments.empty()) alternatives.push_back(text_entity("plain", ""));
    std::vector<entity> mixed;
    if (alternatives.size() == 2) mixed.push_back(multipart_entity("alternative", alternatives, random));
    else if (alternatives.size() == 1) mixed.push_back(std::move(alternatives.front()));
    if (spec.attachments.empty()) return std::move(mixed.front());
    // Even a lone attachment goes inside multipart/mixed: readers then list it as an attachment
    // instead of trying to show it as the message.
    for (const mime_attachment& a : spec.attachments) mixed.push_back(attachment_entity(a));
    return multipart_entity("mixed", mixed, random);
}

// ---- message header -------------------------------------------------------------------------

void write_address(header_writer& w, const mail_address& a, const mailbox& m, bool last) {
    const std::string addr = m.to_string();
    const std::string_view name = detail::trim_wsp(a.name);
    if (!name.empty()) w.display_name(name);
    const std::string text = name.empty() ? addr : "<" + addr + ">";
    w.token(last ? text : text + ",");
}

std::string address_field(std::string_view name, const std::vector<mail_address>& in, const std::vector<mailbox>& checked) {
    header_writer w(name);
    for (std::size_t i = 0; i < in.size(); ++i) write_address(w, in[i], checked[i], i + 1 == in.size());
    return w.too_long() ? std::string() : std::move(w).finish();
}

std::string extra_field(const extra_header& h) {
    header_writer w(h.name);
    const std::string_view value = detail::trim_wsp(h.value);
    if (detail::is_ascii(value)) {  // as given: it may be structured, so no word is encoded
        std::size_t i = 0;
        while (i < value.size()) {
            const std::size_t ws = i;
            while (i < value.size() && detail::is_wsp(value[i])) ++i;
            const std::size_t word = i;
            while (i < value.size() && !detail::is_wsp(value[i])) ++i;
            w.token(value.substr(word, i - word), ws == word ? std::string_view(" ") : value.substr(ws, word - ws));
        }
    } else {
        w.unstructured(value);
    }
    return w.too_long() ? std::string() : std::move(w).finish();
}

std::string random_id(const random_source& random) {
    constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz234567";  // RFC 4648 base32, lower case
    std::string id;
    for (int word = 0; word < 2; ++word) {
        std::uint64_t r = random();
        for (int i = 0; i < 12; ++i, r >>= 5) id += alphabet[r & 31];
    }
    return id;
}

result<std::string> message_id_for(const message_spec& spec, const mailbox& from, const random_source& random) {
    if (!spec.message_id.empty()) return spec.message_id;
    const std::string host = spec.host_name.empty() ? from.domain : spec.host_name;
    std::string id = random_id(random) + "@" + host;
    if (!is_msg_id(id)) return fail(mime_errc::bad_message_id);
    return id;
}

result<std::string> header_section(const message_spec& spec, const checked_spec& c, std::string_view message_id) {
    std::string out = "Date: " + format_date(spec.date, spec.utc_offset_minutes) + "\r\n";
    std::vector<std::string> fields;
    fields.push_back(address_field("From", {spec.from}, {c.from}));
    if (!spec.to.empty()) fields.push_back(address_field("To", spec.to, c.to));
    if (!spec.cc.empty()) fields.push_back(address_field("Cc", spec.cc, c.cc));
    if (const auto subject = detail::trim_wsp(spec.subject); !subject.empty()) {
        header_writer w("Subject");
        w.unstructured(subject);
        fields.push_back(w.too_long() ? std::string() : std::move(w).finish());
    }
    fields.push_back(simple_field("Message-ID", "<" + std::string(message_id) + ">"));
    for (const extra_header& h : spec.headers) fields.push_back(extra_field(h));
    for (const std::string& f : fields) {
        if (f.empty()) return fail(mime_errc::line_too_long);  // the writers' sign that a line passed 998
        out += f;
    }
    out += "MIME-Version: 1.0\r\n";
    return out;
}

std::vector<std::string> dedupe(const std::vector<mailbox>& all) {
    std::vector<std::string> out;
    std::vector<const mailbox*> seen;
    for (const mailbox& m : all) {
        if (std::any_of(seen.begin(), seen.end(), [&](const mailbox* s) { return same_address(*s, m); })) continue;
        seen.push_back(&m);
        out.push_back(m.to_string());
    }
    return out;
}

}  // namespace

const std::error_category& mime_category() noexcept {
    static const mime_category_impl category;
    return category;
}

bool is_reserved_header(std::string_view name) noexcept {
    static constexpr std::array<std::string_view, 9> reserved{"from", "to", "cc", "bcc", "subject", "date",
                                                               "message-id", "mime-version", "return-path"};
    const std::string_view n = detail::trim_wsp(name);
    if (detail::istarts_with(n, "content-")) return true;
    return std::any_of(reserved.begin(), reserved.end(), [&](std::string_view r) { return detail::iequals(n, r); });
}

std::vector<std::string> envelope_recipients(const message_spec& spec) {
    std::vector<mailbox> all;  // an address that does not parse is left out: it could not be sent to
    for (const auto* list : {&spec.to, &spec.cc, &spec.bcc}) {
        for (const mail_address& a : *list) {
            if (auto m = parse_mailbox(detail::trim_wsp(a.address), true)) all.push_back(std::move(*m));
        }
    }
    return dedupe(all);
}

result<built_message> build_message(const message_spec& spec, const random_source& random) {
    if (!random) return fail(mime_errc::no_random_source);
    auto checked = check_spec(spec);
    if (!checked) return fail(checked.error());
    built_message out;
    auto id = message_id_for(spec, checked->from, random);
    if (!id) return fail(id.error());
    out.message_id = std::move(*id);
    auto headers = header_section(spec, *checked, out.message_id);
    if (!headers) return fail(headers.error());
    const entity body = body_entity(spec, random);
    out.data = std::move(*headers) + body.headers + "\r\n" + body.body;
    if (!out.data.ends_with("\r\n") && !body.body.empty()) out.data += "\r\n";

    std::vector<mailbox> all = checked->to;
    all.insert(all.end(), checked->cc.begin(), checked->cc.end());
    all.insert(all.end(), checked->bcc.begin(), checked->bcc.end());
    out.envelope_recipients = dedupe(all);
    out.smtputf8 = checked->from.utf8() || std::any_of(all.begin(), all.end(), [](const mailbox& m) { return m.utf8(); });
    out.eight_bit = !detail::is_ascii(out.data);
    return out;
}

}  // namespace postern::message
