// SPDX-License-Identifier: MIT
#include "net/peer_certificate.hpp"

#include "net/openssl_util.hpp"

#include <arpa/inet.h>
#include <openssl/asn1.h>

#include <cstdio>
#include <ctime>

namespace postern::net {
namespace {

std::string name_text(const X509_NAME* name) {
    detail::bio_ptr bio{BIO_new(BIO_s_mem())};
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) return {};
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string{};
}

std::string iso_time(const ASN1_TIME* t) {
    std::tm tm{};
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return {};
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec);
    return buf;
}

std::vector<std::string> subject_alt_names(X509* cert) {
    std::vector<std::string> out;
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (!names) return out;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type == GEN_DNS) {
            const auto* s = gn->d.dNSName;
            out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                               static_cast<std::size_t>(ASN1_STRING_length(s))));
        } else if (gn->type == GEN_IPADD) {
            const auto* s = gn->d.iPAddress;
            const unsigned char* p = ASN1_STRING_get0_data(s);
            char buf[INET6_ADDRSTRLEN] = {};
            const int len = ASN1_STRING_length(s);
            if ((len == 4 || len == 16) && ::inet_ntop(len == 4 ? AF_INET : AF_INET6, p, buf, sizeof buf))
                out.push_back("IP:" + std::string(buf));
        }
    }
    GENERAL_NAMES_free(names);
    return out;
}

}  // namespace

peer_certificate inspect_peer(const SSL* ssl, const std::string& host) {
    peer_certificate r;
    detail::x509_ptr cert{SSL_get1_peer_certificate(ssl)};
    if (!cert) return r;
    r.present = true;
    const long verify = SSL_get_verify_result(ssl);
    // A name mismatch is reported by name_matches, not as a chain problem.
    r.chain_verified = verify == X509_V_OK || verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH;
    if (!r.chain_verified) r.verify_error = X509_verify_cert_error_string(verify);
    r.name_matches = detail::is_ip_literal(host) ? X509_check_ip_asc(cert.get(), host.c_str(), 0) == 1
                                                 : X509_check_host(cert.get(), host.c_str(), host.size(), 0, nullptr) == 1;
    r.subject = name_text(X509_get_subject_name(cert.get()));
    r.issuer = name_text(X509_get_issuer_name(cert.get()));
    r.sans = subject_alt_names(cert.get());
    r.not_before = iso_time(X509_get0_notBefore(cert.get()));
    r.not_after = iso_time(X509_get0_notAfter(cert.get()));
    return r;
}

}  // namespace postern::net
