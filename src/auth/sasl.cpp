// SPDX-License-Identifier: MIT
// PLAIN, LOGIN and CRAM-MD5, and the mechanism table. Each mechanism is a small state machine:
// start() either answers at once (an initial response was given) or sends the first challenge;
// step() moves on by one client line. Nothing is logged here (the SMTP layer logs the outcome
// with the user name; passwords never reach a log line).
#include "auth/sasl.hpp"

#include "auth/crypto.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>

namespace postern::auth {
namespace {

sasl_step malformed() { return {sasl_status::malformed, {}, {}}; }
sasl_step challenge(std::string c) { return {sasl_status::challenge, std::move(c), {}}; }

sasl_step check_password(const credential_store& store, std::string user, std::string_view password) {
    const auto r = store.verify_password(user, password);
    const auto status = r == verify_result::ok      ? sasl_status::success
                        : r == verify_result::error ? sasl_status::temporary_failure
                                                    : sasl_status::failure;
    return {status, {}, std::move(user)};
}

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
    });
}

// RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd; authcid and passwd non-empty.
class plain_mechanism final : public sasl_mechanism {
public:
    explicit plain_mechanism(const credential_store& s) : store_(s) {}
    sasl_step start(std::optional<std::string_view> ir) override { return ir ? step(*ir) : challenge({}); }
    sasl_step step(std::string_view msg) override {
        auto nul1 = msg.find('\0');
        auto nul2 = nul1 == std::string_view::npos ? nul1 : msg.find('\0', nul1 + 1);
        if (nul2 == std::string_view::npos || msg.find('\0', nul2 + 1) != std::string_view::npos) return malformed();
        auto authzid = msg.substr(0, nul1), authcid = msg.substr(nul1 + 1, nul2 - nul1 - 1), passwd = msg.substr(nul2 + 1);
        if (authcid.empty() || passwd.empty()) return malformed();
        // No proxy authorization: acting as someone else is refused (RFC 4616 §2 leaves it to policy).
        if (!authzid.empty() && authzid != authcid) return {sasl_status::failure, {}, std::string(authcid)};
        return check_password(store_, std::string(authcid), passwd);
    }

private:
    const credential_store& store_;
};

// LOGIN: "Username:", then "Password:". Some clients send the user name as initial response.
class login_mechanism final : public sasl_mechanism {
public:
    explicit login_mechanism(const credential_store& s) : store_(s) {}
    sasl_step start(std::optional<std::string_view> ir) override {
        return ir ? step(*ir) : challenge("Username:");
    }
    sasl_step step(std::string_view response) override {
        if (!user_) {
            if (response.empty()) return malformed();
            user_ = std::string(response);
            return challenge("Password:");
        }
        if (response.empty()) return {sasl_status::malformed, {}, *user_};
        return check_password(store_, *user_, response);
    }

private:
    const credential_store& store_;
    std::optional<std::string> user_;
};

// RFC 2195: the server sends a msg-id-like challenge; the client answers
// "user SP hex(HMAC-MD5(password, challenge))", the digest in 32 hex digits.
class cram_md5_mechanism final : public sasl_mechanism {
public:
    cram_md5_mechanism(const credential_store& s, const sasl_options& o) : store_(s), options_(o) {}
    sasl_step start(std::optional<std::string_view> ir) override {
        if (ir) return malformed();  // CRAM-MD5 has no initial response
        challenge_ = make_challenge();
        return challenge(challenge_);
    }
    sasl_step step(std::string_view response) override {
        auto sp = response.rfind(' ');
        if (sp == std::string_view::npos || sp == 0) return malformed();
        std::string user(response.substr(0, sp));
        auto digest = crypto::hex_decode(response.substr(sp + 1));
        if (!digest || digest->size() != 16) return {sasl_status::malformed, {}, std::move(user)};
        if (store_.features().accept_any) return {sasl_status::success, {}, std::move(user)};
        auto context = store_.cram_md5_secret(user);
        const bool ok = context && crypto::equal(crypto::cram_md5_digest(*context, challenge_), *digest);
        return {ok ? sasl_status::success : sasl_status::failure, {}, std::move(user)};
    }

private:
    std::string make_challenge() const {
        std::uint64_t r = 0;
        for (unsigned char c : detail::random_bytes(options_, 8)) r = (r << 8) | c;
        const auto now = options_.time ? options_.time->now() : std::chrono::system_clock::now();
        const auto t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
        const std::string host = options_.hostname.empty() ? "localhost" : options_.hostname;
        return "<" + std::to_string(r) + "." + std::to_string(t) + "@" + host + ">";
    }

    const credential_store& store_;
    sasl_options options_;
    std::string challenge_;
};

}  // namespace

namespace detail {
std::string random_bytes(const sasl_options& options, std::size_t n) {
    return options.random ? options.random(n) : crypto::random_bytes(n);
}
}  // namespace detail

std::vector<std::string> advertised_mechanisms(const credential_store& store) {
    std::vector<std::string> m{"PLAIN", "LOGIN"};
    const auto f = store.features();
    if (f.cram_md5 || f.accept_any) m.emplace_back("CRAM-MD5");
    if (f.scram_sha256 && !f.accept_any) m.emplace_back("SCRAM-SHA-256");
    return m;
}

std::unique_ptr<sasl_mechanism> make_mechanism(std::string_view name, const credential_store& store,
                                               const sasl_options& options) {
    const auto offered = advertised_mechanisms(store);
    if (std::none_of(offered.begin(), offered.end(), [&](const std::string& m) { return iequals(m, name); }))
        return nullptr;
    if (iequals(name, "PLAIN")) return std::make_unique<plain_mechanism>(store);
    if (iequals(name, "LOGIN")) return std::make_unique<login_mechanism>(store);
    if (iequals(name, "CRAM-MD5")) return std::make_unique<cram_md5_mechanism>(store, options);
    return detail::make_scram_sha256(store, options);
}

}  // namespace postern::auth
