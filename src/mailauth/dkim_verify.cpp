// SPDX-License-Identifier: MIT
// DKIM verification (RFC 6376 §6).
//
// Theory of operation: dkim_verifier keeps the header section (header_collector) and, once it
// ends, parses every DKIM-Signature field and gives each distinct (body canonicalization, l=) a
// body_canonicalizer feeding a SHA-256 context, so the body is hashed as it streams, once per
// combination. rsa-sha1 signatures are refused (RFC 8301 §3.1) and not hashed. verify_dkim() then
// takes each signature in turn through §6.1: the checks that need only the field and the clock,
// the key lookup (§6.1.2), the key's own constraints, the body hash and the header hash (§6.1.3).
#include "mailauth/dkim_verify.hpp"

#include "mailauth/dkim_keys.hpp"

#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <limits>
#include <optional>

namespace postern::mailauth {

struct dkim_verifier::body_hash {
    body_hash(dkim_canon c, std::optional<std::uint64_t> l)
        : canon(c), limit(l), canonicalizer(c), ctx(EVP_MD_CTX_new()) {
        ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
        sink = [this](std::string_view s) { update(s); };
    }
    // §3.5 l=: only the first l octets of the canonical body are hashed; the rest are counted so
    // that an l= past the end of the body can be told apart (§6.1.3).
    void update(std::string_view s) {
        std::uint64_t take = s.size();
        if (limit) take = std::min(take, *limit > length ? *limit - length : 0);
        if (take > 0 && ok) ok = EVP_DigestUpdate(ctx.get(), s.data(), static_cast<std::size_t>(take)) == 1;
        length += s.size();
    }
    void finish() {
        canonicalizer.finish(sink);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        if (ok && EVP_DigestFinal_ex(ctx.get(), md, &n) == 1) digest.assign(reinterpret_cast<const char*>(md), n);
    }

    dkim_canon canon;
    std::optional<std::uint64_t> limit;
    body_canonicalizer canonicalizer;
    evp_md_ctx_ptr ctx;
    bool ok = false;
    std::uint64_t length = 0;
    std::string digest;
    canon_sink sink;
};

dkim_verifier::dkim_verifier(dkim_verifier_limits limits) : limits_(limits), headers_(limits.max_header_section) {}
dkim_verifier::~dkim_verifier() = default;
dkim_verifier::dkim_verifier(dkim_verifier&&) noexcept = default;
dkim_verifier& dkim_verifier::operator=(dkim_verifier&&) noexcept = default;

dkim_verifier::body_hash& dkim_verifier::hash_for(const dkim_signature& sig) {
    for (auto& h : hashes_)
        if (h->canon == sig.body_canon && h->limit == sig.body_length) return *h;
    hashes_.push_back(std::make_unique<body_hash>(sig.body_canon, sig.body_length));
    return *hashes_.back();
}

void dkim_verifier::start_body() {
    body_started_ = true;
    constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
    const auto& fields = headers_.fields();
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (!same_field_name(fields[i].name(), "DKIM-Signature")) continue;
        dkim_signature_state state;
        state.field = i;
        std::size_t hash = none;
        if (headers_.too_large()) state.signature = fail(dkim_errc::header_too_large);
        else if (signatures_.size() >= limits_.max_signatures) state.signature = fail(dkim_errc::too_many_signatures);
        else state.signature = parse_dkim_signature(fields[i].value());
        if (state.signature && state.signature->algorithm == dkim_algorithm::rsa_sha1)
            state.signature = fail(dkim_errc::sha1_refused);  // RFC 8301 §3.1: not worth hashing
        if (state.signature) {
            body_hash& h = hash_for(*state.signature);
            hash = static_cast<std::size_t>(std::find_if(hashes_.begin(), hashes_.end(),
                                                         [&](const auto& p) { return p.get() == &h; }) -
                                            hashes_.begin());
        }
        signatures_.push_back(std::move(state));
        hash_of_.push_back(hash);
    }
    for (std::size_t i = 0; i < headers_.dropped_signatures(); ++i) {
        dkim_signature_state state;
        state.field = none;
        state.signature = fail(dkim_errc::header_too_large);
        signatures_.push_back(std::move(state));
        hash_of_.push_back(none);
    }
}

void dkim_verifier::feed(std::span<const char> bytes) {
    std::string_view in(bytes.data(), bytes.size());
    if (!body_started_) {
        in.remove_prefix(headers_.feed(in));
        if (!headers_.done()) return;
        start_body();
    }
    if (in.empty()) return;
    for (auto& h : hashes_) h->canonicalizer.feed(in, h->sink);
}

