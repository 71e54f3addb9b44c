// The DNS messages of AT+CIPDNS's resolver (net/dns_message.hpp, RFC 1035): the query's exact
// bytes, and answers with name compression, CNAME chains, NXDOMAIN, another id, truncation.
#include <variant>

#include <gtest/gtest.h>

#include "net/dns_message.hpp"

namespace espat::net {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const Bytes kQuestion = {4, 't', 'e', 's', 't', 5, 'e', 's', 'p', 'a', 't', 0, 0, 1, 0, 1};

TEST(Dns, QueryBytes) {
  EXPECT_EQ(dns_query(0x1234, "test.espat", false),
            (Bytes{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0} + kQuestion));
  auto v6 = dns_query(7, "test.espat.", true);  // a final dot is the same name
  ASSERT_EQ(v6.size(), 12 + kQuestion.size());
  EXPECT_EQ(v6[v6.size() - 3], 28);  // AAAA
  EXPECT_TRUE(dns_query(1, "", false).empty());
  EXPECT_TRUE(dns_query(1, "a..b", false).empty());
  EXPECT_TRUE(dns_query(1, std::string(64, 'a') + ".espat", false).empty());
}

TEST(Dns, AnswerWithCompressionAndCname) {
  const Bytes head = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0};
  const Bytes cname = {0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xC0, 12};
  const Bytes a = {0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 7};
  auto r = dns_answer(head + kQuestion + cname + a, 0x1234, false);
  ASSERT_TRUE(r);
  auto* addr = std::get_if<DnsAddress>(&*r);
  ASSERT_NE(addr, nullptr);
  EXPECT_EQ(addr->bytes, (Bytes{127, 0, 0, 7}));
  // Asking for AAAA, the A record is no answer.
  r = dns_answer(head + kQuestion + cname + a, 0x1234, true);
  ASSERT_TRUE(r);
  EXPECT_TRUE(std::holds_alternative<DnsNoAddress>(*r));
}

TEST(Dns, NoSuchNameOtherIdAndTruncation) {
  const Bytes nx = Bytes{0x12, 0x34, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0} + kQuestion;
  auto r = dns_answer(nx, 0x1234, false);
  ASSERT_TRUE(r);
  ASSERT_TRUE(std::holds_alternative<DnsNoAddress>(*r));
  EXPECT_EQ(std::get<DnsNoAddress>(*r).rcode, 3);
  EXPECT_FALSE(dns_answer(nx, 0x4321, false));  // not our query: keep waiting
  const Bytes query = dns_query(0x1234, "test.espat", false);
  EXPECT_FALSE(dns_answer(query, 0x1234, false));  // a query, not a response
  const Bytes a = Bytes{0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0} + kQuestion + Bytes{0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0};
  EXPECT_FALSE(dns_answer(a, 0x1234, false));  // the address cut short
}

}  // namespace
}  // namespace espat::net
