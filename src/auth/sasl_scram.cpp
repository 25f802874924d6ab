// SPDX-License-Identifier: MIT
// SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, without channel binding.
//
// Theory of operation: four states.
//   client_first  the client sends gs2-header + client-first-message-bare ("n,,n=user,r=cnonce");
//                 we answer server-first-message "r=cnonce+snonce,s=salt,i=iterations".
//   client_final  the client sends "c=biws,r=cnonce+snonce,p=proof"; we check the proof against
//                 StoredKey and answer server-final-message "v=ServerSignature" as a challenge
//                 (RFC 4954 §4: additional data with success goes in a 334).
//   outcome       the client sends an empty line; success.
//   done          nothing more is accepted.
// An unknown user (or one without a SCRAM secret) gets a made-up salt and fails at the proof
// step like a wrong password, so the exchange does not tell which users exist (RFC 5802 §5.1).
#include "auth/crypto.hpp"
#include "auth/password_scheme.hpp"
#include "auth/sasl.hpp"

namespace postern::auth {
namespace {

sasl_step fail_step(std::string user) { return {sasl_status::failure, {}, std::move(user)}; }
sasl_step malformed_step(std::string user = {}) { return {sasl_status::malformed, {}, std::move(user)}; }

// RFC 5802 §5.1: saslname encodes ',' as "=2C" and '=' as "=3D"; any other '=' is an error.
std::optional<std::string> decode_saslname(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == ',') return std::nullopt;
        if (s[i] != '=') {
            out.push_back(s[i]);
            continue;
        }
        auto esc = s.substr(i, 3);
        if (esc == "=2C") out.push_back(',');
        else if (esc == "=3D") out.push_back('=');
        else return std::nullopt;
        i += 2;
    }
    return out;
}

// Splits "a=x,b=y" at the first ',': returns the first attribute and advances `s`.
std::string_view next_attribute(std::string_view& s) {
    auto comma = s.find(',');
    auto a = s.substr(0, comma);
    s.remove_prefix(comma == std::string_view::npos ? s.size() : comma + 1);
    return a;
}

bool is_attribute(std::string_view a, char name) { return a.size() >= 2 && a[0] == name && a[1] == '='; }

bool printable_nonce(std::string_view n) {
    if (n.empty()) return false;
    for (unsigned char c : n)
        if (c < 0x21 || c > 0x7e || c == ',') return false;
    return true;
}

// A random byte that is already printable and not ',' is kept; any other is mapped to a base64
// letter. At least 6 bits of randomness per character; 30 characters.
std::string make_server_nonce(const sasl_options& o) {
    static constexpr std::string_view letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string n = detail::random_bytes(o, scram_server_nonce_length);
    for (auto& ch : n) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x21 || c > 0x7e || c == ',') ch = letters[c % letters.size()];
    }
    return n;
}

class scram_mechanism final : public sasl_mechanism {
public:
    scram_mechanism(const credential_store& s, const sasl_options& o) : store_(s), options_(o) {}

    sasl_step start(std::optional<std::string_view> ir) override {
        if (!ir || ir->empty()) return {sasl_status::challenge, {}, {}};  // client-first comes next
        return step(*ir);
    }

    sasl_step step(std::string_view response) override {
        switch (state_) {
        case state::client_first: return client_first(response);
        case state::client_final: return client_final(response);
        case state::outcome:
            state_ = state::done;
            return response.empty() ? sasl_step{sasl_status::success, {}, user_} : malformed_step(user_);
        case state::done: break;
        }
        return malformed_step(user_);
    }

private:
    enum class state { client_first, client_final, outcome, done };

    sasl_step client_first(std::string_view msg);
    sasl_step client_final(std::string_view msg);
    void choose_secret();

    const credential_store& store_;
    sasl_options options_;
    state state_ = state::client_first;
    std::string gs2_header_, client_first_bare_, server_first_, nonce_, user_;
    scram_secret secret_;
    bool known_ = false;
};