dkim_message dkim_verifier::finish() {
    headers_.finish();
    if (!body_started_) start_body();
    for (auto& h : hashes_) h->finish();
    for (std::size_t i = 0; i < signatures_.size(); ++i) {
        if (hash_of_[i] >= hashes_.size()) continue;
        const body_hash& h = *hashes_[hash_of_[i]];
        signatures_[i].body_hash = h.digest;
        signatures_[i].body_length = h.length;
    }
    dkim_message m;
    m.header_too_large = headers_.too_large();
    m.headers = headers_.take_fields();
    m.signatures = std::move(signatures_);
    signatures_.clear();
    hash_of_.clear();
    hashes_.clear();
    return m;
}

dkim_result result_for(std::error_code ec) noexcept {
    if (ec.category() != dkim_category()) return dkim_result::temperror;
    switch (static_cast<dkim_errc>(ec.value())) {
        case dkim_errc::sha1_refused:
        case dkim_errc::key_too_short: return dkim_result::policy;  // RFC 8601 §2.7.1: an algorithm not acceptable
        case dkim_errc::dns_temporary:
        case dkim_errc::crypto_error: return dkim_result::temperror;
        case dkim_errc::body_hash_mismatch:
        case dkim_errc::bad_signature: return dkim_result::fail;
        default: return dkim_result::permerror;  // RFC 6376 §6.1: PERMFAIL
    }
}

namespace {

dkim_outcome outcome_for(const dkim_message& m, const dkim_signature_state& s) {
    dkim_outcome o;
    if (s.signature) {
        o.domain = s.signature->domain;
        o.selector = s.signature->selector;
        o.identity = s.signature->identity;
        o.algorithm = std::string(to_string(s.signature->algorithm));
        o.b_prefix = s.signature->b_text.substr(0, 8);
        return o;
    }
    // A field that does not verify is still reported with what it names, if its tags parse.
    if (s.field >= m.headers.size()) return o;
    auto tags = parse_tag_list(m.headers[s.field].value());
    if (!tags) return o;
    for (const auto& t : *tags) {
        if (t.name == "d") o.domain = std::string(t.value);
        else if (t.name == "s") o.selector = std::string(t.value);
        else if (t.name == "i") o.identity = std::string(t.value);
        else if (t.name == "a") o.algorithm = std::string(t.value);
        else if (t.name == "b") o.b_prefix = std::string(t.value.substr(0, 8));
    }
    if (o.identity.empty() && !o.domain.empty()) o.identity = "@" + o.domain;  // §3.5 i= default
    return o;
}

dkim_outcome with(dkim_outcome o, std::error_code ec) {
    o.result = result_for(ec);
    o.reason = ec.message();
    return o;
}

// §3.5 x= and t=, with `skew` seconds of tolerance for clocks that differ.
std::error_code check_times(const dkim_signature& sig, std::int64_t now, std::int64_t skew) {
    const auto sat_add = [](std::int64_t a, std::int64_t b) {
        return a > std::numeric_limits<std::int64_t>::max() - b ? std::numeric_limits<std::int64_t>::max() : a + b;
    };
    if (sig.expiration && sat_add(*sig.expiration, skew) < now) return dkim_errc::expired;
    if (sig.timestamp && *sig.timestamp > sat_add(now, skew)) return dkim_errc::future_timestamp;
    return {};
}

// §3.6.1: what the key record allows.
std::error_code check_key(const dkim_key_record& key, const dkim_signature& sig) {
    if (key.public_key.empty()) return dkim_errc::key_revoked;
    if (!key.hashes.empty() && std::find(key.hashes.begin(), key.hashes.end(), "sha256") == key.hashes.end())
        return dkim_errc::key_hash_mismatch;
    const bool ed = sig.algorithm == dkim_algorithm::ed25519_sha256;
    if (key.key_type != (ed ? "ed25519" : "rsa")) return dkim_errc::key_type_mismatch;
    if (!key.services.empty() && std::find(key.services.begin(), key.services.end(), "*") == key.services.end() &&
        std::find(key.services.begin(), key.services.end(), "email") == key.services.end())
        return dkim_errc::key_service_mismatch;
    // t=s: "the "i=" domain MUST NOT be a subdomain of "d="".
    if (key.strict && sig.identity_domain != sig.domain) return dkim_errc::key_strict_subdomain;
    return {};
}

result<evp_pkey_ptr> public_key(const dkim_key_record& key, dkim_algorithm alg, unsigned min_rsa_bits) {
    const auto* p = reinterpret_cast<const unsigned char*>(key.public_key.data());
    const auto n = static_cast<long>(key.public_key.size());
    if (alg == dkim_algorithm::ed25519_sha256) {
        // RFC 8463 §4: p= is the raw 32-octet public key, not wrapped in ASN.1.
        if (key.public_key.size() != 32) return fail(dkim_errc::bad_key);
        evp_pkey_ptr k{EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, p, 32)};
        if (!k) return fail(dkim_errc::bad_key);
        return k;
    }
    // RFC 6376 §3.6.1 p= holds a SubjectPublicKeyInfo; some publish a bare PKCS#1 RSAPublicKey,
    // which OpenDKIM and dkimpy accept too.
    const unsigned char* cursor = p;
    evp_pkey_ptr k{d2i_PUBKEY(nullptr, &cursor, n)};
    if (!k) {
        cursor = p;
        k.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &cursor, n));
    }
    if (!k || EVP_PKEY_get_base_id(k.get()) != EVP_PKEY_RSA) return fail(dkim_errc::bad_key);
    if (EVP_PKEY_get_bits(k.get()) < static_cast<int>(min_rsa_bits)) return fail(dkim_errc::key_too_short);
    return k;
}

