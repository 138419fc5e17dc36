"""Independent parts of a plant: stations that share nothing while the simulation runs.

A big plant is often many lines that never exchange a lot. Such a plant splits into parts, each
of which could be simulated on its own (in its own process) and the meters merged afterwards,
because every random stream is keyed by the name of its station or source
(:mod:`twin.streams`), not by its place in the plant. :func:`find_parts` decides whether a plant
splits, and if not, says why.

Two stations are in the same part when

* a product's route visits both, or an assembly station consumes a product made on the other
  (``components``);
* one source releases products made on both (its product mix is one random stream);
* both need the same shared resource (``resources`` / ``needs``);
* both report into the same equipment group (``group``, by default the line: the group's
  energy is one sum, whose floating-point value depends on the order of its terms); a base load
  joins the part of its group, or the first part when no station reports into its group.

A plant does not split at all (one part, with the reason) when

* a strategy other than the per-station ones (:data:`PER_STATION`) is in force: scheduling
  strategies read the site's power, prices or state of charge while the plant runs, and one
  that holds work for the whole site (peak shaving) couples every station;
* a source reads orders from a file (``kind: orders`` / ``plan_file``): which products it
  releases is known only once the file is read.

When in doubt a plant is not split: a false "independent" would give wrong results, a false
"coupled" only a slower run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from twin.config.plant import ArrivalSource, PlanSource, Plant

PER_STATION = frozenset({"predictive_maintenance", "smart_standby"})
"""Strategies that act on each station by itself and read nothing site-wide during the run."""


@dataclass
class Part:
    """One independent part of a plant (ids in the plant file's order)."""

    lines: list[str] = field(default_factory=list)
    """Lines with at least one station in this part."""
    stations: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    base_loads: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    """Equipment groups whose energy this part meters (each group in one part only)."""


@dataclass
class Partition:
    """How a plant splits: ``parts`` (one when it does not split) and, when it cannot be split
    at all, the ``reason``."""

    parts: list[Part]
    reason: str | None = None

    @property
    def splits(self) -> bool:
        """Whether there is more than one part."""
        return len(self.parts) > 1

    def describe(self) -> str:
        """One line for the terminal."""
        if self.splits:
            sizes = ", ".join(str(len(p.stations)) for p in self.parts[:8])
            more = ", ..." if len(self.parts) > 8 else ""
            return (f"{len(self.parts)} independent parts ({sizes}{more} stations): no shared "
                    f"station, resource, component, group or site-wide strategy")
        return f"one part: {self.reason or 'every station is linked to every other'}"


class _Union:
    """Union-find over string keys (path halving; the smaller index is the root, so parts come
    out in the order of their first station in the file)."""

    def __init__(self, keys: list[str]):
        self.index = {k: i for i, k in enumerate(keys)}
        self.parent = list(range(len(keys)))

    def find(self, i: int) -> int:
        p = self.parent
        while p[i] != i:
            p[i] = p[p[i]]
            i = p[i]
        return i

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(self.index[a]), self.find(self.index[b])
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def find_parts(plant: Plant) -> Partition:
    """The independent parts of ``plant`` (see the module doc for what couples stations)."""
    stations = [s for _, _, s in plant.stations()]
    line_of = {s.id: plant.lines[i].id for i, _, s in plant.stations()}
    group_of = {s.id: s.group or line_of[s.id] for s in stations}
    whole = Part(lines=[ln.id for ln in plant.lines], stations=[s.id for s in stations],
                 products=[p.id for p in plant.products], sources=[s.id for s in plant.sources],
                 resources=[r.id for r in plant.resources],
                 base_loads=[b.id for b in plant.base_loads],
                 groups=sorted({*group_of.values(), *(b.group for b in plant.base_loads)}))
    if not plant.has_production:
        return Partition([whole], "the plant has no production (no stations to split)")
    coupling = [sc.type for sc in plant.strategies if sc.type not in PER_STATION]
    if coupling:
        return Partition([whole], f"strategy '{coupling[0]}' reads site-wide state during the "
                                  f"run (only {', '.join(sorted(PER_STATION))} act per station)")
    ahu = [b.id for b in plant.base_loads if b.air_handling is not None]
    if ahu:
        return Partition([whole], f"base load '{ahu[0]}' follows the weather (air handling), "
                                  f"metered with the energy supply")
    files = [s.id for s in plant.sources if not isinstance(s, (ArrivalSource, PlanSource))]
    if files:
        return Partition([whole], f"source '{files[0]}' reads its orders from a file")

    u = _Union([s.id for s in stations])
    route = {p.id: p.route for p in plant.products}
    for p in plant.products:
        for sid in p.route[1:]:
            u.join(p.route[0], sid)
        for c in p.components:  # the assembly station (route[0]) consumes the component
            u.join(p.route[0], route[c][0])
    for src in plant.sources:
        made = list(src.product_mix if isinstance(src, ArrivalSource) else src.quantities)
        for pid in made[1:]:
            u.join(route[made[0]][0], route[pid][0])
    first_needing: dict[str, str] = {}
    first_in_group: dict[str, str] = {}
    for s in stations:
        for rid in s.needs:
            u.join(first_needing.setdefault(rid, s.id), s.id)
        u.join(first_in_group.setdefault(group_of[s.id], s.id), s.id)

    roots: dict[int, Part] = {}
    for s in stations:
        part = roots.setdefault(u.find(u.index[s.id]), Part())
        part.stations.append(s.id)
        if line_of[s.id] not in part.lines:
            part.lines.append(line_of[s.id])
        if group_of[s.id] not in part.groups:
            part.groups.append(group_of[s.id])
        for rid in s.needs:
            if rid not in part.resources:
                part.resources.append(rid)
    parts = list(roots.values())
    part_of = {sid: part for part in parts for sid in part.stations}
    for p in plant.products:
        part_of[p.route[0]].products.append(p.id)
    for src in plant.sources:
        made = list(src.product_mix if isinstance(src, ArrivalSource) else src.quantities)
        part_of[route[made[0]][0]].sources.append(src.id)
    by_group = {g: part for part in parts for g in part.groups}
    for b in plant.base_loads:
        part = by_group.get(b.group, parts[0])
        part.base_loads.append(b.id)
        if b.group not in part.groups:
            part.groups.append(b.group)
            by_group[b.group] = part
    for part in parts:
        part.groups.sort()
        part.resources = [r.id for r in plant.resources if r.id in part.resources]
    return Partition(parts, None if len(parts) > 1 else "every station is linked to every other")
