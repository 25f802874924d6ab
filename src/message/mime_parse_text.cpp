// SPDX-License-Identifier: MIT
// Plain text from a parsed message, for message lists and the search index: the snippet, and
// the HTML-to-text step it needs for HTML-only mail. This is not a renderer; it only has to
// find the words a person would read first, so it drops markup, skips what is never shown
// (scripts, styles, the head, comments) and ignores the invisible characters marketing mail pads
// its preview text with.
#include "message/encoding_detail.hpp"
#include "message/mime_parse.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace postern::message {
namespace {

using detail::append_utf8;

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

class text_sink {
public:
    void text(char c) {
        if (is_space(c)) return space();
        out_ += c;
    }
    void text(std::string_view s) {
        for (char c : s) text(c);
    }
    void space() {
        if (!out_.empty() && out_.back() != ' ' && out_.back() != '\n') out_ += ' ';
    }
    void line_break() {
        while (!out_.empty() && out_.back() == ' ') out_.pop_back();
        if (!out_.empty() && out_.back() != '\n') out_ += '\n';
    }
    std::string take() {
        while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\n')) out_.pop_back();
        return sanitize_utf8(out_);
    }

private:
    std::string out_;
};

constexpr std::array<std::pair<std::string_view, char32_t>, 28> named_refs{{
    {"amp", '&'},     {"lt", '<'},        {"gt", '>'},       {"quot", '"'},     {"apos", '\''},   {"nbsp", ' '},
    {"copy", 0xA9},   {"reg", 0xAE},      {"trade", 0x2122}, {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013},
    {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"euro", 0x20AC}, {"pound", 0xA3},
    {"yen", 0xA5},    {"cent", 0xA2},     {"deg", 0xB0},     {"middot", 0xB7},  {"bull", 0x2022}, {"laquo", 0xAB},
    {"raquo", 0xBB},  {"times", 0xD7},    {"zwnj", 0x200C},  {"shy", 0xAD},
}};

// A character reference at s[i] == '&': appends its character and returns the index after
// the ';', or returns i when it is not one (the '&' is then plain text).
std::size_t char_ref(std::string_view s, std::size_t i, std::string& out) {
    const auto semi = s.substr(0, i + 14).find(';', i);  // a bounded look: "&&&&..." stays linear
    if (semi == std::string_view::npos || semi == i + 1) return i;
    const std::string_view name = s.substr(i + 1, semi - i - 1);
    if (name[0] == '#') {
        const bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
        const std::string_view digits = name.substr(hex ? 2 : 1);
        if (digits.empty()) return i;
        char32_t cp = 0;
        for (char c : digits) {
            const int v = hex ? detail::hex_value(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
            if (v < 0) return i;
            cp = cp * (hex ? 16 : 10) + static_cast<char32_t>(v);
            if (cp > 0x10FFFF) cp = 0x110000;  // stays invalid; append_utf8 writes U+FFFD
        }
        append_utf8(out, cp == 0 ? 0xFFFD : cp);
        return semi + 1;
    }
    for (const auto& [n, cp] : named_refs) {
        if (n == name) {
            append_utf8(out, cp);
            return semi + 1;
        }
    }
    return i;
}

// The end of the tag that starts at s[i] == '<': just past its '>', skipping quoted attributes.
std::size_t tag_end(std::string_view s, std::size_t i) noexcept {
    char quote = 0;
    for (++i; i < s.size(); ++i) {
        if (quote) {
            if (s[i] == quote) quote = 0;
        } else if (s[i] == '"' || s[i] == '\'') {
            quote = s[i];
        } else if (s[i] == '>') {
            return i + 1;
        }
    }
    return s.size();
}

std::string tag_name(std::string_view s, std::size_t i, bool& closing) {
    ++i;
    closing = i < s.size() && s[i] == '/';
    if (closing) ++i;
    std::string name;
    while (i < s.size() && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
        name += detail::ascii_lower(s[i++]);
    return name;
}

bool is_block(std::string_view t) noexcept {
    static constexpr std::array<std::string_view, 18> blocks{"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4",
                                                              "h5", "h6", "table", "ul", "ol", "blockquote", "hr", "pre", "section"};
    return std::find(blocks.begin(), blocks.end(), t) != blocks.end();
}

// Skips an element whose content is never shown: returns the index after its end tag.
std::size_t skip_element(std::string_view s, std::size_t from, std::string_view name) {
    for (std::size_t i = from; (i = s.find("</", i)) != std::string_view::npos; i += 2) {
        if (detail::istarts_with(s.substr(i + 2), name)) return tag_end(s, i);
    }
    return s.size();
}

}  // namespace

std::string html_to_text(std::string_view html) {
    text_sink out;
    for (std::size_t i = 0; i < html.size();) {
        const char c = html[i];
        if (c == '<' && html.substr(i, 4) == "<!--") {
            const auto end = html.find("-->", i + 4);
            i = end == std::string_view::npos ? html.size() : end + 3;
        } else if (c == '<' && i + 1 < html.size() && (std::isalpha(static_cast<unsigned char>(html[i + 1])) || html[i + 1] == '/' || html[i + 1] == '!')) {
            bool closing = false;
            const std::string name = tag_name(html, i, closing);
            i = tag_end(html, i);
            if (!closing && (name == "script" || name == "style" || name == "head" || name == "title")) i = skip_element(html, i, name);
            else if (is_block(name)) out.line_break();
            else if (name == "td" || name == "th") out.space();
        } else if (c == '&') {
            std::string ref;
            const std::size_t next = char_ref(html, i, ref);
            if (next == i) {
                out.text('&');
                ++i;
            } else {
                out.text(ref);
                i = next;
            }
        } else {
            out.text(c);
            ++i;
        }
    }
    return out.take();
}

namespace {

// Characters with no visible form, used to pad preview text in marketing mail.
bool invisible(char32_t cp) noexcept {
    return cp == 0xAD || cp == 0x34F || (cp >= 0x200B && cp <= 0x200F) || cp == 0x2060 || cp == 0xFEFF;
}

char32_t code_point(std::string_view s, std::size_t i, std::size_t n) noexcept {
    const auto b = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k])); };
    switch (n) {
    case 1: return b(0);
    case 2: return (b(0) & 0x1F) << 6 | (b(1) & 0x3F);
    case 3: return (b(0) & 0x0F) << 12 | (b(1) & 0x3F) << 6 | (b(2) & 0x3F);
    default: return (b(0) & 0x07) << 18 | (b(1) & 0x3F) << 12 | (b(2) & 0x3F) << 6 | (b(3) & 0x3F);
    }
}

}  // namespace

std::string snippet(const parsed_message& m, std::size_t max_chars) {
    const bool has_text = !detail::trim_wsp(m.text).empty();
    const std::string source = has_text ? sanitize_utf8(m.text) : html_to_text(m.html);
    std::string out;
    std::size_t chars = 0;
    for (std::size_t i = 0; i < source.size() && chars < max_chars;) {
        const std::size_t n = detail::char_unit(source, i);
        const char32_t cp = code_point(source, i, n);
        if (cp == 0xA0 || (cp < 0x80 && (is_space(static_cast<char>(cp)) || cp == '\v'))) {
            if (!out.empty() && out.back() != ' ') {
                out += ' ';
                ++chars;
            }
        } else if (!invisible(cp) && cp >= 0x20 && cp != 0x7F) {
            out.append(source, i, n);
            ++chars;
        }
        i += n;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

}  // namespace postern::message
