"""The demo under load: ``crmhub demo --generate RATE`` for a while, its live summary lines collected.

Runs ``crmhub demo -c config/demo.yaml --generate RATE [--processes]`` (the local broker on the demo's ports,
the SQLite stand-ins, the whole hub) for ``--seconds`` after ``--warmup`` seconds, then stops it with SIGINT as
Ctrl-C would. Each summary line covers 5 s; the table shows, per line after the warm-up, the changes generated
per second, the freshness p50 / p99 (source commit → unified record published, from the unify stage's
histogram) and the largest consumer lag. The baseline in the same run is the raw client: kafka-python
producing timestamped records at the same rate to the same broker and reading them back
(``bench/bench_e2e.py``'s ``measure_raw``).

Targets: with the demo generating 1,000 changes/s, p50 under 250 ms and p99 under 1 s; here "met"
means every interval after the warm-up generated at least 95 % of the rate and stayed under both.

Usage: ``.venv/bin/python bench/bench_demo.py [--rate 1000] [--seconds 60] [--warmup 20] [--processes]``
"""

from __future__ import annotations

import argparse
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.raw_client import measure_raw, percentiles  # noqa: E402
from hub.config import load_config  # noqa: E402
from hub.demo.summary import DASH  # noqa: E402
from hub.kafka.clients import KafkaSettings  # noqa: E402

LINE = re.compile(rf"generated (?P<gen>[\d.]+)/s .*freshness p50 (?P<p50>[\d.]+|{DASH})(?: ms)? "
                  rf"p99 (?P<p99>[\d.]+|{DASH})(?: ms)? · max consumer lag (?P<lag>\S+)")


def parse(line: str) -> dict[str, float | str] | None:
    """One summary line's generated rate, freshness p50 / p99 in ms (nan when the interval had none) and lag."""
    m = LINE.search(line)
    if m is None:
        return None

    def ms(v: str) -> float:
        return float("nan") if v == DASH else float(v)

    return {"generated": float(m["gen"]), "p50": ms(m["p50"]), "p99": ms(m["p99"]), "lag": m["lag"]}


def run_demo(config: Path, rate: float, seconds: float, warmup: float, processes: bool) -> list[tuple[float, str]]:
    """The demo's output lines with the time each arrived (seconds since the generator started)."""
    argv = [str(ROOT / ".venv/bin/crmhub"), "demo", "-c", str(config), "--generate", f"{rate:g}"]
    proc = subprocess.Popen(argv + (["--processes"] if processes else []), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "400"})
    lines: list[tuple[float, str]] = []
    started: list[float] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("Change generator") and not started:
                started.append(time.monotonic())
            lines.append((time.monotonic() - (started[0] if started else time.monotonic()), line.rstrip()))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 180 + warmup + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if started and time.monotonic() - started[0] >= warmup + seconds:
            break
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
    reader.join(5)
    if not started:
        sys.exit("the demo did not start its generator:\n" + "\n".join(t for _, t in lines[-30:]))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config/demo.yaml")
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time after the warm-up")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds of summary lines left out")
    parser.add_argument("--processes", action="store_true", help="crmhub demo --processes")
    args = parser.parse_args()
    lines = run_demo(args.config, args.rate, args.seconds, args.warmup, args.processes)
    rows = [(t, r) for t, text in lines if (r := parse(text)) is not None and t > args.warmup]
    print(f"crmhub demo --generate {args.rate:g}{' --processes' if args.processes else ''}: "
          f"{len(rows)} summary intervals of 5 s after {args.warmup:g} s")
    print("     t   generated/s   p50 ms   p99 ms   max lag")
    for t, r in rows:
        print(f"{t:6.0f}   {r['generated']:11.1f}   {r['p50']:6.0f}   {r['p99']:6.0f}   {r['lag']}")
    settings = KafkaSettings(bootstrap_servers=load_config(args.config).kafka.bootstrap_servers)
    raw = measure_raw(settings, args.rate, 10.0)
    print(f"raw kafka-python produce -> consume at {args.rate:g}/s: {percentiles(raw)}")
    def worst(key: str) -> float:  # an interval with no freshness observation unified nothing: a miss
        values = [float(r[key]) for _, r in rows]
        return max((math.inf if math.isnan(v) else v for v in values), default=math.inf)

    p50, p99 = worst("p50"), worst("p99")
    kept_up = all(float(r["generated"]) >= 0.95 * args.rate for _, r in rows)
    met = bool(rows) and kept_up and p50 < 250 and p99 < 1000 and args.rate >= 1000
    if rows:
        print(f"worst interval: p50 {p50:.0f} ms, p99 {p99:.0f} ms; generator kept the rate: {kept_up}")
    print(f"target p50 < 250 ms and p99 < 1 s at 1,000 changes/s: {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
