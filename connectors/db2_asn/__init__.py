"""Db2 LUW / z/OS ASN capture connector (``kind: db2-asn``)."""

from connectors.db2_asn.config import Db2AsnConfig, Db2TableConfig

__all__ = ["Db2AsnConfig", "Db2TableConfig"]
