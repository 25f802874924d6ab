// SPDX-License-Identifier: MIT
// Theory of operation. The parser never copies the message: an entity is a range [begin, end)
// of the raw octets. parse_entity() reads the range's header section line by line (a bare LF
// ends a line as CRLF does), fills a mime_part, and for a multipart finds the delimiter lines
// "--boundary" (RFC 2046 §5.1.1: the CRLF before a delimiter belongs to it) and recurses into
// each child's range. Parts go into one flat vector in document order, linked by index, so the
// tree costs one allocation per part and recursion depth is bounded by max_depth.
//
// Damage is repaired the way common readers repair it: a header section that runs into a line
// that is not a field ends there; a multipart without a usable boundary becomes text/plain; a
// missing close-delimiter ends the last part at the end of its parent. Each repair is a warning.
// After the tree come the choices a reader makes: which part is the text, which the HTML, and
// which are attachments; and the convenience fields of the top-level header.
#include "message/mime_parse.hpp"

#include "message/encoding_detail.hpp"
#include "message/mime_parse_detail.hpp"

#include <algorithm>

namespace postern::message {
namespace {

using detail::is_wsp;

constexpr std::size_t max_warnings = 256;

struct line_span {
    std::size_t begin = 0;  // first octet
    std::size_t end = 0;    // end of content, before CR LF / LF
    std::size_t next = 0;   // first octet of the next line
};

line_span next_line(std::string_view raw, std::size_t pos, std::size_t limit) {
    const std::size_t nl = raw.substr(0, limit).find('\n', pos);
    if (nl == std::string_view::npos) return {pos, limit, limit};
    const std::size_t end = nl > pos && raw[nl - 1] == '\r' ? nl - 1 : nl;
    return {pos, end, nl + 1};
}

bool is_field_name(std::string_view name) noexcept {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c >= 33 && c <= 126 && c != ':';
    });
}

// RFC 5322 §2.2.3: unfolding removes the CRLFs; the white space after them stays.
std::string unfold(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (char c : raw)
        if (c != '\r' && c != '\n') out += c;
    return std::string(detail::trim_wsp(out));
}

class parser {
public:
    parser(std::string_view raw, const parse_limits& limits, parsed_message& m) noexcept : raw_(raw), limits_(limits), m_(m) {}

    void parse_entity(std::size_t begin, std::size_t end, std::size_t parent, std::size_t depth, bool digest_child);
    void warn(mime_warning w, const std::string& part_id);

private:
    std::size_t read_headers(std::size_t begin, std::size_t end, std::size_t index);
    void read_content_fields(std::size_t index, bool digest_child);
    bool split_multipart(std::size_t index);
    void measure(std::size_t index);
    const header_field* first(std::size_t index, std::string_view name) const;

    std::string_view raw_;
    const parse_limits& limits_;
    parsed_message& m_;
};

void parser::warn(mime_warning w, const std::string& part_id) {
    parse_warning pw{w, part_id};
    if (m_.warnings.size() >= max_warnings || std::find(m_.warnings.begin(), m_.warnings.end(), pw) != m_.warnings.end()) return;
    m_.warnings.push_back(std::move(pw));
}

const header_field* parser::first(std::size_t index, std::string_view name) const {
    for (const header_field& h : m_.parts[index].headers)
        if (detail::iequals(h.name, name)) return &h;
    return nullptr;
}

