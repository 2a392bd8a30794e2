// A main() for a fuzz target outside libFuzzer (any compiler): runs
// LLVMFuzzerTestOneInput once over every file of the paths given (a file,
// or a directory walked recursively in name order; names starting with '.'
// are skipped, so a .gitkeep keeps an empty regressions/ directory in git).
//
//   envelope_fuzz [-v] PATH...
//
// Exit status: 0 when every input ran; 1 when a path does not exist or
// no input at all was found. An input that crashes the target ends the
// process with the crash's own signal, after its path is printed.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

// The input being run, for the crash handler (which may only write(2)).
char current_input[4096];

void OnCrash(int sig) {
  const char prefix[] = "\nreplay: crashed on input ";
  (void)!write(STDERR_FILENO, prefix, sizeof prefix - 1);
  (void)!write(STDERR_FILENO, current_input, strnlen(current_input, sizeof current_input));
  (void)!write(STDERR_FILENO, "\n", 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

bool Hidden(const fs::path& path) { return path.filename().string().starts_with("."); }

// The regular files under `path`, in name order; false if it does not exist.
bool Collect(const fs::path& path, std::vector<fs::path>* out) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    out->push_back(path);
    return true;
  }
  if (!fs::is_directory(path, ec)) return false;
  std::vector<fs::path> found;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (Hidden(it->path())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) found.push_back(it->path());
  }
  std::sort(found.begin(), found.end());
  out->insert(out->end(), found.begin(), found.end());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool verbose = false;
  std::vector<fs::path> inputs;
  int missing = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-v") == 0) {
      verbose = true;
      continue;
    }
    if (!Collect(argv[i], &inputs)) {
      std::fprintf(stderr, "replay: %s does not exist\n", argv[i]);
      ++missing;
    }
  }
  if (missing > 0) return 1;
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: %s [-v] PATH... (files or directories of inputs); none found\n", argv[0]);
    return 1;
  }
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) signal(sig, OnCrash);
  for (const fs::path& path : inputs) {
    std::snprintf(current_input, sizeof current_input, "%s", path.c_str());
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
      return 1;
    }
    if (verbose) std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("replay: %zu inputs ran\n", inputs.size());
  return 0;
}
