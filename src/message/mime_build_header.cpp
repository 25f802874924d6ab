// SPDX-License-Identifier: MIT
// Header fields for the builder. A field is written as a sequence of tokens, each with the white
// space before it; folding puts a CRLF before that white space, so unfolding (removing the CRLF,
// RFC 5322 §2.2.3) gives back exactly the value that was meant. Text that must be encoded goes
// out as RFC 2047 encoded-words sized to the room left on the line, so the first word shares the
// line with "Subject:" and no line passes 76 octets.
#include "message/encoding_detail.hpp"
#include "message/mime_build_detail.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace postern::message::detail {
namespace {

// Below this, a new encoded-word would carry too little; start a new line instead.
constexpr std::size_t min_word_room = 20;
// A longer plain word could not be folded under 78; it is encoded so that it can be split.
constexpr std::size_t max_plain_word = 70;

// RFC 5322 §3.2.3 atext.
bool is_atext(char ch) noexcept {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c != '\0' && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

bool atoms_with_single_spaces(std::string_view s) noexcept {
    if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == ' ') {
            if (s[i + 1] == ' ') return false;
        } else if (!is_atext(s[i])) {
            return false;
        }
    }
    return true;
}

struct chunk {
    std::string_view space;  // the white space before the word
    std::string_view word;
};

std::vector<chunk> split_words(std::string_view s) {
    std::vector<chunk> out;
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t ws = i;
        while (i < s.size() && is_wsp(s[i])) ++i;
        const std::size_t w = i;
        while (i < s.size() && !is_wsp(s[i])) ++i;
        out.push_back({s.substr(ws, w - ws), s.substr(w, i - w)});
    }
    return out;
}

bool must_encode(std::string_view word) noexcept { return word.size() > max_plain_word || needs_encoded_word(word); }

}  // namespace

header_writer::header_writer(std::string_view name) {
    out_ += name;
    out_ += ':';
    line_ = out_.size();
    too_long_ = line_ > max_line;
}

void header_writer::token(std::string_view token, std::string_view space) {
    const std::size_t need = space.size() + token.size();
    const bool fits = line_ + need <= fold_at;
    // Fold only where there is white space to fold before, and not right after the field name
    // unless the token would otherwise pass 998 octets.
    if (!fits && !space.empty() && line_ > 0 && (!empty_ || line_ + need > max_line)) {
        out_ += "\r\n";
        line_ = 0;
    }
    out_ += space;
    out_ += token;
    line_ += need;
    empty_ = false;
    if (line_ > max_line) too_long_ = true;
}

void header_writer::encoded(std::string_view utf8, word_syntax syntax, std::string_view space) {
    // Text that fits in one encoded-word goes on the next line rather than being split over two:
    // fewer words read better, and some readers (Python's email among them) wrongly keep the space
    // between two adjacent encoded-words in a display name.
    if (!empty_ && space.size() < fold_at - min_word_room) {
        std::string whole;
        if (encode_word(utf8, fold_at - space.size(), syntax, whole) == utf8.size()) return token(whole, space);
    }
    bool first = true;
    while (!utf8.empty()) {
        const std::string_view sp = first ? space : std::string_view(" ");
        std::size_t room = line_ + sp.size() < fold_at ? fold_at - line_ - sp.size() : 0;
        if (room < min_word_room && line_ > 0) {
            out_ += "\r\n";
            line_ = 0;
            room = fold_at - sp.size();
        }
        std::string word;
        utf8.remove_prefix(encode_word(utf8, room, syntax, word));
        token(word, sp);
        first = false;
    }
}

void header_writer::unstructured(std::string_view utf8) {
    const std::vector<chunk> chunks = split_words(utf8);
    for (std::size_t i = 0; i < chunks.size();) {
        const std::string_view space = chunks[i].space.empty() ? std::string_view(" ") : chunks[i].space;
        if (!must_encode(chunks[i].word)) {
            token(chunks[i].word, space);
            ++i;
            continue;
        }
        // A run of words to encode is encoded as one text, white space included: the space
        // between two encoded-words is not part of the value (RFC 2047 §6.2).
        const char* begin = chunks[i].word.data();
        std::size_t j = i;
        while (j + 1 < chunks.size() && must_encode(chunks[j + 1].word)) ++j;
        const char* end = chunks[j].word.data() + chunks[j].word.size();
        encoded(std::string_view(begin, static_cast<std::size_t>(end - begin)), word_syntax::text, space);
        i = j + 1;
    }
}

void header_writer::display_name(std::string_view utf8) {
    // A phrase is a sequence of words (RFC 5322 §3.2.5); the white space between them carries no
    // meaning, and readers (Python's email among them) collapse it, so it is written as single spaces.
    std::string name;
    for (const chunk& c : split_words(utf8)) {
        if (!name.empty()) name += ' ';
        name += c.word;
    }
    if (name.empty()) return;
    if (!needs_encoded_word(name)) {
        if (atoms_with_single_spaces(name) && name.size() <= max_plain_word) {
            for (const chunk& c : split_words(name)) token(c.word);
            return;
        }
        if (const std::string quoted = quoted_string(name); quoted.size() <= max_plain_word) return token(quoted);
    }
    // Word by word, as Python's email does: only the words that need it become encoded-words
    // (runs of them together, §5 (3) phrase rules); the others stay atoms or quoted-strings.
    // Besides being readable, this keeps encoded-words from standing next to each other, where
    // some readers wrongly keep the space between them (RFC 2047 §6.2 says to drop it).
    const std::vector<chunk> words = split_words(name);
    for (std::size_t i = 0; i < words.size();) {
        const std::string_view w = words[i].word;
        if (!must_encode(w)) {
            token(std::all_of(w.begin(), w.end(), is_atext) ? std::string(w) : quoted_string(w));
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j + 1 < words.size() && must_encode(words[j + 1].word)) ++j;
        const char* begin = words[i].word.data();
        const char* end = words[j].word.data() + words[j].word.size();
        encoded(std::string_view(begin, static_cast<std::size_t>(end - begin)), word_syntax::phrase);
        i = j + 1;
    }
}

std::string header_writer::finish() && {
    out_ += "\r\n";
    return std::move(out_);
}

std::string quoted_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

}  // namespace postern::message::detail
