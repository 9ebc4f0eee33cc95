"""The driver abstraction and its registry."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from conform.errors import ConformError
from conform.transport import Transport


class DriverError(ConformError):
    """The driver cannot be reached: unknown name, no node, wrong driver behind a node."""


@dataclass(frozen=True, slots=True)
class Nodes:
    """Where one driver instance answers: its transport and node paths."""

    transport: Transport
    video: str
    media: str | None


class Driver(ABC):
    """A decoder under test.  Subclasses set the class attributes and implement ``connect``."""

    name: ClassVar[str]
    description: ClassVar[str]
    needs_guest: ClassVar[bool] = False
    """True when the driver only exists inside the kernel tier's QEMU guest."""

    def __init__(self, spec: str) -> None:
        self.spec = spec

    @abstractmethod
    def connect(self) -> Nodes:
        """Find the driver's nodes; raise DriverError naming what is missing."""


_REGISTRY: dict[str, type[Driver]] = {}
D = TypeVar("D", bound=type[Driver])


def register_driver(cls: D) -> D:
    _REGISTRY[cls.name] = cls
    return cls


def driver_names() -> list[str]:
    return sorted(_REGISTRY)


def resolve_driver(spec: str) -> Driver:
    """``NAME`` or ``NAME:ARGUMENT`` (``kernel:/dev/video2``) to a driver profile."""
    name = spec.split(":", 1)[0]
    cls = _REGISTRY.get(name)
    if cls is None:
        raise DriverError(f"unknown driver {spec!r}; known: {', '.join(driver_names())}")
    return cls(spec)


def in_guest() -> bool:
    """True inside the kernel tier's guest (its init sets CONFORM_GUEST=1)."""
    return os.environ.get("CONFORM_GUEST") == "1"
