// SPDX-License-Identifier: MIT
// The server over real loopback sockets, in process, with a recording policy whose commits
// complete on another thread (as the store's do).
#include "proto/replies.hpp"
#include "server/smtp_server.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

namespace postern::server {
namespace {

struct recording_policy : policy {
    struct sink : message_sink {
        recording_policy& owner;
        std::string data;
        explicit sink(recording_policy& o) : owner(o) {}
        result<void> write(std::span<const char> b) override {
            if (owner.fail_writes) return fail(std::errc::no_space_on_device);
            data.append(b.data(), b.size());
            return {};
        }
        void commit(std::function<void(result<std::string>)> done) override {
            std::thread([this, done = std::move(done)] {  // completes on another thread
                std::string id;
                {
                    std::lock_guard lk(owner.mu);
                    owner.stored.push_back(data);
                    id = "M" + std::to_string(owner.stored.size());
                }
                done(id);
            }).detach();
        }
    };
    begin_result begin_message(const session_info&, const proto::transaction&) override {
        return std::make_unique<sink>(*this);
    }
    std::mutex mu;
    std::vector<std::string> stored;
    std::atomic<bool> fail_writes{false};
    std::size_t count() {
        std::lock_guard lk(mu);
        return stored.size();
    }
};

class server_fixture : public ::testing::Test {
protected:
    void start(server_config cfg = {}) {
        cfg_ = std::move(cfg);
        cfg_.listeners = {listener_config{"127.0.0.1", 0, server::listener_role::mx}};
        srv_ = std::make_unique<smtp_server>(io_, cfg_);
        srv_->listen();
        srv_->start(policy_);
        port_ = srv_->local_endpoints().at(0).port();
        thread_ = std::thread([this] { io_.run(); });
    }
    void TearDown() override {
        if (thread_.joinable()) {
            // The server drains by itself: every session ends, then io_.run() returns.
            boost::asio::post(io_, [this] { srv_->shutdown(); srv_->force_close(); });
            thread_.join();
        }
    }
    struct client {
        boost::asio::io_context io;
        boost::asio::ip::tcp::socket s{io};
        boost::asio::streambuf buf;
        explicit client(std::uint16_t port) { s.connect({boost::asio::ip::make_address("127.0.0.1"), port}); }
        void send(const std::string& t) { boost::asio::write(s, boost::asio::buffer(t)); }
        // Reads one whole reply (last line "NNN "); returns "" when the server closed.
        std::string reply() {
            std::string all;
            for (;;) {
                boost::system::error_code ec;
                boost::asio::read_until(s, buf, "\r\n", ec);
                if (ec) return all;
                std::istream is(&buf);
                std::string line;
                std::getline(is, line);
                all += line + "\n";
                if (line.size() >= 4 && line[3] == ' ') return all;
            }
        }
        // Greeting, then HELO, MAIL, RCPT and DATA pipelined; returns once the 354 has arrived.
        void start_data() {
            reply();
            send("HELO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
            for (int i = 0; i < 4; ++i) reply();
        }
        bool closed() {
            char c;
            boost::system::error_code ec;
            s.read_some(boost::asio::buffer(&c, 1), ec);
            return ec == boost::asio::error::eof;
        }
    };
    boost::asio::io_context io_;
    server_config cfg_;
    recording_policy policy_;
    std::unique_ptr<smtp_server> srv_;
    std::thread thread_;
    std::uint16_t port_ = 0;
};

TEST_F(server_fixture, pipelined_transaction_is_stored_and_replies_come_in_order) {
    start();
    client c(port_);
    EXPECT_EQ(c.reply().substr(0, 4), "220 ");
    c.send("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nRCPT TO:<e@f.example>\r\nDATA\r\n");
    EXPECT_EQ(c.reply().substr(0, 4), "250-");
    EXPECT_EQ(c.reply().substr(0, 9), "250 2.1.0");
    EXPECT_EQ(c.reply().substr(0, 9), "250 2.1.5");
    EXPECT_EQ(c.reply().substr(0, 9), "250 2.1.5");
    EXPECT_EQ(c.reply().substr(0, 3), "354");
    c.send("Subject: x\r\n\r\n..body\r\n.\r\nQUIT\r\n");
    EXPECT_EQ(c.reply(), "250 2.0.0 Ok: queued as M1\r\n");
    EXPECT_EQ(c.reply().substr(0, 3), "221");
    EXPECT_TRUE(c.closed());
    ASSERT_EQ(policy_.count(), 1u);
    EXPECT_EQ(policy_.stored[0], "Subject: x\r\n\r\n.body\r\n");
}

TEST_F(server_fixture, idle_timeout_sends_421_4_4_2) {
    server_config cfg;
    cfg.idle_timeout = std::chrono::milliseconds(200);
    start(cfg);
    client c(port_);
    c.reply();
    EXPECT_EQ(c.reply().substr(0, 9), "421 4.4.2");
    EXPECT_TRUE(c.closed());
}

TEST_F(server_fixture, per_ip_limit_refuses_at_the_greeting) {
    server_config cfg;
    cfg.max_connections_per_ip = 2;
    start(cfg);
    client a(port_), b(port_);
    a.reply();
    b.reply();
    client c(port_);
    EXPECT_EQ(c.reply().substr(0, 9), "421 4.7.0");
    EXPECT_TRUE(c.closed());
}

TEST_F(server_fixture, write_failure_is_452_and_nothing_is_stored) {
    start();
    policy_.fail_writes = true;
    client c(port_);
    c.start_data();
    c.send("x\r\n.\r\n");
    EXPECT_EQ(c.reply().substr(0, 9), "452 4.3.1");
    EXPECT_EQ(policy_.count(), 0u);
}

TEST_F(server_fixture, shutdown_lets_a_transaction_finish_and_says_421_to_idle_sessions) {
    server_config cfg;
    cfg.shutdown_grace = std::chrono::seconds(10);
    start(cfg);
    client idle(port_), busy(port_);
    idle.reply();
    busy.start_data();
    busy.send("part one\r\n");
    boost::asio::post(io_, [this] { srv_->shutdown(); });
    EXPECT_EQ(idle.reply().substr(0, 9), "421 4.3.2");
    busy.send("part two\r\n.\r\n");
    EXPECT_EQ(busy.reply().substr(0, 9), "250 2.0.0");
    EXPECT_EQ(busy.reply().substr(0, 9), "421 4.3.2");
    EXPECT_EQ(policy_.count(), 1u);
}

// A peer that leaves mid-transaction while the server drains must end its session, not make it
// read the dead socket again and again (which would spin and keep the server from exiting).
TEST_F(server_fixture, peer_leaving_during_shutdown_ends_the_session) {
    server_config cfg;
    cfg.shutdown_grace = std::chrono::seconds(30);
    start(cfg);
    {
        client busy(port_);
        busy.reply();
        busy.send("HELO c\r\nMAIL FROM:<a@b.example>\r\n");
        busy.reply();
        busy.reply();
        boost::asio::post(io_, [this] { srv_->shutdown(); });
    }  // closed mid-transaction
    std::size_t active = 1;
    for (int i = 0; i < 200 && active != 0; ++i) {
        if (io_.stopped()) {  // drained: the server's I/O thread has finished
            thread_.join();
            active = srv_->active_connections();
            break;
        }
        std::promise<std::size_t> p;
        boost::asio::post(io_, [&] { p.set_value(srv_->active_connections()); });
        auto f = p.get_future();
        if (f.wait_for(std::chrono::milliseconds(100)) == std::future_status::ready) active = f.get();
        if (active) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(active, 0u);
}

// Fault injection: the client vanishes after every prefix of a whole session; the server
// survives each, stores only complete messages, and still serves the next client.
TEST_F(server_fixture, peer_disconnect_at_every_step) {
    start();
    const std::string script = "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\nhello\r\n.\r\nQUIT\r\n";
    for (std::size_t cut = 0; cut <= script.size(); cut += 3) {
        client c(port_);
        c.send(script.substr(0, cut));
        c.s.close();
    }
    client last(port_);
    EXPECT_EQ(last.reply().substr(0, 3), "220");
    last.send("NOOP\r\n");
    EXPECT_EQ(last.reply().substr(0, 3), "250");
    for (const auto& m : policy_.stored) EXPECT_EQ(m, "hello\r\n");
}

}  // namespace
}  // namespace postern::server
