#!/usr/bin/env python3
"""Where a process's threads spend each half second: on a CPU, or waiting to be scheduled.

Usage: python3 threads.py PID   (runs until the process exits)

Each line sums /proc/PID/task/*/schedstat over the last half second, in
percent of one core: all threads, the two busiest, and the rest. Used for
docs/performance.md ("SQLite bulk vs plain inserts"): start
`CE_BENCH_ENGINEERS=10000 CE_BENCH_ONLY=sqlite target/release/ce-bench`,
wait for its "bulk RPC (PostgreSQL)" line, then run this on its pid.
"""
import glob
import os
import sys
import time


def snapshot(pid):
    threads = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            cpu, wait, _ = open(task + "/schedstat").read().split()
        except (OSError, ValueError):
            continue
        threads[task.rsplit("/", 1)[1]] = (int(cpu), int(wait))
    return threads


def main():
    pid = sys.argv[1]
    before, then = snapshot(pid), time.time()
    while os.path.exists(f"/proc/{pid}"):
        time.sleep(0.5)
        now, at = snapshot(pid), time.time()
        wall = (at - then) * 1e9
        deltas = sorted(
            ((c - before[t][0], w - before[t][1]) for t, (c, w) in now.items() if t in before),
            reverse=True,
        )
        pct = lambda xs: 100 * sum(xs) / wall
        busiest, rest = deltas[:2], deltas[2:]
        print(
            f"{time.strftime('%H:%M:%S')} all: cpu {pct(c for c, _ in deltas):.0f}% "
            f"waiting {pct(w for _, w in deltas):.0f}% | two busiest: cpu "
            f"{pct(c for c, _ in busiest):.0f}% | rest: cpu {pct(c for c, _ in rest):.0f}% "
            f"waiting {pct(w for _, w in rest):.0f}%",
            flush=True,
        )
        before, then = now, at


if __name__ == "__main__":
    main()
