// SPDX-License-Identifier: MIT
// tls_context_holder: a reload swaps the context in only when the new one is complete, and a
// context already handed out keeps working after the swap.
#include "net_test_support.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>
#include <vector>

namespace postern::net {
namespace {

using namespace postern::net::testing;
namespace fs = std::filesystem;

// Writes a fresh self-signed pair for localhost into `dir` (as an operator's renewal would) and
// returns its serial. Generated elsewhere and copied, so the holder's files change under it.
std::string install_new_pair(const fs::path& dir) {
    temp_dir fresh;
    auto made = ensure_self_signed(fresh.path(), "localhost");
    if (!made) throw std::runtime_error(made.error().message());
    fs::copy_file(made->cert_chain, dir / "server.crt", fs::copy_options::overwrite_existing);
    fs::copy_file(made->key, dir / "server.key", fs::copy_options::overwrite_existing);
    return serial_of(made->cert_chain);
}

std::string served_serial(ssl::context& server) {
    auto client = make_client_context(false);
    if (!client) return {};
    auto out = run_handshake(server, **client, "localhost");
    EXPECT_FALSE(out.client) << out.client.message();
    return out.peer_serial;
}

class holder_test : public ::testing::Test {
protected:
    void SetUp() override {
        first_serial_ = install_new_pair(tmp_.path());
        auto h = tls_context_holder::from_files(files());
        ASSERT_TRUE(h) << h.error().message();
        holder_ = std::move(*h);
    }
    tls_files files() const { return {tmp_.path() / "server.crt", tmp_.path() / "server.key"}; }

    temp_dir tmp_;
    std::string first_serial_;
    std::unique_ptr<tls_context_holder> holder_;
};

TEST_F(holder_test, serves_the_files_it_was_given) {
    ASSERT_NE(holder_->get(), nullptr);
    EXPECT_EQ(holder_->files().cert_chain, files().cert_chain);
    EXPECT_EQ(served_serial(*holder_->get()), first_serial_);
}

TEST_F(holder_test, reload_serves_the_new_pair_and_the_old_context_keeps_working) {
    auto old_ctx = holder_->get();
    auto second_serial = install_new_pair(tmp_.path());
    ASSERT_NE(second_serial, first_serial_);
    auto r = holder_->reload();
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_NE(holder_->get(), old_ctx);
    EXPECT_EQ(served_serial(*holder_->get()), second_serial);
    // A session that took the old context before the reload goes on with it.
    EXPECT_EQ(served_serial(*old_ctx), first_serial_);
}

TEST_F(holder_test, failed_reload_keeps_the_current_context) {
    auto before = holder_->get();
    fs::rename(tmp_.path() / "server.key", tmp_.path() / "server.key.away");
    auto r = holder_->reload();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(holder_->get(), before);

    fs::rename(tmp_.path() / "server.key.away", tmp_.path() / "server.key");
    std::ofstream(tmp_.path() / "server.crt") << "-----BEGIN CERTIFICATE-----\ntruncated\n";
    r = holder_->reload();
    ASSERT_FALSE(r);
    EXPECT_FALSE(r.error().message().empty());
    EXPECT_EQ(holder_->get(), before);
    EXPECT_EQ(served_serial(*holder_->get()), first_serial_);
}

TEST_F(holder_test, get_during_reloads_is_safe) {
    std::atomic<bool> stop{false};
    std::atomic<int> seen{0};
    std::thread reader([&] {
        while (!stop.load()) {
            if (holder_->get()) seen.fetch_add(1);
        }
    });
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(holder_->reload());
    stop = true;
    reader.join();
    EXPECT_GT(seen.load(), 0);
}

TEST(holder, from_files_reports_the_error) {
    temp_dir tmp;
    auto h = tls_context_holder::from_files({tmp.path() / "no.crt", tmp.path() / "no.key"});
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error(), std::errc::no_such_file_or_directory);
}

TEST(holder, self_signed_generates_and_renews_on_reload) {
    temp_dir tmp;
    auto dir = tmp.path() / "tls";
    auto h = tls_context_holder::self_signed(dir, "localhost");
    ASSERT_TRUE(h) << h.error().message();
    auto& holder = **h;
    EXPECT_EQ(holder.files().cert_chain, dir / "cert.pem");
    auto first = serial_of(dir / "cert.pem");
    EXPECT_EQ(served_serial(*holder.get()), first);

    ASSERT_TRUE(holder.reload());  // a sound pair is reused
    EXPECT_EQ(served_serial(*holder.get()), first);

    fs::remove(dir / "cert.pem");  // gone: the reload generates a new one
    ASSERT_TRUE(holder.reload());
    auto second = serial_of(dir / "cert.pem");
    EXPECT_NE(second, first);
    EXPECT_EQ(served_serial(*holder.get()), second);
}

TEST(holder, self_signed_rejects_a_bad_host_name) {
    temp_dir tmp;
    auto h = tls_context_holder::self_signed(tmp.path(), "not a host");
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error(), std::errc::invalid_argument);
}

TEST(self_signed, machine_host_name_also_covers_loopback) {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || std::string(name).find('.') == 0) GTEST_SKIP();
    temp_dir tmp;
    auto files = ensure_self_signed(tmp.path(), name);
    if (!files && files.error() == std::errc::invalid_argument) GTEST_SKIP() << "host name " << name;
    ASSERT_TRUE(files) << files.error().message();
    auto cert = load_cert(files->cert_chain);
    EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr), 1);
    EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
    EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
}

}  // namespace
}  // namespace postern::net
