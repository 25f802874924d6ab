// SPDX-License-Identifier: MIT
// Theory of operation. header_scanner is a byte-at-a-time state machine over lines:
// line_start decides between the empty line (the end of the header section, RFC 5322 §2.1),
// a continuation (a line that starts with WSP, §2.2.3) and a new field, whose name is read
// into a six-octet buffer, enough to recognise "from" and "sender". The value of a From or
// Sender field is appended to value_ with its CRLFs dropped, which is unfolding (§2.2.3); other
// values are skipped to the end of the line without being looked at. A field is parsed when the
// next line shows it has ended. A CR is held in cr_pending_ so that a CRLF split between two
// chunks is still one line ending; a bare LF ends a line too, and a bare CR is line content.
//
// The parser below takes one unfolded value. A lexer turns it into tokens (atoms, quoted
// strings, domain literals, specials), dropping CFWS, nested comments included (§3.2.2). The
// parser collects the words and dots before the next special and lets that special decide what
// they were: '<' a display name, '@' a local part, ':' a group name (§3.4, RFC 6854). Each
// address is then built in its RFC 5321 form and validated by parse_mailbox(), so the rules for
// local parts, domains, address literals and UTF-8 are the ones MAIL FROM uses.
#include "message/header_scan.hpp"

#include <algorithm>
#include <cstring>
#include <span>

namespace postern::message {
namespace {

class header_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "postern.header"; }
    std::string message(int ev) const override;
};

std::string header_category_impl::message(int ev) const {
    switch (static_cast<header_errc>(ev)) {
    case header_errc::incomplete: return "header section not complete";
    case header_errc::section_too_long: return "header section too long";
    case header_errc::field_too_long: return "author header field too long";
    case header_errc::too_many_mailboxes: return "too many mailboxes in author field";
    case header_errc::bad_character: return "invalid character in address field";
    case header_errc::unterminated_comment: return "unterminated comment";
    case header_errc::unterminated_quoted_string: return "unterminated quoted string";
    case header_errc::unterminated_domain_literal: return "unterminated domain literal";
    case header_errc::empty_field: return "no address in address field";
    case header_errc::expected_address: return "word that is not part of an address";
    case header_errc::bad_display_name: return "invalid display name";
    case header_errc::bad_angle_addr: return "invalid angle address";
    case header_errc::bad_group: return "invalid group";
    case header_errc::trailing_garbage: return "unexpected text after an address";
    }
    return "unknown header error";
}

bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// RFC 5322 §3.2.3 atext, plus any octet >= 0x80 (RFC 6532 §3.2). Whether those octets are
// well-formed UTF-8 matters only inside an address, where parse_mailbox() checks it: a display
// name in a legacy 8-bit charset is broken but harmless.
bool is_atext(char ch) noexcept {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) return true;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c != '\0' && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

// RFC 5322 §3.6.8 ftext: printable US-ASCII except ':'.
bool is_ftext(char ch) noexcept {
    const auto c = static_cast<unsigned char>(ch);
    return c >= 33 && c <= 126 && c != ':';
}

// Octets that may not appear even inside a comment, quoted string or literal: after unfolding,
// a CR or LF here was a bare one (§2.3), and NUL is nowhere allowed (§4.1 obs-NO-WS-CTL).
bool is_forbidden(char c) noexcept { return c == '\0' || c == '\r' || c == '\n'; }

enum class token_kind : std::uint8_t { end, atom, quoted, literal, special };

struct token {
    token_kind kind = token_kind::end;
    std::string_view text;  // quoted strings and literals keep their delimiters

    bool is(char c) const noexcept { return kind == token_kind::special && text.front() == c; }
    bool word() const noexcept { return kind == token_kind::atom || kind == token_kind::quoted; }
};

// One token of lookahead. On an error it records the error, then reports the end of input, so
// the parser needs no error path of its own for lexical errors: the caller checks error() first.
class lexer {
public:
    explicit lexer(std::string_view in) noexcept : in_(in) {}

