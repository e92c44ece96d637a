// Soak load generator for `distillguard serve` (make bench-soak; not a test).
//
// Open loop: decision requests are scheduled at a fixed rate (--rate per second, spread over
// --conns keep-alive connections, one thread each) and each latency is measured from the time
// the request was *due*, not from when it went out, so a stalled server shows up as latency
// (no coordinated omission; wrk's closed loop would instead slow down). Alongside, one thread
// posts exchange-log lines from --events to /v1/events in batches at --events-rate lines per
// second (looping over the file), the ingest a live gateway sends. Every --window seconds a row
// of the table is printed: decisions, rate achieved, p50 / p99 / max decision latency, errors
// (non-200 answers, connection failures), events posted, and the server's RSS (/proc/PID). The
// last lines summarise the whole run and compare the RSS at the end with the RSS after warm-up
// (the first window).
// Plain POSIX sockets and a minimal HTTP/1.1 client; no dependencies beyond the C++ library.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  int port = 0;
  double rate = 10000;
  int seconds = 600;
  int conns = 4;
  int window = 30;
  std::string events, accounts, admin_token, decision_token;
  double events_rate = 500;
  int batch = 100;
  int pid = 0;
};

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool SendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads one response; returns its status (0 on a broken connection). `buf` keeps extra bytes.
int ReadResponse(int fd, std::string& buf) {
  size_t hdr_end;
  char tmp[16384];
  while ((hdr_end = buf.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return 0;
    buf.append(tmp, static_cast<size_t>(n));
  }
  int status = 0;
  if (buf.size() < 12 || std::sscanf(buf.c_str(), "HTTP/1.1 %d", &status) != 1) return 0;
  size_t len = 0;
  std::string lower = buf.substr(0, hdr_end);
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (auto p = lower.find("content-length:"); p != std::string::npos) {
    len = std::strtoul(lower.c_str() + p + 15, nullptr, 10);
  }
  const size_t total = hdr_end + 4 + len;
  while (buf.size() < total) {
    const ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return 0;
    buf.append(tmp, static_cast<size_t>(n));
  }
  buf.erase(0, total);
  return status;
}

long RssKb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

struct Window {
  std::mutex mu;
  std::vector<uint32_t> lat_us;  // this window's decision latencies
  uint64_t errors = 0;
};

double Pct(std::vector<uint32_t>& v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--port")
      a.port = std::atoi(v.c_str());
    else if (k == "--rate")
      a.rate = std::atof(v.c_str());
    else if (k == "--seconds")
      a.seconds = std::atoi(v.c_str());
    else if (k == "--conns")
      a.conns = std::atoi(v.c_str());
    else if (k == "--window")
      a.window = std::atoi(v.c_str());
    else if (k == "--events")
      a.events = v;
    else if (k == "--events-rate")
      a.events_rate = std::atof(v.c_str());
    else if (k == "--batch")
      a.batch = std::atoi(v.c_str());
    else if (k == "--accounts")
      a.accounts = v;
    else if (k == "--admin-token")
      a.admin_token = v;
    else if (k == "--decision-token")
      a.decision_token = v;
    else if (k == "--pid")
      a.pid = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "soak_load: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (!a.port || a.accounts.empty() || a.rate <= 0 || a.conns <= 0 || a.window <= 0) {
    std::fprintf(stderr,
                 "usage: soak_load --port P --accounts IDS.txt [--rate 10000] [--seconds 600] "
                 "[--conns 4] [--window 30] [--events EVENTS.jsonl --events-rate 500 --batch 100 "
                 "--admin-token T] [--decision-token T] [--pid SERVER_PID]\n");
    return 2;
  }
  std::vector<std::string> accounts;
  {
    std::ifstream in(a.accounts);
    for (std::string l; std::getline(in, l);) {
      if (!l.empty()) accounts.push_back(l);
    }
  }
  std::vector<std::string> lines;
  if (!a.events.empty()) {
    std::ifstream in(a.events);
    for (std::string l; std::getline(in, l);) {
      if (!l.empty()) lines.push_back(l);
    }
  }
  if (accounts.empty()) {
    std::fprintf(stderr, "soak_load: no account ids in %s\n", a.accounts.c_str());
    return 2;
  }

  Window win;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> events_posted{0}, event_errors{0};
  const auto t0 = Clock::now() + std::chrono::milliseconds(100);
  const double per_conn = a.rate / a.conns;

  std::vector<std::thread> threads;
  for (int c = 0; c < a.conns; ++c) {
    threads.emplace_back([&, c] {
      int fd = Connect(a.port);
      std::string buf;
      std::vector<uint32_t> local;
      uint64_t local_err = 0;
      auto flush = [&] {
        std::lock_guard lock(win.mu);
        win.lat_us.insert(win.lat_us.end(), local.begin(), local.end());
        win.errors += local_err;
        local.clear();
        local_err = 0;
      };
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const auto due =
            t0 + std::chrono::nanoseconds(static_cast<int64_t>(
                     (static_cast<double>(i) + static_cast<double>(c) / a.conns) * 1e9 / per_conn));
        if (due > Clock::now()) std::this_thread::sleep_until(due);
        const std::string& acct = accounts[(i * a.conns + c) % accounts.size()];
        const std::string body = "{\"account_id\":\"" + acct +
                                 "\",\"api_key_id\":\"k1\",\"request\":{\"n\":1,\"max_tokens\":"
                                 "256,\"logprobs\":false}}";
        std::string req =
            "POST /v1/decide HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n";
        if (!a.decision_token.empty()) req += "x-distillguard-token: " + a.decision_token + "\r\n";
        req += "\r\n" + body;
        if (fd < 0) fd = Connect(a.port);
        int status = fd >= 0 && SendAll(fd, req) ? ReadResponse(fd, buf) : 0;
        if (status == 0) {  // broken connection: reconnect once and count the error
          if (fd >= 0) ::close(fd);
          fd = -1;
          buf.clear();
        }
        const auto done = Clock::now();
        if (status != 200) ++local_err;
        local.push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(done - due).count()));
        if (local.size() >= 256) flush();
      }
      flush();
      if (fd >= 0) ::close(fd);
    });
  }
  if (!lines.empty()) {
    threads.emplace_back([&] {
      int fd = -1;
      std::string buf;
      size_t next = 0;
      const double per_batch_s = a.batch / a.events_rate;
      for (uint64_t b = 0; !stop.load(std::memory_order_relaxed); ++b) {
        const auto due = t0 + std::chrono::nanoseconds(static_cast<int64_t>(b * per_batch_s * 1e9));
        if (due > Clock::now()) std::this_thread::sleep_until(due);
        std::string body;
        for (int k = 0; k < a.batch; ++k) {
          body += lines[next] + "\n";
          next = (next + 1) % lines.size();
        }
        std::string req = "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                          a.admin_token + "\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n\r\n" + body;
        if (fd < 0) fd = Connect(a.port);
        const int status = fd >= 0 && SendAll(fd, req) ? ReadResponse(fd, buf) : 0;
        if (status == 0 && fd >= 0) {
          ::close(fd);
          fd = -1;
          buf.clear();
        }
        if (status == 200) {
          events_posted += static_cast<uint64_t>(a.batch);
        } else {
          ++event_errors;
        }
      }
      if (fd >= 0) ::close(fd);
    });
  }

  std::printf(
      "| t (s) | decisions | rate/s | p50 µs | p99 µs | max µs | errors | events posted | server "
      "RSS MiB |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::fflush(stdout);
  std::vector<uint32_t> all;
  uint64_t total_err = 0;
  long rss_warm = -1, rss_end = -1, rss_max = 0;
  for (int t = a.window; t <= a.seconds; t += a.window) {
    std::this_thread::sleep_until(t0 + std::chrono::seconds(t));
    std::vector<uint32_t> w;
    uint64_t err;
    {
      std::lock_guard lock(win.mu);
      w.swap(win.lat_us);
      err = win.errors;
      win.errors = 0;
    }
    all.insert(all.end(), w.begin(), w.end());
    total_err += err;
    const long rss = a.pid ? RssKb(a.pid) : -1;
    if (rss_warm < 0) rss_warm = rss;
    rss_end = rss;
    rss_max = std::max(rss_max, rss);
    const size_t n = w.size();
    const double p50 = Pct(w, 0.50), p99 = Pct(w, 0.99);
    const uint32_t mx = w.empty() ? 0 : *std::max_element(w.begin(), w.end());
    std::printf("| %d | %zu | %.0f | %.0f | %.0f | %u | %llu | %llu | %.1f |\n", t, n,
                static_cast<double>(n) / a.window, p50, p99, mx,
                static_cast<unsigned long long>(err),
                static_cast<unsigned long long>(events_posted.load()), rss / 1024.0);
    std::fflush(stdout);
  }
  stop = true;
  for (auto& th : threads) th.join();
  const double p50 = Pct(all, 0.50), p99 = Pct(all, 0.99), p999 = Pct(all, 0.999);
  std::printf(
      "\nwhole run: %zu decisions in %d s (%.0f/s, target %.0f/s), p50 %.0f µs, p99 %.0f µs, "
      "p99.9 %.0f µs, errors %llu; %llu events posted (%llu failed posts)\n",
      all.size(), a.seconds, static_cast<double>(all.size()) / a.seconds, a.rate, p50, p99, p999,
      static_cast<unsigned long long>(total_err),
      static_cast<unsigned long long>(events_posted.load()),
      static_cast<unsigned long long>(event_errors.load()));
  if (rss_warm > 0) {
    std::printf(
        "server RSS: %.1f MiB after the first window, %.1f MiB at the end, max %.1f MiB "
        "(end / first = %.2f)\n",
        rss_warm / 1024.0, rss_end / 1024.0, rss_max / 1024.0,
        static_cast<double>(rss_end) / static_cast<double>(rss_warm));
  }
  return total_err == 0 && event_errors.load() == 0 ? 0 : 1;
}
