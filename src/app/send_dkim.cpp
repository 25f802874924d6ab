// SPDX-License-Identifier: MIT
#include "app/send_dkim.hpp"

#include "app/client_common.hpp"
#include "mailauth/dkim_keys.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace postern::app {

std::string check_dkim_flags(const send_dkim_flags& f) {
    if (!f.any()) return {};
    if (f.key_file.empty() || f.selector.empty() || f.domain.empty())
        return "--dkim-key, --dkim-selector and --dkim-domain go together";
    // RFC 6376 §3.5: d= is a domain name; s= is one or more labels (§3.1, sub-selectors allowed).
    if (!a_label(f.domain)) return "--dkim-domain: not a domain name: " + f.domain;
    if (!valid_helo_name(f.selector)) return "--dkim-selector: not a DNS label: " + f.selector;
    return {};
}

result<mailauth::dkim_signer_config> load_dkim_config(const send_dkim_flags& f, std::string& error) {
    auto key = mailauth::load_private_key(f.key_file);
    if (!key) {
        error = "--dkim-key " + f.key_file + ": " + key.error().message();
        return fail(key.error());
    }
    mailauth::dkim_signer_config c;
    c.domain = *a_label(f.domain);  // d= in A-labels: the verifier looks the key up by it
    c.selector = f.selector;
    c.key = mailauth::share(std::move(*key));
    return c;
}

result<std::string> finish_field(mailauth::dkim_signer& signer, std::int64_t now_unix) {
    signer.finish();
    return signer.signature_header(now_unix);
}

result<std::string> sign_whole(const mailauth::dkim_signer_config& config, std::string_view message,
                               std::int64_t now_unix) {
    mailauth::dkim_signer signer(config);
    signer.feed(message);
    return finish_field(signer, now_unix);
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

result<std::size_t> prefixed_body::read(std::span<char> buf) {
    if (pos_ < prefix_.size()) {
        const std::size_t n = std::min(buf.size(), prefix_.size() - pos_);
        std::memcpy(buf.data(), prefix_.data() + pos_, n);
        pos_ += n;
        return n;
    }
    return rest_->read(buf);
}

}  // namespace postern::app
