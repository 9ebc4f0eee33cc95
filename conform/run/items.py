"""What a run executes: items, one per (driver, probe) or (driver, vector), as data.

An item is named so that the same name on two drivers means the same inputs: parity pairs
records by name.  A probe item runs one probe catalogue (conform/probe) under one
module-parameter set; a vector item decodes one vector's request stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from conform.drivers import Nodes


class Kind(Enum):
    PROBE = "probe"
    VECTOR = "vector"


@dataclass(frozen=True, slots=True)
class ParamSet:
    """Module parameters of an item: c-visl gets them on its kernel command line, rust-visl in
    RUST_VISL_PARAMS."""

    name: str
    values: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, str]:
        return dict(self.values)


DEFAULT_PARAMS = ParamSet("default")
PARAM_SETS = {
    "default": DEFAULT_PARAMS,
    "dump": ParamSet(
        "dump",
        (
            ("bitstream_trace_frame_start", "1"),
            ("bitstream_trace_nframes", "3"),
            ("keep_bitstream_buffers", "1"),
        ),
    ),
    "slow": ParamSet(
        "slow",
        (
            ("visl_transtime_ms", "2"),
            ("bitstream_trace_frame_start", "0"),
            ("bitstream_trace_nframes", "2"),
            ("visl_debug", "1"),
            ("visl_dprintk_frame_start", "0"),
            ("visl_dprintk_nframes", "2"),
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class Item:
    """One execution on one driver; ``target`` is the probe's or the vector's name."""

    kind: Kind
    target: str
    params: str = "default"
    suite: str = ""
    weight: float = 1.0
    """Rough cost, so the heaviest items start first and workers finish together."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        base = f"{self.kind.value}/{self.suite + '/' if self.suite else ''}{self.target}"
        return base if self.params == "default" else f"{base}@{self.params}"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Item:
        return cls(**{**data, "kind": Kind(data["kind"])})

    def dumps(self) -> str:
        return json.dumps(self.as_json(), sort_keys=True)


Probe = Callable[[Nodes], Iterable[tuple[str, Any]]]


def probe_catalogue() -> dict[str, tuple[Probe, float]]:
    """Every probe conform runs as an item, with its weight (seconds on rust-visl, roughly)."""
    from conform.probe import (
        buffers,
        commands,
        decode,
        findings,
        formats,
        gstreamer,
        hostile,
        params,
        streaming,
    )
    from conform.probe.describe import describe

    def description(nodes: Nodes) -> Iterable[tuple[str, Any]]:
        return describe(nodes).as_json().items()

    return {
        "describe": (description, 0.5),
        "formats": (formats.cases, 4.0),
        "hostile": (hostile.cases, 20.0),
        "buffers": (buffers.cases, 1.0),
        "params": (params.cases, 0.5),
        "commands": (commands.cases, 0.3),
        "streaming": (streaming.cases, 1.0),
        "decode": (decode.cases, 15.0),
        "decode-dumps": (decode.dump_cases, 2.0),
        "findings": (findings.cases, 1.0),
        "gstreamer": (gstreamer.cases, 5.0),
    }


def probe_items(names: Iterable[str] | None = None) -> Iterator[Item]:
    """The probe items: every probe under the default parameters, the dump probe under the others."""
    catalogue = probe_catalogue()
    for name in names if names is not None else catalogue:
        if name not in catalogue:
            raise KeyError(f"unknown probe {name!r}; known: {', '.join(catalogue)}")
        weight = catalogue[name][1]
        if name == "decode-dumps":
            for params in ("dump", "slow"):
                yield Item(Kind.PROBE, name, params=params, weight=weight)
        else:
            yield Item(Kind.PROBE, name, weight=weight)


def heaviest_first(items: Iterable[Item]) -> list[Item]:
    return sorted(items, key=lambda item: (-item.weight, item.name))
