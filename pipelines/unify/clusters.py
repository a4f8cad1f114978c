"""Clusters of linked records that keep apart the pairs known to be two persons.

A golden record is a connected component of match links, unless a component holds both records of a
**cannot-link pair**: a data steward's ``cannot`` decision, or a pair that scoring found to be surely two
persons (:attr:`~pipelines.identity.MatchScore.apart`: an authoritative id that differs, or housemates told
apart by their given names, with no birth date that agrees). Such a component is rebuilt greedily: its links
are taken strongest first and each joins its two clusters unless that would put both records of a cannot-link
pair in one. A component without such a pair is left as it is.

Order of the links: a steward's must-links first, then deterministic links (a cross-reference, an equal id),
then probabilistic ones by descending score; ties go to the pair of lower record ids. The result depends on
nothing else, so re-clustering the same links gives the same clusters.

A cannot-link pair always holds. A must-link that would join one (through other records: must A-C and C-B
against cannot A-B) is not applied, and the must-links are taken in record-id order, so the lower pair wins.
A steward's decision on the pair itself replaces the automatic one: scoring records no conflict for a pair a
steward linked or kept apart.

**Birth dates a third record bridges.** Two records whose birth dates disagree and that are no match on their
own are a cannot-link pair of their component too (:func:`birth_conflicts`), unless one of them is linked to a
record whose birth date disagrees with its own: that link shows its date may be the wrong one. Without this, a
record with no birth date (a tax return, a contact form) that matches father and son, or two siblings, on
name and address would join them into one customer.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

Edge = tuple[int, int, str, float]
"""(record a, record b, kind, score) of a link."""

_RANK = {"manual": 0, "deterministic": 1}  # every other kind (probabilistic) after these


def _order(edge: Edge) -> tuple[int, float, int, int]:
    a, b, kind, score = edge
    return (_RANK.get(kind, 2), -score, min(a, b), max(a, b))


def split_component(members: Collection[int], links: Iterable[Edge],
                    cannot: Iterable[tuple[int, int]]) -> list[set[int]]:
    """The clusters of one connected component (``members``, joined by ``links``) in which no pair of
    ``cannot`` shares a cluster, in order of their lowest record id. Without such a pair inside the component,
    the component itself. Links or pairs with an end outside ``members`` are ignored."""
    inside = set(members)
    banned: dict[int, set[int]] = {}
    for a, b in cannot:
        if a != b and a in inside and b in inside:
            banned.setdefault(a, set()).add(b)
            banned.setdefault(b, set()).add(a)
    if not banned:
        return [inside]
    root = {m: m for m in inside}
    cluster = {m: {m} for m in inside}  # by root: its members, and the records none of them may join
    apart = {m: set(banned.get(m, ())) for m in inside}

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    for edge in sorted((e for e in links if e[0] in inside and e[1] in inside), key=_order):
        ra, rb = find(edge[0]), find(edge[1])
        if ra == rb or not apart[ra].isdisjoint(cluster[rb]):
            continue
        if len(cluster[ra]) < len(cluster[rb]):
            ra, rb = rb, ra
        root[rb] = ra
        cluster[ra] |= cluster.pop(rb)
        apart[ra] |= apart.pop(rb)
    return sorted(cluster.values(), key=min)


def _held(components: list[set[int]], cannot: Iterable[tuple[int, int]]
          ) -> tuple[dict[int, int], dict[int, list[tuple[int, int]]]]:
    """Each record's component index, and the ``cannot`` pairs inside each component that holds one."""
    where = {m: ci for ci, comp in enumerate(components) for m in comp}
    held: dict[int, list[tuple[int, int]]] = {}
    for a, b in cannot:
        ci = where.get(a)
        if ci is not None and where.get(b) == ci:
            held.setdefault(ci, []).append((a, b))
    return where, held


def split_components(components: list[set[int]], links: Iterable[Edge],
                     cannot: Collection[tuple[int, int]]) -> list[set[int]]:
    """:func:`split_component` over several components (``links``: those of the components holding a pair of
    ``cannot``, at least); each result takes its component's place, the others stay as they are."""
    where, held = _held(components, cannot)
    if not held:
        return components
    edges: dict[int, list[Edge]] = {}
    for edge in links:
        ci = where.get(edge[0])
        if ci in held:
            edges.setdefault(ci, []).append(edge)
    out: list[set[int]] = []
    for ci, comp in enumerate(components):
        out.extend(split_component(comp, edges.get(ci, ()), held[ci]) if ci in held else [comp])
    return out


def constrained(components: list[set[int]], cannot: Collection[tuple[int, int]]) -> set[int]:
    """The records of the components that hold a pair of ``cannot`` (whose links :func:`split_components`
    needs)."""
    return {m for ci in _held(components, cannot)[1] for m in components[ci]}


def birth_conflicts(component: Collection[int], adjacent: Mapping[int, Collection[int]], dated: Collection[int],
                    disagree: Callable[[int, int], bool], no_match: Callable[[int, int], bool]
                    ) -> set[tuple[int, int]]:
    """The pairs ``(lower, higher)`` of ``component`` kept apart for their birth dates: both have one (``dated``),
    ``disagree`` says the dates disagree, they are not linked (``adjacent``: each record's linked records),
    ``no_match`` says their own score does not link them, and neither is linked to a record whose date
    disagrees with its own (its date may be the wrong one)."""
    inside = set(component)
    dates = inside.intersection(dated)
    if len(inside) < 3 or len(dates) < 2:
        return set()
    doubted = {m for m in dates if any(n in dates and disagree(m, n) for n in adjacent.get(m, ()))}
    members = sorted(dates - doubted)
    out: set[tuple[int, int]] = set()
    for i, a in enumerate(members):
        linked = adjacent.get(a, ())
        for b in members[i + 1:]:
            if b not in linked and disagree(a, b) and no_match(a, b):
                out.add((a, b))
    return out
