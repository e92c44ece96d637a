// Small file helpers. Writes that must survive a crash go through WriteFileAtomically: write to a
// temporary file beside the target, fsync, rename over the target, fsync the directory.
#pragma once

#include <string>
#include <string_view>

namespace dg {

bool WriteFileAtomically(const std::string& path, std::string_view data, std::string* error);

// The same, for output produced in pieces (a large report streamed as it is serialised): the
// target only ever holds the previous content or the complete new one. Without Commit() the
// temporary file is removed.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  // False (with error()) if the temporary file cannot be created or written; later calls no-op.
  bool Append(std::string_view data);
  bool Commit();
  const std::string& error() const { return error_; }

 private:
  bool Fail(const std::string& what);
  std::string path_, tmp_, error_;
  int fd_ = -1;
};
bool ReadFile(const std::string& path, std::string* out, std::string* error);

}  // namespace dg