void parser::parse_entity(std::size_t begin, std::size_t end, std::size_t parent, std::size_t depth, bool digest_child) {
    if (m_.parts.size() >= limits_.max_parts) {
        warn(mime_warning::part_limit, parent == no_part ? std::string() : m_.parts[parent].id);
        return;
    }
    const std::size_t index = m_.parts.size();
    m_.parts.emplace_back();
    m_.parts[index].parent = parent;
    m_.parts[index].depth = depth;
    if (parent != no_part) {
        auto& siblings = m_.parts[parent].children;
        siblings.push_back(index);
        const std::string n = std::to_string(siblings.size());
        m_.parts[index].id = m_.parts[parent].id.empty() ? n : m_.parts[parent].id + "." + n;
    }
    const std::size_t first_warning = m_.warnings.size();
    const std::size_t body = read_headers(begin, end, index);
    read_content_fields(index, digest_child);
    mime_part& p = m_.parts[index];
    if (index == 0 && !p.multipart()) {  // IMAP: a single-part message's body is part 1
        p.id = "1";
        for (std::size_t w = first_warning; w < m_.warnings.size(); ++w) m_.warnings[w].part_id = p.id;
    }
    p.body_begin = body;
    p.body_end = end;
    if (p.multipart()) {
        if (depth >= limits_.max_depth) warn(mime_warning::depth_limit, p.id);
        else if (split_multipart(index)) return;
    }
    measure(index);
}

std::size_t parser::read_headers(std::size_t begin, std::size_t end, std::size_t index) {
    std::size_t pos = begin;
    if (index == 0 && raw_.substr(0, 5) == "From ") pos = next_line(raw_, pos, end).next;  // an mbox separator
    std::vector<header_field>& headers = m_.parts[index].headers;
    std::size_t value_begin = 0, value_end = 0;
    bool open = false;  // a field is being read, and it is kept
    bool any = false;   // a field was seen (kept or not)
    const auto close = [&] {
        if (!open) return;
        headers.back().raw = std::string(raw_.substr(value_begin, value_end - value_begin));
        headers.back().value = unfold(headers.back().raw);
        open = false;
    };
    while (pos < end) {
        const line_span ln = next_line(raw_, pos, end);
        const std::string_view content = raw_.substr(ln.begin, ln.end - ln.begin);
        if (content.empty()) {  // the empty line: the body starts after it (RFC 5322 §2.1)
            close();
            return ln.next;
        }
        if (is_wsp(content.front()) && any) {  // a continuation line (§2.2.3)
            if (open) value_end = ln.end;
            pos = ln.next;
            continue;
        }
        const auto colon = content.find(':');
        std::string_view name = colon == std::string_view::npos ? std::string_view() : content.substr(0, colon);
        while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);  // obs-optional allows "Name :"
        if (!is_field_name(name)) {  // not a field: take it as the first line of the body
            close();
            warn(mime_warning::missing_header_end, m_.parts[index].id);
            return ln.begin;
        }
        close();
        any = true;
        if (headers.size() < limits_.max_headers) {
            headers.push_back({std::string(name), {}, {}});
            value_begin = ln.begin + colon + 1;
            value_end = ln.end;
            open = true;
        } else {
            warn(mime_warning::too_many_headers, m_.parts[index].id);
        }
        pos = ln.next;
    }
    close();
    return end;
}

void parser::read_content_fields(std::size_t index, bool digest_child) {
    mime_part& p = m_.parts[index];
    if (digest_child) {  // RFC 2046 §5.1.5: in a digest the default is message/rfc822
        p.type = "message";
        p.subtype = "rfc822";
    }
    if (const header_field* h = first(index, "Content-Type")) {
        parameterized_value v = parse_parameters(h->value);
        if (is_valid_content_type(v.value)) {
            const auto slash = v.value.find('/');
            p.type = v.value.substr(0, slash);
            p.subtype = v.value.substr(slash + 1);
            p.params = std::move(v.params);
        } else {  // RFC 2045 §5.2: an invalid Content-Type is read as text/plain; us-ascii
            p.type = "text";
            p.subtype = "plain";
            warn(mime_warning::bad_content_type, p.id);
        }
        if (v.damaged) warn(mime_warning::bad_parameters, p.id);
    }
    p.charset = detail::ascii_lower(detail::trim_wsp(p.param("charset")));
    if (const header_field* h = first(index, "Content-Transfer-Encoding")) {
        std::string cte = parse_parameters(h->value).value;
        if (!cte.empty()) p.transfer_encoding = std::move(cte);
    }
    if (const header_field* h = first(index, "Content-Disposition")) {
        parameterized_value v = parse_parameters(h->value);
        p.disposition = std::move(v.value);
        p.filename = std::string(v.param("filename"));
        if (v.damaged) warn(mime_warning::bad_parameters, p.id);
    }
    if (p.filename.empty()) p.filename = std::string(p.param("name"));
    if (const header_field* h = first(index, "Content-ID")) p.content_id = raw_header_to_utf8(detail::strip_angles(h->value));
}