    const token& peek() {
        if (!has_) {
            tok_ = lex();
            has_ = true;
        }
        return tok_;
    }
    token take() {
        token t = peek();
        has_ = false;
        return t;
    }
    bool accept(char c) {
        if (!peek().is(c)) return false;
        has_ = false;
        return true;
    }
    std::error_code error() const noexcept { return error_; }

private:
    token lex();
    bool skip_cfws();
    bool skip_comment();
    token delimited(char close, header_errc unterminated, token_kind kind);
    token fail(header_errc e) {
        if (!error_) error_ = e;
        pos_ = in_.size();
        return {};
    }
    bool fail_bool(header_errc e) {
        fail(e);
        return false;
    }

    std::string_view in_;
    std::size_t pos_ = 0;
    token tok_;
    bool has_ = false;
    std::error_code error_;
};

token lexer::lex() {
    if (!skip_cfws()) return {};
    if (pos_ == in_.size()) return {};
    const char c = in_[pos_];
    if (c == '"') return delimited('"', header_errc::unterminated_quoted_string, token_kind::quoted);
    if (c == '[') return delimited(']', header_errc::unterminated_domain_literal, token_kind::literal);
    if (std::strchr("<>@,;:.", c) != nullptr && c != '\0') return {token_kind::special, in_.substr(pos_++, 1)};
    if (!is_atext(c)) return fail(header_errc::bad_character);
    const std::size_t start = pos_;
    while (pos_ < in_.size() && is_atext(in_[pos_])) ++pos_;
    return {token_kind::atom, in_.substr(start, pos_ - start)};
}

// CFWS = comments and white space, which may appear between any two tokens (§3.2.2).
bool lexer::skip_cfws() {
    while (pos_ < in_.size()) {
        if (is_wsp(in_[pos_])) ++pos_;
        else if (in_[pos_] == '(') {
            if (!skip_comment()) return false;
        } else break;
    }
    return true;
}

// A comment nests (ccontent includes comment) and may hold quoted-pairs, so "(a \) (b))" is one.
bool lexer::skip_comment() {
    std::size_t depth = 0;
    for (; pos_ < in_.size(); ++pos_) {
        const char c = in_[pos_];
        if (is_forbidden(c)) return fail_bool(header_errc::bad_character);
        if (c == '\\') {
            if (++pos_ == in_.size()) break;
            if (is_forbidden(in_[pos_])) return fail_bool(header_errc::bad_character);
        } else if (c == '(') {
            ++depth;
        } else if (c == ')' && --depth == 0) {
            ++pos_;
            return true;
        }
    }
    return fail_bool(header_errc::unterminated_comment);
}

// A quoted string (§3.2.4) or a domain literal (§3.4.1), both with quoted-pairs (obs-qp, obs-dtext).
token lexer::delimited(char close, header_errc unterminated, token_kind kind) {
    const std::size_t start = pos_;
    for (++pos_; pos_ < in_.size(); ++pos_) {
        const char c = in_[pos_];
        if (is_forbidden(c) || (kind == token_kind::literal && c == '[')) return fail(header_errc::bad_character);
        if (c == '\\') {
            if (++pos_ == in_.size()) break;
            if (is_forbidden(in_[pos_])) return fail(header_errc::bad_character);
        } else if (c == close) {
            ++pos_;
            return {kind, in_.substr(start, pos_ - start)};
        }
    }
    return fail(unterminated);
}

// Appends the content of a quoted string, quoted-pairs resolved (§3.2.4: "\x" means "x").
void append_unquoted(std::string& out, std::string_view quoted) {
    const std::string_view inner = quoted.substr(1, quoted.size() - 2);
    for (std::size_t i = 0; i < inner.size(); ++i) {
        if (inner[i] == '\\') ++i;
        out += inner[i];
    }
}

// The RFC 5321 form of a local part given as word *("." word) (dot-atom, quoted-string or
// obs-local-part): its value, quoted. parse_mailbox() then unquotes it when the value is a
// Dot-string, which makes "a"."b", "a.b" and a.b the same local part, as §3.4.1 says they are.
result<std::string> local_part_text(std::span<const token> words) {
    if (words.empty() || words.size() % 2 == 0) return fail(header_errc::expected_address);
    std::string value;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const token& t = words[i];
        if (i % 2 == 1) {
            if (!t.is('.')) return fail(header_errc::expected_address);  // "john doe@x": two words
            value += '.';
        } else if (t.kind == token_kind::quoted) {
            append_unquoted(value, t.text);
        } else if (t.kind == token_kind::atom) {
            value += t.text;
        } else {
            return fail(header_errc::expected_address);  // ".a@x", "a..b@x"
        }
    }
    std::string quoted = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
    }
    quoted += '"';
    return quoted;
}

