// SPDX-License-Identifier: MIT
// OpenSSL 3 marks the low-level MD5 functions deprecated; resuming MD5 from a stored state (the
// Dovecot {CRAM-MD5} context) has no EVP equivalent, so this one file asks for them anyway.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "auth/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <stdexcept>

namespace postern::auth::crypto {
namespace {

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int len = 0;
    if (HMAC(md, key.data(), static_cast<int>(key.size()), bytes(data), data.size(), out.data(), &len) == nullptr)
        throw std::runtime_error("HMAC failed");
    return {reinterpret_cast<const char*>(out.data()), len};
}

constexpr std::string_view b64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) {
    auto pos = b64_alphabet.find(c);
    return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The MD5 state after one 64-byte block: the key padded and XORed with `pad` (RFC 2104).
std::array<std::uint32_t, 4> md5_pad_state(std::string_view key, unsigned char pad) {
    std::array<unsigned char, 64> block{};
    for (std::size_t i = 0; i < key.size(); ++i) block[i] = static_cast<unsigned char>(key[i]);
    for (auto& b : block) b ^= pad;
    MD5_CTX c;
    MD5_Init(&c);
    MD5_Update(&c, block.data(), block.size());
    OPENSSL_cleanse(block.data(), block.size());
    std::array<std::uint32_t, 4> s{c.A, c.B, c.C, c.D};
    OPENSSL_cleanse(&c, sizeof c);
    return s;
}

void put_le(std::string& out, std::uint32_t w) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((w >> (8 * i)) & 0xff));
}

std::uint32_t get_le(std::string_view in, std::size_t at) {
    std::uint32_t w = 0;
    for (int i = 3; i >= 0; --i) w = (w << 8) | static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
    return w;
}

// MD5 resumed from the state after one block (the HMAC pad), over `data`.
std::string md5_resume(std::string_view context, std::size_t at, std::string_view data) {
    MD5_CTX c;
    MD5_Init(&c);
    c.A = get_le(context, at);
    c.B = get_le(context, at + 4);
    c.C = get_le(context, at + 8);
    c.D = get_le(context, at + 12);
    c.Nl = 512;  // bits already hashed: the 64-byte pad block
    MD5_Update(&c, data.data(), data.size());
    std::array<unsigned char, MD5_DIGEST_LENGTH> out{};
    MD5_Final(out.data(), &c);
    return {reinterpret_cast<const char*>(out.data()), out.size()};
}

}  // namespace

std::string sha256(std::string_view data) {
    std::array<unsigned char, 32> out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 failed");
    return {reinterpret_cast<const char*>(out.data()), len};
}

std::string hmac_sha256(std::string_view key, std::string_view data) { return hmac(EVP_sha256(), key, data); }
std::string hmac_md5(std::string_view key, std::string_view data) { return hmac(EVP_md5(), key, data); }

std::string pbkdf2_sha256(std::string_view password, std::string_view salt, unsigned iterations) {
    std::string out(32, '\0');
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), bytes(salt), static_cast<int>(salt.size()),
                          static_cast<int>(iterations), EVP_sha256(), static_cast<int>(out.size()),
                          reinterpret_cast<unsigned char*>(out.data())) != 1)
        throw std::runtime_error("PBKDF2 failed");
    return out;
}

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("RAND_bytes failed");
    return out;
}

bool equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64_encode(std::string_view raw) {
    std::string out;
    out.reserve((raw.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < raw.size(); i += 3) {
        std::uint32_t n = static_cast<unsigned char>(raw[i]) << 16;
        if (i + 1 < raw.size()) n |= static_cast<unsigned char>(raw[i + 1]) << 8;
        if (i + 2 < raw.size()) n |= static_cast<unsigned char>(raw[i + 2]);
        out.push_back(b64_alphabet[(n >> 18) & 63]);
        out.push_back(b64_alphabet[(n >> 12) & 63]);
        out.push_back(i + 1 < raw.size() ? b64_alphabet[(n >> 6) & 63] : '=');
        out.push_back(i + 2 < raw.size() ? b64_alphabet[n & 63] : '=');
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
        if (pad == 1 && text[i + 2] == '=') return std::nullopt;  // "x=y=" style
        std::uint32_t n = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = text[i + static_cast<std::size_t>(k)];
            const int v = (k >= 4 - pad) ? 0 : b64_value(c);
            if (v < 0) return std::nullopt;
            n = (n << 6) | static_cast<std::uint32_t>(v);
        }
        if ((pad == 1 && (n & 0xff)) || (pad == 2 && (n & 0xffff))) return std::nullopt;  // leftover bits
        out.push_back(static_cast<char>(n >> 16));
        if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
        if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
    }
    return out;
}

std::string hex_encode(std::string_view raw) {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (unsigned char c : raw) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

std::optional<std::string> hex_decode(std::string_view text) {
    if (text.size() % 2 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
}

std::string cram_md5_context(std::string_view password) {
    // RFC 2104: a key longer than the block is hashed first.
    std::string key(password);
    if (key.size() > 64) {
        std::array<unsigned char, MD5_DIGEST_LENGTH> d{};
        if (EVP_Digest(password.data(), password.size(), d.data(), nullptr, EVP_md5(), nullptr) != 1)
            throw std::runtime_error("MD5 failed");
        key.assign(reinterpret_cast<const char*>(d.data()), d.size());
    }
    std::string out;
    for (auto w : md5_pad_state(key, 0x5c)) put_le(out, w);  // outer first, as Dovecot stores it
    for (auto w : md5_pad_state(key, 0x36)) put_le(out, w);
    OPENSSL_cleanse(key.data(), key.size());
    return out;
}

std::string cram_md5_digest(std::string_view context, std::string_view message) {
    if (context.size() != 32) return {};
    return md5_resume(context, 0, md5_resume(context, 16, message));
}

}  // namespace postern::auth::crypto
