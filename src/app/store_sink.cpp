// SPDX-License-Identifier: MIT
#include "app/store_sink.hpp"

#include "base/log.hpp"
#include "proto/replies.hpp"

#include <boost/asio/co_spawn.hpp>

namespace postern::app {

namespace asio = boost::asio;

store_sink::store_sink(store::maildir_store& s, std::unique_ptr<store::message_writer> w, stored_message m,
                       stored_hook hook, std::size_t head_size, std::size_t return_path_size)
    : store_(s), writer_(std::move(w)), stored_(std::move(m)), hook_(std::move(hook)), head_size_(head_size),
      return_path_size_(return_path_size) {}

store_sink::~store_sink() = default;

void store_sink::check(receive_checks c) {
    checks_ = std::move(c);
    verifier_.emplace();
}

void store_sink::sign(mailauth::dkim_signer_config c, std::int64_t now) {
    signer_.emplace(std::move(c));
    sign_time_ = now;
}

result<void> store_sink::write(std::span<const char> bytes) {
    if (verifier_) verifier_->feed(bytes);
    if (results_fields_) results_fields_->feed(std::string_view(bytes.data(), bytes.size()));
    if (signer_) signer_->feed(bytes);
    return writer_->write(bytes);
}

// RFC 6376 §5.6: the DKIM-Signature field goes on top of the message as the user wrote it
// (below this hop's trace fields, which a signer would not cover anyway). A message the signer
// cannot sign (a header section over its limit, no From) is stored unsigned: refusing it would
// make the client retry the same message forever.
result<void> store_sink::add_signature() {
    signer_->finish();
    auto field = signer_->signature_header(sign_time_);
    if (!field) {
        log::warn(session_, log::ev::mailauth_verdict, {{"dkim_sign", "skipped"}, {"error", field.error().message()}});
        return {};
    }
    return writer_->insert(head_size_, std::span<const char>(field->data(), field->size()));
}

void store_sink::guard_results(std::string authserv_id, log::session_id session) {
    session_ = session;
    results_fields_.emplace("Authentication-Results", [id = std::move(authserv_id)](std::string_view value) {
        return message::is_own_authentication_results(value, id);
    });
}

void store_sink::finish(std::function<void(std::optional<proto::reply>)> done) {
    try {
        if (auto refusal = prepare(); refusal) return done(std::move(refusal));
        if (!checks_) return done(std::nullopt);
        evaluate(std::move(done));
    } catch (const std::exception& e) {  // bad_alloc: one message fails, not the server
        log::error(session_, log::ev::internal_error, {{"op", "mailauth"}, {"error", e.what()}});
        if (done) done(proto::replies::local_error());
    }
}

// What needs no look-up, in an order that keeps offsets right: forged fields renamed in place
// first (their offsets count from the client's first octet), then the signature inserted.
std::optional<proto::reply> store_sink::prepare() {
    if (results_fields_) {
        results_fields_->finish();
        if (results_fields_->overflow()) {
            log::warn(session_, log::ev::mailauth_forged, {{"refused", "too many fields"}});
            return proto::replies::too_many_own_results();
        }
        if (auto r = rename_forged_results(); !r) {
            log::error(session_, log::ev::store_error, {{"op", "rename_results"}, {"error", r.error().message()}});
            return proto::replies::storage_error(r.error());
        }
    }
    if (signer_) {
        if (auto r = add_signature(); !r) {
            log::error(session_, log::ev::store_error, {{"op", "dkim_sign"}, {"error", r.error().message()}});
            return proto::replies::storage_error(r.error());
        }
    }
    return std::nullopt;
}

void store_sink::evaluate(std::function<void(std::optional<proto::reply>)> done) {
    auto message = verifier_->finish();
    verifier_.reset();
    auto& c = *checks_;
    // The connection waits for `done` (and keeps this sink) until the verdict is in, so `this`
    // outlives the evaluation; timed_evaluate ends within c.timeout whatever the DNS does.
    auto task = mailauth::timed_evaluate(*c.resolver, c.request, std::move(message), c.timeout);
    asio::co_spawn(c.resolver->get_executor(), std::move(task),
                   [this, done = std::move(done)](std::exception_ptr e, mailauth::auth_verdict v) {
                       std::optional<proto::reply> reply = proto::replies::local_error();
                       try {
                           if (e) std::rethrow_exception(e);
                           reply = apply(v);
                       } catch (const std::exception& x) {
                           log::error(session_, log::ev::internal_error, {{"op", "mailauth"}, {"error", x.what()}});
                       }
                       done(std::move(reply));
                   });
}

// RFC 8601 §5: fields that claim to come from this authserv-id and arrived with the message are
// forged (or from an earlier pass) and must not be read as ours; rename them in place, to a name of
// the same length, so that no offset moves.
result<void> store_sink::rename_forged_results() {
    static constexpr std::string_view renamed = "X-Removed-Auth-Results";  // as long as "Authentication-Results"
    for (auto offset : results_fields_->offsets()) {
        log::warn(session_, log::ev::mailauth_forged, {{"renamed_to", renamed}, {"offset", offset}});
        if (auto r = writer_->overwrite(head_size_ + offset, std::span<const char>(renamed.data(), renamed.size())); !r)
            return r;
    }
    return {};
}

// Writes the Authentication-Results field, then decides: refuse, quarantine or store.
std::optional<proto::reply> store_sink::apply(const mailauth::auth_verdict& v) {
    const auto& c = *checks_;
    const auto& d = v.dmarc;
    log::info(session_, log::ev::mailauth_verdict,
              {{"spf", to_string(v.spf.result)}, {"dkim", v.dkim.empty() ? "none" : to_string(v.dkim.front().result)},
               {"dmarc", to_string(d.result)}, {"policy", to_string(d.policy)}, {"from_domain", d.from_domain},
               {"aligned", v.aligned}});
    const bool failed = d.result == mailauth::dmarc_result::fail;
    if (c.enforce && failed && d.policy == mailauth::dmarc_policy::reject) {
        log::info(session_, log::ev::mailauth_reject, {{"from_domain", d.from_domain}, {"summary", v.summary}});
        return proto::replies::dmarc_reject(d.from_domain);
    }
    const auto field = mailauth::authentication_results(v, c.authserv_id, c.client);
    if (auto r = writer_->insert(return_path_size_, std::span<const char>(field.data(), field.size())); !r) {
        log::error(session_, log::ev::store_error, {{"op", "authentication_results"}, {"error", r.error().message()}});
        return proto::replies::storage_error(r.error());
    }
    if (c.enforce && failed && d.policy == mailauth::dmarc_policy::quarantine) {
        if (auto r = store_.quarantine(*writer_); !r) {
            log::error(session_, log::ev::store_error, {{"op", "quarantine"}, {"error", r.error().message()}});
            return proto::replies::storage_error(r.error());
        }
        log::info(session_, log::ev::mailauth_quarantine, {{"from_domain", d.from_domain}});
    }
    stored_.auth = mailauth::to_json(v).dump();
    return std::nullopt;
}

void store_sink::commit(std::function<void(result<std::string>)> done) {
    if (!hook_) return store_.commit(std::move(writer_), std::move(done));
    stored_.files = writer_->final_paths();
    store_.commit(std::move(writer_), [done = std::move(done), m = std::move(stored_), hook = std::move(hook_)](
                                          result<std::string> id) mutable {
        if (id) hook(std::move(m));
        done(std::move(id));
    });
}

}  // namespace postern::app
