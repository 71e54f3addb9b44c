// Spec 3.1.16-3.1.17 and example 4.1: head/tail POSIX BRE filters.
#include <gtest/gtest.h>

#include "at/msgfilter.hpp"

using espat::at::MessageFilter;

TEST(MessageFilter, DisabledPassesEverything) {
  MessageFilter f;
  ASSERT_TRUE(f.add("^WIFI CONNECTED\r\n", ""));
  EXPECT_EQ(f.apply("WIFI CONNECTED\r\n"), "WIFI CONNECTED\r\n");
}

TEST(MessageFilter, GuideExamples) {
  MessageFilter f;
  f.set_enabled(true);
  ASSERT_TRUE(f.add("^WIFI CONNECTED\r\n", ""));  // 3.1.17: 17 bytes of head
  ASSERT_TRUE(f.add("^+HTTPCGET:[0-9]*,", "\r\n$"));  // 4.1 step 4 (BRE: + is literal)
  ASSERT_TRUE(f.add("", "\r\nOK\r\n$"));  // 4.1 step 5
  EXPECT_EQ(f.apply("WIFI CONNECTED\r\n"), "");
  EXPECT_EQ(f.apply("WIFI GOT IP\r\n"), "WIFI GOT IP\r\n");
  EXPECT_EQ(f.apply("+HTTPCGET:5,hello\r\n"), "hello");
  EXPECT_EQ(f.apply("\r\nOK\r\n"), "");
  EXPECT_EQ(f.apply("\r\nERROR\r\n"), "\r\nERROR\r\n");
}

TEST(MessageFilter, HeadAndTailMustBothMatch) {
  MessageFilter f;
  f.set_enabled(true);
  ASSERT_TRUE(f.add("^+IPD", "END$"));
  EXPECT_EQ(f.apply("+IPD,3:abc"), "+IPD,3:abc");
  EXPECT_EQ(f.apply("+IPD,3:END"), ",3:");
}

TEST(MessageFilter, AddRemoveListAndBadRegex) {
  MessageFilter f;
  EXPECT_FALSE(f.add("a\\{1", ""));  // unbalanced \{ does not compile
  ASSERT_TRUE(f.add("^a", "b$"));
  ASSERT_TRUE(f.add("^c", ""));
  ASSERT_EQ(f.list().size(), 2u);
  EXPECT_FALSE(f.remove("^a", ""));
  EXPECT_TRUE(f.remove("^a", "b$"));
  ASSERT_EQ(f.list().size(), 1u);
  EXPECT_EQ(f.list()[0].head, "^c");
  f.clear();
  EXPECT_TRUE(f.list().empty());
}
