"""The bench's CPU accounting from ``/proc/<pid>/stat``."""

from __future__ import annotations

import os
import sys

import pytest

from bench.proc_cpu import CpuWindow, cpu_seconds, stat_fields

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_stat_fields_skip_a_command_name_with_spaces_and_parens() -> None:
    line = "4242 (python (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 3 0"
    f = stat_fields(line)
    assert f[0] == "S" and f[1] == "1"
    assert (f[11], f[12]) == ("250", "31")


def test_cpu_seconds_grow_with_work_and_a_gone_process_reads_zero() -> None:
    before = cpu_seconds(os.getpid())
    total = 0
    while cpu_seconds(os.getpid()) - before < 0.05:  # ends once the kernel has counted some ticks
        total += sum(range(10_000))
    assert total > 0
    assert cpu_seconds(2**22 + 1) == 0.0  # above the default pid_max: no such process


def test_window_reports_cores_and_cpu_per_change_per_process_and_group() -> None:
    window = CpuWindow({"a": 1, "b": 2})
    window.used, window.wall_s = {"a": 2.0, "b": 1.0}, 4.0
    lines = window.report(1000, {"a and b": ["a", "b"]})
    assert [line.split()[0] for line in lines] == ["a", "b", "a"]
    assert "0.50 cores" in lines[0] and "2.000 ms CPU/change" in lines[0]
    assert "0.75 cores" in lines[2] and "3.000 ms CPU/change" in lines[2]
