"""Plain-text rendering of a device description, in the spirit of v4l2-ctl/v4l2-compliance."""

from __future__ import annotations

from functools import cache

from conform.device import ControlInfo
from conform.device.video import version_text
from conform.probe.describe import DeviceDescription
from conform.uapi import C

# Aliases and walk flags that would otherwise be printed beside the real names.
_SKIP = {
    "V4L2_CTRL_FLAG_NEXT_CTRL",
    "V4L2_CTRL_FLAG_NEXT_COMPOUND",
    "V4L2_CAP_ASYNCIO",
    "MEDIA_INTF_T_V4L_BASE",
    "MEDIA_INTF_T_DVB_BASE",
    "MEDIA_INTF_T_ALSA_BASE",
    "MEDIA_ENT_F_BASE",
    "MEDIA_ENT_F_OLD_BASE",
}


@cache
def _named(prefix: str) -> tuple[tuple[str, int], ...]:
    names = []
    for name in dir(C):
        value = getattr(C, name)
        if name.startswith(prefix) and isinstance(value, int) and name not in _SKIP:
            names.append((name[len(prefix) :], value))
    return tuple(sorted(names, key=lambda item: (item[1], item[0])))


def flag_names(prefix: str, value: int) -> str:
    """``A|B|0x40`` for a bit mask, leftover bits in hex."""
    parts, rest = [], value
    for name, bit in _named(prefix):
        if bit and bit & (bit - 1) == 0 and value & bit:
            parts.append(name.lower())
            rest &= ~bit
    if rest:
        parts.append(f"{rest:#x}")
    return "|".join(parts) or "0"


def enum_name(prefix: str, value: int) -> str:
    for name, known in _named(prefix):
        if known == value:
            return name.lower()
    return f"{value:#x}"


def _control_line(info: ControlInfo, default: int | str | None) -> str:
    kind = enum_name("V4L2_CTRL_TYPE_", info.type)
    line = f"  {info.name:<40} {info.id:#010x} ({kind})"
    if info.is_compound or info.nr_of_dims:
        dims = "x".join(str(d) for d in info.dims) or "-"
        line += f": elem_size={info.elem_size} elems={info.elems} dims=[{dims}]"
        if info.is_dynamic_array:
            line += " (dynamic)"
    else:
        line += f": min={info.minimum} max={info.maximum} step={info.step} default={info.default_value}"
    if info.flags:
        line += f" flags={flag_names('V4L2_CTRL_FLAG_', info.flags)}"
    if isinstance(default, str):
        line += f" default={default}"
    return line


def render(desc: DeviceDescription) -> str:
    cap = desc.capability
    out = [
        f"Driver Info ({desc.video}):",
        f"  Driver name    : {cap.driver}",
        f"  Card type      : {cap.card}",
        f"  Bus info       : {cap.bus_info}",
        f"  Driver version : {cap.version_text}",
        f"  Capabilities   : {cap.capabilities:#010x} {flag_names('V4L2_CAP_', cap.capabilities)}",
        f"  Device Caps    : {cap.device_caps:#010x} {flag_names('V4L2_CAP_', cap.device_caps)}",
    ]
    if desc.media_info:
        mi = desc.media_info
        out += [
            f"Media Driver Info ({desc.media}):",
            f"  Driver name    : {mi.driver}",
            f"  Model          : {mi.model}",
            f"  Serial         : {mi.serial}",
            f"  Bus info       : {mi.bus_info}",
            f"  Media version  : {version_text(mi.media_version)}",
            f"  Hardware rev.  : {mi.hw_revision:#010x}",
        ]
    for queue in desc.queues:
        cur = queue.current
        out.append(
            f"Format {queue.queue}: '{cur.fourcc}' {cur.width}x{cur.height} field {cur.field} "
            f"colorspace {cur.colorspace} "
            + ", ".join(
                f"plane[{i}] bytesperline {p.bytesperline} sizeimage {p.sizeimage}"
                for i, p in enumerate(cur.planes)
            )
        )
        out.append(f"Formats ({queue.queue}):")
        for fmt in queue.formats:
            sizes = queue.framesizes.get(fmt.pixelformat)
            if isinstance(sizes, str):
                size_text = f"frame sizes: {sizes}"
            else:
                size_text = ", ".join(
                    f"{s.min_width}x{s.min_height} - {s.max_width}x{s.max_height} "
                    f"step {s.step_width}x{s.step_height} ({s.type_name})"
                    for s in sizes or ()
                )
            flags = f" flags={flag_names('V4L2_FMT_FLAG_', fmt.flags)}" if fmt.flags else ""
            out.append(f"  [{fmt.index}] '{fmt.fourcc}' ({fmt.description}){flags}: {size_text}")
    out.append(f"Controls ({len(desc.controls)}):")
    out += [_control_line(info, desc.control_defaults.get(info.id)) for info in desc.controls]
    if desc.topology:
        topo = desc.topology
        out.append(f"Media Topology (version {topo.version}):")
        for e in topo.entities:
            out.append(f"  entity {e.id:#010x}: '{e.name}' function={enum_name('MEDIA_ENT_F_', e.function)}")
        for i in topo.interfaces:
            kind = enum_name("MEDIA_INTF_T_", i.intf_type)
            out.append(f"  interface {i.id:#010x}: {kind} devnode {i.major}:{i.minor}")
        for p in topo.pads:
            out.append(
                f"  pad {p.id}: entity {p.entity_id} index {p.index} {flag_names('MEDIA_PAD_FL_', p.flags)}"
            )
        for k in topo.links:
            link_flags = flag_names("MEDIA_LNK_FL_", k.flags)
            out.append(f"  link {k.id:#010x}: {k.source_id:#010x} -> {k.sink_id:#010x} {link_flags}")
    return "\n".join(out) + "\n"
