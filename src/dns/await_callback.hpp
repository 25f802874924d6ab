// SPDX-License-Identifier: MIT
#pragma once
// Internal: turns a callback-style operation into an awaitable that completes exactly once,
// either with the callback's value or, when the awaiting coroutine is cancelled, at once with
// a "cancelled" value (the callback's value, if it comes later, is dropped).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace postern::dns::detail {

namespace asio = boost::asio;

template <class Handler, class Result>
class once_completion {
public:
    once_completion(Handler h, const asio::any_io_executor& fallback)
        : handler_(std::move(h)),
          slot_(asio::get_associated_cancellation_slot(*handler_)),
          // Keep the handler's executor busy while the operation is out, as Asio's own
          // operations do: it may be another io_context than the resolver's.
          work_(asio::prefer(asio::get_associated_executor(*handler_, fallback),
                             asio::execution::outstanding_work.tracked)) {}

    asio::cancellation_slot slot() const { return slot_; }

    // From the operation's callback, already running through an executor: dispatch is enough.
    void complete(Result r) {
        if (!handler_) return;
        if (slot_.is_connected()) slot_.clear();
        finish(std::move(r), false);
    }

    // From a cancellation slot, which runs inside whoever emitted the signal: post, so the
    // coroutine does not resume inside the emitter.
    void cancel(Result r) {
        if (handler_) finish(std::move(r), true);
    }

private:
    void finish(Result r, bool post) {
        auto run = [h = std::move(*handler_), r = std::move(r)]() mutable { std::move(h)(std::move(r)); };
        handler_.reset();
        auto ex = std::move(work_);
        if (post)
            asio::post(ex, std::move(run));
        else
            asio::dispatch(ex, std::move(run));
    }

    std::optional<Handler> handler_;
    asio::cancellation_slot slot_;
    asio::any_io_executor work_;
};

// start(std::function<void(Result)>) begins the operation when the awaitable is first awaited.
template <class Result, class Start>
asio::awaitable<Result> await_callback(asio::any_io_executor fallback, Start start, Result on_cancel) {
    auto initiate = [](auto handler, asio::any_io_executor fallback, Start start, Result on_cancel) {
        using state = once_completion<decltype(handler), Result>;
        auto st = std::make_shared<state>(std::move(handler), fallback);
        if (auto slot = st->slot(); slot.is_connected()) {
            slot.assign([st, on_cancel = std::move(on_cancel)](asio::cancellation_type) mutable {
                auto keep = st;  // the slot's handler (and its copy of st) may go while cancel() runs
                keep->cancel(std::move(on_cancel));
            });
        }
        start(std::function<void(Result)>([st](Result r) { st->complete(std::move(r)); }));
    };
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(Result)>(
        std::move(initiate), asio::use_awaitable, std::move(fallback), std::move(start), std::move(on_cancel));
}

}  // namespace postern::dns::detail
