// SPDX-License-Identifier: MIT
// User search input to FTS5 query text and column filters, never passing input through as syntax.
#include "index/message_index.hpp"

#include <array>
#include <span>

namespace postern::index {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_word_octet(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

struct token {
    std::string_view key;   // "from" for from:x; empty for a plain term
    std::string_view text;  // the word or the phrase without its quotes
};

// Splits on white space; a '"' opens a phrase that runs to the next '"' (or the end), also
// right after a "key:".
std::vector<token> tokenize(std::string_view in) {
    std::vector<token> out;
    std::size_t i = 0;
    while (i < in.size()) {
        while (i < in.size() && is_space(in[i])) ++i;
        if (i == in.size()) break;
        token t;
        std::size_t b = i;
        while (i < in.size() && !is_space(in[i]) && in[i] != '"' && in[i] != ':') ++i;
        if (i < in.size() && in[i] == ':' && i > b) {
            t.key = in.substr(b, i - b);
            ++i;
            b = i;
        } else {
            i = b;
        }
        if (i < in.size() && in[i] == '"') {
            std::size_t e = in.find('"', i + 1);
            if (e == std::string_view::npos) e = in.size();
            t.text = in.substr(i + 1, e - i - 1);
            i = e == in.size() ? e : e + 1;
        } else {
            while (i < in.size() && !is_space(in[i])) ++i;
            t.text = in.substr(b, i - b);
        }
        out.push_back(t);
    }
    return out;
}

// The FTS5 column filter for a key, or nullptr when the key is not a field filter.
const char* column_of(std::string_view key) {
    static constexpr std::array<std::pair<std::string_view, const char*>, 3> cols{{
        {"from", "{sender}"}, {"to", "{recipients}"}, {"subject", "{subject}"}}};
    for (const auto& [k, c] : cols)
        if (iequals(key, k)) return c;
    return nullptr;
}

// spf:WORD, dkim:WORD, dmarc:WORD: the field a filter sets when WORD is a result word of that
// method (RFC 8601 §2.7.1, §2.7.2; RFC 7489 §11.2), lower-cased into `word`; else nullptr.
std::string* auth_filter(search_terms& t, std::string_view key, std::string_view text, std::string& word) {
    static constexpr std::array<std::string_view, 7> spf{"none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"};
    static constexpr std::array<std::string_view, 7> dkim{"none", "pass", "fail", "policy", "neutral", "temperror", "permerror"};
    static constexpr std::array<std::string_view, 5> dmarc{"none", "pass", "fail", "temperror", "permerror"};
    auto pick = [&](std::span<const std::string_view> words, std::string* field) -> std::string* {
        for (auto w : words)
            if (iequals(text, w)) {
                word = std::string(w);
                return field;
            }
        return nullptr;
    };
    if (iequals(key, "spf")) return pick(spf, &t.spf);
    if (iequals(key, "dkim")) return pick(dkim, &t.dkim);
    if (iequals(key, "dmarc")) return pick(dmarc, &t.dmarc);
    return nullptr;
}

void append_phrase(std::string& out, std::string_view column, std::string_view text) {
    bool has_word = false;
    for (unsigned char c : text) has_word = has_word || is_word_octet(c);
    if (!has_word) return;
    if (!out.empty()) out += ' ';
    if (!column.empty()) out.append(column).append(" : ");
    out += '"';
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

}  // namespace

search_terms parse_search(std::string_view input) {
    search_terms t;
    std::string word;
    for (const auto& tok : tokenize(input)) {
        if (iequals(tok.key, "is") && (iequals(tok.text, "read") || iequals(tok.text, "unread"))) {
            t.read = iequals(tok.text, "read");
        } else if (iequals(tok.key, "is") && (iequals(tok.text, "aligned") || iequals(tok.text, "unaligned"))) {
            t.aligned = iequals(tok.text, "aligned");
        } else if (iequals(tok.key, "has") && iequals(tok.text, "auth")) {
            t.with_auth = true;
        } else if (std::string* field = auth_filter(t, tok.key, tok.text, word)) {
            *field = std::move(word);
        } else if (iequals(tok.key, "has") && (iequals(tok.text, "attachment") || iequals(tok.text, "attachments"))) {
            t.with_attachments = true;
        } else if (const char* col = column_of(tok.key)) {
            append_phrase(t.fts, col, tok.text);
        } else if (!tok.key.empty()) {
            // Not a filter: "foo:bar" is the text it is.
            append_phrase(t.fts, {}, std::string(tok.key) + ":" + std::string(tok.text));
        } else {
            append_phrase(t.fts, {}, tok.text);
        }
    }
    if (!t.fts.empty()) t.fts += '*';
    return t;
}

std::string fts_query(std::string_view input) { return parse_search(input).fts; }

}  // namespace postern::index
