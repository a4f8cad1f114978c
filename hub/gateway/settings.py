"""The gateway's roles: which endpoint groups a role may call, and which golden-record fields it sees masked or
not at all.

``gateway.roles`` in the config adds roles or replaces built-in ones by name; the built-in roles
(:data:`DEFAULT_ROLES`) stay available unless overridden:

========== ========================================================== ====================== ==============
role        groups                                                     masked                 hidden
========== ========================================================== ====================== ==============
agent       customers search history orders inventory alerts stream    national_id, tax_id    credit_limit
finance     customers search history orders alerts stream              national_id            -
integration customers search history orders inventory alerts stream    national_id, tax_id    credit_limit
            webhooks
admin       every group, including audit                               -                      -
========== ========================================================== ====================== ==============

A masked value keeps its last four characters (``****1234``); a hidden field is left out of the record, its
lineage, the change history (old and new values) and alert data.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from schemas.settings import ConfigModel

Group = Literal["customers", "search", "history", "orders", "inventory", "alerts", "stream", "webhooks", "audit",
                "ops"]
GROUPS: tuple[Group, ...] = get_args(Group)
FieldName = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")]


class GatewayRole(ConfigModel):
    """``allow``: endpoint groups; ``mask``: golden fields shown as ``****`` + last 4 characters; ``hide``:
    golden fields never shown (record, lineage, history, alerts)."""

    allow: list[Group] = Field(default_factory=list)
    mask: list[FieldName] = Field(default_factory=list)
    hide: list[FieldName] = Field(default_factory=list)


_READ: list[Group] = ["customers", "search", "history", "orders"]

DEFAULT_ROLES: dict[str, GatewayRole] = {
    "agent": GatewayRole(allow=[*_READ, "inventory", "alerts", "stream"],
                         mask=["national_id", "tax_id"], hide=["credit_limit"]),
    "finance": GatewayRole(allow=[*_READ, "alerts", "stream"], mask=["national_id"]),
    "integration": GatewayRole(allow=[*_READ, "inventory", "alerts", "stream", "webhooks"],
                               mask=["national_id", "tax_id"], hide=["credit_limit"]),
    "admin": GatewayRole(allow=list(GROUPS)),
}
