"""The wide record of the EBCDIC benchmark: an account profile of 160 values in 1,493 bytes (77 decimals,
50 text fields, 32 integers, a COMP-2), with OCCURS tables of groups and of elementary items, and records
built for it with the test encoders (``connectors.codecs.encode``).
"""

from __future__ import annotations

from decimal import Decimal

from connectors.codecs import Layout
from connectors.codecs import encode as enc
from connectors.filedrop.ebcdic import flat_fields

WIDE_COPYBOOK = """\
       01  ACCOUNT-PROFILE.
           05  ACCOUNT-NO                PIC 9(10).
           05  ACCOUNT-TYPE              PIC X(2).
           05  STATUS-CODE               PIC X(1).
           05  HOLDER.
               10  HOLDER-NAME           PIC X(40).
               10  HOLDER-NAME-2         PIC X(40).
               10  CONTACT-NAME          PIC X(30).
               10  CONTACT-TITLE         PIC X(20).
               10  EMAIL                 PIC X(60).
               10  PHONE                 PIC X(20).
               10  FAX                   PIC X(20).
               10  VAT-NO                PIC X(14).
               10  LANGUAGE              PIC X(2).
           05  ADDRESSES                 OCCURS 3 TIMES.
               10  ADDR-LINE-1           PIC X(40).
               10  ADDR-LINE-2           PIC X(40).
               10  CITY                  PIC X(30).
               10  POSTCODE              PIC X(10).
               10  COUNTRY               PIC X(2).
               10  ADDR-SINCE            PIC 9(8).
           05  MONTHLY-SALES             PIC S9(9)V99 COMP-3 OCCURS 12.
           05  MONTHLY-RETURNS           PIC S9(7)V99 OCCURS 12 TIMES.
           05  MONTHLY-ORDERS            PIC S9(7) COMP-3 OCCURS 12.
           05  AGING                     OCCURS 4 TIMES.
               10  AGING-CURRENT         PIC S9(11)V99 COMP-3.
               10  AGING-30              PIC S9(11)V99 COMP-3.
               10  AGING-60              PIC S9(11)V99 COMP-3.
               10  AGING-90              PIC S9(11)V99 COMP-3.
               10  AGING-LIMIT           PIC S9(9)V99 COMP-3.
               10  AGING-RATE            PIC SV9(5) COMP-3.
           05  CREDIT.
               10  CREDIT-LIMIT          PIC S9(11)V99 COMP-3.
               10  CREDIT-USED           PIC S9(11)V99 COMP-3.
               10  CREDIT-RATING         PIC X(3).
               10  CREDIT-SCORE          PIC S9(4) COMP.
               10  CREDIT-REVIEWED       PIC 9(8).
               10  CREDIT-HOLD           PIC X(1).
               10  DISCOUNT-PCT          PIC S9(3)V99.
               10  SURCHARGE-PCT         PIC S9(3)V99.
               10  INTEREST-RATE         PIC S9(2)V9(4) COMP-3.
               10  DEPOSIT               PIC S9(7)V99 COMP-3.
               10  INSURED               PIC S9(7)V99 COMP-3.
               10  RISK-FACTOR           COMP-2.
           05  TOTALS.
               10  YTD-SALES             PIC S9(13)V99 COMP-3.
               10  YTD-COST              PIC S9(13)V99 COMP-3.
               10  YTD-MARGIN            PIC S9(13)V99 COMP-3.
               10  LTD-SALES             PIC S9(15)V99 COMP-3.
               10  LTD-PAYMENTS          PIC S9(15)V99 COMP-3.
               10  OPEN-ORDERS           PIC S9(11)V99 COMP-3.
               10  OPEN-INVOICES         PIC S9(11)V99 COMP-3.
               10  AVG-DAYS-TO-PAY       PIC S9(3)V9 COMP-3.
               10  ORDER-COUNT           PIC S9(9) COMP.
               10  INVOICE-COUNT         PIC S9(9) COMP.
               10  RETURN-COUNT          PIC S9(9) COMP.
               10  LINE-COUNT            PIC S9(18) COMP.
               10  TAX-YTD               PIC S9(11)V99 COMP-3.
               10  FREIGHT-YTD           PIC S9(9)V99 COMP-3.
           05  BUDGET                    PIC S9(9)V99 OCCURS 12 TIMES.
           05  REP-CODES                 PIC X(5) OCCURS 8 TIMES.
           05  FLAGS                     PIC X(1) OCCURS 10 TIMES.
           05  DATES.
               10  CREATED-DATE          PIC 9(8).
               10  CHANGED-DATE          PIC 9(8).
               10  LAST-ORDER-DATE       PIC 9(8).
               10  LAST-PAYMENT-DATE     PIC 9(8).
               10  LAST-CONTACT-DATE     PIC 9(8).
               10  CHANGED-TIME          PIC 9(6).
           05  SEGMENT-CODE              PIC X(4).
           05  REGION                    PIC 9(3).
           05  BRANCH                    PIC 9(5).
           05  SALES-REP                 PIC 9(6).
           05  TERMS-CODE                PIC X(3).
           05  CURRENCY-CODE             PIC X(3).
           05  PRIORITY                  PIC 9(1).
           05  NOTES                     PIC X(63).
"""


def make_wide(layout: Layout, i: int) -> bytes:
    """One record of ``layout`` (no REDEFINES): every value derived from ``i``, a third of the numbers negative."""
    out = bytearray(layout.length)
    for n, flat in enumerate(flat_fields(layout)):
        item, seed = flat.item, i * 7919 + n * 104729
        if item.kind == "text":
            raw = enc.text(f"{item.name[: item.length - 7]} {seed % 1000000}"[: item.length], item.length)
        elif item.kind == "float":
            raw = enc.comp2(seed / 7.0) if item.length == 8 else enc.comp1(seed / 7.0)
        else:
            digits = item.digits if item.kind != "binary" else min(item.digits, 9)
            magnitude = seed % 10**digits
            negative = item.signed and seed % 3 == 0
            value = Decimal(-magnitude if negative else magnitude).scaleb(-max(item.scale, 0))
            if item.kind == "packed":
                raw = enc.packed(value, item.digits, max(item.scale, 0), signed=item.signed)
            elif item.kind == "zoned":
                raw = enc.zoned(value, item.digits, max(item.scale, 0), signed=item.signed)
            else:
                raw = enc.binary(int(value.scaleb(max(item.scale, 0))), item.length, signed=item.signed)
        out[flat.offset : flat.offset + item.length] = raw
    return bytes(out)
