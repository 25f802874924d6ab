// SPDX-License-Identifier: MIT
// ensure_self_signed: what the generated certificate says (read back with the OpenSSL API), the
// files' modes, and when an existing pair is reused or replaced.
#include "net_test_support.hpp"

#include <openssl/pem.h>

#include <sys/stat.h>

#include <ctime>
#include <fstream>

namespace postern::net {
namespace {

using namespace postern::net::testing;

mode_t mode_of(const std::filesystem::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
}

std::string common_name(X509* cert) {
    char buf[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
    return buf;
}

// The subjectAltName alone (never the CN) covers the name.
bool san_has_dns(X509* cert, const std::string& name) {
    return X509_check_host(cert, name.data(), name.size(), X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr) == 1;
}
bool san_has_ip(X509* cert, const char* ip) { return X509_check_ip_asc(cert, ip, 0) == 1; }

// Rewrites dir/cert.pem with a notAfter in the past, re-signed with dir/key.pem.
void expire_certificate(const std::filesystem::path& dir) {
    auto cert = load_cert(dir / "cert.pem");
    auto key = detail::read_private_key(dir / "key.pem");
    ASSERT_TRUE(key);
    ASSERT_TRUE(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3 * 86400));
    ASSERT_TRUE(X509_gmtime_adj(X509_getm_notAfter(cert.get()), -86400));
    ASSERT_GT(X509_sign(cert.get(), key->get(), EVP_sha256()), 0);
    detail::bio_ptr out{BIO_new_file((dir / "cert.pem").c_str(), "w")};
    ASSERT_TRUE(out && PEM_write_bio_X509(out.get(), cert.get()) == 1);
}

TEST(self_signed, creates_the_folder_and_the_files_with_private_modes) {
    temp_dir tmp;
    auto dir = tmp.path() / "data" / "tls";
    auto files = ensure_self_signed(dir, "localhost");
    ASSERT_TRUE(files) << files.error().message();
    EXPECT_EQ(files->cert_chain, dir / "cert.pem");
    EXPECT_EQ(files->key, dir / "key.pem");
    EXPECT_EQ(mode_of(dir), 0700u);
    EXPECT_EQ(mode_of(files->key), 0600u);
    EXPECT_EQ(mode_of(files->cert_chain), 0644u);
    // Nothing but the pair is left behind (no temporary files).
    int entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++entries;
    EXPECT_EQ(entries, 2);
}

TEST(self_signed, certificate_names_the_host_and_loopback_for_localhost) {
    temp_dir tmp;
    auto files = ensure_self_signed(tmp.path(), "localhost");
    ASSERT_TRUE(files) << files.error().message();
    auto cert = load_cert(files->cert_chain);
    EXPECT_EQ(common_name(cert.get()), "localhost");
    EXPECT_TRUE(san_has_dns(cert.get(), "localhost"));
    EXPECT_TRUE(san_has_ip(cert.get(), "127.0.0.1"));
    EXPECT_TRUE(san_has_ip(cert.get(), "::1"));
    EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);
}

TEST(self_signed, certificate_for_another_host_has_only_that_name) {
    temp_dir tmp;
    auto files = ensure_self_signed(tmp.path(), "mx.postern-test.example");
    ASSERT_TRUE(files) << files.error().message();
    auto cert = load_cert(files->cert_chain);
    EXPECT_EQ(common_name(cert.get()), "mx.postern-test.example");
    EXPECT_TRUE(san_has_dns(cert.get(), "mx.postern-test.example"));
    EXPECT_FALSE(san_has_dns(cert.get(), "localhost"));
    EXPECT_FALSE(san_has_ip(cert.get(), "127.0.0.1"));
}

TEST(self_signed, ip_literal_becomes_an_ip_san) {
    temp_dir tmp;
    auto files = ensure_self_signed(tmp.path(), "192.0.2.25");
    ASSERT_TRUE(files) << files.error().message();
    auto cert = load_cert(files->cert_chain);
    EXPECT_TRUE(san_has_ip(cert.get(), "192.0.2.25"));
}

TEST(self_signed, certificate_fields_follow_the_profile) {
    temp_dir tmp;
    auto files = ensure_self_signed(tmp.path(), "localhost");
    ASSERT_TRUE(files) << files.error().message();
    auto cert = load_cert(files->cert_chain);
    X509* c = cert.get();
    EXPECT_EQ(X509_get_version(c), X509_VERSION_3);
    // Valid from an hour ago for 825 days.
    int days = 0, seconds = 0;
    ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(c), X509_get0_notAfter(c)), 1);
    EXPECT_EQ(days, 825);
    EXPECT_EQ(seconds, 0);
    ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(c), nullptr), 1);  // nullptr: now
    EXPECT_EQ(days, 0);
    EXPECT_NEAR(seconds, 3600, 60);
    // Extensions: an end-entity certificate for TLS servers.
    uint32_t flags = X509_get_extension_flags(c);
    EXPECT_TRUE(flags & EXFLAG_BCONS);
    EXPECT_FALSE(flags & EXFLAG_CA);
    EXPECT_EQ(X509_get_key_usage(c), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
    EXPECT_EQ(X509_get_extended_key_usage(c), static_cast<uint32_t>(XKU_SSL_SERVER));
    // Key and signature: EC P-256, ECDSA with SHA-256; a positive serial of up to 128 random bits.
    EVP_PKEY* key = X509_get0_pubkey(c);
    ASSERT_NE(key, nullptr);
    EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
    EXPECT_EQ(EVP_PKEY_get_bits(key), 256);
    EXPECT_EQ(X509_get_signature_nid(c), NID_ecdsa_with_SHA256);
    detail::bignum_ptr serial{ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), nullptr)};
    EXPECT_FALSE(BN_is_negative(serial.get()));
    EXPECT_LE(BN_num_bits(serial.get()), 128);
    EXPECT_GT(BN_num_bits(serial.get()), 64);
    // Self-signed: its own key verifies it.
    EXPECT_EQ(X509_verify(c, key), 1);
}

