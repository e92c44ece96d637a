// HttpServer: a small async HTTP/1.1 server on Boost.Beast. One strand per connection, keep-alive,
// a read timeout per request, header and body size limits (413 beyond them). Each request is
// converted to an HttpRequest and handed to Service::Handle (which routes it: router.h); the
// reply may come back later from another thread (event batches are answered after their fsync)
// and is dispatched to the connection's strand.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace dg::serve {

class Service;

class HttpServer {
 public:
  explicit HttpServer(Service& service);
  ~HttpServer();
  // Binds host:port (port 0 = any free port). Returns false with *error on failure.
  bool Listen(const std::string& host, uint16_t port, std::string* error);
  void Start(int threads);
  void Stop();
  uint16_t port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace dg::serve
