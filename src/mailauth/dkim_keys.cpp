// SPDX-License-Identifier: MIT
// DKIM key files, key generation and key records, with OpenSSL 3's EVP API.
#include "mailauth/dkim_keys.hpp"

#include "mailauth/dkim_tags.hpp"
#include "message/base64.hpp"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <iterator>
#include <limits>

namespace postern::mailauth {
namespace {

using bio_ptr = std::unique_ptr<BIO, c_deleter<&BIO_free_all>>;

int no_passphrase(char*, int, int, void*) { return -1; }  // an encrypted key is refused, not prompted for

result<std::string> public_der(EVP_PKEY& key) {
    unsigned char* der = nullptr;
    const int n = i2d_PUBKEY(&key, &der);
    if (n <= 0) return fail(dkim_errc::crypto_error);
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    return out;
}

}  // namespace

result<evp_pkey_ptr> parse_private_key(std::string_view pem) {
    if (pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return fail(dkim_errc::bad_pem);
    bio_ptr in{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
    if (!in) return fail(dkim_errc::crypto_error);
    evp_pkey_ptr key{PEM_read_bio_PrivateKey(in.get(), nullptr, no_passphrase, nullptr)};
    if (!key || !key_algorithm(*key)) return fail(dkim_errc::bad_pem);
    return key;
}

result<evp_pkey_ptr> load_private_key(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return fail(std::make_error_code(std::errc::no_such_file_or_directory));
    const std::string pem{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) return fail(std::make_error_code(std::errc::io_error));
    return parse_private_key(pem);
}

result<dkim_key_algorithm> key_algorithm(const EVP_PKEY& key) {
    switch (EVP_PKEY_get_base_id(&key)) {
        case EVP_PKEY_RSA: return dkim_key_algorithm::rsa;
        case EVP_PKEY_ED25519: return dkim_key_algorithm::ed25519;
        default: return fail(dkim_errc::bad_pem);
    }
}

result<std::string> dns_record_for(EVP_PKEY& key) {
    auto alg = key_algorithm(key);
    if (!alg) return fail(alg.error());
    if (*alg == dkim_key_algorithm::rsa) {
        auto der = public_der(key);
        if (!der) return fail(der.error());
        return "v=DKIM1; k=rsa; p=" + message::base64_encode(*der);
    }
    unsigned char raw[32];
    std::size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(&key, raw, &len) != 1 || len != sizeof raw) return fail(dkim_errc::crypto_error);
    return "v=DKIM1; k=ed25519; p=" +
           message::base64_encode(std::string_view(reinterpret_cast<const char*>(raw), len));
}

result<generated_key> generate_key(dkim_key_algorithm algorithm, unsigned rsa_bits) {
    evp_pkey_ptr key{algorithm == dkim_key_algorithm::rsa
                         ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(rsa_bits))
                         : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")};
    if (!key) return fail(dkim_errc::crypto_error);
    bio_ptr out{BIO_new(BIO_s_mem())};
    // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY") in OpenSSL 3.
    if (!out || PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return fail(dkim_errc::crypto_error);
    char* data = nullptr;
    const long n = BIO_get_mem_data(out.get(), &data);
    if (n <= 0) return fail(dkim_errc::crypto_error);
    generated_key g;
    g.private_pem.assign(data, static_cast<std::size_t>(n));
    auto record = dns_record_for(*key);
    if (!record) return fail(record.error());
    g.dns_record = std::move(*record);
    return g;
}

std::string record_name(std::string_view selector, std::string_view domain) {
    std::string name(selector);
    name.append("._domainkey.").append(domain);
    return name;
}

result<std::string> sha256(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) return fail(dkim_errc::crypto_error);
    return std::string(reinterpret_cast<const char*>(md), len);
}

}  // namespace postern::mailauth
