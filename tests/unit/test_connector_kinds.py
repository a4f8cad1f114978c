"""Every connector kind is reachable from the hub's config and builds its own connector class."""

from __future__ import annotations

import pytest

from hub.config import CONNECTOR_KINDS, validate_config_text
from hub.runtime.hub import connector_factory
from schemas.errors import ConfigError

CASES = {
    "oracle-logminer": ("""
  - kind: oracle-logminer
    name: ar
    dsn: orahost:1521/FINPDB
    user: CRMHUB
    password: s3cret
    tables: [{name: AR.AR_CUSTOMERS}]
""", "OracleLogminerConnector"),
    "ibmi-journal": ("""
  - kind: ibmi-journal
    name: ibmi
    dsn: "DRIVER={IBM i Access ODBC Driver};SYSTEM=as400;UID=CRMHUB"
    password: s3cret
    journal_library: JRNLIB
    journal_name: CRMJRN
    tables: [{name: CRMLIB.CUSTMAST}]
""", "IbmiJournalConnector"),
    "mssql-cdc": ("""
  - kind: mssql-cdc
    name: helpdesk
    dsn: "DRIVER={ODBC Driver 18 for SQL Server};SERVER=sql01;DATABASE=Helpdesk;UID=crmhub"
    password: s3cret
    tables: [{name: dbo.Contacts}]
""", "MssqlCdcConnector"),
    "db2-asn": ("""
  - kind: db2-asn
    name: db2
    dsn: "DATABASE=CRM;HOSTNAME=db2;PORT=50000;UID=crmhub"
    password: s3cret
    tables: [{name: CRM.CUSTMAST}]
""", "Db2AsnConnector"),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_kind_validates_and_builds_its_connector_without_connecting(kind: str) -> None:
    text, cls = CASES[kind]
    assert kind in CONNECTOR_KINDS
    cfg = validate_config_text("connectors:" + text)
    conf = cfg.connectors[0]
    assert conf.kind == kind
    connector = connector_factory(conf)()  # no connection is opened before describe()
    assert type(connector).__name__ == cls
    assert "s3cret" not in repr(conf)


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as err:
        validate_config_text("connectors:\n  - kind: mainframe-tape\n    name: x\n")
    for kind in CASES:
        assert kind in str(err.value)


@pytest.mark.parametrize("kind", ["mssql-cdc", "db2-asn"])
def test_a_password_in_the_dsn_and_in_password_is_refused_at_its_path(kind: str) -> None:
    text = CASES[kind][0].replace('UID=crmhub"', 'UID=crmhub;PWD=hunter2"')
    with pytest.raises(ConfigError) as err:
        validate_config_text("connectors:" + text)
    assert "connectors[0].password" in str(err.value) and "given twice" in str(err.value)
    assert "hunter2" not in str(err.value) and "s3cret" not in str(err.value)
