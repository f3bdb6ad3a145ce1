#pragma once

// A bounded cache of things that are expensive to make (compiled stages of a staged model) whose keys can
// run through more values than it holds: the sizes a detector's selection takes, the values a loop's
// shape operand runs through. Dropping the least recently used misses every time on a cycle longer than
// the cache (each entry goes just before it comes round again), so once full a new entry is admitted only
// when it has been asked for more often than the least used entry has been used (of those, the least
// recently used is the one replaced): a cycle keeps its first entries, and a new key that keeps coming is
// kept from its second request on. Not thread-safe: the owner locks.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

namespace octet::runtime {

template <typename Key, typename Value>
class FrequencyCache {
 public:
  // `capacity` entries kept; requests of up to `counted_misses` keys not kept are counted (past that the
  // counts start again, so that keys seen once each cannot grow it without bound).
  explicit FrequencyCache(size_t capacity, size_t counted_misses = 1024)
      : capacity_(std::max<size_t>(capacity, 1)), counted_misses_(std::max<size_t>(counted_misses, 1)) {}

  // The kept value, counted as a use; none if it is not kept.
  std::optional<Value> find(const Key& key) {
    const auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    ++it->second.uses;
    it->second.last_use = ++clock_;
    return it->second.value;
  }

  // A value made for `key` after find() gave none: kept if there is room or it has been asked for more
  // often than the least used entry has been used. Returns the value to use (a kept one, where another
  // caller made and offered it first) and whether it is kept.
  std::pair<Value, bool> offer(const Key& key, Value value) {
    if (const auto it = entries_.find(key); it != entries_.end()) {
      ++it->second.uses;
      it->second.last_use = ++clock_;
      return {it->second.value, true};
    }
    if (misses_.size() >= counted_misses_ && !misses_.count(key)) misses_.clear();
    const uint64_t asked = ++misses_[key];
    if (entries_.size() >= capacity_) {
      const auto least = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
        return a.second.uses != b.second.uses ? a.second.uses < b.second.uses
                                              : a.second.last_use < b.second.last_use;
      });
      if (asked <= least->second.uses) return {std::move(value), false};
      entries_.erase(least);
    }
    misses_.erase(key);
    entries_.emplace(key, Entry{value, asked, ++clock_});
    return {std::move(value), true};
  }

  size_t size() const { return entries_.size(); }
  bool contains(const Key& key) const { return entries_.count(key) > 0; }

 private:
  struct Entry {
    Value value;
    uint64_t uses = 0;      // requests, those before it was kept included
    uint64_t last_use = 0;  // clock_ at its last request
  };
  size_t capacity_, counted_misses_;
  std::map<Key, Entry> entries_;
  std::map<Key, uint64_t> misses_;  // requests of keys not kept
  uint64_t clock_ = 0;
};

}  // namespace octet::runtime
