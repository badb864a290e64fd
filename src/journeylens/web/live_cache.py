"""Live results kept until the data or the map changes, so a map opens in milliseconds.

Measuring a map reads every event; the answer only changes when a load, a stitch or an erasure
changes the store (its *generation*) or someone edits the map. Results are cached per map,
scope and generation; the drawing per result. One computation per key runs at a time, so a
crowd opening the same map waits for one query, not a hundred.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from contextlib import suppress
from dataclasses import dataclass

from journeylens.analyses.binding import Scope
from journeylens.analyses.conformance import Conformance
from journeylens.analyses.live import LiveMap
from journeylens.analyses.painpoints import PainPoints
from journeylens.errors import JourneylensError
from journeylens.workspace import Workspace

#: Results kept (least recently used dropped first).
CAPACITY = 64


@dataclass(frozen=True)
class LiveResult:
    live: LiveMap
    pains: PainPoints
    conformance: Conformance


class NoData(JourneylensError):
    """The store holds no events yet."""


class LiveCache:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._results: OrderedDict[tuple[object, ...], LiveResult] = OrderedDict()
        self._svgs: OrderedDict[tuple[object, ...], str] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[object, ...], threading.Lock] = {}
        self._generation: tuple[tuple[object, ...] | None, str | None] = (None, None)

    def _store_signature(self) -> tuple[object, ...]:
        """What the store's files (``.journeylens/store.*``) look like on disk: any write (a
        load, a stitch, an erasure, in this process or another) changes it."""
        found = []
        for file in sorted(self.workspace.state_dir.glob("store*")):
            with suppress(FileNotFoundError):
                stat = file.stat()
                found.append(
                    (file.name, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
                )
        return tuple(found)

    def generation(self) -> str | None:
        """The store's generation, looked up again whenever its files changed (not after some
        time: a request right after a load must not see the old numbers)."""
        signature = self._store_signature()
        seen, value = self._generation
        if seen != signature:
            value = self.workspace.data_generation()
            self._generation = (signature, value)
        return value

    def _key(self, map_id: str, scope: Scope) -> tuple[object, ...]:
        _, text = self.workspace.map_text(map_id)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        generation = self.generation()
        if generation is None:
            raise NoData("no data loaded yet: the map has nothing to measure")
        return (map_id, digest, generation, scope)

    def live(self, map_id: str, scope: Scope) -> LiveResult:
        return self._live(self._key(map_id, scope), map_id, scope)

    def _live(self, key: tuple[object, ...], map_id: str, scope: Scope) -> LiveResult:
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._results:
                    return self._results[key]
            try:
                spec = self.workspace.live_spec(map_id, scope=scope)
                result = LiveResult(*self.workspace.live_with_conformance(spec))
                with self._lock:
                    self._results[key] = result
                    while len(self._results) > CAPACITY:
                        self._results.popitem(last=False)
            finally:  # also when the computation fails: no lock left behind per failed key
                with self._lock:
                    self._key_locks.pop(key, None)
            return result

    def svg(self, map_id: str, scope: Scope) -> str:
        key = self._key(map_id, scope)  # one key for the result and its drawing
        result = self._live(key, map_id, scope)
        drawing = (*key, "svg")
        with self._lock:
            if drawing in self._svgs:
                self._svgs.move_to_end(drawing)
                return self._svgs[drawing]
        drawn = self.workspace.live_svg(
            self.workspace.map(map_id), result.live, result.pains, result.conformance
        )
        with self._lock:
            self._svgs[drawing] = drawn
            while len(self._svgs) > CAPACITY:
                self._svgs.popitem(last=False)
        return drawn

    def selector_count(self, selector: str) -> tuple[int, int] | None:
        """Events and customers a selector matches now; None when there is no data."""
        if self.generation() is None:
            return None
        return self.workspace.count_matching(selector)

    def forget(self, map_id: str) -> None:
        """Drop a map's results (after an edit; the text digest would miss them anyway)."""
        with self._lock:
            for store in (self._results, self._svgs):
                for key in [k for k in store if k[0] == map_id]:
                    del store[key]
