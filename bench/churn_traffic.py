#!/usr/bin/env python3
"""Churning account population for the eviction benchmark (bench/evict_memory.sh).

Usage: churn_traffic.py OUT.jsonl ACCOUNTS DAYS [EVENTS_PER_ACCOUNT] [SEED]

ACCOUNTS accounts, each active during one session of EVENTS_PER_ACCOUNT requests spread over
two hours on a random day of DAYS: the number active on any day is ACCOUNTS / DAYS whatever the
total, so a run with 4x the accounts over 4x the days has the same active set and 4x the
accounts ever seen. Exchange-log lines in time order; deterministic for a seed.
"""
import json
import random
import sys
from datetime import datetime, timedelta, timezone


def main():
    out, n, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    per = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    t0 = datetime(2025, 3, 3, tzinfo=timezone.utc)
    events = []
    topics = ["my garden", "python lists", "tax forms", "a cover letter", "rust lifetimes",
              "a trip to Lisbon", "SQL joins", "a wedding toast"]
    agents = ["OpenAI/Python 1.54.3", "OpenAI/NodeJS 4.67.1", "curl/8.5.0"]
    for a in range(n):
        start = rng.uniform(0, days * 86400 - 7200)
        ip = f"{11 + a // 65536 % 200}.{a // 256 % 256}.{a % 256}.7"  # a /24 of its own
        agent = agents[a % len(agents)]
        for i in range(per):
            ts = start + rng.uniform(0, 7200)
            events.append((ts, a, ip, agent, rng.randrange(10**6), rng.choice(topics),
                           rng.randrange(50, 400)))
    events.sort()
    with open(out, "w") as f:
        for ts, a, ip, agent, q, topic, ct in events:
            t = (t0 + timedelta(seconds=ts)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            f.write(json.dumps({
                "ts": t, "account_id": f"acct-{a:07d}", "client_ip": ip, "user_agent": agent,
                "endpoint": "/v1/chat/completions",
                "request": {"model": "gpt-4o", "messages": [
                    {"role": "user", "content": f"Can you help me with {topic}, question {q}?"}]},
                "response": {"status": 200,
                             "usage": {"prompt_tokens": 40, "completion_tokens": ct}}},
                separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
