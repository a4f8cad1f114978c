"""`python -m hub.docs [--check] [--root DIR]`: write the generated reference pages, or check they are current.

``--check`` writes nothing and exits 1 naming every page that differs from what would be written."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hub.docs.pages import PAGES, ROOT, stale, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hub.docs", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a page is stale; write nothing")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this checkout)")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale(args.root)
        for path in out_of_date:
            print(f"stale: {path} (run `python -m hub.docs`)", file=sys.stderr)
        if not out_of_date:
            print(f"{len(PAGES)} reference pages are current")
        return 1 if out_of_date else 0
    changed = write(args.root)
    for path in changed:
        print(f"wrote {path}")
    print(f"{len(changed)} of {len(PAGES)} reference pages changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
