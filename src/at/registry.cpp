#include <algorithm>
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
  // Every name and alias is checked before anything is added: a refused family leaves no trace.
  std::vector<std::string> names;
  for (const auto& c : f.rows) {
    names.push_back(c.name);
    for (const auto& a : c.aliases) names.push_back(a.name);
  }
  std::sort(names.begin(), names.end());
  for (std::size_t i = 0; i < names.size(); ++i)
    if (index_.contains(names[i]) || (i > 0 && names[i] == names[i - 1]))
      throw std::logic_error("command registered twice: AT" + names[i]);
  families_.push_back(std::make_unique<Family>(std::move(f)));
  const Family& fam = *families_.back();
  for (const auto& c : fam.rows) {
    index_.emplace(c.name, Entry{&c, &fam, Store::FollowSysstore});
    for (const auto& a : c.aliases) index_.emplace(a.name, Entry{&c, &fam, a.store});
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