// A delimiter line is "--" boundary, or "--" boundary "--" for the last, then only white
// space (RFC 2046 §5.1.1 transport-padding). Returns 0 (no), 1 (delimiter) or 2 (close).
int delimiter_kind(std::string_view line, std::string_view boundary) noexcept {
    if (line.size() < boundary.size() + 2 || line.substr(0, 2) != "--" || line.substr(2, boundary.size()) != boundary) return 0;
    std::string_view rest = line.substr(boundary.size() + 2);
    const bool close = rest.substr(0, 2) == "--";
    if (close) rest.remove_prefix(2);
    return std::all_of(rest.begin(), rest.end(), is_wsp) ? (close ? 2 : 1) : 0;
}

bool parser::split_multipart(std::size_t index) {
    const std::string boundary(m_.parts[index].param("boundary"));
    const std::size_t begin = m_.parts[index].body_begin, end = m_.parts[index].body_end;
    std::vector<std::pair<std::size_t, std::size_t>> children;
    std::size_t child_begin = 0;
    bool inside = false, closed = false;
    // Ranges past max_parts would not be parsed anyway; stop collecting them.
    for (std::size_t pos = begin; !boundary.empty() && pos < end && !closed && children.size() <= limits_.max_parts;) {
        const line_span ln = next_line(raw_, pos, end);
        pos = ln.next;
        const int kind = delimiter_kind(raw_.substr(ln.begin, ln.end - ln.begin), boundary);
        if (kind == 0) continue;
        if (inside) {  // the line break before the delimiter is part of the delimiter
            std::size_t child_end = ln.begin;
            if (child_end > child_begin && raw_[child_end - 1] == '\n') --child_end;
            if (child_end > child_begin && raw_[child_end - 1] == '\r') --child_end;
            children.emplace_back(child_begin, child_end);
        }
        closed = kind == 2;
        inside = !closed;
        child_begin = ln.next;
    }
    const std::string id = m_.parts[index].id;
    if (inside && children.size() <= limits_.max_parts) {
        warn(mime_warning::missing_final_boundary, id);
        children.emplace_back(child_begin, end);
    }
    if (children.empty()) {  // nothing to split: show the body as text rather than lose it
        warn(mime_warning::missing_boundary, id);
        m_.parts[index].type = "text";
        m_.parts[index].subtype = "plain";
        return false;
    }
    const bool digest = m_.parts[index].subtype == "digest";
    const std::size_t depth = m_.parts[index].depth + 1;
    for (const auto& [b, e] : children) parse_entity(b, e, index, depth, digest);
    return true;
}

void parser::measure(std::size_t index) {
    mime_part& p = m_.parts[index];
    const std::string_view body = raw_.substr(p.body_begin, p.body_end - p.body_begin);
    bool damaged = false;
    if (p.transfer_encoding == "base64") {
        p.size = base64_decoded_size(body, &damaged);
        if (damaged) warn(mime_warning::bad_base64, p.id);
    } else if (p.transfer_encoding == "quoted-printable") {
        p.size = qp_decode(body, &damaged).size();
        if (damaged) warn(mime_warning::bad_quoted_printable, p.id);
    } else {
        p.size = body.size();
        const std::string& te = p.transfer_encoding;
        if (te != "7bit" && te != "8bit" && te != "binary") warn(mime_warning::unknown_transfer_encoding, p.id);
    }
}

