// SPDX-License-Identifier: MIT
// Self-signed certificates for the zero-configuration start ("postern serve" alone still offers
// STARTTLS). A pair in the folder is reused while it is sound; otherwise a new one is generated
// with the OpenSSL 3 API and written the way the spool writes: a temporary file in the same
// folder, fsync, rename, then fsync of the folder. The key is written before the certificate, so
// a crash between the two renames leaves a mismatched pair, which the next start regenerates.
#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "net/openssl_util.hpp"
#include "net/tls.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <ctime>
#include <string_view>

namespace postern::net {
namespace {

namespace fs = std::filesystem;

constexpr int validity_days = 825;          // the CA/Browser Forum's former ceiling for server certificates
constexpr long backdate_seconds = 3600;     // a client whose clock is a little behind still accepts it
constexpr long renew_margin_seconds = 86400;  // renewed a day early: a daily reload never serves an expired one
constexpr std::size_t max_common_name = 64;   // RFC 5280 ub-common-name; the SAN has no such limit

bool valid_hostname(const std::string& host) {
    if (host.empty() || host.size() > 253) return false;
    if (detail::is_ip_literal(host)) return true;
    for (unsigned char c : host)
        if (!std::isalnum(c) && c != '-' && c != '.' && c != '_') return false;
    return host.front() != '.' && host.front() != '-';
}

// "localhost", or this machine's name (postern's default host name): local clients connect to
// 127.0.0.1 or ::1, so those are in the certificate too.
bool is_local_name(const std::string& host) {
    if (::strcasecmp(host.c_str(), "localhost") == 0) return true;
    char name[256] = {};
    return ::gethostname(name, sizeof name - 1) == 0 && ::strcasecmp(host.c_str(), name) == 0;
}

std::string subject_alt_names(const std::string& host) {
    std::string san = (detail::is_ip_literal(host) ? "IP:" : "DNS:") + host;
    if (is_local_name(host)) {
        if (::strcasecmp(host.c_str(), "localhost") != 0) san += ",DNS:localhost";
        san += ",IP:127.0.0.1,IP:::1";
    }
    return san;
}

// Why the pair in `files` cannot serve `host`, or nullptr when it can.
const char* reason_to_regenerate(const tls_files& files, const std::string& host) {
    std::error_code ec;
    if (!fs::exists(files.cert_chain, ec) || !fs::exists(files.key, ec)) return "missing";
    auto cert = detail::read_certificate(files.cert_chain);
    auto key = detail::read_private_key(files.key);
    if (!cert || !key) return "unreadable";
    const char* reason = nullptr;
    std::time_t soon = std::time(nullptr) + renew_margin_seconds;
    if (X509_check_private_key(cert->get(), key->get()) != 1) reason = "key_mismatch";
    else if (X509_cmp_time(X509_get0_notAfter(cert->get()), &soon) <= 0) reason = "expiring";
    else if (detail::is_ip_literal(host) ? X509_check_ip_asc(cert->get(), host.c_str(), 0) != 1
                                         : X509_check_host(cert->get(), host.data(), host.size(),
                                                           X509_CHECK_FLAG_NO_WILDCARDS, nullptr) != 1)
        reason = "other_host";
    ERR_clear_error();
    return reason;
}

std::error_code set_random_serial(X509* cert) {
    unsigned char bytes[16];  // 128 random bits (RFC 5280 §4.1.2.2 allows up to 20 octets)
    if (RAND_bytes(bytes, sizeof bytes) != 1) return detail::take_openssl_error();
    detail::bignum_ptr bn{BN_bin2bn(bytes, sizeof bytes, nullptr)};
    if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) return detail::take_openssl_error();
    return {};
}

std::error_code add_extension(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    detail::x509_extension_ptr ext{X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str())};
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return detail::take_openssl_error();
    return {};
}

std::error_code set_names(X509* cert, const std::string& host) {
    // The issuer must not be empty (RFC 5280 §4.1.2.4), and a truncated name would mislead.
    X509_NAME* name = X509_get_subject_name(cert);
    std::string cn = host.size() <= max_common_name ? host : "postern self-signed";
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                   -1, 0) != 1 ||
        X509_set_issuer_name(cert, name) != 1)
        return detail::take_openssl_error();
    return {};
}

