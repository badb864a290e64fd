"""Live results kept until the data or the map changes, so a map opens in milliseconds.

Measuring a map reads every event; the answer only changes when a load, a stitch or an erasure
changes the store (its *generation*) or someone edits the map. Results are cached per map,
scope and generation; the drawing per result. One computation per key runs at a time, so a
crowd opening the same map waits for one query, not a hundred.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from journeylens.analyses.binding import Scope
from journeylens.analyses.conformance import Conformance
from journeylens.analyses.live import LiveMap
from journeylens.analyses.painpoints import PainPoints
from journeylens.errors import JourneylensError
from journeylens.workspace import Workspace

#: Results kept (least recently used dropped first).
CAPACITY = 64
#: How often the store's generation is looked up at most (seconds).
GENERATION_TTL = 2.0


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
        self._generation: tuple[float, str | None] = (0.0, None)

    def generation(self) -> str | None:
        checked, value = self._generation
        if time.monotonic() - checked > GENERATION_TTL:
            value = self.workspace.data_generation()
            self._generation = (time.monotonic(), value)
        return value

    def _key(self, map_id: str, scope: Scope) -> tuple[object, ...]:
        _, text = self.workspace.map_text(map_id)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        generation = self.generation()
        if generation is None:
            raise NoData("no data loaded yet: the map has nothing to measure")
        return (map_id, digest, generation, scope)

    def live(self, map_id: str, scope: Scope) -> LiveResult:
        key = self._key(map_id, scope)
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._results:
                    return self._results[key]
            spec = self.workspace.live_spec(map_id, scope=scope)
            measured, pains, checked = self.workspace.live_with_conformance(spec)
            result = LiveResult(measured, pains, checked)
            with self._lock:
                self._results[key] = result
                while len(self._results) > CAPACITY:
                    self._results.popitem(last=False)
                self._key_locks.pop(key, None)
            return result

    def svg(self, map_id: str, scope: Scope) -> str:
        result = self.live(map_id, scope)
        key = (*self._key(map_id, scope), "svg")
        with self._lock:
            if key in self._svgs:
                self._svgs.move_to_end(key)
                return self._svgs[key]
        drawn = self.workspace.live_svg(
            self.workspace.map(map_id), result.live, result.pains, result.conformance
        )
        with self._lock:
            self._svgs[key] = drawn
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
