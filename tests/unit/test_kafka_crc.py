"""kafka-python checksums every record batch it writes or reads with CRC-32C; without the ``crc32c`` C extension it
falls back to a pure-Python loop that costs more CPU per record than the rest of produce and consume together."""

from __future__ import annotations

import crc32c
import kafka.record.util as record_util


def test_kafka_python_uses_the_c_extension_for_batch_checksums() -> None:
    assert record_util._crc32c is crc32c.crc32c


def test_the_checksum_is_crc32c() -> None:
    # The CRC-32C (Castagnoli) check value of the nine ASCII digits, as the Kafka record batch format uses it.
    assert record_util.calc_crc32c(memoryview(b"123456789")) == 0xE3069283
