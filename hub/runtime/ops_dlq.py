"""The dashboard's dead letters, on the gateway: ``GET /ops/dead-letters`` (the newest on the ``dlq.*`` topics,
with their reason; group ``ops``) and ``POST /ops/dead-letters/resend`` (send one back to its source topic
once its cause is fixed, :mod:`hub.runtime.dlq_resend`; group ``manage``, audited as every gateway call)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Body, Depends, HTTPException, Query

from hub.gateway.auth import Principal, require
from hub.pipeline_setup import pipelines_conf
from hub.runtime.dlq_read import DEAD_ROW, TOPIC, DeadLetter, parse_id
from hub.runtime.dlq_resend import NotResendable, Resend
from hub.runtime.dlq_topics import newest_letters, topic_letter
from schemas.envelope import table_topic

log = structlog.get_logger(__name__)
READ_TIMEOUT_S = 3.0


def letter_doc(letter: DeadLetter) -> dict[str, Any]:
    body = letter.body if isinstance(letter.body, Mapping) else {}
    resendable = letter.rule != DEAD_ROW and ("original" in body or body.get("rule") == "decode")
    return {"id": letter.id, "topic": letter.topic, "source": letter.source, "table": letter.table,
            "key": letter.key, "rule": letter.rule, "reason": letter.reason, "resendable": resendable,
            "body": letter.body}


def dead_letter_router(hub: Any) -> APIRouter:
    """The routes over ``hub`` (a running :class:`hub.runtime.hub.Hub` with a gateway)."""
    cfg = hub.cfg
    topics = sorted({f"dlq.{pipelines_conf(cfg).name}", *(f"dlq.{c.name}" for c in cfg.connectors)})
    router = APIRouter(tags=["ops"])

    def topic_of(connector: str, schema: str | None, table: str) -> str:
        runner = hub.runners.get(connector)
        for route in (runner.routes.values() if runner is not None else ()):
            if route.table.name == table and (schema is None or route.table.schema in (None, schema)):
                return str(route.topic)
        return table_topic(connector, table)

    made: list[Resend] = []

    def resender() -> Resend:  # made at the first re-send, kept (one registry client)
        if not made:
            from hub.wiring import avro_serde

            made.append(Resend(hub.settings, avro_serde(cfg, hub.registry).client, topic_of))
        return made[0]

    @router.get("/ops/dead-letters")
    def dead_letters(limit: Annotated[int, Query(ge=1, le=500)] = 100,
                     _: Principal = Depends(require("ops"))) -> dict[str, Any]:
        """The newest dead letters on the ``dlq.*`` topics (at most ``limit`` per partition read, for at most a
        few seconds), newest first; ``total``: how many the topics hold."""
        letters, total, notes = newest_letters(hub.settings, topics, limit, READ_TIMEOUT_S)
        return {"topics": topics, "total": total, "notes": notes,
                "letters": [letter_doc(x) for x in reversed(letters[-limit:])]}

    @router.post("/ops/dead-letters/resend")
    def resend(body: Annotated[dict[str, str], Body(examples=[{"id": "dlq.canon/0/42"}])],
               principal: Principal = Depends(require("manage"))) -> dict[str, Any]:
        """Send a dead letter's record back to its source topic (its cause fixed); the audit log keeps who."""
        try:
            ident = parse_id(str(body.get("id", "")))
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        if ident.where != TOPIC or not ident.topic.startswith("dlq."):
            raise HTTPException(422, "only dead letters on a dlq.* topic can be re-sent from here")
        letter = topic_letter(hub.settings, ident, READ_TIMEOUT_S)
        if letter is None:
            raise HTTPException(404, f"no dead letter {body.get('id')}")
        try:
            record = resender().record(letter)
        except NotResendable as exc:
            raise HTTPException(409, str(exc)) from None
        ack = hub.producer().send(record)
        log.info("ops.dead_letter_resent", dead_letter=letter.id, topic=record.topic, client=principal.name)
        return {"id": letter.id, "topic": ack.topic, "partition": ack.partition, "offset": ack.offset}

    return router
