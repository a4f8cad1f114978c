"""`crmhub demo --scenario credit-freeze`: a scripted story on the demo hub, with measured times.

The demo hub starts (``hub.demo.run.start_demo_hub``); once the golden record of IBM i customer 104711 (Mueller
GmbH) exists, the script opens the gateway's live stream the way the agent console does (``GET /stream``,
agent token, filtered to that golden id), freezes the customer's credit on the IBM i stand-in and measures,
from the source commit (the change timestamp written to ``CUSTMAST.CHGTS``), the arrival on the stream of the
``credit_status`` change (the console shows its banner on it) and of the ``credit-frozen`` alert.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console

from hub.config import HubConfig
from hub.demo.run import DemoHub, start_demo_hub

SCENARIOS = ("credit-freeze",)
CUSTOMER = 104711
SOURCE = "ibmi"  # the SQL connector of config/demo.yaml (hub.demo.run.demo_paths requires this name)


@dataclass
class Arrival:
    at_ms: float  # wall clock when the frame was read
    event: str
    data: dict[str, Any]


@dataclass
class StreamWatch:
    """Reads ``GET /stream`` in a thread, keeping each event with the wall-clock time it arrived."""

    url: str
    token: str
    params: dict[str, str]
    arrivals: list[Arrival] = field(default_factory=list)
    error: str | None = None
    ready: threading.Event = field(default_factory=threading.Event)  # the first frame came: subscribed
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _response: httpx.Response | None = None
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="demo-stream", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(10.0, read=None)) as client, \
                    client.stream("GET", self.url, params=self.params,
                                  headers={"Authorization": f"Bearer {self.token}"}) as resp:
                self._response = resp
                if resp.status_code != 200:
                    self.error = f"GET /stream answered {resp.status_code}: {resp.read().decode(errors='replace')}"
                    return
                current: dict[str, str] = {}
                for line in resp.iter_lines():
                    at_ms = time.time() * 1000
                    self.ready.set()
                    if line.startswith(":"):
                        continue
                    if line:
                        name, _, value = line.partition(":")
                        current[name] = value[1:] if value.startswith(" ") else value
                        continue
                    if "data" in current and current.get("event") in ("change", "alert"):
                        with self._changed:
                            self.arrivals.append(Arrival(at_ms, current["event"], json.loads(current["data"])))
                            self._changed.notify_all()
                    current = {}
        except Exception as exc:  # the stream closing at the end is expected too
            if self.error is None and not (self._response is not None and self._response.is_closed):
                self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.ready.set()
            with self._changed:
                self._changed.notify_all()

    def wait_for(self, match: Any, deadline: float) -> Arrival | None:
        with self._changed:
            while True:
                hit = next((a for a in self.arrivals if match(a)), None)
                if hit is not None or self.error is not None or time.monotonic() >= deadline:
                    return hit
                self._changed.wait(min(0.5, max(0.0, deadline - time.monotonic())))

    def close(self) -> None:
        if self._response is not None:
            # closing from another thread may race with the reader; it is a daemon thread anyway
            with contextlib.suppress(Exception):
                self._response.close()
        if self._thread is not None:
            self._thread.join(timeout=5.0)


def commit_ms(ts: str) -> float:
    """The IBM i change timestamp written by ``freeze_credit`` (UTC, no zone) as epoch milliseconds."""
    return datetime.fromisoformat(ts).replace(tzinfo=UTC).timestamp() * 1000


def _is_freeze_change(a: Arrival) -> bool:
    if a.event != "change":
        return False
    for f in a.data.get("record", {}).get("fields") or ():
        if f.get("field") == "credit_status":
            try:
                return bool(json.loads(f.get("new") or "null") == "FROZEN")
            except ValueError:
                return False
    return False


def _is_freeze_alert(a: Arrival) -> bool:
    return a.event == "alert" and a.data.get("record", {}).get("rule") == "credit-frozen"


def run_scenario(name: str, cfg: HubConfig, console: Console, *, start_broker: bool = True,
                 timeout_s: float = 60.0) -> int:
    """Run scenario ``name`` on the demo hub; the process exit code (0 told, 1 something did not arrive)."""
    if name not in SCENARIOS:
        console.print(f"[red]unknown scenario '{name}'[/] (known: {', '.join(SCENARIOS)})")
        return 2
    if cfg.pipelines is None:
        console.print("[red]the credit-freeze scenario needs `pipelines:` and a gateway in the config[/] "
                      "(as in config/demo.yaml)")
        return 1
    demo = start_demo_hub(cfg, console, start_broker=start_broker)
    try:
        return credit_freeze(demo, console, timeout_s)
    finally:
        demo.hub.stop()


def credit_freeze(demo: DemoHub, console: Console, timeout_s: float = 60.0) -> int:
    from hub.demo.sources import freeze_credit

    if demo.base_url is None or demo.tokens is None:
        console.print("[red]the gateway is not running[/]: the scenario needs it")
        return 1
    base, tokens = demo.base_url, demo.tokens
    console.print(f"[bold]Scenario credit-freeze[/]: waiting for the golden record of {SOURCE} customer {CUSTOMER}")
    # every stand-in holding the customer is unified first: a later merge would move it to another golden id
    sources = {SOURCE, "exports"} | {name for name, path in (("ar", demo.ar), ("helpdesk", demo.helpdesk)) if path}
    rec = _wait_golden(base, tokens.admin, timeout_s, sources)
    if rec is None:
        console.print(f"[red]FAILED[/]: no golden record for {SOURCE}/{CUSTOMER} within {timeout_s:.0f} s "
                      f"(GET {base}/customers/by-source/{SOURCE}/{CUSTOMER})")
        return 1
    gid = str(rec["golden_id"])
    data = rec.get("data") or {}
    who = data.get("org_name") or data.get("display_name") or f"customer {CUSTOMER}"
    agent = data.get("owning_agent") or "the account's agent"
    console.print(f"Agent {agent} has {who} (golden id {gid}, credit {data.get('credit_status')}) open in the "
                  "agent console, subscribed to its live stream.", highlight=False)
    watch = StreamWatch(f"{base}/stream", tokens.agent, {"kind": "both", "golden_id": gid})
    watch.start()
    try:
        if not watch.ready.wait(timeout_s) or watch.error is not None:
            console.print(f"[red]FAILED[/]: the live stream did not open: {watch.error or 'no first frame'}")
            return 1
        ts = freeze_credit(demo.db, CUSTOMER)
        committed = commit_ms(ts)
        console.print(f"{ts[11:23]} UTC  the IBM i freezes the credit of {CUSTOMER}: CUSTMAST.CRSTAT A -> F "
                      "(source commit)", highlight=False)
        deadline = time.monotonic() + timeout_s
        change = watch.wait_for(_is_freeze_change, deadline)
        alert = watch.wait_for(_is_freeze_alert, deadline)
    finally:
        watch.close()
    missing = [what for what, hit in (("the credit_status change", change), ("the credit-frozen alert", alert))
               if hit is None]
    if change is None or alert is None:
        console.print(f"[red]FAILED[/]: {' and '.join(missing)} did not arrive on the agent's stream within "
                      f"{timeout_s:.0f} s of the source commit" + (f" ({watch.error})" if watch.error else ""))
        return 1
    change_ms = round(change.at_ms - committed)
    alert_ms = round(alert.at_ms - committed)
    record = alert.data.get("record", {})
    console.print(f"+{change_ms} ms  change on the stream: credit_status -> FROZEN; the console re-reads the "
                  "record and shows its red banner", highlight=False)
    console.print(f"+{alert_ms} ms  alert {record.get('rule')} ({record.get('severity')}) for "
                  f"{record.get('agent') or agent}: {record.get('message')}", highlight=False)
    console.print(f"Agent {agent} has {who} open ... credit frozen on the IBM i, banner shown after {change_ms} ms.",
                  highlight=False)
    console.print(f"[bold]Measured[/] source commit -> agent's screen: change {change_ms} ms, "
                  f"alert {alert_ms} ms", highlight=False)
    return 0


def _wait_golden(base: str, admin_token: str, timeout_s: float, sources: set[str]) -> dict[str, Any] | None:
    """The golden record of the scenario's customer once it has a credit status and members from ``sources``."""
    url = f"{base}/customers/by-source/{SOURCE}/{CUSTOMER}"
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=10.0, headers={"Authorization": f"Bearer {admin_token}"}) as client:
        while time.monotonic() < deadline:
            try:
                r = client.get(url)
            except httpx.HTTPError:
                r = None
            if r is not None and r.status_code == 200:
                body = r.json()
                members = {m.get("source") for m in body.get("members") or ()} if isinstance(body, dict) else set()
                if isinstance(body, dict) and (body.get("data") or {}).get("credit_status") and sources <= members:
                    return body
            time.sleep(0.2)
    return None
