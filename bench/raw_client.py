"""The raw kafka-python baseline the end-to-end benches measure next to the hub, on the same broker: records
produced at a rate and read back (latency), and produced and consumed as fast as the client goes (records/s).
"""

from __future__ import annotations

import json
import threading
import time

from bench.proc_cpu import cpu_seconds
from hub.kafka.clients import Admin, Consumer, KafkaSettings, Producer, Record

SMALL_BATCH = 20  # records per send at a rate: about what a hub stage sends per poll at 1,000 changes/s
WARMUP_RATE = 1000.0  # records/s of the broker warm-up


def percentiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    s = sorted(values)
    p = {q: s[min(len(s) - 1, int(q * len(s)))] for q in (0.5, 0.9, 0.99)}
    return f"n={len(s):,}  p50 {p[0.5]:7.1f} ms  p90 {p[0.9]:7.1f} ms  p99 {p[0.99]:7.1f} ms  max {s[-1]:7.1f} ms"


def raw_topic(settings: KafkaSettings, kind: str) -> str:
    """A new one-partition topic for a raw-client measurement."""
    topic = f"bench.{kind}.{int(time.time())}"
    admin = Admin(settings)
    admin.ensure_topic(topic, 1, 1)
    admin.close()
    return topic


def measure_raw(settings: KafkaSettings, rate: float, seconds: float) -> list[float]:
    """The raw client in the same run: timestamped records produced at ``rate``/s, read back."""
    topic = raw_topic(settings, "raw")
    producer = Producer(settings)
    producer.send(Record(topic, None, b"{}"))
    consumer = Consumer(settings, group_id=None)
    consumer.assign(topic, from_beginning=False)
    consumer.poll(200)
    stop = threading.Event()
    latencies: list[float] = []

    def produce() -> None:
        start, n = time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            due = start + n / rate
            time.sleep(max(0.0, due - time.perf_counter()))  # one clock reading: never a negative sleep
            batch = [Record(topic, None, json.dumps({"ts": time.time() * 1000}).encode()) for _ in range(SMALL_BATCH)]
            producer.send_batch(batch)
            n += SMALL_BATCH
        stop.set()

    t = threading.Thread(target=produce)
    t.start()
    idle_until = None
    while True:
        msgs = consumer.poll(100)
        now = time.time() * 1000
        latencies.extend(now - json.loads(m.value or b"{}").get("ts", now) for m in msgs)
        if stop.is_set():
            idle_until = idle_until or time.monotonic() + 2
            if time.monotonic() > idle_until:
                break
    t.join()
    producer.close()
    consumer.close()
    return latencies


def warm_broker(settings: KafkaSettings, broker_pid: int, seconds: float, rate: float = WARMUP_RATE,
                window_s: float = 10.0, topic: str | None = None) -> list[float]:
    """Raw-client traffic shaped like the hub's (batches of 20 records, each produced and acknowledged, read back
    by a group member that commits after every poll) for ``seconds``, before a measurement: a broker just
    started spends its first minute compiling its hot paths (the JVM's JIT) and uses several times the CPU it
    uses once warm, which the hub on the same cores would pay for. Returns the broker's cores in each
    ``window_s`` window, so the caller can show that it settled (``topic``: an existing one to write, else a
    new one)."""
    topic = topic or raw_topic(settings, "warmup")
    producer = Producer(settings)
    consumer = Consumer(settings, f"bench-warmup-{int(time.time())}", [topic], join_after_metadata=True)
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set():
            if consumer.poll(20):
                consumer.commit_async()

    reader = threading.Thread(target=consume)
    reader.start()
    cores: list[float] = []
    start = time.perf_counter()
    window_start, used = start, cpu_seconds(broker_pid)
    n = 0
    try:
        while time.perf_counter() - start < seconds:
            time.sleep(max(0.0, start + n / rate - time.perf_counter()))
            producer.send_batch([Record(topic, None, b"x" * 300)] * SMALL_BATCH)
            n += SMALL_BATCH
            now = time.perf_counter()
            if now - window_start >= window_s:
                cpu = cpu_seconds(broker_pid)
                cores.append((cpu - used) / (now - window_start))
                window_start, used = now, cpu
    finally:
        stop.set()
        reader.join()
        producer.close()
        consumer.close()
    return cores


def measure_raw_max(settings: KafkaSettings, n: int = 100_000, batch: int = 500) -> float:
    """The raw client as fast as it goes: records/s of ``n`` 300-byte records produced (batches of ``batch``,
    a few in flight) while a consumer reads them back, until the last one is read."""
    topic = raw_topic(settings, "rawmax")
    producer, consumer = Producer(settings), Consumer(settings, group_id=None)
    consumer.assign(topic)
    value = b"x" * 300

    def produce() -> None:
        pending = []
        for _ in range(n // batch):
            pending.append(producer.send_async([Record(topic, None, value)] * batch))
            if len(pending) > 4:
                pending.pop(0).wait()
        for sending in pending:
            sending.wait()

    start = time.perf_counter()
    t = threading.Thread(target=produce)
    t.start()
    got, deadline = 0, time.monotonic() + 300
    while got < n // batch * batch and time.monotonic() < deadline:
        got += len(consumer.poll(200))
    elapsed = time.perf_counter() - start
    t.join()
    producer.close()
    consumer.close()
    return got / elapsed


def raw_max_median(settings: KafkaSettings, runs: int = 3) -> tuple[float, list[float]]:
    """The median of ``runs`` as-fast-as-it-goes rates, and every rate sorted: one lucky or unlucky run does not
    make a ratio to it."""
    rates = sorted(measure_raw_max(settings) for _ in range(runs))
    return rates[len(rates) // 2], rates
