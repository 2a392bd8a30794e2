// GoogleTest matchers for absl::Status / absl::StatusOr (Debian's Abseil
// 20220623 ships none): EXPECT_THAT(s, IsOk()); EXPECT_THAT(s,
// StatusIs(absl::StatusCode::kNotFound)); EXPECT_THAT(so, IsOkAndHolds(5));
// ASSERT_OK_AND_ASSIGN(auto v, F()).
#ifndef CONGVAN_TESTS_TESTING_STATUS_MATCHERS_H_
#define CONGVAN_TESTS_TESTING_STATUS_MATCHERS_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace congvan::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s.ToString();
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + absl::StatusCodeToString(code) + " and a matching message") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()), result_listener);
}

// An OK StatusOr whose value matches `value_matcher`.
MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status().ToString();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

}  // namespace congvan::testing

#define CONGVAN_TEST_CONCAT_INNER_(a, b) a##b
#define CONGVAN_TEST_CONCAT_(a, b) CONGVAN_TEST_CONCAT_INNER_(a, b)
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::congvan::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::congvan::testing::IsOk())
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(CONGVAN_TEST_CONCAT_(statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  ASSERT_THAT(tmp, ::congvan::testing::IsOk());    \
  lhs = std::move(tmp).value()

#endif  // CONGVAN_TESTS_TESTING_STATUS_MATCHERS_H_
