// See http_server.h.
#include "serve/http_server.h"

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <cstdio>
#include <exception>
#include <optional>

#include "serve/http_util.h"
#include "serve/service.h"

namespace dg::serve {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Service& svc) : stream_(std::move(socket)), svc_(svc) {}
  void Run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::DoRead, shared_from_this()));
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->header_limit(32 * 1024);
    parser_->body_limit(svc_.max_body_bytes());
    stream_.expires_after(
        std::chrono::milliseconds(static_cast<int64_t>(svc_.read_timeout_s() * 1000)));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream) return DoClose();
    // Timed out (slow or idle client: the stream is already closed), shut down, or the peer is
    // gone: nothing to answer.
    if (ec == beast::error::timeout || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || ec == net::error::broken_pipe ||
        ec == net::error::eof) {
      return;
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      svc_.CountBadRequest();
      return SendError(413, "request too large (header or body limit)", "request_too_large");
    }
    if (ec) {
      // Anything else is a request Beast could not parse (garbage bytes, a bad request line,
      // bad headers, a bad chunk): answer 400 and close, since the stream is out of sync.
      svc_.CountBadRequest();
      return SendError(400, "malformed HTTP request: " + ec.message(), "invalid_http");
    }
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    const auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[std::move(name)] = std::string(f.value());
    }
    req.body = std::move(msg.body());
    stream_.expires_never();
    auto self = shared_from_this();
    Reply reply = ReplyOnce([self](HttpResponse r) {
      net::dispatch(self->stream_.get_executor(),
                    [self, r = std::move(r)]() mutable { self->Send(std::move(r)); });
    });
    // Last resort: a handler bug must cost one request (500), never the process. Handlers report
    // bad input as 400s themselves; reaching these catches is a bug, counted and logged.
    try {
      svc_.Handle(std::move(req), reply);
    } catch (const std::exception& e) {
      svc_.CountRequestException();
      std::fprintf(stderr, "distillguard serve: request handler threw: %s\n", e.what());
      reply(ServerError());
    } catch (...) {
      svc_.CountRequestException();
      std::fprintf(stderr, "distillguard serve: request handler threw (unknown exception)\n");
      reply(ServerError());
    }
  }

  static HttpResponse ServerError() {
    HttpResponse r;
    r.status = 500;
    r.body = ErrorJson("server_error", "internal error while handling the request");
    return r;
  }

  // Answers an error the server detected itself (the request never reached the Service) and
  // closes the connection after it.
  void SendError(int status, std::string_view message, std::string_view code) {
    HttpResponse r;
    r.status = status;
    r.body = ErrorJson("invalid_request_error", message, {}, code);
    keep_alive_ = false;
    Send(std::move(r));
  }

  void Send(HttpResponse r) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "distillguard");
    res->set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->keep_alive(keep_alive_);
    res->body() = std::move(r.body);
    res->prepare_payload();
    res_ = res;
    stream_.expires_after(
        std::chrono::milliseconds(static_cast<int64_t>(svc_.read_timeout_s() * 1000)));
    http::async_write(stream_, *res_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    res_.reset();
    if (ec) return;
    if (!keep_alive_) return DoClose();
    DoRead();
  }

  void DoClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    // Lingering close: read and discard what the client still sends (the rest of a refused
    // body, bytes after garbage) for up to a second. Closing with unread data would reset the
    // connection, and a reset can destroy the 400 / 413 before the client has read it.
    stream_.expires_after(std::chrono::seconds(1));
    Drain();
  }

  void Drain() {
    stream_.async_read_some(net::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (!ec) self->Drain();  // until EOF, an error or the deadline
                            });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> res_;
  std::array<char, 4096> drain_;
  Service& svc_;
  bool keep_alive_ = true;
};

}  // namespace

struct HttpServer::Impl {
  explicit Impl(Service& s) : svc(s), acceptor(net::make_strand(ioc)) {}
  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket sock) {
      if (ec == net::error::operation_aborted) return;
      if (!ec) {
        sock.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(sock), svc)->Run();
      }
      Accept();
    });
  }
  Service& svc;
  net::io_context ioc;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
};

HttpServer::HttpServer(Service& service) : impl_(std::make_unique<Impl>(service)) {}
HttpServer::~HttpServer() { Stop(); }

bool HttpServer::Listen(const std::string& host, uint16_t port, std::string* error) {
  beast::error_code ec;
  auto addr = net::ip::make_address(host, ec);
  if (ec) {
    *error = "bad listen address " + host;
    return false;
  }
  tcp::endpoint ep(addr, port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    *error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message();
    return false;
  }
  port_ = a.local_endpoint().port();
  return true;
}

void HttpServer::Start(int threads) {
  impl_->Accept();
  for (int i = 0; i < std::max(1, threads); ++i) {
    impl_->threads.emplace_back([this] {
      // An exception escaping a completion handler unwinds through run(): resume the loop
      // rather than lose the thread (or, uncaught, the process). Logged once per thread.
      bool logged = false;
      for (;;) {
        try {
          impl_->ioc.run();
          return;  // stopped
        } catch (const std::exception& e) {
          if (!logged) std::fprintf(stderr, "distillguard serve: io thread: %s\n", e.what());
          logged = true;
        } catch (...) {
          if (!logged) std::fprintf(stderr, "distillguard serve: io thread: unknown exception\n");
          logged = true;
        }
        impl_->svc.CountRequestException();
      }
    });
  }
}

void HttpServer::Stop() {
  if (!impl_) return;
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace dg::serve
