"""The media device: identity, graph topology, request allocation."""

from __future__ import annotations

from dataclasses import dataclass

from conform.device.node import OpenFile
from conform.device.request import Request
from conform.device.video import cstr
from conform.transport import O_RDWR, Transport
from conform.uapi import C, ffi


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """``MEDIA_IOC_DEVICE_INFO``."""

    driver: str
    model: str
    serial: str
    bus_info: str
    media_version: int
    hw_revision: int
    driver_version: int


@dataclass(frozen=True, slots=True)
class Entity:
    id: int
    name: str
    function: int
    flags: int


@dataclass(frozen=True, slots=True)
class Interface:
    id: int
    intf_type: int
    flags: int
    major: int
    minor: int


@dataclass(frozen=True, slots=True)
class Pad:
    id: int
    entity_id: int
    flags: int
    index: int


@dataclass(frozen=True, slots=True)
class Link:
    id: int
    source_id: int
    sink_id: int
    flags: int


@dataclass(frozen=True, slots=True)
class Topology:
    """``MEDIA_IOC_G_TOPOLOGY``: the whole graph in one snapshot."""

    version: int
    entities: tuple[Entity, ...]
    interfaces: tuple[Interface, ...]
    pads: tuple[Pad, ...]
    links: tuple[Link, ...]


class MediaDevice(OpenFile):
    def __init__(self, transport: Transport, path: str) -> None:
        super().__init__(transport, transport.open(path, O_RDWR))
        self.path = path

    def info(self) -> MediaInfo:
        raw = ffi.new("struct media_device_info *")
        self.transport.ioctl(self.fd, C.MEDIA_IOC_DEVICE_INFO, raw)
        return MediaInfo(
            cstr(raw.driver), cstr(raw.model), cstr(raw.serial), cstr(raw.bus_info),
            raw.media_version, raw.hw_revision, raw.driver_version,
        )  # fmt: skip

    def topology(self) -> Topology:
        """Two calls, as the UAPI intends: one for the counts, one to fill the arrays."""
        topo = ffi.new("struct media_v2_topology *")
        self.transport.ioctl(self.fd, C.MEDIA_IOC_G_TOPOLOGY, topo)
        entities = ffi.new("struct media_v2_entity[]", max(topo.num_entities, 1))
        interfaces = ffi.new("struct media_v2_interface[]", max(topo.num_interfaces, 1))
        pads = ffi.new("struct media_v2_pad[]", max(topo.num_pads, 1))
        links = ffi.new("struct media_v2_link[]", max(topo.num_links, 1))
        topo.ptr_entities = int(ffi.cast("uintptr_t", entities))
        topo.ptr_interfaces = int(ffi.cast("uintptr_t", interfaces))
        topo.ptr_pads = int(ffi.cast("uintptr_t", pads))
        topo.ptr_links = int(ffi.cast("uintptr_t", links))
        self.transport.ioctl(self.fd, C.MEDIA_IOC_G_TOPOLOGY, topo)
        return Topology(
            version=topo.topology_version,
            entities=tuple(
                Entity(e.id, cstr(e.name), e.function, e.flags) for e in entities[0 : topo.num_entities]
            ),
            interfaces=tuple(
                Interface(i.id, i.intf_type, i.flags, i.devnode.major, i.devnode.minor)
                for i in interfaces[0 : topo.num_interfaces]
            ),
            pads=tuple(Pad(p.id, p.entity_id, p.flags, p.index) for p in pads[0 : topo.num_pads]),
            links=tuple(Link(k.id, k.source_id, k.sink_id, k.flags) for k in links[0 : topo.num_links]),
        )

    def request_alloc(self) -> Request:
        fd = ffi.new("int *")
        self.transport.ioctl(self.fd, C.MEDIA_IOC_REQUEST_ALLOC, fd)
        return Request(self.transport, int(fd[0]))
