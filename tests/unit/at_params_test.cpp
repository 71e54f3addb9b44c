// Spec 3.15 and protocol-rules §0-§1: parameter syntax, escapes, omitted parameters, schema.
#include <gtest/gtest.h>

#include "at/params.hpp"

using namespace espat::at;

namespace {
std::vector<RawParam> parse(std::string_view s) {
  auto r = parse_params(s);
  EXPECT_TRUE(std::holds_alternative<std::vector<RawParam>>(r)) << s;
  return std::get<std::vector<RawParam>>(r);
}
ErrCode error_of(std::string_view text, const std::vector<ParamSpec>& schema) {
  auto r = parse_and_check(text, schema);
  EXPECT_TRUE(std::holds_alternative<ErrCode>(r)) << text;
  return std::holds_alternative<ErrCode>(r) ? std::get<ErrCode>(r) : ErrCode{};
}
}  // namespace

TEST(AtParams, EscapesOfTheGuide) {
  // §0: AT+CWJAP="comma\,backslash\\ssid","1234567890"
  auto p = parse(R"("comma\,backslash\\ssid","1234567890")");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].text, "comma,backslash\\ssid");
  EXPECT_EQ(p[1].text, "1234567890");
  // AT+CWJAP="ab\\\,c","0123456789\"\\" connects to ab\,c with password 0123456789"\ .
  p = parse(R"("ab\\\,c","0123456789\"\\")");
  EXPECT_EQ(p[0].text, "ab\\,c");
  EXPECT_EQ(p[1].text, "0123456789\"\\");
  // \<any> drops the backslash.
  EXPECT_EQ(parse(R"("a\bc")")[0].text, "abc");
  // AT+MQTTPUB=0,"topic","\"{\"sensor\":012}\"",1,0
  p = parse(R"(0,"topic","\"{\"sensor\":012}\"",1,0)");
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[2].text, R"("{"sensor":012}")");
}

TEST(AtParams, OmittedAndEmpty) {
  auto p = parse(R"("ssid","pwd",,1)");
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[2].kind, RawParam::Kind::Omitted);
  EXPECT_EQ(p[3].kind, RawParam::Kind::Bare);
  p = parse(R"("")");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].kind, RawParam::Kind::String);  // "" is an empty string, not an omission
  EXPECT_EQ(p[0].text, "");
  p = parse("1,2,");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[2].kind, RawParam::Kind::Omitted);
  // The pmf example: AT+CWJAP="abc","0123456789",,,,,,,3
  p = parse(R"("abc","0123456789",,,,,,,3)");
  ASSERT_EQ(p.size(), 9u);
  EXPECT_EQ(p[8].text, "3");
}

