"""Formats: ENUM_FMT descriptions, multi-planar pixel formats, frame-size ranges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conform.uapi import C, ffi, fourcc_str


@dataclass(frozen=True, slots=True)
class FormatDescription:
    """One ENUM_FMT answer."""

    index: int
    type: int
    flags: int
    description: str
    pixelformat: int

    @property
    def fourcc(self) -> str:
        return fourcc_str(self.pixelformat)


@dataclass(frozen=True, slots=True)
class PlaneFormat:
    sizeimage: int
    bytesperline: int


@dataclass(frozen=True, slots=True)
class PixFormatMplane:
    """``struct v4l2_pix_format_mplane`` as a value; ``planes`` gives num_planes."""

    width: int
    height: int
    pixelformat: int
    field: int = C.V4L2_FIELD_NONE
    colorspace: int = 0
    planes: tuple[PlaneFormat, ...] = (PlaneFormat(0, 0),)
    flags: int = 0
    ycbcr_enc: int = 0
    quantization: int = 0
    xfer_func: int = 0

    @property
    def fourcc(self) -> str:
        return fourcc_str(self.pixelformat)

    def to_struct(self, buf_type: int) -> Any:
        fmt = ffi.new("struct v4l2_format *")
        fmt.type = buf_type
        self.fill(fmt.fmt.pix_mp)
        return fmt

    def fill(self, pix: Any) -> None:
        """Write this format into a ``struct v4l2_pix_format_mplane`` (reserved bytes stay 0)."""
        pix.width, pix.height, pix.pixelformat = self.width, self.height, self.pixelformat
        pix.field, pix.colorspace, pix.flags = self.field, self.colorspace, self.flags
        pix.ycbcr_enc, pix.quantization, pix.xfer_func = self.ycbcr_enc, self.quantization, self.xfer_func
        pix.num_planes = len(self.planes)
        for i, plane in enumerate(self.planes):
            pix.plane_fmt[i].sizeimage = plane.sizeimage
            pix.plane_fmt[i].bytesperline = plane.bytesperline

    @classmethod
    def from_struct(cls, pix: Any) -> PixFormatMplane:
        planes = tuple(
            PlaneFormat(pix.plane_fmt[i].sizeimage, pix.plane_fmt[i].bytesperline)
            for i in range(min(pix.num_planes, C.VIDEO_MAX_PLANES))
        )
        return cls(
            width=pix.width,
            height=pix.height,
            pixelformat=pix.pixelformat,
            field=pix.field,
            colorspace=pix.colorspace,
            planes=planes,
            flags=pix.flags,
            ycbcr_enc=pix.ycbcr_enc,
            quantization=pix.quantization,
            xfer_func=pix.xfer_func,
        )


@dataclass(frozen=True, slots=True)
class FrameSizes:
    """One ENUM_FRAMESIZES answer: discrete sizes have min == max and step 0."""

    pixelformat: int
    type: int
    min_width: int
    max_width: int
    step_width: int
    min_height: int
    max_height: int
    step_height: int

    @classmethod
    def from_struct(cls, fs: Any) -> FrameSizes:
        if fs.type == C.V4L2_FRMSIZE_TYPE_DISCRETE:
            w, h = fs.discrete.width, fs.discrete.height
            return cls(fs.pixel_format, fs.type, w, w, 0, h, h, 0)
        s = fs.stepwise
        return cls(
            fs.pixel_format, fs.type, s.min_width, s.max_width, s.step_width,
            s.min_height, s.max_height, s.step_height,
        )  # fmt: skip

    @property
    def type_name(self) -> str:
        return {
            C.V4L2_FRMSIZE_TYPE_DISCRETE: "discrete",
            C.V4L2_FRMSIZE_TYPE_CONTINUOUS: "continuous",
            C.V4L2_FRMSIZE_TYPE_STEPWISE: "stepwise",
        }.get(self.type, f"type {self.type}")
