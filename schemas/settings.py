"""The base of every configuration model, shared by the hub and the connectors' own settings.

A connector owns its settings model (``connectors/<kind>/config.py``) built on :class:`ConfigModel`; the hub's
config loader (``hub/config.py``) puts them together. ``ConfigModel`` rejects unknown keys with a "did you
mean" hint, is frozen, never echoes inputs in errors, and reports ``_cross_check`` problems together with the
field errors, so a loader can list every problem at once with its path.
"""

from __future__ import annotations

import codecs
import difflib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from schemas.secrets import mask_text


def _unknown_key_message(model: type[BaseModel], key: str) -> str:
    fields = list(model.model_fields)
    close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
    if close:
        return f"unknown key (did you mean '{close[0]}'?)"
    return f"unknown key (expected one of: {', '.join(fields)})"


def rebuild_errors(
    model: type[BaseModel], errors: list[ErrorDetails], extra: list[InitErrorDetails]
) -> ValidationError:
    """``errors`` (with "did you mean" for unknown keys of ``model``) plus ``extra``, as one error."""
    details: list[InitErrorDetails] = []
    for err in errors:
        msg = err["msg"]
        if err["type"] == "extra_forbidden" and len(err["loc"]) == 1:
            msg = _unknown_key_message(model, str(err["loc"][0]))
        details.append(
            InitErrorDetails(
                type=PydanticCustomError(err["type"], msg), loc=err["loc"], input=err.get("input")
            )
        )
    return ValidationError.from_exception_data(model.__name__, [*details, *extra], hide_input=True)


def duplicate_names(data: Mapping[str, Any], list_key: str, what: str) -> list[InitErrorDetails]:
    """A problem at ``<list_key>[i].name`` for each item whose name (case-insensitive) was used before."""
    items = data.get(list_key)
    if not isinstance(items, list):
        return []
    first: dict[str, int] = {}
    problems: list[InitErrorDetails] = []
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str):
            continue
        if name.casefold() in first:
            msg = f"duplicate {what} name '{name}' (already used by {list_key}[{first[name.casefold()]}])"
            error = PydanticCustomError("duplicate_name", msg)
            problems.append(InitErrorDetails(type=error, loc=(list_key, index, "name"), input=name))
        else:
            first[name.casefold()] = index
    return problems



def blank_to_none(value: Any) -> Any:
    """``${VAR:-}`` resolving to "" means "not set" for optional settings."""
    return None if isinstance(value, str) and not value.strip() else value


def upper_text(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


Name = Annotated[str, Field(pattern=r"^[a-zA-Z0-9_.-]+$")]
TopicName = Annotated[str, Field(pattern=r"^[a-zA-Z0-9._-]{1,249}$")]
Port = Annotated[int, Field(ge=1, le=65535)]
HttpUrlText = Annotated[str, Field(pattern=r"^https?://\S+$")]
OptPath = Annotated[Path | None, BeforeValidator(blank_to_none)]
OptSecret = Annotated[SecretStr | None, BeforeValidator(blank_to_none)]
Compatibility = Literal[
    "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"
]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class ConfigModel(BaseModel):
    """Base of every config model: unknown keys rejected, frozen, inputs never echoed in errors.

    Its wrap validator adds two things pydantic alone does not: "did you mean" hints for unknown keys, and
    ``_cross_check`` problems computed from the raw input, reported together with the field errors.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
    _masked_fields: ClassVar[frozenset[str]] = frozenset()

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            masked = name in self._masked_fields and isinstance(value, str)
            yield name, mask_text(value) if masked else value

    @model_validator(mode="wrap")
    @classmethod
    def _collect_problems(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        extra = cls._cross_check(data) if isinstance(data, Mapping) else []
        try:
            result = handler(data)
        except ValidationError as exc:
            raise rebuild_errors(cls, exc.errors(), extra) from None
        if extra:
            raise rebuild_errors(cls, [], extra)
        return result

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[InitErrorDetails]:
        return []


def missing(message: str) -> PydanticCustomError:
    return PydanticCustomError("missing", message)



def check_codec(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError:
        raise PydanticCustomError("unknown_encoding", f"unknown encoding '{value}'") from None
    return value




class ConnectorSettings(ConfigModel):
    """What every connector's settings have: a name, and how the runtime treats schema changes.

    ``on_schema_change``: ``stop`` (default) stops a table whose column was dropped or retyped, naming the
    change; ``evolve`` registers the new schema if the registry's compatibility mode accepts it. Added
    nullable columns always evolve. The tables are described again every ``schema_check_interval_s``.
    """

    name: Name = Field(description="the connector's name: topics src.<name>.<table>, dead letters dlq.<name>, "
                                   "its saved position")
    on_schema_change: Literal["stop", "evolve"] = "stop"
    schema_check_interval_s: Annotated[float, Field(ge=1)] = 30.0
    max_in_flight: Annotated[int, Field(ge=1, description=(
        "batches handed to Kafka and not yet acknowledged, at most: reading and encoding the next batches "
        "overlaps waiting for the broker; a position is saved only once every batch before it is "
        "acknowledged"))] = 4
    max_in_flight_mb: Annotated[float, Field(gt=0, description="keys and values not yet acknowledged, at most "
                                                                "(MiB)")] = 32.0
    exactly_once: bool = Field(default=False, description=(
        "each batch, its dead letters and the new position in one Kafka transaction (transactional id "
        "crmhub-connector-<name>): read_committed readers see every event once, and a process that takes the "
        "connector over fences the one before; one batch in flight at a time"))
