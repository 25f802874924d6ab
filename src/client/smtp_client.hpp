// SPDX-License-Identifier: MIT
#pragma once
/// Drives a proto::client_session over one TCP connection: connect (bounded), implicit TLS or
/// STARTTLS when the session asks, reads bounded by the session's RFC 5321 timeouts, message
/// bodies streamed from body_source objects in chunks (memory does not grow with the message).
/// Used by `postern send`, `postern probe` and, later, queue delivery.
///
/// When to call what: build the session (config, SASL mechanism, queued messages), do not
/// start() it, then co_await run_session(endpoint, options, session, bodies) on the
/// connection's executor; it connects, makes the TLS handshake first for client_tls::implicit,
/// starts the session and runs it to its end. The
/// session's result() says what the server answered; the returned connect_report says how the
/// connection and TLS went.
#include "base/expected.hpp"
#include "net/peer_certificate.hpp"
#include "proto/client_session.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace postern::client {

namespace asio = boost::asio;

/// One message body, read in order from the start.
class body_source {
public:
    virtual ~body_source() = default;
    /// Fills `buf`; 0 at the end. Errors end the session (the message is not finished).
    virtual result<std::size_t> read(std::span<char> buf) = 0;
};

class memory_body final : public body_source {
public:
    explicit memory_body(std::string data) : data_(std::move(data)) {}
    result<std::size_t> read(std::span<char> buf) override;

private:
    std::string data_;
    std::size_t pos_ = 0;
};

class file_body final : public body_source {
public:
    static result<std::unique_ptr<file_body>> open(const std::filesystem::path& file);
    ~file_body() override;
    result<std::size_t> read(std::span<char> buf) override;

private:
    explicit file_body(int fd) : fd_(fd) {}
    int fd_;
};

/// Another body with every bare LF (not after a CR) turned into CRLF, as RFC 5321 §2.3.8 wants
/// on the wire: a message file written with Unix line endings. Streams; nothing is held but the
/// last octet seen.
class crlf_body final : public body_source {
public:
    explicit crlf_body(std::unique_ptr<body_source> inner) : inner_(std::move(inner)) {}
    result<std::size_t> read(std::span<char> buf) override;

private:
    std::unique_ptr<body_source> inner_;
    std::string pending_;  // converted octets that did not fit the caller's buffer
    char last_ = '\n';
};

struct tls_settings {
    /// A certificate that does not verify (chain or name) ends the session (client_failure::tls).
    /// false: accept it, report it (probes; opportunistic STARTTLS, RFC 7435).
    bool verify = true;
    std::optional<std::filesystem::path> ca_file;  ///< trust this (PEM) besides the system store
    std::string server_name;                       ///< for SNI and the name check; empty: the address
};

struct session_options {
    tls_settings tls;
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
    /// Caps every wait of the session (tests, probes); the RFC 5321 timeouts otherwise.
    std::optional<std::chrono::milliseconds> max_wait;
};

struct tls_report {
    std::string version, cipher;
    net::peer_certificate certificate;
};

struct connect_report {
    std::string address;  ///< "192.0.2.1"
    std::uint16_t port = 0;
    bool connected = false;
    std::chrono::milliseconds connect_time{};
    std::string error;    ///< why the connection or TLS failed
    std::optional<tls_report> tls;
};

/// Runs `session` (queued messages included) to its end over a new connection to `to`.
/// `bodies`: one per queued message that has a body, in order. Both must outlive the call.
asio::awaitable<connect_report> run_session(asio::ip::tcp::endpoint to, session_options options,
                                            proto::client_session* session, std::vector<body_source*> bodies);

}  // namespace postern::client