// The parser proper: one instance per field value.
class address_parser {
public:
    address_parser(std::string_view value, std::vector<mailbox>& out, std::size_t max) noexcept
        : lex_(value), out_(out), max_(max) {}

    std::error_code parse_list();
    std::error_code parse_one();

private:
    std::error_code address(bool group_allowed);
    std::error_code group();
    std::error_code name_addr(std::span<const token> phrase);
    std::error_code obs_route();
    std::string domain();
    std::error_code add(std::span<const token> local, std::string_view dom);
    // A lexical error ends the token stream early, so it explains whatever the parser saw next.
    std::error_code first_error(std::error_code ec) const { return lex_.error() ? lex_.error() : ec; }

    lexer lex_;
    std::vector<mailbox>& out_;
    std::size_t max_;
    std::size_t added_ = 0;
};

// address-list with the obs-addr-list empty elements (§4.4): ", a@b,,c@d ," is two addresses.
std::error_code address_parser::parse_list() {
    bool any = false;
    while (lex_.peek().kind != token_kind::end) {
        if (lex_.accept(',')) continue;
        if (auto ec = address(true)) return first_error(ec);
        any = true;
        if (lex_.peek().kind != token_kind::end && !lex_.peek().is(','))
            return first_error(header_errc::trailing_garbage);
    }
    return first_error(any ? std::error_code{} : header_errc::empty_field);
}

std::error_code address_parser::parse_one() {
    if (lex_.peek().kind == token_kind::end) return first_error(header_errc::empty_field);
    if (auto ec = address(true)) return first_error(ec);
    return first_error(lex_.peek().kind == token_kind::end ? std::error_code{} : header_errc::trailing_garbage);
}

// address = mailbox / group; mailbox = name-addr / addr-spec. The words and dots come first,
// and the special after them says which production they belong to.
std::error_code address_parser::address(bool group_allowed) {
    std::vector<token> phrase;
    while (lex_.peek().word() || lex_.peek().is('.')) phrase.push_back(lex_.take());
    if (lex_.accept('<')) return name_addr(phrase);
    if (lex_.accept('@')) return add(phrase, domain());
    if (lex_.peek().is(':')) {
        if (!group_allowed || phrase.empty() || !phrase.front().word()) return header_errc::bad_group;
        lex_.take();
        return group();
    }
    if (phrase.empty() && lex_.peek().is('>')) return header_errc::bad_angle_addr;
    return header_errc::expected_address;  // "john", "Doe, John <j@x>", or nothing before ';'
}

// group = display-name ":" [group-list] ";" [CFWS], with obs-group-list's empty elements.
std::error_code address_parser::group() {
    while (!lex_.accept(';')) {
        if (lex_.peek().kind == token_kind::end) return header_errc::bad_group;
        if (lex_.accept(',')) continue;
        if (auto ec = address(false)) return ec;
        if (lex_.peek().kind == token_kind::end) return header_errc::bad_group;  // no ';'
        if (!lex_.peek().is(',') && !lex_.peek().is(';')) return header_errc::trailing_garbage;
    }
    return {};
}

// name-addr = [display-name] angle-addr; obs-phrase allows '.' after the first word (§4.1).
std::error_code address_parser::name_addr(std::span<const token> phrase) {
    if (!phrase.empty() && !phrase.front().word()) return header_errc::bad_display_name;
    if (lex_.peek().is('@') || lex_.peek().is(',')) {
        if (auto ec = obs_route()) return ec;
    }
    std::vector<token> local;
    while (lex_.peek().word() || lex_.peek().is('.')) local.push_back(lex_.take());
    if (!lex_.accept('@')) return local.empty() ? header_errc::bad_angle_addr : header_errc::expected_address;
    const std::string dom = domain();
    if (!lex_.accept('>')) return dom.empty() ? std::error_code(address_errc::bad_domain) : header_errc::bad_angle_addr;
    return add(local, dom);
}

