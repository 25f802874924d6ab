// SPDX-License-Identifier: MIT
#pragma once
/// The interface between the receiving server and whatever decides and stores: the server knows
/// nothing of storage. Every hook has a default, so a policy overrides only what it cares about.
#include "base/expected.hpp"
#include "base/log.hpp"
#include "proto/events.hpp"
#include "proto/reply.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>

namespace postern::server {

struct session_info {
    log::session_id id = log::no_session;
    std::string peer_address;     ///< "192.0.2.1" / "2001:db8::1"
    std::uint16_t peer_port = 0;
    std::string local_address;
    std::uint16_t local_port = 0;
    std::string helo;             ///< the EHLO/HELO domain once given
    bool esmtp = false;
    bool tls = false;
    std::string tls_version;      ///< "TLSv1.3" once TLS is up
    std::string tls_cipher;       ///< "TLS_AES_256_GCM_SHA384"
    std::string user;             ///< the AUTH identity, empty when not authenticated
};

/// One message being received. Bytes arrive in order; then exactly one of commit() or destruction.
class message_sink {
public:
    virtual ~message_sink() = default;
    virtual result<void> write(std::span<const char> bytes) = 0;
    /// All the data has arrived (and was written without error): calls `done` once (on any
    /// thread, possibly later: a sink may look things up first, as SPF, DKIM and DMARC do) with a
    /// reply that refuses the message instead of committing it (nothing is stored), or nullopt
    /// to go on to commit().
    virtual void finish(std::function<void(std::optional<proto::reply>)> done) { done(std::nullopt); }
    /// Makes the message durable; calls `done` (on any thread) with the message id, or an error.
    /// The server sends the 250 only from `done`.
    virtual void commit(std::function<void(result<std::string>)> done) = 0;
};

using begin_result = std::variant<std::unique_ptr<message_sink>, proto::reply>;

class policy {
public:
    virtual ~policy() = default;
    /// nullopt accepts with the session's default reply; a 4xx/5xx reply refuses.
    virtual std::optional<proto::reply> check_hello(const session_info&, const proto::hello_event&) { return std::nullopt; }
    virtual std::optional<proto::reply> check_mail(const session_info&, const proto::mail_event&) { return std::nullopt; }
    virtual std::optional<proto::reply> check_rcpt(const session_info&, const proto::transaction&, const proto::rcpt_event&) {
        return std::nullopt;
    }
    /// 250 for a mailbox known here, else 252 (RFC 5321 §3.5.3): the default is 252.
    virtual std::optional<proto::reply> check_vrfy(const session_info&, const proto::vrfy_event&) { return std::nullopt; }
    /// The message data is about to start: a sink for it, or the reply that refuses it.
    virtual begin_result begin_message(const session_info&, const proto::transaction&) = 0;
};

}  // namespace postern::server
