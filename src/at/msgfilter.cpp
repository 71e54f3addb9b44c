#include "at/msgfilter.hpp"

#include <regex.h>

#include <optional>

namespace espat::at {

struct MessageFilter::Compiled {
  std::string head, tail;
  regex_t head_re{}, tail_re{};
  bool has_head = false, has_tail = false;
  ~Compiled() {
    if (has_head) regfree(&head_re);
    if (has_tail) regfree(&tail_re);
  }
};

MessageFilter::MessageFilter() = default;
MessageFilter::~MessageFilter() = default;
MessageFilter::MessageFilter(MessageFilter&&) noexcept = default;
MessageFilter& MessageFilter::operator=(MessageFilter&&) noexcept = default;

namespace {
// Basic (not extended) syntax, as the guide says; the expressions may hold CR and LF bytes.
bool compile(regex_t& re, std::string_view expr) {
  std::string s(expr);
  return regcomp(&re, s.c_str(), 0) == 0;
}

struct Span { std::size_t begin, end; };

// Searches msg[from, end) for the expression. REG_STARTEND lets messages hold NUL bytes.
std::optional<Span> search(const regex_t& re, const std::string& msg, std::size_t from) {
  regmatch_t m[1];
  m[0].rm_so = regoff_t(from);
  m[0].rm_eo = regoff_t(msg.size());
  int flags = REG_STARTEND | (from > 0 ? REG_NOTBOL : 0);
  if (regexec(&re, msg.data(), 1, m, flags) != 0) return std::nullopt;
  return Span{std::size_t(m[0].rm_so), std::size_t(m[0].rm_eo)};
}
}  // namespace

bool MessageFilter::add(std::string_view head, std::string_view tail) {
  auto f = std::make_unique<Compiled>();
  f->head = head;
  f->tail = tail;
  if (!head.empty()) {
    if (!compile(f->head_re, head)) return false;
    f->has_head = true;
  }
  if (!tail.empty()) {
    if (!compile(f->tail_re, tail)) return false;
    f->has_tail = true;
  }
  filters_.push_back(std::move(f));
  return true;
}

bool MessageFilter::remove(std::string_view head, std::string_view tail) {
  for (auto it = filters_.begin(); it != filters_.end(); ++it) {
    if ((*it)->head == head && (*it)->tail == tail) {
      filters_.erase(it);
      return true;
    }
  }
  return false;
}

void MessageFilter::clear() { filters_.clear(); }

std::vector<MessageFilter::Entry> MessageFilter::list() const {
  std::vector<Entry> out;
  for (const auto& f : filters_) out.push_back({f->head, f->tail});
  return out;
}

std::string MessageFilter::apply(std::string msg) const {
  if (!enabled_) return msg;
  for (const auto& f : filters_) {
    Span head{0, 0};
    if (f->has_head) {
      auto h = search(f->head_re, msg, 0);
      if (!h) continue;
      head = *h;
    }
    Span tail{msg.size(), msg.size()};
    if (f->has_tail) {
      auto t = search(f->tail_re, msg, head.end);
      if (!t) continue;
      tail = *t;
    }
    // Drop the matched head and tail, keep what lies around and between them.
    return msg.substr(0, head.begin) + msg.substr(head.end, tail.begin - head.end) + msg.substr(tail.end);
  }
  return msg;
}

}  // namespace espat::at
