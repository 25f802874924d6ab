// SPDX-License-Identifier: MIT
// make_server_context and make_client_context: real handshakes over loopback TCP, the protocol
// and cipher floor, the host name check, and the errors for bad files.
#include "net_test_support.hpp"

#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>

#include <fstream>

namespace postern::net {
namespace {

using namespace postern::net::testing;

class tls_context_test : public ::testing::Test {
protected:
    void SetUp() override {
        auto made = ensure_self_signed(tmp_.path(), "localhost");
        ASSERT_TRUE(made) << made.error().message();
        files_ = *made;
        auto ctx = make_server_context(files_);
        ASSERT_TRUE(ctx) << ctx.error().message();
        server_ = *ctx;
    }

    std::shared_ptr<ssl::context> client(bool verify) {
        auto ctx = make_client_context(verify, files_.cert_chain);
        EXPECT_TRUE(ctx) << ctx.error().message();
        return ctx ? *ctx : nullptr;
    }

    // The OpenSSL reason code of a handshake error reported by Asio (0 when it is not an SSL error).
    static int ssl_reason(const boost::system::error_code& ec) {
        if (ec.category() != boost::asio::error::get_ssl_category()) return 0;
        return ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    }

    temp_dir tmp_;
    tls_files files_;
    std::shared_ptr<ssl::context> server_;
};

TEST_F(tls_context_test, verified_handshake_uses_tls13) {
    auto c = client(true);
    auto out = run_handshake(*server_, *c, "localhost");
    ASSERT_FALSE(out.client) << out.client.message();
    ASSERT_FALSE(out.server) << out.server.message();
    EXPECT_EQ(out.client_info.version, "TLSv1.3");
    EXPECT_EQ(out.server_info.version, "TLSv1.3");
    EXPECT_EQ(out.server_info.cipher, "TLS_AES_256_GCM_SHA384");  // the server's order, first suite
    EXPECT_EQ(out.server_info.cipher, out.client_info.cipher);
    EXPECT_EQ(out.server_info.bits, 256);
    EXPECT_EQ(out.peer_serial, serial_of(files_.cert_chain));
}

TEST_F(tls_context_test, loopback_address_is_verified_against_the_ip_san) {
    auto out = run_handshake(*server_, *client(true), "127.0.0.1");
    EXPECT_FALSE(out.client) << out.client.message();
    EXPECT_FALSE(out.server) << out.server.message();
}

TEST_F(tls_context_test, wrong_host_name_fails_verification) {
    auto out = run_handshake(*server_, *client(true), "other.postern-test.example");
    EXPECT_TRUE(out.client);
    EXPECT_EQ(ssl_reason(out.client), SSL_R_CERTIFICATE_VERIFY_FAILED) << out.client.message();
    EXPECT_TRUE(out.server);
}

TEST_F(tls_context_test, untrusted_certificate_fails_verification) {
    auto c = make_client_context(true, std::nullopt);  // the system's trust store: no self-signed pair
    ASSERT_TRUE(c);
    auto out = run_handshake(*server_, **c, "localhost");
    EXPECT_EQ(ssl_reason(out.client), SSL_R_CERTIFICATE_VERIFY_FAILED) << out.client.message();
}

TEST_F(tls_context_test, tls12_client_gets_an_ecdhe_aead_cipher) {
    auto c = client(true);
    ASSERT_EQ(SSL_CTX_set_max_proto_version(c->native_handle(), TLS1_2_VERSION), 1);
    auto out = run_handshake(*server_, *c, "localhost");
    ASSERT_FALSE(out.client) << out.client.message();
    EXPECT_EQ(out.server_info.version, "TLSv1.2");
    EXPECT_EQ(out.server_info.cipher.rfind("ECDHE-ECDSA-", 0), 0u) << out.server_info.cipher;
    EXPECT_TRUE(out.server_info.cipher.find("GCM") != std::string::npos ||
                out.server_info.cipher.find("CHACHA20") != std::string::npos)
        << out.server_info.cipher;
}

TEST_F(tls_context_test, tls11_client_is_refused) {
    auto c = client(false);
    SSL_CTX* h = c->native_handle();
    // Security level 0: otherwise OpenSSL 3 refuses TLS 1.1 in the client before it sends anything.
    ASSERT_EQ(SSL_CTX_set_cipher_list(h, "DEFAULT:@SECLEVEL=0"), 1);
    ASSERT_EQ(SSL_CTX_set_min_proto_version(h, TLS1_VERSION), 1);
    ASSERT_EQ(SSL_CTX_set_max_proto_version(h, TLS1_1_VERSION), 1);
    auto out = run_handshake(*server_, *c, "localhost");
    EXPECT_TRUE(out.client);
    EXPECT_EQ(ssl_reason(out.server), SSL_R_UNSUPPORTED_PROTOCOL) << out.server.message();
}

TEST_F(tls_context_test, client_without_ecdhe_is_refused) {
    auto c = client(false);
    ASSERT_EQ(SSL_CTX_set_max_proto_version(c->native_handle(), TLS1_2_VERSION), 1);
    ASSERT_EQ(SSL_CTX_set_cipher_list(c->native_handle(), "AES128-SHA"), 1);
    auto out = run_handshake(*server_, *c, "localhost");
    EXPECT_TRUE(out.client);
    EXPECT_EQ(ssl_reason(out.server), SSL_R_NO_SHARED_CIPHER) << out.server.message();
}

TEST_F(tls_context_test, renegotiation_and_compression_are_off) {
    uint64_t options = SSL_CTX_get_options(server_->native_handle());
    EXPECT_TRUE(options & SSL_OP_NO_RENEGOTIATION);
    EXPECT_TRUE(options & SSL_OP_NO_COMPRESSION);
    EXPECT_TRUE(options & SSL_OP_CIPHER_SERVER_PREFERENCE);
    EXPECT_EQ(SSL_CTX_get_min_proto_version(server_->native_handle()), TLS1_2_VERSION);
}

TEST_F(tls_context_test, describe_before_a_handshake_is_empty) {
    boost::asio::io_context io;
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket> s(io, *server_);
    auto info = describe(s.native_handle());
    EXPECT_EQ(info.version, "");
    EXPECT_EQ(info.cipher, "");
    EXPECT_EQ(info.bits, 0);
}

TEST(server_context, key_that_does_not_match_is_an_error) {
    temp_dir a, b;
    ASSERT_TRUE(ensure_self_signed(a.path(), "localhost"));
    ASSERT_TRUE(ensure_self_signed(b.path(), "localhost"));
    auto ctx = make_server_context({a.path() / "cert.pem", b.path() / "key.pem"});
    ASSERT_FALSE(ctx);
    EXPECT_EQ(&ctx.error().category(), &openssl_category());
    EXPECT_NE(ctx.error().message().find("mismatch"), std::string::npos) << ctx.error().message();
    EXPECT_EQ(ERR_peek_error(), 0u);  // the queue is left clean
}

TEST(server_context, missing_files_are_errors) {
    temp_dir tmp;
    auto made = ensure_self_signed(tmp.path(), "localhost");
    ASSERT_TRUE(made);
    auto no_cert = make_server_context({tmp.path() / "absent.pem", made->key});
    ASSERT_FALSE(no_cert);
    EXPECT_EQ(no_cert.error(), std::errc::no_such_file_or_directory) << no_cert.error().message();
    auto no_key = make_server_context({made->cert_chain, tmp.path() / "absent.pem"});
    ASSERT_FALSE(no_key);
    EXPECT_EQ(no_key.error(), std::errc::no_such_file_or_directory) << no_key.error().message();
}

TEST(server_context, garbage_certificate_is_an_error_with_a_message) {
    temp_dir tmp;
    auto made = ensure_self_signed(tmp.path(), "localhost");
    ASSERT_TRUE(made);
    std::ofstream(tmp.path() / "junk.pem") << "-----BEGIN CERTIFICATE-----\nnot base64 at all\n";
    auto ctx = make_server_context({tmp.path() / "junk.pem", made->key});
    ASSERT_FALSE(ctx);
    EXPECT_EQ(&ctx.error().category(), &openssl_category());
    EXPECT_FALSE(ctx.error().message().empty());
}

TEST(client_context, missing_ca_file_is_an_error) {
    auto ctx = make_client_context(true, std::filesystem::path("/nonexistent/ca.pem"));
    EXPECT_FALSE(ctx);
}

}  // namespace
}  // namespace postern::net
