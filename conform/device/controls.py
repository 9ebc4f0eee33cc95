"""Controls: QUERY_EXT_CTRL descriptions and G/S/TRY_EXT_CTRLS, compound payloads included."""

from __future__ import annotations

import errno
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conform.transport import TransportError
from conform.uapi import C, ffi

if TYPE_CHECKING:
    from conform.device.video import VideoDevice

# Control types whose value lives behind ext_control.ptr (the kernel's V4L2_CTRL_COMPOUND_TYPES).
COMPOUND_TYPE_MIN = 0x0100


class ControlsError(TransportError):
    """S/G/TRY_EXT_CTRLS failed; ``error_idx`` and ``control`` say where, as the kernel reported."""

    def __init__(self, err: int, call: str, error_idx: int, count: int, control: int | None) -> None:
        where = f"error_idx {error_idx} of {count}"
        if control is not None:
            where += f" (control {control:#010x})"
        super().__init__(err, call, where)
        self.error_idx = error_idx
        self.control = control


@dataclass(frozen=True, slots=True)
class ControlInfo:
    """``VIDIOC_QUERY_EXT_CTRL``."""

    id: int
    type: int
    name: str
    minimum: int
    maximum: int
    step: int
    default_value: int
    flags: int
    elem_size: int
    elems: int
    nr_of_dims: int
    dims: tuple[int, ...]

    @property
    def is_compound(self) -> bool:
        return self.type >= COMPOUND_TYPE_MIN

    @property
    def is_dynamic_array(self) -> bool:
        return bool(self.flags & C.V4L2_CTRL_FLAG_DYNAMIC_ARRAY)

    @property
    def payload_size(self) -> int:
        return self.elem_size * self.elems


@dataclass(frozen=True, slots=True)
class ControlValue:
    """One control's value: an int for simple types, bytes for compound and array payloads."""

    id: int
    value: int | bytes

    @classmethod
    def of(cls, cid: int, payload: Any) -> ControlValue:
        """From an int, bytes, or a cffi struct, pointer to one, or array (its bytes are copied)."""
        if isinstance(payload, int | bytes):
            return cls(cid, payload)
        if ffi.typeof(payload).kind in ("struct", "union"):
            payload = ffi.addressof(payload)
        return cls(cid, bytes(ffi.buffer(payload)))


class Controls:
    """The control handler seen through one file handle (or a request's fd)."""

    def __init__(self, video: VideoDevice) -> None:
        self.video = video
        self._info: dict[int, ControlInfo] = {}

    def query(self, cid: int) -> ControlInfo:
        raw = ffi.new("struct v4l2_query_ext_ctrl *")
        raw.id = cid
        self.video.ioctl(C.VIDIOC_QUERY_EXT_CTRL, raw)
        info = ControlInfo(
            id=raw.id,
            type=raw.type,
            name=bytes(ffi.string(raw.name)).decode(),
            minimum=raw.minimum,
            maximum=raw.maximum,
            step=raw.step,
            default_value=raw.default_value,
            flags=raw.flags,
            elem_size=raw.elem_size,
            elems=raw.elems,
            nr_of_dims=raw.nr_of_dims,
            dims=tuple(raw.dims[i] for i in range(raw.nr_of_dims)),
        )
        self._info[info.id] = info
        return info

    def enumerate(self) -> list[ControlInfo]:
        """Every control, compound ones included, in the driver's order (NEXT_CTRL walk)."""
        found: list[ControlInfo] = []
        cid = 0
        while True:
            try:
                info = self.query(cid | C.V4L2_CTRL_FLAG_NEXT_CTRL | C.V4L2_CTRL_FLAG_NEXT_COMPOUND)
            except TransportError as exc:
                if exc.errno == errno.EINVAL:  # no control after ``cid``
                    return found
                raise
            found.append(info)
            cid = info.id

    def info(self, cid: int) -> ControlInfo:
        return self._info.get(cid) or self.query(cid)

    def _array(self, values: Sequence[ControlValue]) -> tuple[Any, list[Any]]:
        arr = ffi.new("struct v4l2_ext_control[]", max(len(values), 1))
        keep: list[Any] = []
        for slot, value in zip(arr, values, strict=False):
            slot.id = value.id
            if isinstance(value.value, bytes):
                buf = ffi.new("unsigned char[]", value.value)
                keep.append(buf)
                slot.size, slot.ptr = len(value.value), buf
            else:
                slot.value64 = value.value
        return arr, keep

    def _call(
        self, request: int, name: str, values: Sequence[ControlValue], which: int, request_fd: int | None
    ) -> tuple[Any, list[Any]]:
        """Run one EXT_CTRLS ioctl; the payload buffers returned with the array must outlive reads."""
        arr, keep = self._array(values)
        ctrls = ffi.new("struct v4l2_ext_controls *")
        ctrls.which = which if request_fd is None else C.V4L2_CTRL_WHICH_REQUEST_VAL
        ctrls.count = len(values)
        ctrls.request_fd = request_fd if request_fd is not None else 0
        ctrls.controls = arr
        try:
            self.video.ioctl(request, ctrls)
        except TransportError as exc:
            idx = int(ctrls.error_idx)
            control = values[idx].id if idx < len(values) else None
            raise ControlsError(exc.errno or 0, name, idx, len(values), control) from exc
        return arr, keep

    def set(self, values: Iterable[ControlValue], *, request_fd: int | None = None) -> None:
        self._call(
            C.VIDIOC_S_EXT_CTRLS, "VIDIOC_S_EXT_CTRLS", list(values), C.V4L2_CTRL_WHICH_CUR_VAL, request_fd
        )

    def try_(self, values: Iterable[ControlValue], *, request_fd: int | None = None) -> None:
        vals = list(values)
        self._call(
            C.VIDIOC_TRY_EXT_CTRLS, "VIDIOC_TRY_EXT_CTRLS", vals, C.V4L2_CTRL_WHICH_CUR_VAL, request_fd
        )

    def get(
        self, cids: Iterable[int], *, which: int = 0, request_fd: int | None = None
    ) -> list[ControlValue]:
        """Read values; compound and array controls come back as their payload bytes.

        ``which`` is V4L2_CTRL_WHICH_CUR_VAL (0) or DEF_VAL; a ``request_fd`` reads the
        values a completed request carried.
        """
        infos = [self.info(cid) for cid in cids]
        shaped = [
            ControlValue(i.id, bytes(i.payload_size))
            if i.is_compound or i.nr_of_dims
            else ControlValue(i.id, 0)
            for i in infos
        ]
        arr, _payloads = self._call(C.VIDIOC_G_EXT_CTRLS, "VIDIOC_G_EXT_CTRLS", shaped, which, request_fd)
        out = []
        for slot, info in zip(arr, infos, strict=False):
            if info.is_compound or info.nr_of_dims:
                out.append(
                    ControlValue(info.id, bytes(ffi.buffer(ffi.cast("unsigned char *", slot.ptr), slot.size)))
                )
            elif info.type == C.V4L2_CTRL_TYPE_INTEGER64:
                out.append(ControlValue(info.id, int(slot.value64)))
            else:
                out.append(ControlValue(info.id, int(slot.value)))
        return out
