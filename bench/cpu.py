"""CPU time spent by each kind of process during a run, from /proc (Linux).

A snapshot maps a group name (web, worker, postgres, redis, ...) to the user + system seconds
of its live processes; the difference of two snapshots divided by the work done tells where
the machine's time went. Processes that end between the snapshots are not counted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")

Grouper = Callable[[int, str], str | None]
"""(pid, command name) -> the group the process counts in, or None to leave it out."""


def _seconds(pid: int) -> tuple[str, float] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    return name, (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def snapshot(group: Grouper) -> dict[str, float]:
    totals: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        found = _seconds(int(entry.name))
        if found is None:
            continue
        name = group(int(entry.name), found[0])
        if name is not None:
            totals[name] = totals.get(name, 0.0) + found[1]
    return totals


def by_pids(groups: dict[str, Iterable[int]], **by_name: str) -> Grouper:
    """A grouper: these pids in these groups, other processes by command name."""
    pids = {pid: name for name, members in groups.items() for pid in members}

    def group(pid: int, command: str) -> str | None:
        return pids.get(pid) or by_name.get(command)

    return group


def per_unit(before: dict[str, float], after: dict[str, float], units: int) -> dict[str, float]:
    """Milliseconds of CPU per unit of work, by group, with the total."""
    out = {name: round((after.get(name, 0.0) - before.get(name, 0.0)) * 1000 / max(1, units), 1)
           for name in sorted(set(before) | set(after))}
    out["total"] = round(sum(out.values()), 1)
    return out
