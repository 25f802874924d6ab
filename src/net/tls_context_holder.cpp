// SPDX-License-Identifier: MIT
// The server context in use. A reload builds a complete new context before it takes the lock,
// and the lock only guards the pointer swap: accepting connections never waits on file I/O or
// key generation. Sessions hold their own shared_ptr, so the old context lives until the last
// session that uses it ends.
#include "base/log.hpp"
#include "net/tls.hpp"

namespace postern::net {

result<std::unique_ptr<tls_context_holder>> tls_context_holder::from_files(tls_files files) {
    return open(source{std::move(files)});
}

result<std::unique_ptr<tls_context_holder>> tls_context_holder::self_signed(std::filesystem::path dir,
                                                                            std::string hostname) {
    return open(source{self_signed_source{std::move(dir), std::move(hostname)}});
}

result<std::unique_ptr<tls_context_holder>> tls_context_holder::open(source src) {
    std::unique_ptr<tls_context_holder> holder{new tls_context_holder(std::move(src))};
    auto first = holder->build();
    if (!first) return fail(first.error());
    holder->current_ = std::move(*first);
    return holder;
}

result<tls_context_holder::built> tls_context_holder::build() const {
    tls_files files;
    if (const auto* s = std::get_if<self_signed_source>(&source_)) {
        auto generated = ensure_self_signed(s->dir, s->hostname);
        if (!generated) return fail(generated.error());
        files = std::move(*generated);
    } else {
        files = std::get<tls_files>(source_);
    }
    auto ctx = make_server_context(files);
    if (!ctx) return fail(ctx.error());
    return built{std::move(*ctx), std::move(files)};
}

std::shared_ptr<ssl::context> tls_context_holder::get() const {
    std::lock_guard lock(mutex_);
    return current_.context;
}

tls_files tls_context_holder::files() const {
    std::lock_guard lock(mutex_);
    return current_.files;
}

result<void> tls_context_holder::reload() {
    std::lock_guard serial(reload_mutex_);
    auto next = build();
    if (!next) {
        log::warn(log::no_session, log::ev::tls_reload,
                  {{"result", "kept_previous"}, {"error", next.error().message()}});
        return fail(next.error());
    }
    auto cert = next->files.cert_chain.string();
    {
        std::lock_guard lock(mutex_);
        std::swap(current_, *next);
    }
    // `next` now holds the previous context; it is released here, outside the lock, and freed
    // once the last session that took it ends.
    log::info(log::no_session, log::ev::tls_reload, {{"result", "ok"}, {"cert", cert}});
    return {};
}

}  // namespace postern::net
