// SPDX-License-Identifier: MIT
#pragma once
/// DKIM signing for `postern send` (--dkim-key, --dkim-selector, --dkim-domain): RFC 6376 §5
/// with mailauth::dkim_signer, rsa-sha256 or ed25519-sha256 (RFC 8463) after the key's type.
///
/// When to call what: check the flags with check_dkim_flags() before anything else (a usage
/// error), load the signer configuration once with load_dkim_config(), then per message either
/// sign_whole() (a message built in memory) or feed a dkim_signer in the single pass that
/// already reads a streamed --eml file and finish_field() it; send the returned field in front
/// of the message, for a stream with prefixed_body.
#include "base/expected.hpp"
#include "client/smtp_client.hpp"
#include "mailauth/dkim_sign.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace postern::app {

struct send_dkim_flags {
    std::string key_file, selector, domain;
    bool any() const noexcept { return !key_file.empty() || !selector.empty() || !domain.empty(); }
};

/// Empty when the three flags are all given or all absent and the domain and selector are
/// names; otherwise the usage error text.
std::string check_dkim_flags(const send_dkim_flags& f);

/// The signer configuration (relaxed/relaxed, the default header list, From over-signed) with
/// the key of f.key_file. Error: the key file's error, with `error` saying which file and why.
result<mailauth::dkim_signer_config> load_dkim_config(const send_dkim_flags& f, std::string& error);

/// The "DKIM-Signature: ...\r\n" field for a whole message (CRLF lines), signed at now_unix.
result<std::string> sign_whole(const mailauth::dkim_signer_config& config, std::string_view message,
                               std::int64_t now_unix);

/// Ends a signer fed with the whole message; its field, signed at now_unix.
result<std::string> finish_field(mailauth::dkim_signer& signer, std::int64_t now_unix);

/// Seconds since the epoch, for t= (RFC 6376 §3.5).
std::int64_t unix_now();

/// A body that sends `prefix` (the DKIM-Signature field) and then everything of `rest`: the
/// file is still streamed, never held whole.
class prefixed_body final : public client::body_source {
public:
    prefixed_body(std::string prefix, std::unique_ptr<client::body_source> rest)
        : prefix_(std::move(prefix)), rest_(std::move(rest)) {}
    result<std::size_t> read(std::span<char> buf) override;

private:
    std::string prefix_;
    std::size_t pos_ = 0;
    std::unique_ptr<client::body_source> rest_;
};

}  // namespace postern::app
