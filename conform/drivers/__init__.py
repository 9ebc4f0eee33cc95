"""Driver profiles: how to reach a decoder under test and which nodes it has.

A profile is a small class registered by name; ``resolve_driver("c-visl")`` or
``resolve_driver("kernel:/dev/video2")`` gives the one to use.
"""

from conform.drivers.base import (
    Driver,
    DriverError,
    Nodes,
    driver_names,
    in_guest,
    register_driver,
    resolve_driver,
)
from conform.drivers.kernel import CVisl, KernelNode
from conform.drivers.rust_visl import RustVisl


def _load_extra_profiles() -> None:
    """Modules named in CONFORM_DRIVER_MODULES (comma separated) register more profiles:
    out-of-tree drivers, and the deliberately broken drivers of conform's own tests."""
    import importlib
    import os

    for module in filter(None, os.environ.get("CONFORM_DRIVER_MODULES", "").split(",")):
        importlib.import_module(module)


_load_extra_profiles()

__all__ = [
    "CVisl",
    "Driver",
    "DriverError",
    "KernelNode",
    "Nodes",
    "RustVisl",
    "driver_names",
    "in_guest",
    "register_driver",
    "resolve_driver",
]