// §3.7 with RFC 8463 §3: Ed25519 signs the SHA-256 of the data (PureEdDSA over the hash).
std::error_code verify_signature(EVP_PKEY& key, dkim_algorithm alg, std::string_view data, std::string_view sig) {
    evp_md_ctx_ptr ctx{EVP_MD_CTX_new()};
    if (!ctx) return dkim_errc::crypto_error;
    const auto* s = reinterpret_cast<const unsigned char*>(sig.data());
    int ok = 0;
    if (alg == dkim_algorithm::ed25519_sha256) {
        auto digest = sha256(data);
        if (!digest) return digest.error();
        if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, &key) != 1) return dkim_errc::crypto_error;
        ok = EVP_DigestVerify(ctx.get(), s, sig.size(), reinterpret_cast<const unsigned char*>(digest->data()),
                              digest->size());
    } else {
        if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, &key) != 1) return dkim_errc::crypto_error;
        ok = EVP_DigestVerify(ctx.get(), s, sig.size(), reinterpret_cast<const unsigned char*>(data.data()),
                              data.size());
    }
    return ok == 1 ? std::error_code{} : make_error_code(dkim_errc::bad_signature);
}

// §6.1.2 to §6.1.3 once the key record's TXT answer is in.
std::error_code check_with_key(const dkim_message& m, const dkim_signature_state& s, const dns::txt_answer& answer,
                               const dkim_verify_options& opts, bool& testing) {
    const dkim_signature& sig = *s.signature;
    if (answer.status == dns::status::nxdomain || answer.status == dns::status::no_records ||
        answer.status == dns::status::bad_name)
        return dkim_errc::no_key;
    if (!answer.ok()) return dkim_errc::dns_temporary;
    // §6.1.2: with several records, "the Verifier can choose one": the first that parses.
    std::optional<dkim_key_record> key;
    for (const auto& record : answer.records)
        if (auto k = parse_dkim_key(record.text)) {
            key = std::move(*k);
            break;
        }
    if (!key) return dkim_errc::key_syntax;
    testing = key->testing;
    if (auto ec = check_key(*key, sig)) return ec;
    auto pkey = public_key(*key, sig.algorithm, opts.min_rsa_bits);
    if (!pkey) return pkey.error();
    // §6.1.3: "If the l= tag value is greater than the body length, the signature MUST be ignored".
    if (sig.body_length && *sig.body_length > s.body_length) return dkim_errc::body_length_exceeded;
    if (s.body_hash.empty()) return dkim_errc::crypto_error;
    if (s.body_hash != sig.bh) return dkim_errc::body_hash_mismatch;
    const header_field& field = m.headers[s.field];
    const std::string data =
        signed_header_data(sig.header_canon, m.headers, sig.signed_headers, field, sig.b_value_begin, sig.b_value_end);
    return verify_signature(**pkey, sig.algorithm, data, sig.b);
}

}  // namespace

asio::awaitable<std::vector<dkim_outcome>> verify_dkim(dns::resolver& r, dkim_message message, std::int64_t now_unix,
                                                       dkim_verify_options options) {
    std::vector<dkim_outcome> outcomes;
    outcomes.reserve(message.signatures.size());
    for (const auto& s : message.signatures) {
        dkim_outcome o = outcome_for(message, s);
        if (!s.signature) {
            outcomes.push_back(with(std::move(o), s.signature.error()));
            continue;
        }
        if (auto ec = check_times(*s.signature, now_unix, options.clock_skew)) {
            outcomes.push_back(with(std::move(o), ec));
            continue;
        }
        auto lookup = dns::async_txt(r, record_name(s.signature->selector, s.signature->domain));  // docs/coroutines.md
        const dns::txt_answer answer = co_await std::move(lookup);
        bool testing = false;
        const std::error_code ec = check_with_key(message, s, answer, options, testing);
        o.testing = testing;
        if (ec) {
            outcomes.push_back(with(std::move(o), ec));
        } else {
            o.result = dkim_result::pass;
            o.reason = "signature verified";
            outcomes.push_back(std::move(o));
        }
    }
    co_return outcomes;
}

}  // namespace postern::mailauth