TEST(self_signed, second_call_reuses_the_pair) {
    temp_dir tmp;
    auto first = ensure_self_signed(tmp.path(), "localhost");
    ASSERT_TRUE(first) << first.error().message();
    auto serial = serial_of(first->cert_chain);
    auto second = ensure_self_signed(tmp.path(), "localhost");
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_EQ(serial_of(second->cert_chain), serial);
}

TEST(self_signed, another_host_name_regenerates) {
    temp_dir tmp;
    auto first = ensure_self_signed(tmp.path(), "localhost");
    ASSERT_TRUE(first) << first.error().message();
    auto serial = serial_of(first->cert_chain);
    auto second = ensure_self_signed(tmp.path(), "mail.postern-test.example");
    ASSERT_TRUE(second) << second.error().message();
    auto cert = load_cert(second->cert_chain);
    EXPECT_NE(serial_of(cert.get()), serial);
    EXPECT_TRUE(san_has_dns(cert.get(), "mail.postern-test.example"));
}

TEST(self_signed, expired_certificate_regenerates) {
    temp_dir tmp;
    ASSERT_TRUE(ensure_self_signed(tmp.path(), "localhost"));
    expire_certificate(tmp.path());
    auto expired_serial = serial_of(tmp.path() / "cert.pem");
    auto again = ensure_self_signed(tmp.path(), "localhost");
    ASSERT_TRUE(again) << again.error().message();
    auto cert = load_cert(again->cert_chain);
    EXPECT_NE(serial_of(cert.get()), expired_serial);
    EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(cert.get())), 0);
}

TEST(self_signed, unreadable_or_mismatched_pair_regenerates) {
    temp_dir a, b;
    ASSERT_TRUE(ensure_self_signed(a.path(), "localhost"));
    ASSERT_TRUE(ensure_self_signed(b.path(), "localhost"));
    std::filesystem::copy_file(b.path() / "key.pem", a.path() / "key.pem",
                               std::filesystem::copy_options::overwrite_existing);
    auto serial = serial_of(a.path() / "cert.pem");
    ASSERT_TRUE(ensure_self_signed(a.path(), "localhost"));
    EXPECT_NE(serial_of(a.path() / "cert.pem"), serial);
    EXPECT_TRUE(make_server_context({a.path() / "cert.pem", a.path() / "key.pem"}));

    std::ofstream(b.path() / "cert.pem") << "not a certificate\n";
    auto files = ensure_self_signed(b.path(), "localhost");
    ASSERT_TRUE(files) << files.error().message();
    EXPECT_TRUE(make_server_context(*files));
}

TEST(self_signed, rejects_what_is_not_a_host_name) {
    temp_dir tmp;
    for (const char* bad : {"", "a,IP:10.0.0.1", "two words", "-dash.example", "caf\xc3\xa9.example"}) {
        auto r = ensure_self_signed(tmp.path(), bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error(), std::errc::invalid_argument) << bad;
    }
    EXPECT_FALSE(std::filesystem::exists(tmp.path() / "cert.pem"));
}

TEST(self_signed, long_host_name_goes_in_the_san_only) {
    temp_dir tmp;
    std::string host = std::string(60, 'a') + ".postern-test.example";  // over the CN's 64 characters
    auto files = ensure_self_signed(tmp.path(), host);
    ASSERT_TRUE(files) << files.error().message();
    auto cert = load_cert(files->cert_chain);
    EXPECT_TRUE(san_has_dns(cert.get(), host));
    EXPECT_EQ(common_name(cert.get()), "postern self-signed");
}

}  // namespace
}  // namespace postern::net
