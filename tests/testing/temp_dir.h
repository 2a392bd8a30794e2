// A directory under $TMPDIR for one test, removed with everything in it when
// the TempDir goes out of scope.
#ifndef CONGVAN_TESTS_TESTING_TEMP_DIR_H_
#define CONGVAN_TESTS_TESTING_TEMP_DIR_H_

#include <string>

namespace congvan::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes `data` to `path` (mode 0600), aborting the test binary on failure.
void WriteTestFile(const std::string& path, const std::string& data);
// Reads a whole file; aborts on failure.
std::string ReadTestFile(const std::string& path);

// `text` with the first `from` replaced by `to`; fails the test when `from`
// is not there (a fixture that no longer says what the test expects).
std::string Replace(std::string text, const std::string& from, const std::string& to);

}  // namespace congvan::testing

#endif  // CONGVAN_TESTS_TESTING_TEMP_DIR_H_
