#include <stdexcept>

#include "at/command.hpp"

namespace espat::at {

const Handler& Command::handler(Form f) const {
  switch (f) {
    case Form::Test: return test;
    case Form::Query: return query;
    case Form::Set: return set;
    case Form::Exec: break;
  }
  return exec;
}

Needs Command::needs_of(Form f) const {
  switch (f) {
    case Form::Test: return needs;
    case Form::Query: return needs | query_needs;
    case Form::Set: return needs | set_needs;
    case Form::Exec: break;
  }
  return needs | exec_needs;
}

void Registry::add(Family f) {
  families_.push_back(std::make_unique<Family>(std::move(f)));
  const Family& fam = *families_.back();
  auto index = [&](const std::string& name, const Command& c, Store store) {
    if (!index_.emplace(name, Entry{&c, &fam, store}).second)
      throw std::logic_error("command registered twice: AT" + name);
  };
  for (const auto& c : fam.rows) {
    index(c.name, c, Store::FollowSysstore);
    for (const auto& a : c.aliases) index(a.name, c, a.store);
  }
}

std::optional<Registry::Entry> Registry::find(std::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::vector<const Command*> Registry::all() const {
  std::vector<const Command*> out;
  for (const auto& f : families_)
    for (const auto& c : f->rows) out.push_back(&c);
  return out;
}

}  // namespace espat::at
