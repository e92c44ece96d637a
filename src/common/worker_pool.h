// WorkerPool: a fixed set of threads that run one indexed task set at a time (Run blocks until
// every task is done). Used for the parse stage and for shard-parallel state updates inside a
// batch; with one thread everything runs inline on the caller, so results are identical.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dg {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  int threads() const { return threads_; }
  // Runs fn(i) for i in [0, n) on the pool (the caller works too) and waits for all.
  void Run(size_t n, const std::function<void(size_t)>& fn);

 private:
  void Loop();
  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t n_ = 0;
  std::atomic<size_t> next_{0};
  size_t active_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace dg
