#!/usr/bin/env python3
"""Runs a command and samples its memory every 50 ms (bench/run.sh, many-accounts case).

Usage: rss_probe.py OUT.json INPUT_BYTES -- CMD...

Writes {"wall", "user", "sys", "peak_rss_kb", "input_end_s", "rss_at_input_end_kb"}: besides
the peak (what /usr/bin/time reports, which for `scan` includes building the report), the
resident set at the first sample where the process has read INPUT_BYTES (/proc/PID/io rchar):
the engine's state once every event is in, before the final barrier and the report.
"""
import json
import resource
import subprocess
import sys
import time


def read_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def read_rchar(pid):
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main():
    out_path, input_bytes = sys.argv[1], int(sys.argv[2])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd)
    peak, at_end, t_end = 0, None, None
    while p.poll() is None:
        rss = read_rss_kb(p.pid)
        if rss:
            peak = max(peak, rss)
            if at_end is None:
                rchar = read_rchar(p.pid)
                if rchar is not None and rchar >= input_bytes:
                    at_end, t_end = rss, time.monotonic() - t0
        time.sleep(0.05)
    wall = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = max(peak, ru.ru_maxrss)
    with open(out_path, "w") as f:
        json.dump({"wall": round(wall, 2), "user": ru.ru_utime, "sys": ru.ru_stime,
                   "peak_rss_kb": peak, "input_end_s": t_end, "rss_at_input_end_kb": at_end}, f)
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
