"""The hub's garbage-collector settings (applied by the CLI's long-running commands, undone here)."""

from __future__ import annotations

import gc

from hub.runtime.gctune import GEN0_THRESHOLD, tune_gc


def test_tune_gc_freezes_start_up_objects_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    try:
        assert tune_gc() == (GEN0_THRESHOLD, 20, 100)
        assert gc.get_threshold()[0] == GEN0_THRESHOLD
        assert gc.get_freeze_count() > 1000  # everything imported so far is no longer scanned
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
    assert gc.get_freeze_count() == 0