// obs-route = obs-domain-list ":" (§4.4), a source route as in "<@a.example,@b.example:u@c>",
// accepted and dropped as RFC 5321 Appendix C does; its domains must still be well-formed.
std::error_code address_parser::obs_route() {
    while (lex_.accept(',')) {}
    if (!lex_.accept('@')) return header_errc::bad_angle_addr;
    if (!is_valid_domain(domain(), true)) return address_errc::bad_domain;
    while (lex_.accept(',')) {
        if (lex_.accept('@') && !is_valid_domain(domain(), true)) return address_errc::bad_domain;
    }
    return lex_.accept(':') ? std::error_code{} : header_errc::bad_angle_addr;
}

// domain = dot-atom / domain-literal / obs-domain; CFWS between the atoms is already gone.
// Returns "" when there is no domain; parse_mailbox() then reports it.
std::string address_parser::domain() {
    std::string d;
    if (lex_.peek().kind == token_kind::literal) {
        for (char c : lex_.take().text)  // FWS inside a literal is not part of it (§3.4.1)
            if (!is_wsp(c)) d += c;
        return d;
    }
    while (lex_.peek().kind == token_kind::atom) {
        d += lex_.take().text;
        if (!lex_.peek().is('.')) break;
        d += lex_.take().text;
    }
    return d;
}

std::error_code address_parser::add(std::span<const token> local, std::string_view dom) {
    auto text = local_part_text(local);
    if (!text) return text.error();
    std::string& addr = *text;
    addr += '@';
    addr += dom;
    auto m = parse_mailbox(addr, true);
    if (!m) return m.error();
    if (++added_ > max_) return header_errc::too_many_mailboxes;
    out_.push_back(std::move(*m));
    return {};
}

bool iequal_ascii(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

}  // namespace

const std::error_category& header_category() noexcept {
    static const header_category_impl category;
    return category;
}

std::error_code parse_address_list(std::string_view value, std::vector<mailbox>& out, std::size_t max_mailboxes) {
    return address_parser(value, out, max_mailboxes).parse_list();
}

std::error_code parse_address(std::string_view value, std::vector<mailbox>& out, std::size_t max_mailboxes) {
    return address_parser(value, out, max_mailboxes).parse_one();
}

bool same_address(std::string_view local1, std::string_view domain1, std::string_view local2,
                  std::string_view domain2, local_part_case lc) noexcept {
    if (!iequal_ascii(domain1, domain2)) return false;
    return lc == local_part_case::insensitive ? iequal_ascii(local1, local2) : local1 == local2;
}

void header_scanner::feed(std::string_view bytes) {
    while (!bytes.empty() && state_ != scan_state::done) {
        if (state_ == scan_state::skip_line && !cr_pending_) {  // nothing of this line is kept
            const std::size_t n = std::min(bytes.find_first_of(std::string_view("\r\n\0", 3)), bytes.size());
            if (!account(n)) return;
            bytes.remove_prefix(n);
            if (bytes.empty()) return;
        }
        if (!account(1)) return;
        step(bytes.front());
        bytes.remove_prefix(1);
    }
}

void header_scanner::finish() {
    if (state_ == scan_state::done) return;
    cr_pending_ = false;  // content that ends in a CR: that CR ends the line
    if (state_ == scan_state::name || state_ == scan_state::name_wsp) ++authors_.malformed_lines;
    end_section();
}

result<header_authors> header_scanner::authors() const {
    if (state_ != scan_state::done) return fail(header_errc::incomplete);
    if (error_) return fail(error_);
    return authors_;
}

// Counts header-section octets; past the limit the scan stops, and the authors are an error,
// since a From field could lie beyond the point where we stopped looking.
bool header_scanner::account(std::size_t n) {
    section_octets_ += n;
    if (section_octets_ <= limits_.max_section) return true;
    set_error(header_errc::section_too_long);
    state_ = scan_state::done;
    value_ = std::string();
    return false;
}

