"""ChangeDecoder keeps decoded keys: every event still gets its own key dict, and the oldest keys make room."""

from __future__ import annotations

from hub.registry.decode import ChangeDecoder
from hub.registry.serde import AvroSerde
from schemas.avro_gen import key_schema, value_schema
from schemas.columns import Column, TableMeta
from schemas.envelope import ChangeEvent, Op, SourceInfo, to_avro
from tests.factories import MemoryRegistry

TABLE = TableMeta("ibmi", "db", None, "CUSTMAST", (Column("CUST#", "int32"), Column("NAME", "string")), ("CUST#",))


def _wire(serde: AvroSerde, number: int, name: str) -> tuple[bytes, bytes]:
    source = SourceInfo("sql", "ibmi", "db", None, "CUSTMAST", 1)
    event = ChangeEvent.create(key={"CUST#": number}, before=None, after={"CUST#": number, "NAME": name}, op=Op.UPDATE,
                               source=source, ts_ms=2)
    key, value = to_avro(event, {"CUST#": "CUST_"})
    return (serde.serialize("src.ibmi.custmast", key_schema(TABLE), key, is_key=True),
            serde.serialize("src.ibmi.custmast", value_schema(TABLE), value))


def test_a_key_decoded_again_is_a_fresh_dict_and_the_oldest_keys_make_room() -> None:
    serde = AvroSerde(MemoryRegistry())  # type: ignore[arg-type]
    decoder = ChangeDecoder(serde, key_limit=2)
    first = decoder.decode(*_wire(serde, 7, "Acme"))
    again = decoder.decode(*_wire(serde, 7, "Acme GmbH"))
    assert first.key == again.key == {"CUST#": 7} and again.after == {"CUST#": 7, "NAME": "Acme GmbH"}
    first.key["CUST#"] = 8
    assert decoder.decode(*_wire(serde, 7, "Acme")).key == {"CUST#": 7}
    for number in (1, 2, 3):
        assert decoder.decode(*_wire(serde, number, "x")).key == {"CUST#": number}
    assert len(decoder._keys) == 2
    assert decoder.decode(*_wire(serde, 7, "Acme")).key == {"CUST#": 7}
