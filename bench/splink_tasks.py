"""The tasks :mod:`bench.bench_splink` runs both tools on: each source's rows as the other identity benches write
them, the truth, the customer mapping, and how to set crmhub up for them in a folder.

- ``link`` / ``dedup`` per level: the second generator (:mod:`bench.person_corrupt`, as :mod:`bench.bench_identity`);
- ``febrl-*``: the FEBRL sets (as :mod:`bench.bench_febrl`);
- ``pp-*``: pseudopeople's data sets (as :mod:`bench.bench_pseudopeople`, one mapping per data set).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import bench_febrl as febrl
from bench import bench_identity as ident
from bench import bench_pseudopeople as pseudo
from bench.person_corrupt import Record, dedup, linkage

FEBRL = {"febrl-link": "link", "febrl-dedup": "dedup", "febrl-dedup2": "dedup2", "febrl-dedup1": "dedup1"}
PSEUDO = {f"pp-{t}": t for t in pseudo.TASKS}  # pseudopeople's data sets, as bench_pseudopeople runs them


@dataclass
class Task:
    name: str
    link: bool
    mapping: str  # the other bench's customer mapping ({source} to fill in)
    key: str  # the source column that becomes the exported source_key
    rows: dict[str, list[dict[str, str]]]  # source -> its rows, column -> text
    truth: dict[str, str]  # source/key -> true person
    configure: Callable[[Path, Path | None], Path]  # writes databases + crmhub config into a folder
    records: dict[str, Record] = field(default_factory=dict)  # source/key -> generated record (for --diff)
    mappings: dict[str, str] = field(default_factory=dict)  # source -> its own mapping, in place of ``mapping``


def generated(kind: str, level: str, n: int, seed: int) -> Task:
    if kind == "link":
        data = linkage(n, level, seed)
        raw = {"crm_a": data.a, "crm_b": data.b}
    else:
        raw = {"crm": dedup(n, level, seed)}
    sources = {s: [Record(s, r.key, r.entity, r.household, r.fields, r.kinds) for r in rs] for s, rs in raw.items()}
    records = {f"{r.source}/{r.key}": r for rs in sources.values() for r in rs}
    rows = {s: [{"CUSTNO": str(r.key), **{ident.COLUMNS[f]: v for f, v in r.fields.items()}} for r in rs]
            for s, rs in sources.items()}
    return Task(f"{level} {kind}", kind == "link", ident.MAPPING, "CUSTNO", rows,
                {k: r.entity for k, r in records.items()},
                lambda folder, model: ident.write_config(folder, sources, model), records)


def febrl_task(task: str) -> Task:
    csvs = febrl.febrl_files()
    files = febrl.TASKS[FEBRL[task]]
    raw = {f"febrl_{chr(ord('a') + i)}": febrl.read_rows(csvs / f) for i, f in enumerate(files)}

    def configure(folder: Path, model: Path | None) -> Path:
        for name, rs in raw.items():
            if not (folder / f"{name}.db").exists():
                febrl.write_source(folder / f"{name}.db", rs)
        return febrl.write_config(folder, list(raw), model)

    truth = {f"{s}/{row[0]}": febrl.person_of(row[0]) for s, rs in raw.items() for row in rs}
    rows = {s: [dict(zip(febrl.COLUMNS, row, strict=True)) for row in rs] for s, rs in raw.items()}
    return Task(f"FEBRL {' + '.join(files)}", len(files) > 1, febrl.MAPPING, "REC_ID", rows, truth, configure)


def pseudo_task(task: str) -> Task:
    name = PSEUDO[task]
    rows, truth = pseudo.task_rows(name, pseudo.data_sets(1))

    def configure(folder: Path, model: Path | None) -> Path:
        pseudo.write_sources(folder, rows)
        return pseudo.write_config(folder, pseudo.TASKS[name], model)

    return Task(f"pseudopeople {name}", len(rows) > 1, "", "ROWNO", rows, truth, configure,
                mappings={s: pseudo.mapping(s) for s in rows})