result<detail::x509_ptr> make_certificate(EVP_PKEY* key, const std::string& host) {
    detail::x509_ptr cert{X509_new()};
    if (!cert) return fail(detail::take_openssl_error(std::errc::not_enough_memory));
    X509* c = cert.get();
    if (X509_set_version(c, X509_VERSION_3) != 1) return fail(detail::take_openssl_error());
    if (auto ec = set_random_serial(c)) return fail(ec);
    if (!X509_gmtime_adj(X509_getm_notBefore(c), -backdate_seconds) ||
        !X509_time_adj_ex(X509_getm_notAfter(c), validity_days, -backdate_seconds, nullptr))
        return fail(detail::take_openssl_error());
    if (auto ec = set_names(c, host)) return fail(ec);
    if (X509_set_pubkey(c, key) != 1) return fail(detail::take_openssl_error());
    const std::pair<int, std::string> extensions[] = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, "serverAuth"},
        {NID_subject_key_identifier, "hash"},
        {NID_subject_alt_name, subject_alt_names(host)},
    };
    for (const auto& [nid, value] : extensions)
        if (auto ec = add_extension(c, nid, value)) return fail(ec);
    if (X509_sign(c, key, EVP_sha256()) <= 0) return fail(detail::take_openssl_error());
    return cert;
}

std::error_code write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return last_system_error();
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

std::error_code fsync_dir(const fs::path& dir) {
    unique_fd fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (!fd || ::fsync(fd.get()) != 0) return last_system_error();
    return {};
}

// mkostemp creates the file with mode 0600: the key is never readable by others, not even briefly.
std::error_code write_atomically(const fs::path& target, std::string_view data, mode_t mode) {
    std::string tmp = target.string() + ".XXXXXX";
    unique_fd fd{::mkostemp(tmp.data(), O_CLOEXEC)};
    if (!fd) return last_system_error();
    std::error_code ec;
    if (::fchmod(fd.get(), mode) != 0) ec = last_system_error();
    if (!ec) ec = write_all(fd.get(), data);
    if (!ec && ::fsync(fd.get()) != 0) ec = last_system_error();
    if (!ec && ::close(fd.release()) != 0) ec = last_system_error();
    if (!ec && ::rename(tmp.c_str(), target.c_str()) != 0) ec = last_system_error();
    if (ec) ::unlink(tmp.c_str());
    return ec;
}

std::string bio_contents(BIO* bio) {
    BUF_MEM* mem = nullptr;
    BIO_get_mem_ptr(bio, &mem);
    return mem ? std::string(mem->data, mem->length) : std::string();
}

std::error_code write_pair(const tls_files& files, EVP_PKEY* key, X509* cert) {
    detail::bio_ptr key_pem{BIO_new(BIO_s_secmem())};  // cleared when freed
    detail::bio_ptr cert_pem{BIO_new(BIO_s_mem())};
    if (!key_pem || !cert_pem || PEM_write_bio_PrivateKey(key_pem.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
        PEM_write_bio_X509(cert_pem.get(), cert) != 1)
        return detail::take_openssl_error();
    std::string key_text = bio_contents(key_pem.get());
    auto ec = write_atomically(files.key, key_text, 0600);
    OPENSSL_cleanse(key_text.data(), key_text.size());
    if (!ec) ec = write_atomically(files.cert_chain, bio_contents(cert_pem.get()), 0644);
    if (!ec) ec = fsync_dir(files.key.parent_path().empty() ? fs::path(".") : files.key.parent_path());
    return ec;
}

std::error_code make_private_dir(fs::path dir) {
    dir = dir.lexically_normal();
    if (!dir.has_filename()) dir = dir.parent_path();
    std::error_code ec;
    if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
    if (ec) return ec;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return last_system_error();
    return {};
}

}  // namespace

result<tls_files> ensure_self_signed(const fs::path& dir, const std::string& hostname) {
    if (!valid_hostname(hostname)) return fail(std::errc::invalid_argument);
    ERR_clear_error();
    tls_files files{dir / "cert.pem", dir / "key.pem"};
    const char* reason = reason_to_regenerate(files, hostname);
    if (!reason) return files;
    if (auto ec = make_private_dir(dir)) return fail(ec);
    detail::evp_pkey_ptr key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
    if (!key) return fail(detail::take_openssl_error());
    auto cert = make_certificate(key.get(), hostname);
    if (!cert) return fail(cert.error());
    if (auto ec = write_pair(files, key.get(), cert->get())) return fail(ec);
    log::info(log::no_session, log::ev::tls_generate,
              {{"cert", files.cert_chain.string()}, {"host", hostname}, {"reason", reason}});
    return files;
}

}  // namespace postern::net
