"""The gateway's roles: which endpoint groups a role may call, and which golden-record fields it sees masked or
not at all.

``gateway.roles`` in the config adds roles or replaces built-in ones by name; the built-in roles
(:data:`DEFAULT_ROLES`) stay available unless overridden:

========== ========================================================== ====================== ==============
role        groups                                                     masked                 hidden
========== ========================================================== ====================== ==============
agent       customers search history orders schemas inventory alerts   national_id, tax_id    credit_limit
            stream cases
finance     customers search history orders schemas alerts stream      national_id            -
integration customers search history orders schemas inventory alerts   national_id, tax_id    credit_limit
            stream webhooks cases
admin       every group, including audit, ops and manage               -                      -
========== ========================================================== ====================== ==============

A masked value keeps its last four characters (``****1234``); a hidden field is left out of the record, its
lineage, the change history (old and new values) and alert data.

The same tokens and roles guard the admin API and the schema registry: ``ops`` reads the admin API (connector
status, offsets, lag, metrics), ``schemas`` reads the registry (what an Avro consumer needs), and ``manage``
makes every change on either (pause, restart, snapshot, offsets reset; register, delete, compatibility) and
sees every webhook subscription.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from schemas.settings import ConfigModel

Group = Literal["customers", "search", "history", "orders", "inventory", "alerts", "stream", "webhooks", "audit",
                "ops", "schemas", "manage", "cases"]
GROUPS: tuple[Group, ...] = get_args(Group)
FieldName = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")]


class GatewayRole(ConfigModel):
    """``allow``: endpoint groups; ``mask``: golden fields shown as ``****`` + last 4 characters; ``hide``:
    golden fields never shown (record, lineage, history, alerts)."""

    allow: list[Group] = Field(default_factory=list)
    mask: list[FieldName] = Field(default_factory=list)
    hide: list[FieldName] = Field(default_factory=list)


_READ: list[Group] = ["customers", "search", "history", "orders", "schemas"]

DEFAULT_ROLES: dict[str, GatewayRole] = {
    "agent": GatewayRole(allow=[*_READ, "inventory", "alerts", "stream", "cases"],
                         mask=["national_id", "tax_id"], hide=["credit_limit"]),
    "finance": GatewayRole(allow=[*_READ, "alerts", "stream"], mask=["national_id"]),
    "integration": GatewayRole(allow=[*_READ, "inventory", "alerts", "stream", "webhooks", "cases"],
                               mask=["national_id", "tax_id"], hide=["credit_limit"]),
    "admin": GatewayRole(allow=list(GROUPS)),
}
