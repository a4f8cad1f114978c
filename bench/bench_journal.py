"""Journal record images decoded per second: a 20-column file (packed, zoned, CCSID 37 text), one core.

Baseline measured in the same run: ``bytes.decode('cp037')`` of the whole image (no field split, no number
conversion). crmhub: ``TableDecoder.decode(entry_data, null_indicators)`` as the connector calls it, from
``QSYS2.SYSCOLUMNS``-shaped rows. Images are built with ``connectors.codecs.encode``: a third of the numbers
negative (sign D), the rest with IBM i's preferred positive sign F; every fifth column null-capable, the null
indicators ``'0' * 20`` as DISPLAY_JOURNAL returns them for a row without nulls.

    .venv/bin/python bench/bench_journal.py [--entries 200000]
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

from connectors.codecs import encode
from connectors.ibmi_journal.layout import CatalogColumn, TableDecoder

KINDS = ["DECIMAL", "NUMERIC", "CHAR", "DECIMAL", "CHAR", "NUMERIC", "CHAR", "DECIMAL", "CHAR", "NUMERIC"] * 2


def catalog() -> list[CatalogColumn]:
    out = []
    for i, kind in enumerate(KINDS, start=1):
        length, scale = {"DECIMAL": (11, 2), "NUMERIC": (9, 0), "CHAR": (20, None)}[kind]
        out.append(CatalogColumn.from_row({"COLUMN_NAME": f"C{i:02d}", "ORDINAL_POSITION": i, "DATA_TYPE": kind,
                                           "LENGTH": length, "NUMERIC_SCALE": scale,
                                           "CCSID": 37 if kind == "CHAR" else None,
                                           "IS_NULLABLE": "Y" if i % 5 == 0 else "N"}))
    return out


def image(n: int) -> bytes:
    parts = []
    for i, kind in enumerate(KINDS):
        negative = i % 3 == 0  # a third negative (sign D); positive with IBM i's preferred sign F
        if kind == "DECIMAL":
            value = Decimal(n * 7 + i) / 100 * (-1 if negative else 1)
            parts.append(encode.packed(value, 11, 2, sign_nibble=None if negative else 0xF))
        elif kind == "NUMERIC":
            parts.append(encode.zoned(-(n + i) if negative else n + i, 9, positive_zone=0xF))
        else:
            parts.append(encode.text(f"Cust {n} f{i}", 20))
    return b"".join(parts)


def best(fn: object, images: list[bytes], nulls: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(images, nulls)  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    distinct = [image(n) for n in range(1000)]
    images = [distinct[i % 1000] for i in range(args.entries)]
    nulls = ["0" * 20] * args.entries
    decoder = TableDecoder(catalog())
    decode = decoder.decode

    def raw(imgs: list[bytes], _: list[str]) -> None:
        for d in imgs:
            d.decode("cp037")

    def crmhub(imgs: list[bytes], nls: list[str]) -> None:
        for d, n in zip(imgs, nls, strict=True):
            decode(d, n)

    assert decode(images[1], nulls[1])["C03"] == "Cust 1 f2"
    t_raw = best(raw, images, nulls, args.repeat)
    t_dec = best(crmhub, images, nulls, args.repeat)
    n = args.entries
    kinds = f"{KINDS.count('DECIMAL')} packed, {KINDS.count('NUMERIC')} zoned, {KINDS.count('CHAR')} CCSID 37 CHAR"
    print(f"record image: {decoder.length} bytes, {len(KINDS)} columns ({kinds}), {n} entries")
    print(f"raw bytes.decode('cp037'):     {n / t_raw:12,.0f} images/s   ({t_raw * 1e6 / n:5.2f} us/image)")
    print(f"crmhub TableDecoder.decode:   {n / t_dec:12,.0f} entries/s  ({t_dec * 1e6 / n:5.2f} us/entry)"
          "  (target >= 100,000)")
    print(f"ratio crmhub / raw decode:     {t_raw / t_dec:12.3f}")


if __name__ == "__main__":
    main()