bool in_alternative(const parsed_message& m, std::size_t i) {
    for (std::size_t p = m.parts[i].parent; p != no_part; p = m.parts[p].parent)
        if (m.parts[p].multipart() && m.parts[p].subtype == "alternative") return true;
    return false;
}

// The first text/plain (text/html) that is not an attachment, one inside a
// multipart/alternative winning over one outside.
void choose_bodies(parsed_message& m) {
    bool text_alt = false, html_alt = false;
    for (std::size_t i = 0; i < m.parts.size(); ++i) {
        const mime_part& p = m.parts[i];
        if (!p.children.empty() || p.type != "text" || p.disposition == "attachment" || !p.filename.empty()) continue;
        if (p.subtype != "plain" && p.subtype != "html") continue;
        std::size_t& slot = p.subtype == "plain" ? m.text_part : m.html_part;
        bool& slot_alt = p.subtype == "plain" ? text_alt : html_alt;
        const bool alt = in_alternative(m, i);
        if (slot == no_part || (alt && !slot_alt)) {
            slot = i;
            slot_alt = alt;
        }
    }
}

void list_attachments(parsed_message& m) {
    for (std::size_t i = 0; i < m.parts.size(); ++i) {
        const mime_part& p = m.parts[i];
        if (!p.children.empty() || i == m.text_part || i == m.html_part) continue;
        if (i == 0 && p.multipart()) continue;  // a multipart message cut off by the part limit
        const bool is_inline = p.disposition == "inline" || (p.disposition.empty() && !p.content_id.empty());
        m.attachments.push_back({i, p.id, p.filename, p.content_type(), p.size, p.content_id, is_inline});
    }
}

std::string decode_body(std::string_view raw, parsed_message& m, std::size_t index, parser& ps) {
    const mime_part& p = m.parts[index];
    utf8_text t = charset_to_utf8(p.charset, decode_part(raw, p));
    if (!t.known) ps.warn(mime_warning::unknown_charset, p.id);
    return std::move(t.text);
}

}  // namespace

std::string_view mime_part::param(std::string_view name) const noexcept {
    for (const mime_param& p : params)
        if (p.name == name) return p.value;
    return {};
}

parsed_message parse_message(std::string_view raw, const parse_limits& limits) {
    parsed_message m;
    parser ps(raw, limits, m);
    if (const auto nl = raw.find('\n'); nl != std::string_view::npos && (nl == 0 || raw[nl - 1] != '\r'))
        ps.warn(mime_warning::lf_line_endings, {});
    ps.parse_entity(0, raw.size(), no_part, 0, false);
    choose_bodies(m);
    list_attachments(m);
    if (m.text_part != no_part) m.text = decode_body(raw, m, m.text_part, ps);
    if (m.html_part != no_part) m.html = decode_body(raw, m, m.html_part, ps);
    bool unknown_charset = false;
    detail::fill_header_fields(m, limits, unknown_charset);
    if (unknown_charset) ps.warn(mime_warning::unknown_charset, m.parts.front().id);
    return m;
}

const mime_part* find_part(const parsed_message& m, std::string_view id) noexcept {
    for (const mime_part& p : m.parts)
        if (p.id == id) return &p;
    return nullptr;
}

std::string decode_part(std::string_view raw, const mime_part& part) {
    const std::size_t begin = std::min(part.body_begin, raw.size());
    const std::size_t end = std::clamp(part.body_end, begin, raw.size());
    const std::string_view body = raw.substr(begin, end - begin);
    if (part.transfer_encoding == "base64") return base64_decode_lenient(body);
    if (part.transfer_encoding == "quoted-printable") return qp_decode(body);
    return std::string(body);
}

std::string decode_text(std::string_view raw, const mime_part& part) {
    return charset_to_utf8(part.charset, decode_part(raw, part)).text;
}

}  // namespace postern::message
