// SPDX-License-Identifier: MIT
// The server over real loopback sockets, in process, with a recording policy whose commits
// complete on another thread (as the store's do).
#include "message/base64.hpp"
#include "proto/replies.hpp"
#include "server/smtp_server.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
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
    begin_result begin_message(const session_info& info, const proto::transaction&) override {
        std::lock_guard lk(mu);
        users.push_back(info.user);
        return std::make_unique<sink>(*this);
    }
    std::mutex mu;
    std::vector<std::string> stored;
    std::vector<std::string> users;  // session_info::user at each message
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


// Users in memory; a check can be held at a gate the test opens, to show it runs off the I/O thread.
class memory_store final : public auth::credential_store {
public:
    bool empty() const override {
        std::lock_guard lk(mu);
        return users.empty();
    }
    bool exists(std::string_view u) const override {
        std::lock_guard lk(mu);
        return users.contains(std::string(u));
    }
    auth::verify_result verify_password(std::string_view u, std::string_view p) const override {
        if (entered) entered->set_value();
        if (gate) gate->wait();
        std::lock_guard lk(mu);
        auto it = users.find(std::string(u));
        if (it == users.end()) return auth::verify_result::unknown_user;
        return it->second == p ? auth::verify_result::ok : auth::verify_result::bad;
    }
    std::optional<auth::scram_secret> scram_sha256(std::string_view) const override { return std::nullopt; }
    std::optional<std::string> cram_md5_secret(std::string_view) const override { return std::nullopt; }
    auth::store_features features() const override { return {}; }
    void add(const std::string& u, const std::string& p) {
        std::lock_guard lk(mu);
        users[u] = p;
    }
    std::shared_future<void>* gate = nullptr;
    std::promise<void>* entered = nullptr;  // set when a check has started (once)

private:
    mutable std::mutex mu;
    std::map<std::string, std::string> users;
};

std::string plain(const std::string& user, const std::string& pass) {
    return message::base64_encode(std::string(1, '\0') + user + std::string(1, '\0') + pass);
}

class auth_fixture : public server_fixture {
protected:
    void start_auth(std::size_t max_failures = 3) {
        server_config cfg;
        cfg.idle_timeout = std::chrono::milliseconds(400);  // the sweep (which follows the users) runs every 100 ms
        cfg.session.auth_requires_tls = false;               // no TLS in these tests
        cfg.auth.credentials = store_;
        cfg.auth.failure_delay = std::chrono::milliseconds(0);
        cfg.auth.max_failures_per_ip = max_failures;
        start(cfg);
    }
    std::shared_ptr<memory_store> store_ = std::make_shared<memory_store>();
};

TEST_F(auth_fixture, plain_login_sets_the_session_user) {
    store_->add("alice", "secret");
    start_auth();
    client c(port_);
    c.reply();
    c.send("EHLO c\r\n");
    EXPECT_NE(c.reply().find("AUTH PLAIN LOGIN\r\n"), std::string::npos);
    c.send("AUTH PLAIN " + plain("alice", "wrong") + "\r\n");
    EXPECT_EQ(c.reply().substr(0, 9), "535 5.7.8");
    c.send("AUTH PLAIN " + plain("alice", "secret") + "\r\n");
    EXPECT_EQ(c.reply().substr(0, 9), "235 2.7.0");
    c.send("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
    for (int i = 0; i < 3; ++i) c.reply();
    c.send("x\r\n.\r\n");
    EXPECT_EQ(c.reply().substr(0, 9), "250 2.0.0");
    ASSERT_EQ(policy_.users.size(), 1u);
    EXPECT_EQ(policy_.users[0], "alice");
}

TEST_F(auth_fixture, failures_per_ip_end_in_421_for_this_and_later_sessions) {
    store_->add("alice", "secret");
    start_auth(2);
    client c(port_);
    c.reply();
    c.send("EHLO c\r\nAUTH PLAIN " + plain("alice", "x") + "\r\n");
    c.reply();
    EXPECT_EQ(c.reply().substr(0, 9), "535 5.7.8");
    c.send("AUTH LOGIN\r\n");
    EXPECT_EQ(c.reply().substr(0, 3), "334");
    c.send(message::base64_encode("alice") + "\r\n");
    EXPECT_EQ(c.reply().substr(0, 3), "334");
    c.send(message::base64_encode("y") + "\r\nNOOP\r\n");
    EXPECT_EQ(c.reply().substr(0, 9), "421 4.7.0");
    EXPECT_TRUE(c.closed());  // the pipelined NOOP was not answered
    client d(port_);  // the same IP, within the window: even the right password is refused
    d.reply();
    d.send("EHLO c\r\nAUTH PLAIN " + plain("alice", "secret") + "\r\n");
    d.reply();
    EXPECT_EQ(d.reply().substr(0, 9), "421 4.7.0");
    EXPECT_TRUE(d.closed());
}

TEST_F(auth_fixture, auth_is_offered_once_the_first_user_exists) {
    start_auth();
    client c(port_);
    c.reply();
    c.send("EHLO c\r\n");
    EXPECT_EQ(c.reply().find("AUTH"), std::string::npos);
    c.send("AUTH PLAIN " + plain("alice", "secret") + "\r\n");
    EXPECT_EQ(c.reply().substr(0, 3), "502");
    store_->add("alice", "secret");
    std::string ehlo;
    for (int i = 0; i < 50 && ehlo.find("AUTH") == std::string::npos; ++i) {  // until the next sweep
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        c.send("EHLO c\r\n");
        ehlo = c.reply();
    }
    EXPECT_NE(ehlo.find("AUTH PLAIN LOGIN\r\n"), std::string::npos);
    c.send("AUTH PLAIN " + plain("alice", "secret") + "\r\n");
    EXPECT_EQ(c.reply().substr(0, 9), "235 2.7.0");
}

// A password check in progress holds its own session only: another session is served meanwhile.
TEST_F(auth_fixture, a_slow_password_check_does_not_block_other_sessions) {
    std::promise<void> open, entered;
    std::shared_future<void> gate = open.get_future().share();
    auto started = entered.get_future();
    store_->gate = &gate;
    store_->entered = &entered;
    store_->add("alice", "secret");
    start_auth();
    client slow(port_), other(port_);
    slow.reply();
    other.reply();
    slow.send("EHLO c\r\n");
    slow.reply();
    slow.send("AUTH PLAIN " + plain("alice", "secret") + "\r\n");
    started.wait();  // the check is running (and held at the gate) before the other session asks
    other.send("NOOP\r\n");
    EXPECT_EQ(other.reply().substr(0, 3), "250");  // answered while the check waits at the gate
    open.set_value();
    EXPECT_EQ(slow.reply().substr(0, 9), "235 2.7.0");
}

}  // namespace
}  // namespace postern::server
