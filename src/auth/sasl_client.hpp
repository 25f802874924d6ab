// SPDX-License-Identifier: MIT
#pragma once
/// SASL mechanisms for the client side (`postern send`, later queue delivery): CRAM-MD5
/// (RFC 2195) and SCRAM-SHA-256 (RFC 5802, RFC 7677; the server's signature is checked), plus
/// the choice of mechanism once the server's EHLO is known. PLAIN and LOGIN are in proto/.
#include "proto/client_session.hpp"

#include <functional>
#include <memory>
#include <string>

namespace postern::auth {

std::unique_ptr<proto::sasl_client> make_cram_md5_client(std::string user, std::string password);
/// `random`: n random bytes for the client nonce (tests pass a fixed one); empty: RAND_bytes.
std::unique_ptr<proto::sasl_client> make_scram_sha256_client(std::string user, std::string password,
                                                             std::function<std::string(std::size_t)> random = {});

/// `forced`: a mechanism name the user asked for ("" to choose). In TLS: PLAIN, LOGIN,
/// SCRAM-SHA-256, CRAM-MD5 in that order (PLAIN first: every server that stores one-way hashes
/// can check it, while SCRAM and CRAM-MD5 need secrets many servers do not keep). In clear text
/// only SCRAM-SHA-256 and CRAM-MD5, which never send the password; otherwise no mechanism.
proto::sasl_chooser choose_client_mechanism(std::string user, std::string password, std::string forced = {});

}  // namespace postern::auth
