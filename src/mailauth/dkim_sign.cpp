// SPDX-License-Identifier: MIT
// DKIM signing (RFC 6376 §5).
//
// Theory of operation: the header section is kept by a header_collector; the body goes through
// one body_canonicalizer into a SHA-256 context as it streams. signature_header() writes the field
// with an empty b=, folded (b= last, so that what §3.5 removes is exactly the text after "b="),
// hashes it after the selected fields (§3.7), signs, and appends b='s value, folded too.
#include "mailauth/dkim_sign.hpp"

#include "message/base64.hpp"

#include <algorithm>
#include <string>

namespace postern::mailauth {
namespace {

constexpr std::size_t max_columns = 78;  // RFC 5322 §2.1.1: lines SHOULD be at most 78 characters

// Writes a field, folding (CRLF SP) before a word or piece that would pass max_columns.
class field_writer {
public:
    explicit field_writer(std::string_view name) : out_(name), column_(name.size()) {}
    // A new tag, after a space (or a fold).
    void word(std::string_view w) {
        if (column_ + 1 + w.size() > max_columns) fold();
        else out_ += ' ', ++column_;
        append(w);
    }
    // More of the same value: folded there if needed; §3.5 allows FWS at these points.
    void piece(std::string_view p) {
        if (column_ + p.size() > max_columns) fold();
        append(p);
    }
    // Base64, broken wherever the line is full (FWS may appear between any two characters).
    void base64(std::string_view b) {
        while (!b.empty()) {
            if (column_ >= max_columns) fold();
            const std::size_t n = std::min(b.size(), max_columns - column_);
            append(b.substr(0, n));
            b.remove_prefix(n);
        }
    }
    const std::string& text() const noexcept { return out_; }
    std::string take() { return std::move(out_); }

private:
    void fold() {
        out_ += "\r\n ";
        column_ = 1;
    }
    void append(std::string_view s) {
        out_ += s;
        column_ += s.size();
    }
    std::string out_;
    std::size_t column_;
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

result<std::string> sign(EVP_PKEY& key, dkim_key_algorithm alg, std::string_view data) {
    evp_md_ctx_ptr ctx{EVP_MD_CTX_new()};
    if (!ctx) return fail(dkim_errc::crypto_error);
    std::string input(data);
    const EVP_MD* md = EVP_sha256();
    if (alg == dkim_key_algorithm::ed25519) {  // RFC 8463 §3: PureEdDSA over the SHA-256 hash
        auto digest = sha256(data);
        if (!digest) return fail(digest.error());
        input = std::move(*digest);
        md = nullptr;
    }
    std::size_t len = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(input.data());
    if (EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, &key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()) != 1)
        return fail(dkim_errc::crypto_error);
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size()) != 1)
        return fail(dkim_errc::crypto_error);
    sig.resize(len);
    return sig;
}

}  // namespace

std::vector<std::string> default_signed_headers() {
    return {"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
            "MIME-Version", "Content-Type", "Content-Transfer-Encoding"};
}

struct dkim_signer::state {
    explicit state(dkim_signer_config c)
        : config(std::move(c)), headers(config.max_header_section), body(config.body_canon), ctx(EVP_MD_CTX_new()) {
        ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
        sink = [this](std::string_view s) {
            if (ok) ok = EVP_DigestUpdate(ctx.get(), s.data(), s.size()) == 1;
        };
    }
    std::vector<std::string> h_names() const;
    result<std::string> header(std::int64_t now, dkim_key_algorithm alg) const;

    dkim_signer_config config;
    header_collector headers;
    body_canonicalizer body;
    evp_md_ctx_ptr ctx;
    canon_sink sink;
    bool ok = false;
    bool finished = false;
    std::string body_hash;
};

