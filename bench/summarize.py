#!/usr/bin/env python3
"""Turns bench/run.sh's raw measurements into the results table (issue 7).

Reads runs.jsonl (one line per timed process) and machine.json, plus optional Google Benchmark
JSON files; prints the table, writes results.md / results.json and replaces the block between
the `<!-- bench:results:begin -->` / `<!-- bench:results:end -->` markers of docs/BENCHMARKS.md.
"""
import argparse
import json
import os
import re
import statistics
import sys

CONTENDERS = [
    ("limit", "limit (parse + fields + XXH3, 1 thread)"),
    ("duckdb", "DuckDB aggregate (2 threads)"),
    ("scan-1", "distillguard scan, 1 thread"),
    ("scan-2", "distillguard scan, 2 threads"),
]
TARGET_STATE_BYTES = 2048


def size_key(s):
    m = re.fullmatch(r"(\d+)([km]?)", s.lower())
    if not m:
        return (1, s)
    n = int(m.group(1)) * {"": 1, "k": 1000, "m": 1000000}[m.group(2)]
    return (0, n)


def fmt_rate(x):
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.0f} k"
    return f"{x:.0f}"


def load(path):
    runs, extras = [], []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            d = json.loads(line)
            (runs if "contender" in d else extras).append(d)
    return runs, extras


