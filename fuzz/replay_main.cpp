// SPDX-License-Identifier: MIT
// A main() for fuzz targets built without libFuzzer (g++, or clang without
// -fsanitize=fuzzer): it feeds every file named on the command line, and every
// regular file in every directory named there, to LLVMFuzzerTestOneInput once,
// in name order, and prints how many it ran. It fails when a path is missing,
// a directory holds no files or a file cannot be read, so a corpus that went
// missing fails its test instead of passing vacuously; a finding fails it by
// crashing, as it would under libFuzzer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

bool replay_file(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  std::vector<std::uint8_t> input(ec ? 0 : size);
  std::ifstream in(file, std::ios::binary);
  in.read(reinterpret_cast<char*>(input.data()), static_cast<std::streamsize>(input.size()));
  if (ec || !in || in.gcount() != static_cast<std::streamsize>(input.size())) {
    std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
    return false;
  }
  LLVMFuzzerTestOneInput(input.data(), input.size());
  return true;
}

// Replays `path` and adds the inputs it ran to `count`; false on any failure.
bool replay_path(const fs::path& path, std::size_t& count) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    if (!replay_file(path)) return false;
    ++count;
    return true;
  }
  if (!fs::is_directory(path, ec)) {
    std::fprintf(stderr, "replay: %s is neither a file nor a directory\n", path.c_str());
    return false;
  }
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(path, ec)) {
    if (entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  if (ec) {
    std::fprintf(stderr, "replay: cannot list %s: %s\n", path.c_str(), ec.message().c_str());
    return false;
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: %s holds no files\n", path.c_str());
    return false;
  }
  std::ranges::sort(files);
  for (const fs::path& file : files) {
    if (!replay_file(file)) return false;
    ++count;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIRECTORY...\n", argv[0]);
    return 2;
  }
  std::size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    if (!replay_path(argv[i], count)) return 1;
  }
  std::printf("replay: ran %zu inputs\n", count);
  return 0;
}
