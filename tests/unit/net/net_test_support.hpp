// SPDX-License-Identifier: MIT
#pragma once
// Helpers shared by the net tests: a temporary directory, certificate inspection, and one TLS
// handshake over a loopback TCP pair (127.0.0.1, port 0) run to its end on one io_context.
#include "net/openssl_util.hpp"
#include "net/tls.hpp"

#include "support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <gtest/gtest.h>

#include <openssl/crypto.h>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace postern::net::testing {

using test_support::temp_dir;

// The certificate's serial number in hex ("" for none).
inline std::string serial_of(const X509* cert) {
    if (!cert) return {};
    detail::bignum_ptr bn{ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)};
    char* hex = bn ? BN_bn2hex(bn.get()) : nullptr;
    std::string out = hex ? hex : "";
    OPENSSL_free(hex);
    return out;
}

inline detail::x509_ptr load_cert(const std::filesystem::path& file) {
    auto cert = detail::read_certificate(file);
    if (!cert) throw std::runtime_error("cannot read " + file.string() + ": " + cert.error().message());
    return std::move(*cert);
}

inline std::string serial_of(const std::filesystem::path& cert_file) { return serial_of(load_cert(cert_file).get()); }

struct handshake_outcome {
    boost::system::error_code server;  // the server's handshake (or accept) result
    boost::system::error_code client;  // the client's handshake (or connect) result
    tls_info server_info, client_info;
    std::string peer_serial;  // the serial of the certificate the client received
};

// Runs both handshakes on one io_context. `host` (if not empty) goes to set_server_name() on the
// client. A side whose handshake fails closes its socket, so the other one never waits forever.
inline handshake_outcome run_handshake(ssl::context& server_ctx, ssl::context& client_ctx, const std::string& host) {
    namespace asio = boost::asio;
    using tcp = asio::ip::tcp;
    using error_code = boost::system::error_code;
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    asio::ssl::stream<tcp::socket> server(io, server_ctx);
    asio::ssl::stream<tcp::socket> client(io, client_ctx);
    handshake_outcome out;
    if (!host.empty()) {
        EXPECT_TRUE(set_server_name(client.native_handle(), host).has_value());
    }

    acceptor.async_accept(server.next_layer(), [&](error_code ec) {
        if (ec) return void(out.server = ec);
        server.async_handshake(ssl::stream_base::server, [&](error_code ec) {
            out.server = ec;
            if (ec) server.next_layer().close(ec);
            else out.server_info = describe(server.native_handle());
        });
    });
    client.next_layer().async_connect(acceptor.local_endpoint(), [&](error_code ec) {
        if (ec) return void(out.client = ec);
        client.async_handshake(ssl::stream_base::client, [&](error_code ec) {
            out.client = ec;
            if (ec) return void(client.next_layer().close(ec));
            out.client_info = describe(client.native_handle());
            out.peer_serial = serial_of(SSL_get0_peer_certificate(client.native_handle()));
        });
    });
    io.run_for(std::chrono::seconds(20));
    EXPECT_TRUE(io.stopped()) << "the handshake did not finish";
    return out;
}

}  // namespace postern::net::testing