def median_runs(runs):
    """{(contender, size): aggregated dict} with medians over repetitions."""
    groups = {}
    for r in runs:
        groups.setdefault((r["contender"], r["size"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        wall = statistics.median(r["wall"] for r in rs)
        cpu = statistics.median(r["user"] + r["sys"] for r in rs)
        rss = max(r["rss_kb"] for r in rs)
        first = rs[0]
        out[key] = {
            "contender": key[0], "size": key[1], "reps": len(rs), "events": first["lines"],
            "bytes": first["bytes"], "wall_s": wall, "cpu_s": cpu,
            "walls": [r["wall"] for r in rs], "peak_rss_mb": rss / 1024.0,
            "events_per_s": first["lines"] / wall if wall > 0 else 0.0,
            "mb_per_s": first["bytes"] / wall / 1e6 if wall > 0 else 0.0,
            "events_per_cpu_s": first["lines"] / cpu if cpu > 0 else 0.0,
            "load1": statistics.median(r["load1"] for r in rs),
            "out": first.get("out", {}),
            "rss_at_input_end_mb": (first["rss_at_input_end_kb"] / 1024.0
                                    if first.get("rss_at_input_end_kb") else None),
            "input_end_s": first.get("input_end_s"),
        }
    return out


def marginal(agg, who, sizes):
    """Throughput from the difference between the smallest and largest size (no start-up)."""
    pts = [(agg[(who, s)]["events"], agg[(who, s)]["wall_s"], agg[(who, s)]["cpu_s"])
           for s in sizes if (who, s) in agg]
    if len(pts) < 2:
        return None
    (n0, w0, c0), (n1, w1, c1) = pts[0], pts[-1]
    if w1 <= w0 or c1 <= c0:
        return None
    per_seg = []
    for (na, wa, _), (nb, wb, _) in zip(pts, pts[1:]):
        per_seg.append((wb - wa) / (nb - na) * 1e9 if nb > na else None)
    return {"events_per_s": (n1 - n0) / (w1 - w0), "events_per_cpu_s": (n1 - n0) / (c1 - c0),
            "startup_s": max(0.0, w0 - n0 * (w1 - w0) / (n1 - n0)),
            "ns_per_event_segments": per_seg}


def summarize(runs, extras, machine, micro_files):
    agg = median_runs(runs)
    sizes = sorted({r["size"] for r in runs if not r["size"].startswith("many")}, key=size_key)
    res = {"machine": machine, "sizes": sizes, "runs": list(agg.values()), "ratios": {},
           "marginal": {}, "targets": [], "many_accounts": None, "micro": [],
           "warnings": [e["warning"] for e in extras if "warning" in e]}
    for r in agg.values():  # every contender must have seen every event
        seen = r["out"].get("records", r["out"].get("events"))
        if seen is not None and seen != r["events"]:
            res["warnings"].append(f"{r['contender']} on {r['size']} saw {seen} of {r['events']} events")
    for s in sizes:
        g = lambda who: agg.get((who, s))
        lim, ddb, s1, s2 = g("limit"), g("duckdb"), g("scan-1"), g("scan-2")
        r = {}
        if lim and s1:
            r["scan1_over_limit"] = s1["events_per_s"] / lim["events_per_s"]
            r["scan1_over_limit_cpu"] = s1["events_per_cpu_s"] / lim["events_per_cpu_s"]
        if ddb and s2:
            r["scan2_over_duckdb"] = s2["events_per_s"] / ddb["events_per_s"]
            r["scan2_over_duckdb_cpu"] = s2["events_per_cpu_s"] / ddb["events_per_cpu_s"]
        if s1 and s2:
            r["scan2_over_scan1"] = s2["events_per_s"] / s1["events_per_s"]
        res["ratios"][s] = r
    for who, _ in CONTENDERS:
        m = marginal(agg, who, sizes)
        if m:
            res["marginal"][who] = m

    # Many accounts: memory per active account, over the baseline run.
    acc = {e["accounts_case"]: e for e in extras if "accounts_case" in e}
    big, base = agg.get(("scan-2", "many")), agg.get(("scan-2", "many-base"))
    if big and base and "many" in acc and "many-base" in acc:
        n_big, n_base = acc["many"]["active_accounts"], acc["many-base"]["active_accounts"]
        per = lambda a, b: (a - b) * 1048576 / max(1, n_big - n_base)
        ma = {
            "accounts": n_big, "baseline_accounts": n_base, "clusters": acc["many"]["clusters"],
            "events": big["events"], "bytes": big["bytes"], "peak_rss_mb": big["peak_rss_mb"],
            "baseline_rss_mb": base["peak_rss_mb"],
            "peak_bytes_per_account": per(big["peak_rss_mb"], base["peak_rss_mb"]),
            "wall_s": big["wall_s"], "events_per_s": big["events_per_s"],
            "input_end_s": big["input_end_s"], "state_rss_mb": big["rss_at_input_end_mb"],
            "state_bytes_per_account": None}
        # The baseline's fixed cost (binary, Hyperscan database, block buffers, threads) is its
        # peak: its input is read before the phrase database is even compiled.
        if big["rss_at_input_end_mb"]:
            ma["state_bytes_per_account"] = per(big["rss_at_input_end_mb"], base["peak_rss_mb"])
        judged = ma["state_bytes_per_account"] or ma["peak_bytes_per_account"]
        ma["bytes_per_account"] = judged
        ma["projected_gib_1m"] = judged * 1e6 / 2**30
        res["many_accounts"] = ma

    # Targets, judged on the largest size (start-up weighs least there).
    top = sizes[-1] if sizes else None
    rt = res["ratios"].get(top, {})
    def target(name, value, goal, ok, note=""):
        res["targets"].append({"target": name, "measured": value, "goal": goal, "met": ok,
                               "note": note})
    if "scan1_over_limit" in rt:
        v = rt["scan1_over_limit"]
        target(f"scan 1 thread / limit ({top})", f"{v:.3f}x", ">= 0.5x", v >= 0.5,
               f"cpu-time ratio {rt['scan1_over_limit_cpu']:.3f}x")
    if "scan2_over_duckdb" in rt:
        v = rt["scan2_over_duckdb"]
        target(f"scan 2 threads / DuckDB 2 threads ({top})", f"{v:.2f}x", ">= 2x", v >= 2.0,
               f"cpu-time ratio {rt['scan2_over_duckdb_cpu']:.2f}x")
    if "scan2_over_scan1" in rt:
        v = rt["scan2_over_scan1"]
        target(f"scan 2 threads / 1 thread ({top})", f"{v:.2f}x", ">= 1.8x", v >= 1.8)
    m = res["marginal"].get("scan-1")
    if m and len(m["ns_per_event_segments"]) >= 2 and all(m["ns_per_event_segments"]):
        segs = m["ns_per_event_segments"]
        growth = segs[-1] / segs[0]
        target("linear cost (scan-1: marginal ns/event, last size step / first)",
               f"{growth:.2f}", "<= 1.15", growth <= 1.15,
               " → ".join(f"{x:.0f}" for x in segs) + " ns/event")
    if res["many_accounts"]:
        ma = res["many_accounts"]
        target("state per active account (RSS once all input is read)",
               f"{ma['bytes_per_account']:.0f} B", "<= 2048 B",
               ma["bytes_per_account"] <= TARGET_STATE_BYTES,
               f"{ma['projected_gib_1m']:.2f} GiB per 1M accounts; peak with the report "
               f"{ma['peak_bytes_per_account']:.0f} B/account")

    for path in micro_files:
        try:
            with open(path) as f:
                d = json.load(f)
        except (OSError, ValueError):
            continue
        binary = os.path.basename(path).removeprefix("micro-").removesuffix(".json")
        for b in d.get("benchmarks", []):
            if b.get("run_type") == "aggregate":
                continue
            res["micro"].append({
                "binary": binary, "name": b["name"], "time": b["real_time"],
                "unit": b.get("time_unit", "ns"),
                "items_per_s": b.get("items_per_second"), "bytes_per_s": b.get("bytes_per_second"),
                "label": b.get("label", "")})
    return res


def markdown(res, with_micro=True):
    m = res["machine"]
    L = []
    L.append(f"Measured {m['date']} on {m['nproc']} × {m['cpu']}, {m['memory_gib']} GiB RAM, "
             f"Linux {m['kernel']}, commit `{m['commit']}` ({m['duration_s'] // 60} min run).")
    loads = [r["load1"] for r in res["runs"]]
    if loads:
        L.append(f"1-minute load average during the runs: {min(loads):.1f}–{max(loads):.1f} "
                 f"(at the end: {m['loadavg_end']}); a load above {m['nproc']} means other "
                 "processes shared the cores and wall-clock figures are pessimistic, CPU-time "
                 "ratios less so.")
    L.append("")
    L.append("| input | contender | wall s | events/s | MB/s | CPU s | peak RSS MB |")
    L.append("|---|---|---:|---:|---:|---:|---:|")
    names = dict(CONTENDERS)
    for s in res["sizes"]:
        for who, _ in CONTENDERS:
            r = next((x for x in res["runs"] if x["contender"] == who and x["size"] == s), None)
            if not r:
                continue
            reps = f" (median of {r['reps']})" if r["reps"] > 1 else ""
            L.append(f"| {s}: {r['events']:,} ev, {r['bytes'] / 1e6:,.0f} MB | {names[who]} | "
                     f"{r['wall_s']:.2f}{reps} | {fmt_rate(r['events_per_s'])} | "
                     f"{r['mb_per_s']:.0f} | {r['cpu_s']:.2f} | {r['peak_rss_mb']:.0f} |")
    L.append("")
    L.append("| input | ours(1t) / limit | ours(2t) / DuckDB(2t) | ours 2t / 1t | "
             "same by CPU time: ours/limit, ours/DuckDB |")
    L.append("|---|---:|---:|---:|---:|")
    for s in res["sizes"]:
        r = res["ratios"].get(s, {})
        f = lambda k, d=3: f"{r[k]:.{d}f}×" if k in r else "–"
        L.append(f"| {s} | {f('scan1_over_limit')} | {f('scan2_over_duckdb', 2)} | "
                 f"{f('scan2_over_scan1', 2)} | {f('scan1_over_limit_cpu')}, "
                 f"{f('scan2_over_duckdb_cpu', 2)} |")
    if res["marginal"]:
        L.append("")
        L.append("Marginal cost (smallest → largest input, i.e. without start-up):")
        L.append("")
        L.append("| contender | marginal events/s | events per CPU-s | start-up s | "
                 "ns/event per size step |")
        L.append("|---|---:|---:|---:|---|")
        for who, _ in CONTENDERS:
            mm = res["marginal"].get(who)
            if not mm:
                continue
            segs = " → ".join(f"{x:.0f}" if x else "–" for x in mm["ns_per_event_segments"])
            L.append(f"| {names[who]} | {fmt_rate(mm['events_per_s'])} | "
                     f"{fmt_rate(mm['events_per_cpu_s'])} | {mm['startup_s']:.2f} | {segs} |")
    ma = res["many_accounts"]
    if ma:
        L.append("")
        state = (f"{ma['state_rss_mb']:,.0f} MB once all input was read (at {ma['input_end_s']:.0f} s) → "
                 f"**{ma['state_bytes_per_account']:,.0f} bytes per account** "
                 f"({ma['projected_gib_1m']:.2f} GiB per million: state, registry, linker, names); "
                 if ma["state_bytes_per_account"] else "")
        L.append(f"Many accounts (`bench/scenarios/many_accounts.toml`, scan with 2 threads and "
                 f"the account registry): {ma['accounts']:,} active accounts "
                 f"({ma['clusters']:,} multi-account clusters), {ma['events']:,} events "
                 f"({ma['bytes'] / 1e6:,.0f} MB) in {ma['wall_s']:.1f} s; resident set {state}"
                 f"peak {ma['peak_rss_mb']:,.0f} MB with the report being built "
                 f"({ma['peak_bytes_per_account']:,.0f} bytes per account), against "
                 f"{ma['baseline_rss_mb']:,.0f} MB peak for {ma['baseline_accounts']:,} accounts.")
    L.append("")
    L.append("Targets (issue 7):")
    L.append("")
    L.append("| target | goal | measured | met | note |")
    L.append("|---|---|---|---|---|")
    for t in res["targets"]:
        L.append(f"| {t['target']} | {t['goal']} | {t['measured']} | "
                 f"{'yes' if t['met'] else '**no**'} | {t['note']} |")
    for w in res["warnings"]:
        L.append(f"\nWarning: {w}")
    if with_micro and res["micro"]:
        L.append("")
        L.append("Micro-benchmarks (Google Benchmark, `build/bench/*_bench`):")
        L.append("")
        L.append("| binary | benchmark | time | throughput |")
        L.append("|---|---|---:|---:|")
        for b in res["micro"]:
            thr = ""
            if b["items_per_s"]:
                thr = f"{fmt_rate(b['items_per_s'])} items/s"
            elif b["bytes_per_s"]:
                thr = f"{b['bytes_per_s'] / 1e6:,.0f} MB/s"
            L.append(f"| {b['binary']} | `{b['name']}` | {b['time']:,.1f} {b['unit']} | {thr} |")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--md")
    ap.add_argument("--json")
    ap.add_argument("--docs", action="append", default=[],
                    help="file with bench:results markers to fill (repeatable)")
    ap.add_argument("--brief-docs", action="append", default=[],
                    help="the same without the micro-benchmark table (the README)")
    ap.add_argument("micro", nargs="*")
    a = ap.parse_args()
    runs, extras = load(a.runs)
    with open(a.machine) as f:
        machine = json.load(f)
    res = summarize(runs, extras, machine, a.micro)
    md = markdown(res)
    print(md)
    if a.md:
        with open(a.md, "w") as f:
            f.write("# Benchmark results (`make bench`)\n\n"
                    "Generated by `bench/run.sh`; method and analysis in docs/BENCHMARKS.md.\n\n")
            f.write(md)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
    brief = markdown(res, with_micro=False)
    for path, text in [(p, md) for p in a.docs] + [(p, brief) for p in a.brief_docs]:
        if not os.path.exists(path):
            continue
        with open(path) as f:
            doc = f.read()
        begin, end = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
        if begin in doc and end in doc:
            pre, rest = doc.split(begin, 1)
            _, post = rest.split(end, 1)
            with open(path, "w") as f:
                f.write(pre + begin + "\n" + text + end + post)
        else:
            print(f"summarize: no results markers in {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
