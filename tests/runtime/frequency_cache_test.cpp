// The staged models' cache of compiled stages (runtime/frequency_cache.h): what it keeps once full.

#include "runtime/frequency_cache.h"

#include <gtest/gtest.h>

namespace octet::runtime {
namespace {

// One request as staged_model.cpp makes it: find, else make the value and offer it. True on a hit.
bool request(FrequencyCache<int, int>& cache, int key) {
  if (const auto kept = cache.find(key)) {
    EXPECT_EQ(*kept, key * 10);
    return true;
  }
  EXPECT_EQ(cache.offer(key, key * 10).first, key * 10);
  return false;
}

TEST(FrequencyCache, KeepsEverythingWhileThereIsRoom) {
  FrequencyCache<int, int> cache(4);
  for (int k = 0; k < 4; ++k)
    EXPECT_FALSE(request(cache, k));
  for (int k = 0; k < 4; ++k)
    EXPECT_TRUE(request(cache, k));
  EXPECT_EQ(cache.size(), 4u);
}

// A loop through 6 values with room for 4: the first 4 stay and hit on every later round; least recently
// used would have missed all 6 every round.
TEST(FrequencyCache, ACycleLongerThanTheCacheKeepsItsFirstEntries) {
  FrequencyCache<int, int> cache(4);
  for (int k = 0; k < 6; ++k)
    EXPECT_FALSE(request(cache, k));
  for (int round = 0; round < 5; ++round) {
    int hits = 0;
    for (int k = 0; k < 6; ++k)
      hits += request(cache, k) ? 1 : 0;
    EXPECT_EQ(hits, 4) << "round " << round;
  }
  for (int k = 0; k < 4; ++k)
    EXPECT_TRUE(cache.contains(k));
}

// Once full of entries used once, two new keys that alternate are kept from their second request on (the
// least recently used of the least used entries make room), and then hit.
TEST(FrequencyCache, NewKeysThatKeepComingAreAdmitted) {
  FrequencyCache<int, int> cache(4);
  for (int k = 0; k < 4; ++k)
    request(cache, k);
  EXPECT_FALSE(request(cache, 100));
  EXPECT_FALSE(request(cache, 200));
  EXPECT_FALSE(cache.contains(100));
  EXPECT_FALSE(request(cache, 100));
  EXPECT_FALSE(request(cache, 200));
  EXPECT_TRUE(cache.contains(100));
  EXPECT_TRUE(cache.contains(200));
  EXPECT_FALSE(cache.contains(0));  // the least recently used of those used once went first
  EXPECT_FALSE(cache.contains(1));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(request(cache, 100));
    EXPECT_TRUE(request(cache, 200));
  }
  EXPECT_EQ(cache.size(), 4u);
}

// Entries used often stay when a new key comes often, but not as often.
TEST(FrequencyCache, FrequentEntriesOutlastALessFrequentNewcomer) {
  FrequencyCache<int, int> cache(2);
  for (int i = 0; i < 5; ++i) {
    request(cache, 1);
    request(cache, 2);
  }
  for (int i = 0; i < 5; ++i)
    EXPECT_FALSE(request(cache, 3));
  EXPECT_TRUE(request(cache, 1));
  EXPECT_TRUE(request(cache, 2));
  EXPECT_FALSE(request(cache, 3));  // its 6th request: still fewer than 1's and 2's uses (6 each)
  EXPECT_FALSE(cache.contains(3));
}

// Two makers of one value (threads that both missed): the second offer gets the kept one.
TEST(FrequencyCache, ASecondOfferGetsTheKeptValue) {
  FrequencyCache<int, int> cache(2);
  EXPECT_EQ(cache.offer(7, 70), std::make_pair(70, true));
  EXPECT_EQ(cache.offer(7, 71), std::make_pair(70, true));
}

// The counts of keys not kept are bounded: with room to count 2, keys seen once each reset the counts, so
// a key asked for twice with others between is not admitted (its count started again).
TEST(FrequencyCache, MissCountsAreBounded) {
  FrequencyCache<int, int> cache(1, 2);
  request(cache, 0);
  EXPECT_FALSE(request(cache, 1));
  EXPECT_FALSE(request(cache, 2));
  EXPECT_FALSE(request(cache, 3));  // the counts of 1 and 2 are dropped here
  EXPECT_FALSE(request(cache, 1));
  EXPECT_FALSE(cache.contains(1));
  EXPECT_FALSE(request(cache, 1));  // asked twice in a row: admitted
  EXPECT_TRUE(cache.contains(1));
}

}  // namespace
}  // namespace octet::runtime
