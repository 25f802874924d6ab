// SPDX-License-Identifier: MIT
#include "auth/sasl_client.hpp"

#include "auth/crypto.hpp"

#include <algorithm>
#include <array>
#include <span>

namespace postern::auth {
namespace {

class cram_md5_client final : public proto::sasl_client {
public:
    cram_md5_client(std::string u, std::string p) : user_(std::move(u)), pass_(std::move(p)) {}
    std::string name() const override { return "CRAM-MD5"; }
    std::optional<std::string> initial_response() override { return std::nullopt; }
    // RFC 2195 §2: the user name, a space, and HMAC-MD5(password, challenge) in lower-case hex.
    std::optional<std::string> respond(std::string_view challenge) override {
        if (answered_) return std::nullopt;
        answered_ = true;
        return user_ + " " + crypto::hex_encode(crypto::hmac_md5(pass_, challenge));
    }

private:
    std::string user_, pass_;
    bool answered_ = false;
};

// RFC 5802 §5.1: ',' and '=' in a user name are written "=2C" and "=3D".
std::string saslname(std::string_view s) {
    std::string out;
    for (char c : s) out += c == ',' ? "=2C" : c == '=' ? "=3D" : std::string(1, c);
    return out;
}

// "r=...,s=...,i=..." attributes by letter.
std::optional<std::string_view> attribute(std::string_view msg, char name) {
    while (!msg.empty()) {
        const auto comma = msg.find(',');
        const std::string_view a = msg.substr(0, comma);
        if (a.size() >= 2 && a[0] == name && a[1] == '=') return a.substr(2);
        if (comma == std::string_view::npos) break;
        msg.remove_prefix(comma + 1);
    }
    return std::nullopt;
}

class scram_client final : public proto::sasl_client {
public:
    scram_client(std::string u, std::string p, std::function<std::string(std::size_t)> random)
        : user_(std::move(u)), pass_(std::move(p)), random_(std::move(random)) {}
    std::string name() const override { return "SCRAM-SHA-256"; }

    std::optional<std::string> initial_response() override {
        const std::string raw = random_ ? random_(15) : crypto::random_bytes(15);
        nonce_ = crypto::base64_encode(raw);
        first_bare_ = "n=" + saslname(user_) + ",r=" + nonce_;
        return "n,," + first_bare_;  // gs2-header: no channel binding, no authzid
    }

    std::optional<std::string> respond(std::string_view challenge) override {
        if (step_ == 0 && challenge.empty()) return initial_response();  // the server asked with an empty 334
        if (step_++ == 0) return client_final(challenge);
        // server-final-message: "v=ServerSignature"; the server proves it knew the secret too.
        auto v = attribute(challenge, 'v');
        if (!v || !crypto::equal(*v, crypto::base64_encode(server_signature_))) return std::nullopt;
        verified_ = true;
        return std::string{};
    }
    bool complete() const override { return verified_; }

private:
    std::optional<std::string> client_final(std::string_view server_first) {
        auto r = attribute(server_first, 'r');
        auto s = attribute(server_first, 's');
        auto i = attribute(server_first, 'i');
        if (!r || !s || !i || r->substr(0, nonce_.size()) != nonce_ || r->size() == nonce_.size()) return std::nullopt;
        auto salt = crypto::base64_decode(*s);
        unsigned iterations = 0;
        for (char c : *i) {
            if (c < '0' || c > '9' || iterations > 1'000'000) return std::nullopt;
            iterations = iterations * 10 + static_cast<unsigned>(c - '0');
        }
        // RFC 7677 §4: at least 4096; a cap keeps a hostile server from costing us minutes.
        if (!salt || iterations < 4096 || iterations > 1'000'000) return std::nullopt;
        const std::string salted = crypto::pbkdf2_sha256(pass_, *salt, iterations);
        const std::string client_key = crypto::hmac_sha256(salted, "Client Key");
        const std::string without_proof = "c=biws,r=" + std::string(*r);
        const std::string auth_message = first_bare_ + "," + std::string(server_first) + "," + without_proof;
        std::string proof = crypto::hmac_sha256(crypto::sha256(client_key), auth_message);
        for (std::size_t k = 0; k < proof.size(); ++k) proof[k] = static_cast<char>(proof[k] ^ client_key[k]);
        server_signature_ = crypto::hmac_sha256(crypto::hmac_sha256(salted, "Server Key"), auth_message);
        return without_proof + ",p=" + crypto::base64_encode(proof);
    }

    std::string user_, pass_;
    std::function<std::string(std::size_t)> random_;
    std::string nonce_, first_bare_, server_signature_;
    int step_ = 0;
    bool verified_ = false;
};

bool offers(const std::vector<std::string>& offered, std::string_view m) {
    return std::find(offered.begin(), offered.end(), m) != offered.end();
}

}  // namespace

std::unique_ptr<proto::sasl_client> make_cram_md5_client(std::string user, std::string password) {
    return std::make_unique<cram_md5_client>(std::move(user), std::move(password));
}

std::unique_ptr<proto::sasl_client> make_scram_sha256_client(std::string user, std::string password,
                                                             std::function<std::string(std::size_t)> random) {
    return std::make_unique<scram_client>(std::move(user), std::move(password), std::move(random));
}

proto::sasl_chooser choose_client_mechanism(std::string user, std::string password, std::string forced) {
    return [user, password, forced](const std::vector<std::string>& offered, bool tls,
                                    std::string& why) -> std::unique_ptr<proto::sasl_client> {
        static constexpr std::array<std::string_view, 4> in_tls{"PLAIN", "LOGIN", "SCRAM-SHA-256", "CRAM-MD5"};
        static constexpr std::array<std::string_view, 2> in_clear{"SCRAM-SHA-256", "CRAM-MD5"};
        std::string pick;
        if (!forced.empty()) {
            const bool sends_password = forced == "PLAIN" || forced == "LOGIN";
            if (offers(offered, forced) && (tls || !sends_password)) pick = forced;
        } else {
            for (auto m : tls ? std::span<const std::string_view>(in_tls) : std::span<const std::string_view>(in_clear))
                if (offers(offered, m)) {
                    pick = std::string(m);
                    break;
                }
        }
        if (pick == "PLAIN") return proto::make_plain_client(user, password);
        if (pick == "LOGIN") return proto::make_login_client(user, password);
        if (pick == "SCRAM-SHA-256") return make_scram_sha256_client(user, password);
        if (pick == "CRAM-MD5") return make_cram_md5_client(user, password);
        std::string list;
        for (const auto& m : offered) list += (list.empty() ? "" : " ") + m;
        if (offered.empty()) why = "the server offers no AUTH" + std::string(tls ? "" : " (not in clear text, at least)");
        else if (!forced.empty() && offers(offered, forced)) why = "refusing to send the password in clear text with AUTH " + forced;
        else if (!forced.empty()) why = "the server does not offer AUTH " + forced + " (it offers " + list + ")";
        else if (!tls) why = "refusing to send the password in clear text: the server offers only " + list + " without TLS";
        else why = "no mechanism in common (the server offers " + list + ")";
        return nullptr;
    };
}

}  // namespace postern::auth
