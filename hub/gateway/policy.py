"""Field policies of a role applied to what the gateway returns: golden data, lineage, change history, alerts.

A policy names top-level golden-record fields (``national_id``, ``credit_limit``). A lineage entry belongs to
the field before any ``[i]`` or ``.`` (``phones[0]`` belongs to ``phones``). A hidden field disappears
everywhere, including old and new values in the history and the ``field``/``old``/``new`` of an alert's data;
a masked field is shown as ``****`` plus its last four characters (lists and objects: each text or number
inside them). Free text written by an alert rule (``message``) is not rewritten: keep hidden fields out of
alert templates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hub.gateway.settings import GatewayRole

MASK = "****"
_ROOT = re.compile(r"^[^\[.]+")


def mask_scalar(value: Any) -> Any:
    """``****`` + the last four characters (``****`` alone for four characters or fewer); None stays None."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, list | tuple):
        return [mask_scalar(v) for v in value]
    if isinstance(value, Mapping):
        return {k: mask_scalar(v) for k, v in value.items()}
    text = str(value)
    return MASK + text[-4:] if len(text) > 4 else MASK


@lru_cache(maxsize=4096)  # field names and lineage keys: a small set, asked for on every response
def field_root(name: str) -> str:
    match = _ROOT.match(name)
    return match.group(0) if match else name


@dataclass(frozen=True)
class FieldPolicy:
    masked: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()

    @classmethod
    def of(cls, role: GatewayRole) -> FieldPolicy:
        hidden = frozenset(role.hide)
        return cls(frozenset(role.mask) - hidden, hidden)

    def data(self, data: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if data is None:
            return None
        return {k: (mask_scalar(v) if k in self.masked else v) for k, v in data.items() if k not in self.hidden}

    def lineage(self, lineage: Mapping[str, Any]) -> dict[str, Any]:
        if not self.hidden:
            return dict(lineage)
        return {k: v for k, v in lineage.items() if field_root(k) not in self.hidden}

    def _json_masked(self, text: str | None) -> str | None:
        if text is None:
            return None
        try:
            return json.dumps(mask_scalar(json.loads(text)))
        except ValueError:
            return json.dumps(mask_scalar(text))

    def change(self, change: Mapping[str, Any]) -> dict[str, Any]:
        """A ``customer.changes`` record with hidden fields dropped and masked ones masked (old and new)."""
        fields = []
        for item in change.get("fields") or ():
            root = field_root(str(item.get("field", "")))
            if root in self.hidden:
                continue
            if root in self.masked:
                item = {**item, "old": self._json_masked(item.get("old")), "new": self._json_masked(item.get("new"))}
            fields.append(item)
        return {**change, "fields": fields}

    def alert(self, alert: Mapping[str, Any]) -> dict[str, Any]:
        """An alert whose data names no hidden field's value and masks masked ones."""
        data = dict(alert.get("data") or {})
        changed = field_root(str(data.get("field", "")))
        if changed in self.hidden:
            for key in ("field", "old", "new"):
                data.pop(key, None)
        elif changed in self.masked:
            data.update({k: mask_scalar(data[k]) for k in ("old", "new") if data.get(k) is not None})
        data = {k: (mask_scalar(v) if k in self.masked else v) for k, v in data.items() if k not in self.hidden}
        return {**alert, "data": data}