void header_scanner::step(char c) {
    if (cr_pending_) {
        cr_pending_ = false;
        if (c == '\n') return end_line();
        // RFC 5322 §2.3 forbids a bare CR, and readers disagree on it: some (Python's email) end
        // the line there, so "X: y<CR>From: ..." would show them a From field we never saw.
        // Anywhere in the header section it makes the authors an error, whichever field it is in.
        set_error(header_errc::bad_character);
        take('\r');
    }
    if (c == '\0') set_error(header_errc::bad_character);  // NUL: the same kind of ambiguity
    if (c == '\r') cr_pending_ = true;
    else if (c == '\n') end_line();  // a bare LF is taken as a line ending
    else take(c);
}

void header_scanner::take(char c) {
    switch (state_) {
    case scan_state::line_start: return start_line(c);
    case scan_state::name:
    case scan_state::name_wsp: return take_name(c);
    case scan_state::value: return append(c);
    case scan_state::skip_line:
    case scan_state::done: return;
    }
}

// RFC 5322 §2.2.3: a line that starts with WSP continues the field above it.
void header_scanner::start_line(char c) {
    if (is_wsp(c)) {
        if (field_ == field::none) {  // nothing above to continue
            ++authors_.malformed_lines;
            field_ = field::other;
        }
        const bool keep = field_ == field::from || field_ == field::sender;
        state_ = keep ? scan_state::value : scan_state::skip_line;
        if (keep) append(c);  // unfolding removes the CRLF only; the WSP stays
        return;
    }
    flush_field();
    name_length_ = 0;
    state_ = scan_state::name;
    take_name(c);
}

// field-name = 1*ftext, then ':'; obs-optional and obs-from allow WSP before the colon (§4.5).
void header_scanner::take_name(char c) {
    if (c == ':' && name_length_ > 0) return end_name();
    if (is_wsp(c) && name_length_ > 0) {
        state_ = scan_state::name_wsp;
        return;
    }
    if (state_ == scan_state::name_wsp || !is_ftext(c)) return malformed_line();
    if (name_length_ < name_.size()) name_[name_length_] = ascii_lower(c);
    if (name_length_ <= name_.size()) ++name_length_;  // saturates: longer names are all "other"
}

void header_scanner::end_name() {
    const std::string_view name(name_.data(), std::min(name_length_, name_.size()));
    field_ = field::other;
    if (name_length_ == 4 && name == "from") {
        field_ = field::from;
        ++authors_.from_fields;
    } else if (name_length_ == 6 && name == "sender") {
        field_ = field::sender;
        ++authors_.sender_fields;
    }
    const bool keep = field_ != field::other;
    if (keep) {
        value_.clear();
        truncated_ = false;
    }
    state_ = keep ? scan_state::value : scan_state::skip_line;
}

void header_scanner::end_line() {
    if (state_ == scan_state::line_start) return end_section();  // §2.1: the empty line
    if (state_ == scan_state::name || state_ == scan_state::name_wsp) malformed_line();  // no colon
    state_ = scan_state::line_start;
}

void header_scanner::malformed_line() {
    ++authors_.malformed_lines;
    field_ = field::other;  // its continuation lines belong to it, not to the field above
    state_ = scan_state::skip_line;
}

void header_scanner::append(char c) {
    if (value_.size() < limits_.max_field) value_ += c;
    else truncated_ = true;
}

void header_scanner::flush_field() {
    const field f = field_;
    field_ = field::none;
    if (f != field::from && f != field::sender) return;
    // max_mailboxes bounds each list over all its fields, not each field.
    const auto room = [this](const std::vector<mailbox>& v) { return limits_.max_mailboxes - v.size(); };
    if (!error_) {
        if (truncated_) set_error(header_errc::field_too_long);
        else if (f == field::from) set_error(parse_address_list(value_, authors_.from, room(authors_.from)));
        else set_error(parse_address(value_, authors_.sender, room(authors_.sender)));
    }
    value_.clear();
}

void header_scanner::end_section() {
    flush_field();
    state_ = scan_state::done;
    value_ = std::string();  // release the buffer: the rest of the message costs nothing
}

void header_scanner::set_error(std::error_code ec) {
    if (!error_) error_ = ec;
}

}  // namespace postern::message
