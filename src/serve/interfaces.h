// The narrow interfaces the HTTP handlers are given instead of the Service: a handler sees only
// what it needs (make a body durable, run a task on the ingest thread, reload the policy), so
// each can be read, and tested, without the threads behind it. Implementations: WalWriter
// (BodySink), IngestWorker (IngestRunner, IngestState), Service (PolicyReloader).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "serve/request.h"

namespace dg::engine {
class Activity;
class PromptSamples;
}  // namespace dg::engine

namespace dg::serve {

class Pipeline;

// Where event bodies go to be made durable (the write-ahead log's group commit).
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Queues `body` (with `aux`: a client batch id or a tailed file's offset, 0 = none). `done`
  // runs on the WAL thread after the fsync: ok, and the body's WAL sequence number (0 = a
  // duplicate batch id, acknowledged and not logged again).
  using Done = std::function<void(bool ok, uint64_t seq)>;
  virtual void Submit(std::string body, uint64_t aux, Done done) = 0;
  // The largest aux logged so far (the last client batch id or tail offset).
  virtual uint64_t last_aux() = 0;
};

// The ingest thread's state as a task running there sees it: the only thread that owns the
// engine, so a task may read and flush it freely.
class IngestState {
 public:
  virtual ~IngestState() = default;
  virtual Pipeline& pipeline() = 0;
  virtual const engine::Activity& activity() const = 0;
  virtual const engine::PromptSamples& samples() const = 0;
  // Writes a checkpoint now (UI state beside it) and drops the WAL segments it covers.
  virtual bool WriteCheckpoint(std::string* error) = 0;
};

// Runs work on the ingest thread, after the event bodies queued before it.
class IngestRunner {
 public:
  virtual ~IngestRunner() = default;
  // The task answers through the Reply it is given (at most once); if it throws, the exception
  // is caught on the ingest thread and the request answered 500.
  using Task = std::function<void(IngestState& state, const Reply& reply)>;
  virtual void Run(Reply reply, Task task) = 0;
  // True when the oldest unapplied batch waited longer than max_engine_lag_s.
  virtual bool Lagging() const = 0;
  // Age of the oldest unapplied batch in seconds (0 if none), and the last WAL seq applied.
  virtual double LagSeconds() const = 0;
  virtual uint64_t processed_seq() const = 0;
};

// Re-reads the policy from the config file (SIGHUP, POST /v1/admin/reload).
class PolicyReloader {
 public:
  virtual ~PolicyReloader() = default;
  virtual bool ReloadPolicy(std::string* error) = 0;
  virtual bool shadow() const = 0;  // the policy now in force
};

}  // namespace dg::serve