TEST(AtParams, ParseFailures) {
  EXPECT_EQ(std::get<ParseFailure>(parse_params(R"("abc)")).index, 0u);
  EXPECT_EQ(std::get<ParseFailure>(parse_params(R"(1,"abc"x)")).index, 1u);
  EXPECT_EQ(std::get<ParseFailure>(parse_params(R"(1,2,"a\)")).index, 2u);
}

TEST(AtParams, Integers) {
  EXPECT_EQ(parse_integer("0"), 0);
  EXPECT_EQ(parse_integer("-12"), -12);
  EXPECT_EQ(parse_integer("0x1C000"), 0x1C000);  // spec 3.1.18 example
  EXPECT_EQ(parse_integer("4294967295"), 4294967295LL);
  EXPECT_FALSE(parse_integer("12a"));
  EXPECT_FALSE(parse_integer(""));
  EXPECT_FALSE(parse_integer("0x"));
  EXPECT_FALSE(parse_integer("99999999999999999999"));
}

TEST(AtParams, SchemaErrorsNameTheParameter) {
  std::vector<ParamSpec> syslog = {Int{"status", 0, 1}};
  EXPECT_EQ(error_of("1,2", syslog).value, 0x01060102u);   // needs 1, given 2
  EXPECT_EQ(error_of("", syslog).value, 0x01070000u);      // the mandatory one omitted
  EXPECT_EQ(error_of("\"1\"", syslog).value, 0x01050000u); // string for an integer
  EXPECT_EQ(error_of("2", syslog).value, 0x01070000u);     // out of range
  EXPECT_EQ(error_of("x1", syslog).value, 0x01050000u);
  std::vector<ParamSpec> two = {Int{"a", 0, 9}, Str{"b", 4}, Int{"c", 0, 9, true}};
  EXPECT_EQ(error_of("1", two).value, 0x01060201u);
  EXPECT_EQ(error_of("1,\"abcde\"", two).value, 0x01040001u);  // too long
  EXPECT_EQ(error_of("1,2", two).value, 0x01050001u);          // integer for a string
  EXPECT_EQ(error_of("1,\"ab\",3,4", two).value, 0x01060304u);
  EXPECT_EQ(error_of("1,\"ab", two).value, 0x01080001u);       // unterminated quote
}

TEST(AtParams, SchemaAcceptsTrailingCommaAndOptional) {
  std::vector<ParamSpec> s = {Int{"a", 0, 9}, Int{"b", 0, 9}};
  auto r = parse_and_check("1,2,", s);
  ASSERT_TRUE(std::holds_alternative<Args>(r));
  EXPECT_EQ(std::get<Args>(r).integer(1), 2);
  std::vector<ParamSpec> o = {Int{"a", 0, 9}, Str{"b", 8, 0, true}, Int{"c", 0, 9, true}};
  auto a = std::get<Args>(parse_and_check("1,,3", o));
  EXPECT_FALSE(a.has(1));
  EXPECT_TRUE(a.has(2));
  EXPECT_EQ(a.given(), 3u);
  a = std::get<Args>(parse_and_check("1,\"\"", o));
  EXPECT_TRUE(a.has(1));  // "" is present
  EXPECT_EQ(a.text(1), "");
}

TEST(AtErrCode, Layout) {
  EXPECT_EQ(ErrCode::make(Sub::Unsupported).value, 0x01090000u);
  EXPECT_EQ(ErrCode::make(Sub::Processing).line(), "ERR CODE:0x010b0000\r\n");
  EXPECT_EQ(ErrCode::para_num(5, 3).value, 0x01060503u);
  EXPECT_EQ(ErrCode::make(Sub::ParaInvalid, 4).sub(), Sub::ParaInvalid);
}

// ---- the schema kinds the coming commands need (issue: TCP/IP, BLE) --------------------------
namespace {
Args args_of(std::string_view text, const Schema& schema, LinkMode links = {}) {
  auto r = parse_and_check(text, schema, links);
  EXPECT_TRUE(std::holds_alternative<Args>(r)) << text;
  return std::holds_alternative<Args>(r) ? std::get<Args>(r) : Args{};
}
ErrCode error_of(std::string_view text, const Schema& schema, LinkMode links) {
  auto r = parse_and_check(text, schema, links);
  EXPECT_TRUE(std::holds_alternative<ErrCode>(r)) << text;
  return std::holds_alternative<ErrCode>(r) ? std::get<ErrCode>(r) : ErrCode{};
}
bool digits_only(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }
}  // namespace

TEST(AtSchema, DefaultsAndNames) {
  const Schema s{Int{"mode", 0, 3}, Int{"auto_connect", 0, 1, true, 1}, Str{"name", 8, 0, true}};
  Args a = args_of("2", s);
  EXPECT_EQ(a.integer("mode"), 2);
  EXPECT_FALSE(a.has("auto_connect"));
  EXPECT_EQ(a.integer("auto_connect"), 1);  // the schema's default
  EXPECT_EQ(a.integer(1), 1);
  EXPECT_EQ(a.integer(1, 7), 1);            // a default beats the caller's fallback
  EXPECT_EQ(a.text("name"), "");
  EXPECT_EQ(a.integer("no such name"), 0);
  a = args_of("2,0,\"x\"", s);
  EXPECT_TRUE(a.has("auto_connect"));
  EXPECT_EQ(a.integer("auto_connect"), 0);
  EXPECT_EQ(a.text("name"), "x");
}

TEST(AtSchema, FormatValidatorAndChoices) {
  const Schema s{Str{"host", 64, 0, false, &digits_only}, Str{"type", 8, 0, true, nullptr, {"TCP", "UDP"}}};
  EXPECT_EQ(args_of("\"123\",\"UDP\"", s).text("type"), "UDP");
  EXPECT_EQ(error_of("\"12a\"", s, {}), ErrCode::make(Sub::ParaInvalid, 0));
  EXPECT_EQ(error_of("\"1\",\"SSL\"", s, {}), ErrCode::make(Sub::ParaInvalid, 1));
  EXPECT_EQ(error_of("\"1\",\"udp\"", s, {}), ErrCode::make(Sub::ParaInvalid, 1));  // exact spelling
  EXPECT_EQ(error_of("\"1\",5", s, {}), ErrCode::make(Sub::ParaType, 1));
}

// AT+CIPSTART-like: the type picks the rest (spec 3.3.6: TCP keep_alive, UDP local port and mode).
TEST(AtSchema, VariantsByTheFirstParameter) {
  const Schema s = Schema::by_first(
      Str{"type", 8, 0, false, nullptr, {"TCP", "UDP"}},
      {{"TCP", {Str{"remote host", 64}, Int{"remote port", 1, 65535}, Int{"keep_alive", 0, 7200, true, 0}}},
       {"UDP", {Str{"remote host", 64}, Int{"remote port", 1, 65535}, Int{"local port", 1, 65535, true},
                Int{"mode", 0, 2, true, 0}}}});
  Args a = args_of("\"TCP\",\"example.com\",80,60", s);
  EXPECT_EQ(a.text("remote host"), "example.com");
  EXPECT_EQ(a.integer("keep_alive"), 60);
  EXPECT_FALSE(a.has("local port"));
  a = args_of("\"UDP\",\"1.2.3.4\",53,1053,2", s);
  EXPECT_EQ(a.integer("local port"), 1053);
  EXPECT_EQ(a.integer("mode"), 2);
  // Counted against the chosen shape: TCP takes 4 parameters at most, UDP 5.
  EXPECT_EQ(error_of("\"TCP\",\"h\",80,60,1", s, {}), ErrCode::para_num(4, 5));
  EXPECT_EQ(error_of("\"UDP\",\"h\"", s, {}), ErrCode::para_num(3, 2));
  EXPECT_EQ(error_of("\"SSL\",\"h\",443", s, {}), ErrCode::make(Sub::ParaInvalid, 0));
  EXPECT_EQ(error_of(",\"h\",443", s, {}), ErrCode::make(Sub::ParaInvalid, 0));
}

TEST(AtSchema, IntegerSelectorsMatchTheirDecimalText) {
  const Schema s = Schema::by_first(Int{"enable", 0, 1}, {{"0", {}}, {"1", {Str{"hostname", 63, 1}}}});
  EXPECT_EQ(args_of("0", s).integer("enable"), 0);
  EXPECT_EQ(args_of("0x1,\"h\"", s).text("hostname"), "h");
  EXPECT_EQ(error_of("0,\"h\"", s, {}), ErrCode::para_num(1, 2));
  EXPECT_EQ(error_of("1", s, {}), ErrCode::para_num(2, 1));
  EXPECT_EQ(error_of("2", s, {}), ErrCode::make(Sub::ParaInvalid, 0));  // the selector's range first
}

// "[<link ID>,]" (spec 3.3): there only with AT+CIPMUX=1; error indexes count it.
TEST(AtSchema, LinkIdPrefixFollowsMultipleConnections) {
  const Schema s = Schema{Int{"length", 1, 8192}}.with_link_id(LinkId::Prefix);
  const LinkMode single{false, 5}, multi{true, 5};
  Args a = args_of("100", s, single);
  EXPECT_FALSE(a.link());
  EXPECT_EQ(a.integer("length"), 100);
  a = args_of("4,100", s, multi);
  EXPECT_EQ(a.link(), 4);
  EXPECT_EQ(a.integer(0), 100);  // positions do not count the link id
  EXPECT_EQ(error_of("5,100", s, multi), ErrCode::make(Sub::ParaInvalid, 0));
  EXPECT_EQ(error_of("4,0", s, multi), ErrCode::make(Sub::ParaInvalid, 1));
  EXPECT_EQ(error_of("4,1,2", s, multi), ErrCode::para_num(2, 3));
  EXPECT_EQ(error_of("100", s, multi), ErrCode::para_num(2, 1));
  EXPECT_EQ(error_of("4,100", s, single), ErrCode::para_num(1, 2));
  EXPECT_EQ(error_of("\"4\",100", s, multi), ErrCode::make(Sub::ParaType, 0));
  // AT+CIPCLOSE=5 closes every link: links() itself is accepted where a row says so.
  const Schema all = Schema{}.with_link_id(LinkId::PrefixOrAll);
  EXPECT_EQ(args_of("5", all, multi).link(), 5);
  EXPECT_EQ(error_of("6", all, multi), ErrCode::make(Sub::ParaInvalid, 0));
  EXPECT_EQ(args_of("8", all, {true, 8}).link(), 8);  // a raised link limit moves the range
}
