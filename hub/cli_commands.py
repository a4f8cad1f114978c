"""Registers every sub-command on the Typer app (one import per role)."""

from __future__ import annotations
