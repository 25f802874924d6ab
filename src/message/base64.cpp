// SPDX-License-Identifier: MIT
#include "message/base64.hpp"

#include <array>
#include <cstdint>

namespace postern::message {
namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (std::size_t i = 0; i < alphabet.size(); ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto table = make_table();

}  // namespace

std::string base64_encode(std::string_view raw) {
    std::string out;
    out.reserve((raw.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= raw.size(); i += 3) {
        const std::uint32_t n = static_cast<unsigned char>(raw[i]) << 16 | static_cast<unsigned char>(raw[i + 1]) << 8 |
                                static_cast<unsigned char>(raw[i + 2]);
        for (int shift : {18, 12, 6, 0}) out += alphabet[(n >> shift) & 63];
    }
    const std::size_t rest = raw.size() - i;
    if (rest == 0) return out;
    std::uint32_t n = static_cast<unsigned char>(raw[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(raw[i + 1]) << 8;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += rest == 2 ? alphabet[(n >> 6) & 63] : '=';
    out += '=';
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t pad = 0;
    while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    std::uint32_t acc = 0;
    const std::size_t symbols = text.size() - pad;
    for (std::size_t i = 0; i < symbols; ++i) {
        const int v = table[static_cast<unsigned char>(text[i])];
        if (v < 0) return std::nullopt;
        acc = acc << 6 | static_cast<std::uint32_t>(v);
        if (i % 4 == 3) {
            out += static_cast<char>(acc >> 16 & 0xff);
            out += static_cast<char>(acc >> 8 & 0xff);
            out += static_cast<char>(acc & 0xff);
            acc = 0;
        }
    }
    if (pad == 2) {  // "xx==": 12 bits, the low 4 must be zero
        if (acc & 0xf) return std::nullopt;
        out += static_cast<char>(acc >> 4 & 0xff);
    } else if (pad == 1) {  // "xxx=": 18 bits, the low 2 must be zero
        if (acc & 0x3) return std::nullopt;
        out += static_cast<char>(acc >> 10 & 0xff);
        out += static_cast<char>(acc >> 2 & 0xff);
    }
    return out;
}

}  // namespace postern::message
