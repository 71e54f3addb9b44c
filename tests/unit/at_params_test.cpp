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