// gs2-header = gs2-cbind-flag "," [authzid] ","; client-first-message-bare = [reserved-mext ","]
// username "," nonce ["," extensions]   (RFC 5802 §7)
sasl_step scram_mechanism::client_first(std::string_view msg) {
    state_ = state::done;  // until this step succeeds
    std::string_view rest = msg;
    auto flag = next_attribute(rest);
    if (is_attribute(flag, 'p')) return fail_step({});  // channel binding: we offer no -PLUS
    if (flag != "n" && flag != "y") return malformed_step();
    auto authzid_attr = next_attribute(rest);
    if (!authzid_attr.empty() && !is_attribute(authzid_attr, 'a')) return malformed_step();
    gs2_header_ = std::string(msg.substr(0, msg.size() - rest.size()));
    client_first_bare_ = std::string(rest);
    auto name_attr = next_attribute(rest);
    if (is_attribute(name_attr, 'm')) return fail_step({});  // mandatory extension: not supported
    auto nonce_attr = next_attribute(rest);
    if (!is_attribute(name_attr, 'n') || !is_attribute(nonce_attr, 'r')) return malformed_step();
    auto user = decode_saslname(name_attr.substr(2));
    if (!user || user->empty() || !printable_nonce(nonce_attr.substr(2))) return malformed_step();
    user_ = std::move(*user);
    if (!authzid_attr.empty()) {
        auto authzid = decode_saslname(authzid_attr.substr(2));
        if (!authzid) return malformed_step(user_);
        if (*authzid != user_) return fail_step(user_);  // no proxy authorization
    }
    choose_secret();
    nonce_ = std::string(nonce_attr.substr(2)) + make_server_nonce(options_);
    server_first_ = "r=" + nonce_ + ",s=" + crypto::base64_encode(secret_.salt) + ",i=" + std::to_string(secret_.iterations);
    state_ = state::client_final;
    return {sasl_status::challenge, server_first_, {}};
}

void scram_mechanism::choose_secret() {
    if (auto s = store_.scram_sha256(user_)) {
        secret_ = std::move(*s);
        known_ = true;
        return;
    }
    // The same made-up salt for the same name on every attempt, as a real user's would be.
    secret_ = {stable_salt(user_), scram_default_iterations,
               crypto::random_bytes(32), crypto::random_bytes(32)};
    known_ = false;
}

// client-final-message = channel-binding "," nonce ["," extensions] "," proof   (RFC 5802 §7)
sasl_step scram_mechanism::client_final(std::string_view msg) {
    state_ = state::done;
    auto p = msg.rfind(",p=");
    if (p == std::string_view::npos) return malformed_step(user_);
    const std::string_view without_proof = msg.substr(0, p);
    auto proof = crypto::base64_decode(msg.substr(p + 3));
    std::string_view rest = without_proof;
    auto cb = next_attribute(rest), nonce = next_attribute(rest);
    if (!is_attribute(cb, 'c') || !is_attribute(nonce, 'r') || !proof) return malformed_step(user_);
    auto cb_data = crypto::base64_decode(cb.substr(2));
    if (!cb_data || *cb_data != gs2_header_ || nonce.substr(2) != nonce_) return fail_step(user_);
    if (proof->size() != 32) return fail_step(user_);
    // RFC 5802 §3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must be StoredKey.
    const std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
    std::string client_key = crypto::hmac_sha256(secret_.stored_key, auth_message);
    for (std::size_t i = 0; i < client_key.size(); ++i) client_key[i] = static_cast<char>(client_key[i] ^ (*proof)[i]);
    if (!crypto::equal(crypto::sha256(client_key), secret_.stored_key) || !known_) return fail_step(user_);
    state_ = state::outcome;
    return {sasl_status::challenge, "v=" + crypto::base64_encode(crypto::hmac_sha256(secret_.server_key, auth_message)), {}};
}

}  // namespace

namespace detail {
std::unique_ptr<sasl_mechanism> make_scram_sha256(const credential_store& store, const sasl_options& options) {
    return std::make_unique<scram_mechanism>(store, options);
}
}  // namespace detail

}  // namespace postern::auth
