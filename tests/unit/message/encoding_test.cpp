// SPDX-License-Identifier: MIT
#include "message/encoding.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace postern::message {
namespace {

using namespace std::string_literals;

std::vector<std::string> lines_of(std::string_view s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t nl; (nl = s.find("\r\n", start)) != std::string_view::npos; start = nl + 2)
        out.emplace_back(s.substr(start, nl - start));
    out.emplace_back(s.substr(start));
    return out;
}

std::string crlf(std::string_view s) {
    std::string out;
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

// Random UTF-8 text built from pieces that stress the encoders: specials, white space at line
// ends, multi-octet characters, things that look like encoded-words.
std::string random_text(std::mt19937_64& rng, std::size_t n, bool line_breaks) {
    static const char* const pieces[] = {"a", "Z", "0", " ", "  ", "\t", ".", "=", "?", "_", "\"", "(", ")", ",",
                                         ";", ":", "\\", "é", "ß", "€", "✓", "日本", "😀", "=?utf-8?q?x?=", "\xc2\xa0", "%"};
    std::string out;
    while (out.size() < n) {
        if (line_breaks && rng() % 12 == 0) out += rng() % 2 ? "\n" : "\r\n";
        else out += pieces[rng() % std::size(pieces)];
    }
    return out;
}

// ---- UTF-8 and charsets --------------------------------------------------------------------

TEST(utf8, validity) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("plain ascii"));
    EXPECT_TRUE(is_valid_utf8("\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
    EXPECT_FALSE(is_valid_utf8("\xC0\x80"));          // overlong NUL
    EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xC3"));              // truncated
    EXPECT_FALSE(is_valid_utf8("\x80"));              // stray continuation
    EXPECT_FALSE(is_valid_utf8("\xFF"));
}

TEST(utf8, sanitize_replaces_maximal_subparts) {
    EXPECT_EQ(sanitize_utf8("a\xC3(b"), "a\xEF\xBF\xBD(b");
    EXPECT_EQ(sanitize_utf8("\xE2\x82"), "\xEF\xBF\xBD");  // one truncated sequence, one U+FFFD
    EXPECT_EQ(sanitize_utf8("\xF0\x9F\x98" "a"), "\xEF\xBF\xBD" "a");
    EXPECT_EQ(sanitize_utf8("\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(sanitize_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST(charset, known_charsets_convert_to_utf8) {
    EXPECT_EQ(charset_to_utf8("iso-8859-1", "caf\xE9").text, "café");
    EXPECT_EQ(charset_to_utf8("ISO_8859-1", "\xFC").text, "ü");
    EXPECT_EQ(charset_to_utf8("latin1", "\x93q\x94").text, "“q”");  // WHATWG: iso-8859-1 is read as windows-1252
    EXPECT_EQ(charset_to_utf8("windows-1252", "\x80 \x85 \x99").text, "€ … ™");
    EXPECT_EQ(charset_to_utf8("cp1252", "\x81").text, "\xC2\x81");  // a hole maps to the C1 control
    EXPECT_EQ(charset_to_utf8("iso-8859-15", "\xA4\xBD").text, "€œ");
    EXPECT_EQ(charset_to_utf8("\"UTF-8\"", "\xC3\xA9").text, "é");
    EXPECT_EQ(charset_to_utf8("utf-8*en", "x").text, "x");  // RFC 2231 §5 language suffix
    EXPECT_EQ(charset_to_utf8("utf-8", "a\xFF").text, "a\xEF\xBF\xBD");
}

TEST(charset, us_ascii_that_is_utf8_is_read_as_utf8) {
    EXPECT_EQ(charset_to_utf8("us-ascii", "caf\xC3\xA9").text, "café");
    EXPECT_EQ(charset_to_utf8("us-ascii", "caf\xE9").text, "café");
    EXPECT_EQ(charset_to_utf8("", "caf\xE9").text, "café");
}

TEST(charset, unknown_charset_is_flagged_and_sanitized) {
    const utf8_text t = charset_to_utf8("koi8-r", "abc\xFF");
    EXPECT_FALSE(t.known);
    EXPECT_EQ(t.text, "abc\xEF\xBF\xBD");
    EXPECT_TRUE(charset_to_utf8("UTF8", "x").known);
}

TEST(charset, raw_header_octets) {
    EXPECT_EQ(raw_header_to_utf8("J\xC3\xB6rg"), "Jörg");  // RFC 6532 UTF-8
    EXPECT_EQ(raw_header_to_utf8("J\xF6rg"), "Jörg");      // Latin-1 from an old mailer
}

// ---- quoted-printable -----------------------------------------------------------------------

TEST(qp, encodes_specials_and_keeps_printable_ascii) {
    EXPECT_EQ(qp_encode("abc xyz!"), "abc xyz!");
    EXPECT_EQ(qp_encode("a=b"), "a=3Db");
    EXPECT_EQ(qp_encode("é"), "=C3=A9");
    EXPECT_EQ(qp_encode("nul\0x"s), "nul=00x");
    EXPECT_EQ(qp_encode(".leading dot"), ".leading dot");  // SMTP dot-stuffing takes care of it
}

TEST(qp, trailing_white_space_is_encoded) {
    EXPECT_EQ(qp_encode("a \nb"), "a=20\r\nb");
    EXPECT_EQ(qp_encode("a\t\r\nb"), "a=09\r\nb");
    EXPECT_EQ(qp_encode("a  "), "a =20");  // only the last one needs it
    EXPECT_EQ(qp_encode("a b"), "a b");
}

TEST(qp, any_line_ending_becomes_crlf) { EXPECT_EQ(qp_encode("a\nb\rc\r\nd\n"), "a\r\nb\r\nc\r\nd\r\n"); }

TEST(qp, long_lines_get_soft_breaks_within_76) {
    EXPECT_EQ(qp_encode(std::string(76, 'x')), std::string(76, 'x'));  // fits exactly: no break
    const std::string enc = qp_encode(std::string(77, 'x'));
    EXPECT_EQ(enc, std::string(75, 'x') + "=\r\n" + "xx");
    const std::string long_text = std::string(500, 'y') + "\n" + std::string(200, 'z');
    for (const std::string& line : lines_of(qp_encode(long_text))) EXPECT_LE(line.size(), 76u);
    EXPECT_EQ(qp_decode(qp_encode(long_text)), crlf(long_text));
}

TEST(qp, soft_breaks_never_split_a_character_or_a_triplet) {
    // 74 octets, then "é" (6 encoded octets) cannot fit before the soft break.
    const std::string enc = qp_encode(std::string(74, 'x') + "ééé");
    const auto lines = lines_of(enc);
    ASSERT_GE(lines.size(), 2u);
    EXPECT_EQ(lines[0], std::string(74, 'x') + "=");
    EXPECT_EQ(lines[1].substr(0, 6), "=C3=A9");
    std::mt19937_64 rng(7);
    for (int round = 0; round < 200; ++round) {
        const std::string text = random_text(rng, rng() % 400, true);
        for (const std::string& line : lines_of(qp_encode(text))) {
            EXPECT_LE(line.size(), 76u);
            if (!line.empty()) {
                EXPECT_TRUE(line.back() != ' ' && line.back() != '\t') << line;
            }
            // Each encoded line decodes to whole characters.
            const std::string piece = line.ends_with("=") ? line.substr(0, line.size() - 1) : line;
            EXPECT_TRUE(is_valid_utf8(qp_decode(piece))) << line;
        }
    }
}

TEST(qp, round_trips_random_text) {
    std::mt19937_64 rng(11);
    for (int round = 0; round < 300; ++round) {
        const std::string text = random_text(rng, rng() % 300, true);
        bool damaged = false;
        EXPECT_EQ(qp_decode(qp_encode(text), &damaged), crlf(text));
        EXPECT_FALSE(damaged);
    }
}

TEST(qp, decoding_is_tolerant) {
    EXPECT_EQ(qp_decode("ab=\r\ncd"), "abcd");
    EXPECT_EQ(qp_decode("ab=  \r\ncd"), "abcd");  // white space after the soft break's '='
    EXPECT_EQ(qp_decode("ab=\ncd"), "abcd");
    EXPECT_EQ(qp_decode("=c3=a9"), "é");          // lower-case hex
    EXPECT_EQ(qp_decode("abc   \r\nx"), "abc\r\nx");  // rule 3: added in transit
    EXPECT_EQ(qp_decode("a\nb"), "a\nb");
    EXPECT_EQ(qp_decode("end="), "end");
    bool damaged = false;
    EXPECT_EQ(qp_decode("a=ZZb=4", &damaged), "a=ZZb=4");
    EXPECT_TRUE(damaged);
}

// ---- base64 bodies --------------------------------------------------------------------------

TEST(base64_body, lines_of_76_without_a_final_crlf) {
    const std::string raw(200, '\x5a');
    const std::string enc = base64_encode_lines(raw);
    const auto lines = lines_of(enc);
    ASSERT_EQ(lines.size(), 4u);  // 268 symbols
    EXPECT_EQ(lines[0].size(), 76u);
    EXPECT_EQ(lines[3].size(), 268u - 3 * 76);
    EXPECT_FALSE(enc.ends_with("\r\n"));
    EXPECT_EQ(base64_decode_lenient(enc), raw);
    EXPECT_EQ(base64_decoded_size(enc), raw.size());
    EXPECT_EQ(base64_encode_lines(""), "");
}

TEST(base64_body, lenient_decoding) {
    bool damaged = false;
    EXPECT_EQ(base64_decode_lenient("aGVs\r\n bG8=\r\n", &damaged), "hello");
    EXPECT_FALSE(damaged);
    EXPECT_EQ(base64_decode_lenient("YQ", &damaged), "a");  // padding left out
    EXPECT_FALSE(damaged);
    EXPECT_EQ(base64_decode_lenient("YQ==YQ==", &damaged), "aa");  // two encodings run together
    EXPECT_EQ(base64_decode_lenient("Y*Q==", &damaged), "a");
    EXPECT_TRUE(damaged);
    damaged = false;
    EXPECT_EQ(base64_decode_lenient("YWJjZ", &damaged), "abc");  // a dangling symbol
    EXPECT_TRUE(damaged);
    EXPECT_EQ(base64_decoded_size("YWJjZ"), 3u);
}

// ---- RFC 2047 ---------------------------------------------------------------------------------

TEST(rfc2047, decodes_the_examples_of_section_8) {
    EXPECT_EQ(decode_words("=?US-ASCII?Q?Keith_Moore?="), "Keith Moore");
    EXPECT_EQ(decode_words("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?="), "Keld Jørn Simonsen");
    EXPECT_EQ(decode_words("=?ISO-8859-1?Q?Andr=E9?= Pirard"), "André Pirard");
    EXPECT_EQ(decode_words("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
                           "    =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?="),
              "If you can read this you understand the example.");
    EXPECT_EQ(decode_words("=?ISO-8859-1?Q?Olle_J=E4rnefors?="), "Olle Järnefors");
    EXPECT_EQ(decode_words("=?ISO-8859-1?Q?Patrik_F=E4ltstr=F6m?="), "Patrik Fältström");
    // The table of §8: white space between adjacent encoded-words is not displayed.
    EXPECT_EQ(decode_words("(=?ISO-8859-1?Q?a?=)"), "(a)");
    EXPECT_EQ(decode_words("(=?ISO-8859-1?Q?a?= b)"), "(a b)");
    EXPECT_EQ(decode_words("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)"), "(ab)");
    EXPECT_EQ(decode_words("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)"), "(ab)");
    EXPECT_EQ(decode_words("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)"), "(ab)");
    EXPECT_EQ(decode_words("(=?ISO-8859-1?Q?a_b?=)"), "(a b)");
    EXPECT_EQ(decode_words("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)"), "(a b)");
}

TEST(rfc2047, language_suffix_of_rfc2231_section_5) {
    EXPECT_EQ(decode_words("=?US-ASCII*EN?Q?Keith_Moore?="), "Keith Moore");
}

TEST(rfc2047, a_character_split_across_words_is_joined) {
    // "é" is C3 A9: "ww==" and "qQ==" carry one octet each (against §5, but it happens).
    EXPECT_EQ(decode_words("=?utf-8?B?ww==?= =?UTF-8?B?qQ==?="), "é");
    EXPECT_EQ(decode_words("=?utf-8?Q?=C3?= =?utf-8?Q?=A9?="), "é");
}

TEST(rfc2047, malformed_words_stay_as_they_are) {
    EXPECT_EQ(decode_words("=?utf-8?X?abc?="), "=?utf-8?X?abc?=");
    EXPECT_EQ(decode_words("=?utf-8?Q?abc"), "=?utf-8?Q?abc");
    EXPECT_EQ(decode_words("=?utf-8?Q?a b?="), "=?utf-8?Q?a b?=");  // no white space inside a word
    EXPECT_EQ(decode_words("=??Q?x?="), "=??Q?x?=");
    EXPECT_EQ(decode_words("a =? b ?= c"), "a =? b ?= c");
    EXPECT_EQ(decode_words("=?utf-8?q?" "?="), "");  // split: "??=" would be a trigraph
}

TEST(rfc2047, lenient_cases) {
    EXPECT_EQ(decode_words("Re:=?utf-8?q?caf=C3=A9?="), "Re:café");  // no space before the word
    EXPECT_EQ(decode_words("=?utf-8?b?Y2Fmw6k?="), "café");         // padding left out
    EXPECT_EQ(decode_words("plain caf\xE9"), "plain café");          // raw Latin-1
    bool unknown = false;
    EXPECT_EQ(decode_words("=?x-unknown?q?abc?=", &unknown), "abc");
    EXPECT_TRUE(unknown);
}

TEST(rfc2047, encoded_words_are_short_and_whole) {
    std::mt19937_64 rng(3);
    for (int round = 0; round < 300; ++round) {
        const std::string text = random_text(rng, rng() % 200, false);
        for (word_syntax syntax : {word_syntax::text, word_syntax::phrase}) {
            const std::string enc = encode_words(text, syntax);
            std::size_t start = 0;
            while (start < enc.size()) {
                std::size_t sp = enc.find(' ', start);
                if (sp == std::string::npos) sp = enc.size();
                const std::string word = enc.substr(start, sp - start);
                EXPECT_LE(word.size(), max_encoded_word);
                EXPECT_TRUE(is_valid_utf8(decode_words(word))) << word;  // never half a character
                start = sp + 1;
            }
            EXPECT_EQ(decode_words(enc), text);
        }
    }
}

TEST(rfc2047, phrase_words_carry_only_the_allowed_characters) {
    const std::string enc = encode_words("Smith, John \"Q.\" (Jr) <x@y> ;:", word_syntax::phrase);
    ASSERT_TRUE(enc.starts_with("=?utf-8?Q?"));
    const std::string text = enc.substr(10, enc.size() - 12);
    for (char c : text) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!*+-/=_").find(c) != std::string_view::npos) << c;
    EXPECT_EQ(decode_words(enc), "Smith, John \"Q.\" (Jr) <x@y> ;:");
}

TEST(rfc2047, encode_word_fits_the_room_and_always_progresses) {
    std::string out;
    EXPECT_EQ(encode_word("ééééé", 20, word_syntax::text, out), 6u);  // three: "=?utf-8?B?w6nDqcOp?=" is 20
    EXPECT_EQ(out, "=?utf-8?B?w6nDqcOp?=");
    out.clear();
    EXPECT_EQ(encode_word("😀", 1, word_syntax::text, out), 4u);  // no room: one character anyway
    EXPECT_EQ(decode_words(out), "😀");
    out.clear();
    EXPECT_EQ(encode_word("", 75, word_syntax::text, out), 0u);
}

TEST(rfc2047, which_words_need_encoding) {
    EXPECT_FALSE(needs_encoded_word("plain"));
    EXPECT_FALSE(needs_encoded_word("a?b=c"));
    EXPECT_TRUE(needs_encoded_word("é"));
    EXPECT_TRUE(needs_encoded_word("tab\there"));
    EXPECT_TRUE(needs_encoded_word("x=?y"));
}

// ---- RFC 2231 parameters ----------------------------------------------------------------------

TEST(rfc2231, examples_of_the_rfc) {
    auto v = parse_parameters("message/external-body; access-type=URL;\r\n URL*0=\"ftp://\";\r\n"
                              " URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"");
    EXPECT_EQ(v.value, "message/external-body");
    EXPECT_EQ(v.param("access-type"), "URL");
    EXPECT_EQ(v.param("url"), "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar");
    v = parse_parameters("application/x-stuff;\r\n title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A");
    EXPECT_EQ(v.param("title"), "This is ***fun***");
    // §4.1, with the ';' separators its text leaves out.
    v = parse_parameters("application/x-stuff;\r\n title*0*=us-ascii'en'This%20is%20even%20more%20;\r\n"
                         " title*1*=%2A%2A%2Afun%2A%2A%2A%20;\r\n title*2=\"isn't it!\"");
    EXPECT_EQ(v.param("title"), "This is even more ***fun*** isn't it!");
    EXPECT_FALSE(v.damaged);
}

TEST(rfc2231, charsets_and_precedence) {
    EXPECT_EQ(parse_parameters("attachment; filename*=iso-8859-1''%E9t%E9.txt").param("filename"), "été.txt");
    EXPECT_EQ(parse_parameters("attachment; filename*=UTF-8''%C3%A9t%C3%A9.txt").param("filename"), "été.txt");
    // The extended value wins over the plain fallback, in either order.
    EXPECT_EQ(parse_parameters("a; filename=\"_t_.txt\"; filename*=utf-8''%C3%A9t%C3%A9.txt").param("filename"), "été.txt");
    EXPECT_EQ(parse_parameters("a; filename*=utf-8''%C3%A9t%C3%A9.txt; filename=\"_t_.txt\"").param("filename"), "été.txt");
    const auto v = parse_parameters("a; filename*0*=utf-8''%C3; filename*1*=%A9.txt");  // octets joined before decoding
    EXPECT_EQ(v.param("filename"), "é.txt");
    EXPECT_EQ(v.params.size(), 1u);
}

TEST(rfc2231, sections_in_any_order_and_gaps) {
    EXPECT_EQ(parse_parameters("a; t*1=\"b\"; t*0=\"a\"; t*2=c").param("t"), "abc");
    const auto v = parse_parameters("a; t*0=a; t*2=c");
    EXPECT_EQ(v.param("t"), "a");
    EXPECT_TRUE(v.damaged);
}

TEST(rfc2231, lenient_syntax) {
    auto v = parse_parameters("Text/Plain (Plain text); Charset=US-ASCII (Plain text)");
    EXPECT_EQ(v.value, "text/plain");
    EXPECT_EQ(v.param("charset"), "US-ASCII");
    EXPECT_EQ(parse_parameters("a; name=\"a \\\"b\\\" c\"").param("name"), "a \"b\" c");
    EXPECT_EQ(parse_parameters("a; name=my file.pdf").param("name"), "my file.pdf");
    EXPECT_EQ(parse_parameters("a; name=\"=?utf-8?B?w6kucGRm?=\"").param("name"), "é.pdf");  // RFC 2047 in a value
    EXPECT_EQ(parse_parameters("a; name=\"caf\xE9\"").param("name"), "café");                 // raw Latin-1
    EXPECT_EQ(parse_parameters("a; NAME=first; name=second").param("name"), "first");
    v = parse_parameters("a; ; junk; =x; b=1; c=\"unterminated");
    EXPECT_EQ(v.param("b"), "1");
    EXPECT_EQ(v.param("c"), "unterminated");
    EXPECT_TRUE(v.damaged);
    std::string many = "a";
    for (int i = 0; i < 200; ++i) many += "; p" + std::to_string(i) + "=" + std::to_string(i);
    v = parse_parameters(many);
    EXPECT_EQ(v.params.size(), 64u);
    EXPECT_TRUE(v.damaged);
    v = parse_parameters(std::string(10000, ';') + "x=1");
    EXPECT_EQ(v.param("x"), "1");
}

std::string join(const std::vector<std::string>& segments) {
    std::string out = "x";
    for (const std::string& s : segments) out += "; " + s;
    return out;
}

TEST(rfc2231, encode_parameter_forms) {
    EXPECT_EQ(encode_parameter("charset", "utf-8", false), std::vector<std::string>{"charset=utf-8"});
    EXPECT_EQ(encode_parameter("name", "a b.txt", true), std::vector<std::string>{"name=\"a b.txt\""});
    EXPECT_EQ(encode_parameter("name", "a\"b\\c", true), std::vector<std::string>{"name=\"a\\\"b\\\\c\""});
    EXPECT_EQ(encode_parameter("filename", "été.pdf", true),
              (std::vector<std::string>{"filename*=utf-8''%C3%A9t%C3%A9.pdf", "filename=\"_t_.pdf\""}));
    EXPECT_EQ(encode_parameter("filename", "été.pdf", false), std::vector<std::string>{"filename*=utf-8''%C3%A9t%C3%A9.pdf"});
    // "=?" is percent-encoded, so that no reader takes it for an encoded-word.
    EXPECT_EQ(encode_parameter("filename", "a=?b?=.txt", true),
              (std::vector<std::string>{"filename*=utf-8''a%3D%3Fb%3F%3D.txt", "filename=\"a=_b_=.txt\""}));
}

TEST(rfc2231, long_values_are_split_at_characters) {
    const std::string name = "rapport été 2024 — très long nom de fichier pour tester les continuations 日本語.pdf";
    const auto segments = encode_parameter("filename", name, true);
    ASSERT_GT(segments.size(), 2u);
    EXPECT_TRUE(segments[0].starts_with("filename*0*=utf-8''"));
    for (const std::string& s : segments) {
        EXPECT_LE(s.size(), 64u) << s;
        // Each section decodes to whole characters on its own (Python's email decodes them one by one).
        const auto eq = s.find('=');
        std::string value = s.substr(eq + 1);
        if (value.starts_with("utf-8''")) value = value.substr(7);
        EXPECT_TRUE(is_valid_utf8(parse_parameters("x; v*=utf-8''" + value).param("v"))) << s;
    }
    EXPECT_EQ(parse_parameters(join(segments)).param("filename"), name);
    const std::string ascii(150, 'a');
    const auto plain = encode_parameter("name", ascii, true);
    ASSERT_GT(plain.size(), 2u);
    EXPECT_TRUE(plain[0].starts_with("name*0=\""));
    EXPECT_EQ(parse_parameters(join(plain)).param("name"), ascii);
}

TEST(rfc2231, random_values_round_trip) {
    std::mt19937_64 rng(5);
    for (int round = 0; round < 300; ++round) {
        std::string value = random_text(rng, rng() % 150, false);
        const auto segments = encode_parameter("filename", value, true);
        const auto parsed = parse_parameters(join(segments));
        EXPECT_EQ(parsed.param("filename"), value) << join(segments);
        EXPECT_FALSE(parsed.damaged);
    }
}

// ---- content types ------------------------------------------------------------------------------

TEST(content_types, by_extension) {
    EXPECT_EQ(content_type_for_filename("report.pdf"), "application/pdf");
    EXPECT_EQ(content_type_for_filename("PHOTO.JPG"), "image/jpeg");
    EXPECT_EQ(content_type_for_filename("photo.jpeg"), "image/jpeg");
    EXPECT_EQ(content_type_for_filename("a.txt"), "text/plain");
    EXPECT_EQ(content_type_for_filename("a.html"), "text/html");
    EXPECT_EQ(content_type_for_filename("a.png"), "image/png");
    EXPECT_EQ(content_type_for_filename("a.gif"), "image/gif");
    EXPECT_EQ(content_type_for_filename("a.svg"), "image/svg+xml");
    EXPECT_EQ(content_type_for_filename("a.csv"), "text/csv");
    EXPECT_EQ(content_type_for_filename("a.json"), "application/json");
    EXPECT_EQ(content_type_for_filename("a.zip"), "application/zip");
    EXPECT_EQ(content_type_for_filename("backup.tar.gz"), "application/gzip");
    EXPECT_EQ(content_type_for_filename("a.tar"), "application/x-tar");
    EXPECT_EQ(content_type_for_filename("fwd.eml"), "message/rfc822");
    EXPECT_EQ(content_type_for_filename("invite.ics"), "text/calendar");
    EXPECT_EQ(content_type_for_filename("a.doc"), "application/msword");
    EXPECT_EQ(content_type_for_filename("a.docx"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    EXPECT_EQ(content_type_for_filename("a.xls"), "application/vnd.ms-excel");
    EXPECT_EQ(content_type_for_filename("a.xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    EXPECT_EQ(content_type_for_filename("a.mp3"), "audio/mpeg");
    EXPECT_EQ(content_type_for_filename("a.mp4"), "video/mp4");
    EXPECT_EQ(content_type_for_filename("a.wav"), "audio/wav");
    EXPECT_EQ(content_type_for_filename("a.webp"), "image/webp");
    EXPECT_EQ(content_type_for_filename("no-extension"), "application/octet-stream");
    EXPECT_EQ(content_type_for_filename("a.unknownext"), "application/octet-stream");
    EXPECT_EQ(content_type_for_filename("a."), "application/octet-stream");
    EXPECT_EQ(content_type_for_filename(""), "application/octet-stream");
}

TEST(content_types, syntax) {
    EXPECT_TRUE(is_valid_content_type("text/plain"));
    EXPECT_TRUE(is_valid_content_type("application/vnd.ms-excel"));
    EXPECT_FALSE(is_valid_content_type("text"));
    EXPECT_FALSE(is_valid_content_type("text/"));
    EXPECT_FALSE(is_valid_content_type("/plain"));
    EXPECT_FALSE(is_valid_content_type("text/pl ain"));
    EXPECT_FALSE(is_valid_content_type("text/plain;"));
    EXPECT_FALSE(is_valid_content_type("a/b/c"));
}

}  // namespace
}  // namespace postern::message