// h=: every configured name once per instance present (§5.4.2 picks them from the bottom up, so
// all are covered), and the over-signed names once more.
std::vector<std::string> dkim_signer::state::h_names() const {
    std::vector<std::string> names;
    for (const auto& name : config.headers) {
        const auto n = std::count_if(headers.fields().begin(), headers.fields().end(),
                                     [&](const header_field& f) { return same_field_name(f.name(), name); });
        const bool over = std::any_of(config.oversign.begin(), config.oversign.end(),
                                      [&](const std::string& o) { return same_field_name(o, name); });
        for (auto i = 0; i < n + (over ? 1 : 0); ++i) names.push_back(lower(name));
    }
    return names;
}

result<std::string> dkim_signer::state::header(std::int64_t now, dkim_key_algorithm alg) const {
    field_writer w("DKIM-Signature:");
    w.word("v=1;");
    w.word(alg == dkim_key_algorithm::rsa ? "a=rsa-sha256;" : "a=ed25519-sha256;");
    w.word("c=" + std::string(to_string(config.header_canon)) + "/" + std::string(to_string(config.body_canon)) + ";");
    w.word("d=" + config.domain + ";");
    w.word("s=" + config.selector + ";");
    w.word("t=" + std::to_string(now) + ";");
    if (config.expire_after) w.word("x=" + std::to_string(now + *config.expire_after) + ";");
    const auto names = h_names();
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string p = (i == 0 ? "h=" : "") + names[i] + (i + 1 == names.size() ? ";" : ":");
        if (i == 0) w.word(p);
        else w.piece(p);
    }
    w.word("bh=");
    w.base64(message::base64_encode(body_hash) + ";");
    w.word("b=");
    const std::string text = w.text();
    header_field field{text, text.find(':')};
    const std::size_t b_at = field.raw.size() - field.colon - 1;  // b= is last and still empty
    const std::string data = signed_header_data(config.header_canon, headers.fields(), names, field, b_at, b_at);
    auto sig = sign(*config.key, alg, data);
    if (!sig) return fail(sig.error());
    w.base64(message::base64_encode(*sig));
    return w.take() + "\r\n";
}

dkim_signer::dkim_signer(dkim_signer_config config) : s_(std::make_unique<state>(std::move(config))) {}
dkim_signer::~dkim_signer() = default;
dkim_signer::dkim_signer(dkim_signer&&) noexcept = default;
dkim_signer& dkim_signer::operator=(dkim_signer&&) noexcept = default;

void dkim_signer::feed(std::span<const char> bytes) {
    std::string_view in(bytes.data(), bytes.size());
    if (!s_->headers.done()) in.remove_prefix(s_->headers.feed(in));
    if (!in.empty() && !s_->headers.too_large()) s_->body.feed(in, s_->sink);
}

void dkim_signer::finish() {
    if (s_->finished) return;
    s_->headers.finish();
    s_->body.finish(s_->sink);
    s_->finished = true;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (s_->ok && EVP_DigestFinal_ex(s_->ctx.get(), md, &n) == 1)
        s_->body_hash.assign(reinterpret_cast<const char*>(md), n);
}

result<std::string> dkim_signer::signature_header(std::int64_t now_unix) const {
    if (!s_->finished) return fail(std::errc::operation_not_permitted);
    if (s_->headers.too_large()) return fail(dkim_errc::header_too_large);
    // RFC 6376 §5.4: From MUST be signed; a message without one cannot get a valid signature.
    const auto& fields = s_->headers.fields();
    if (std::none_of(fields.begin(), fields.end(), [](const header_field& f) { return same_field_name(f.name(), "From"); }))
        return fail(dkim_errc::from_not_signed);
    if (!s_->config.key) return fail(dkim_errc::bad_pem);
    auto alg = key_algorithm(*s_->config.key);
    if (!alg) return fail(alg.error());
    if (s_->body_hash.empty()) return fail(dkim_errc::crypto_error);
    return s_->header(now_unix, *alg);
}

}  // namespace postern::mailauth
