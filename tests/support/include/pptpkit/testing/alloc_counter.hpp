// pptpkit/testing/alloc_counter.hpp — counts heap allocations made through operator new.
//
// Linking this replaces the global operator new/delete of the test program with counting versions
// (they still allocate with malloc). A test brackets the code under test:
//   pptpkit::testing::allocation_scope scope;
//   ... data path ...
//   EXPECT_EQ(scope.allocations(), 0u);
// Counting is per thread, so gtest's own bookkeeping on other threads does not leak in.
#pragma once

#include <cstdint>

namespace pptpkit::testing {

std::uint64_t allocations_on_this_thread() noexcept;

class allocation_scope {
 public:
  allocation_scope() noexcept : start_(allocations_on_this_thread()) {}
  std::uint64_t allocations() const noexcept { return allocations_on_this_thread() - start_; }

 private:
  std::uint64_t start_;
};

}  // namespace pptpkit::testing
