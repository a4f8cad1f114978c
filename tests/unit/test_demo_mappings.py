"""The demo's mappings of the IBM i orders view and item balance, the Oracle AR customers and the SQL Server
helpdesk, each fed a row in the exact shape that server's driver returns through the SQL connector: Db2 for i
(ibm_db: ``Decimal`` for NUMERIC/DECIMAL, CHAR padded with blanks, ``date``, ``datetime``), Oracle
(python-oracledb: NUMBER(p) / NUMBER as ``Decimal`` with the connector's scale, VARCHAR2 text, DATE as a
``datetime`` to the second) and SQL Server (pyodbc: ``int``, ``str``, BIT as ``bool``, DATETIME2 as ``datetime``
with microseconds)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipelines.canonicalize import CanonResult, canonicalize
from pipelines.mapping import MappingSet, load_mappings
from schemas.envelope import ChangeEvent, SourceInfo

MAPPINGS = Path(__file__).resolve().parents[2] / "config" / "mappings"


def mapped(connector: str, table: str, row: dict[str, Any], key: list[str], op: str = "r") -> CanonResult:
    ms: MappingSet = load_mappings([MAPPINGS])
    source = SourceInfo(connector="sql", name=connector, db="demo", schema=None, table=table,
                        ts_ms=1_795_000_000_000, position={"ts": "x"})
    ev = ChangeEvent.create(key={k: row[k] for k in key}, before=None, after=row, op=op, source=source,
                            ts_ms=1_795_000_000_100)
    result = canonicalize(ms, ev, topic=f"src.{connector}.{table.lower()}", partition=0, offset=7, now_ms=1)
    assert result.rejected == [], [r.to_json() for r in result.rejected]
    return result


def ms(dt: datetime) -> int:
    return int(dt.replace(tzinfo=UTC).timestamp() * 1000)


def test_ibmi_order_view_maps_an_order_with_its_lines() -> None:
    row: dict[str, Any] = {
        "ORDNO": 500003, "CUSNO": Decimal("104712"), "ORDSTS": "O", "ORDAMT": Decimal("2032.00"),
        "ORDDAT": date(2026, 11, 23), "CHGTS": datetime(2026, 11, 23, 14, 5, 2, 512345)}
    lines = [(Decimal("1"), "PMP-200-HP     ", "MUC", Decimal("1.000"), Decimal("1890.00")),
             (Decimal("2"), "FLG-DN50-S235  ", "MUC", Decimal("4.000"), Decimal("142.00"))]
    for n in range(1, 6):
        values = lines[n - 1] if n <= len(lines) else (None,) * 5
        row.update(zip((f"L{n}LINNO", f"L{n}ITNBR", f"L{n}WHSID", f"L{n}QTY", f"L{n}AMT"), values, strict=True))
    [order] = mapped("ibmi", "ORDHDRV", row, ["ORDNO"], op="c").events
    assert (order.entity, order.source_key) == ("order", "500003")
    data = order.data
    assert data is not None
    assert (data["order_number"], data["customer_source"], data["customer_key"], data["status"]) == (
        "500003", "ibmi", "104712", "OPEN")
    assert data["open_amount"] == Decimal("2032.00") and data["order_date"] == date(2026, 11, 23)
    assert data["lines"] == [
        {"line": 1, "item": "PMP-200-HP", "warehouse": "MUC", "quantity": Decimal("1.000"),
         "amount": Decimal("1890.00")},
        {"line": 2, "item": "FLG-DN50-S235", "warehouse": "MUC", "quantity": Decimal("4.000"),
         "amount": Decimal("142.00")}]


def test_ibmi_item_balance_maps_stock_per_item_and_warehouse() -> None:
    row = {"ITNBR": "VLV-DN50-PN16  ", "WHSID": "MUC", "ONHAND": Decimal("40.000"), "ALLOC": Decimal("4.000"),
           "ONORD": Decimal("0.000"), "CHGTS": datetime(2026, 11, 23, 14, 5, 2, 512345)}
    [inv] = mapped("ibmi", "ITMBAL", row, ["ITNBR", "WHSID"], op="u").events
    assert inv.source_key == "VLV-DN50-PN16|MUC"
    assert inv.data == {"item": "VLV-DN50-PN16", "warehouse": "MUC", "description": None,
                        "on_hand": Decimal("40.000"), "allocated": Decimal("4.000"),
                        "available": Decimal("36.000"), "unit": "EA"}


def ar_row(**changes: Any) -> dict[str, Any]:
    base = {"CUST_ACCOUNT_ID": Decimal("3001"), "ACCOUNT_NUMBER": "20817", "PARTY_NAME": "Müller  GmbH",
            "ORIG_SYSTEM_REFERENCE": "IBMI:104711", "TAX_REFERENCE": "de811234567",
            "PRIMARY_PHONE_COUNTRY_CODE": "49", "PRIMARY_PHONE_AREA_CODE": "89", "PRIMARY_PHONE_NUMBER": "1234567",
            "EMAIL_ADDRESS": "Buchhaltung@Mueller-GmbH.de", "ADDRESS1": "Landsberger Str. 112", "CITY": "München",
            "POSTAL_CODE": "80339", "COUNTRY": "DE", "STATUS": "A", "CREDIT_HOLD": "Y",
            "OVERALL_CREDIT_LIMIT": Decimal("25000.0000000000"), "CURRENCY_CODE": "EUR",
            "LAST_UPDATE_DATE": datetime(2026, 11, 23, 9, 12, 44), "LAST_UPDATED_BY": Decimal("1318")}
    return {**base, **changes}


def test_oracle_ar_account_maps_customer_with_xref_and_credit_hold() -> None:
    customer, credit = mapped("ar", "AR_CUSTOMERS", ar_row(), ["CUST_ACCOUNT_ID"]).events
    c = customer.data
    assert c is not None and customer.source_key == "3001"
    assert (c["kind"], c["org_name"], c["tax_id"], c["account_status"]) == (
        "organisation", "Müller GmbH", "DE811234567", "ACTIVE")
    assert (c["credit_status"], c["credit_limit"]) == ("HOLD", Decimal("25000.00"))
    assert c["phones"] == [{"type": "main", "number": "+49891234567"}]
    assert c["emails"] == [{"type": "billing", "address": "buchhaltung@mueller-gmbh.de"}]
    assert c["addresses"] == [{"type": "billing", "line1": "Landsberger Str. 112", "line2": None, "city": "München",
                               "region": None, "postal_code": "80339", "country": "DE"}]
    assert c["xrefs"] == [{"source": "ibmi", "key": "104711"}]
    assert credit.data == {"customer_source": "ar", "customer_key": "3001", "status": "HOLD",
                           "limit": Decimal("25000.00"), "currency": "EUR", "reason": "credit hold in Oracle AR",
                           "changed_at_ms": ms(datetime(2026, 11, 23, 9, 12, 44))}


def test_oracle_ar_account_keyed_by_hand_has_no_xref_phone_or_mail() -> None:
    row = ar_row(ORIG_SYSTEM_REFERENCE=None, PRIMARY_PHONE_COUNTRY_CODE=None, PRIMARY_PHONE_AREA_CODE=None,
                 PRIMARY_PHONE_NUMBER=None, EMAIL_ADDRESS=None, CREDIT_HOLD="N", OVERALL_CREDIT_LIMIT=None)
    customer, credit = mapped("ar", "AR_CUSTOMERS", row, ["CUST_ACCOUNT_ID"]).events
    assert customer.data is not None and credit.data is not None
    assert (customer.data["xrefs"], customer.data["phones"], customer.data["emails"]) == ([], [], [])
    assert (customer.data["credit_status"], credit.data["reason"], credit.data["limit"]) == ("OK", None, None)


def test_sql_server_helpdesk_contact_maps_an_organisation_with_its_phone_and_mail() -> None:
    row = {"ContactId": 7004, "CompanyName": "Smith & Son  Ltd", "FirstName": "Oliver", "LastName": "Hughes",
           "Email": "accounts@smithandsons.co.uk", "Phone": "020 7946 0018", "City": "London", "CountryCode": "GB",
           "IsActive": True, "CreatedDate": datetime(2026, 11, 1, 8, 0, 0, 123456),
           "ModifiedDate": datetime(2026, 11, 23, 14, 5, 2, 512345)}
    [customer] = mapped("helpdesk", "Contacts", row, ["ContactId"]).events
    c = customer.data
    assert c is not None and customer.source_key == "7004"
    assert (c["kind"], c["org_name"], c["account_status"]) == ("organisation", "Smith & Son Ltd", "ACTIVE")
    assert c["phones"] == [{"type": "work", "number": "+442079460018"}]  # national numbers read as UK ones
    assert c["emails"] == [{"type": "work", "address": "accounts@smithandsons.co.uk"}]
    assert c["addresses"][0]["country"] == "GB" and c["addresses"][0]["city"] == "London"
    [inactive] = mapped("helpdesk", "Contacts", {**row, "IsActive": False, "Phone": "+49 (89) 123 4567"},
                        ["ContactId"]).events
    assert inactive.data is not None and inactive.data["account_status"] == "INACTIVE"
    assert inactive.data["phones"][0]["number"] == "+49891234567"


def test_sql_server_helpdesk_ticket_maps_a_case_of_its_contact() -> None:
    due = datetime(2026, 11, 25, 12, 0, 0, 250000)
    row = {"TicketId": 9001, "TicketNumber": "HD-009001", "ContactId": 7001, "Category": "Complaint",
           "Status": "Open", "Stage": "Analysis", "Subject": "Valve DN50  leaking", "AssignedTo": "agt07",
           "Priority": 1, "CreatedDate": datetime(2026, 11, 23, 8, 30, 0, 5), "DueDate": due,
           "ModifiedDate": datetime(2026, 11, 23, 14, 5, 2, 512345)}
    [case] = mapped("helpdesk", "Tickets", row, ["TicketId"]).events
    assert case.entity == "case" and case.source_key == "9001"
    assert case.data == {"case_number": "HD-009001", "customer_source": "helpdesk", "customer_key": "7001",
                         "kind": "complaint", "status": "OPEN", "step": "Analysis", "subject": "Valve DN50 leaking",
                         "owner": "AGT07", "opened_at_ms": ms(datetime(2026, 11, 23, 8, 30)), "due_at_ms": ms(due)}
    [quote] = mapped("helpdesk", "Tickets", {**row, "Category": "Quote", "Status": "WaitingOnCustomer",
                                             "Stage": None, "DueDate": None}, ["TicketId"]).events
    assert quote.data is not None
    assert (quote.data["kind"], quote.data["status"], quote.data["due_at_ms"]) == ("quote", "WAITING", None)


def test_shipped_samples_of_the_ar_and_helpdesk_mappings() -> None:
    from typer.testing import CliRunner

    from hub.cli import app
    from hub.cli import commands as cli_commands  # noqa: F401  (registers the commands, as `crmhub` does)

    def sample(name: str) -> str:
        result = CliRunner().invoke(app, ["mapping", "test", str(MAPPINGS / f"{name}.yaml"), "--rows",
                                          str(MAPPINGS / "samples" / f"{name}.jsonl")])
        assert result.exit_code == 0, result.output
        return result.output

    ar = sample("ar.AR_CUSTOMERS")  # the e-mail that is no address is dropped, the customer kept
    assert "3 rows: 3 mapped, 0 rejected, 1 warnings" in ar
    assert "warning transform:email (emails[0].address)" in ar and "'accounts@weber-pumpen' dropped" in ar
    helpdesk = sample("helpdesk.Contacts")  # its phone says on_error: reject
    assert "3 rows: 2 mapped, 1 rejected" in helpdesk and "REJECTED by transform:phone" in helpdesk
