"""MPEG-2 elementary stream -> request stream (V4L2_PIX_FMT_MPEG2_SLICE).

One request per coded picture: the sequence, picture and quantisation controls, and the
picture's slices, each behind its ``00 00 01`` start code (the OUTPUT buffer holds every
macroblock of the picture, pixfmt-compressed.rst).  A field picture is a request of its
own; as GStreamer's v4l2slmpeg2dec does, the first field of a frame is queued with
``V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF`` and both fields carry the same timestamp, so the
pair decodes into one CAPTURE buffer and one frame comes back.

Frame ``n`` (decoding order) gets timestamp ``(n + 1) * 1 ms``, so no reference is ever
at 0 and 0 can mean "none".  References follow §7.6: the two most recently decoded
reference frames (I and P); a P picture predicts from the newer (``forward_ref_ts``),
a B picture from the older (``forward_ref_ts``) and the newer (``backward_ref_ts``).
The second field of a frame uses the references of its first field; a P second field of
the stream's first frame, which can only predict from its own first field, names its own
frame.

The whole stream is parsed before the first request is returned, so a feature that
cannot be expressed gives :class:`Mpeg2NotSupported` (and a corrupt stream a
:class:`BitstreamError` naming the byte offset) instead of a partial request stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from conform.codecs.bitreader import BitstreamError
from conform.codecs.frontend import RequestStream
from conform.codecs.mpeg2.controls import picture_control, quantisation_control, sequence_control
from conform.codecs.mpeg2.parser import (
    GroupOfPicturesHeader,
    Mpeg2NotSupported,
    PictureCodingExtension,
    PictureCodingType,
    PictureHeader,
    PictureStructure,
    QuantMatrices,
    Sequence,
    SequenceHeader,
    SliceHeader,
    extension_id,
    parse_group_of_pictures_header,
    parse_picture_coding_extension,
    parse_picture_header,
    parse_quant_matrix_extension,
    parse_sequence_extension,
    parse_sequence_header,
    parse_slice_header,
)
from conform.codecs.mpeg2.reader import ExtensionId, StartCode, Unit, units
from conform.codecs.stream import DecodeRequest, StreamFormat
from conform.device import ControlValue
from conform.uapi import C

PICTURE_PERIOD_NS = 1_000_000

_SCALABLE = {
    ExtensionId.SEQUENCE_SCALABLE: "scalable MPEG-2 (sequence_scalable_extension)",
    ExtensionId.PICTURE_SPATIAL_SCALABLE: "spatial scalability (picture_spatial_scalable_extension)",
    ExtensionId.PICTURE_TEMPORAL_SCALABLE: "temporal scalability (picture_temporal_scalable_extension)",
}
# Units that end the picture before them (§6.2: after its slices come these, or a picture).
_PICTURE_ENDS = frozenset(
    (StartCode.PICTURE, StartCode.SEQUENCE_HEADER, StartCode.GROUP, StartCode.SEQUENCE_END)
)


@dataclass(frozen=True, slots=True)
class Picture:
    """One coded picture (a frame or a field) with what is in effect for it."""

    index: int
    sequence: Sequence
    gop: GroupOfPicturesHeader | None
    header: PictureHeader
    coding: PictureCodingExtension
    matrices: QuantMatrices
    slices: tuple[Unit, ...]
    slice_headers: tuple[SliceHeader, ...]

    @property
    def offset(self) -> int:
        return self.header.offset

    @property
    def is_field(self) -> bool:
        return self.coding.picture_structure != PictureStructure.FRAME

    @property
    def is_reference(self) -> bool:
        return self.header.picture_coding_type in (PictureCodingType.I, PictureCodingType.P)


def timestamp_ns(frame: int) -> int:
    return (frame + 1) * PICTURE_PERIOD_NS


@dataclass(slots=True)
class _Builder:
    """Picture assembly state while walking the units."""

    header: SequenceHeader | None = None
    sequence: Sequence | None = None
    matrices: QuantMatrices = field(default_factory=QuantMatrices)
    gop: GroupOfPicturesHeader | None = None
    picture: PictureHeader | None = None
    coding: PictureCodingExtension | None = None
    slices: tuple[list[Unit], list[SliceHeader]] | None = None
    count: int = 0

    def finish(self) -> Picture | None:
        if self.picture is None:
            return None
        hdr, self.picture = self.picture, None
        if self.coding is None:
            raise Mpeg2NotSupported("MPEG-1 video (a picture without picture_coding_extension)", hdr.offset)
        if not self.slices or not self.slices[0]:
            raise BitstreamError("a picture without slices", hdr.offset)
        assert self.sequence is not None  # a picture header is only taken after a sequence
        slices, headers = self.slices
        pic = Picture(self.count, self.sequence, self.gop, hdr, self.coding, self.matrices, tuple(slices),
                      tuple(headers))  # fmt: skip
        self.count += 1
        self.coding = None
        self.slices = None
        return pic


def pictures(stream: bytes) -> Iterator[Picture]:
    """The coded pictures of an elementary stream, in decoding order."""
    b = _Builder()
    for unit in units(stream):
        code = unit.code
        if unit.is_slice:
            if b.picture is None or b.sequence is None:
                raise BitstreamError("a slice outside a picture", unit.offset)
            if b.coding is None:
                raise Mpeg2NotSupported("MPEG-1 video (a picture without picture_coding_extension)",
                                        b.picture.offset)  # fmt: skip
            if b.slices is None:
                b.slices = ([], [])
            sh = parse_slice_header(unit, b.sequence.vertical_size)
            rows = b.sequence.mb_height
            if b.coding.picture_structure != PictureStructure.FRAME:
                rows //= 2
            if sh.mb_row >= rows:
                raise BitstreamError(f"slice_vertical_position {sh.slice_vertical_position} is below the "
                                     f"picture's {rows} macroblock rows", unit.offset)  # fmt: skip
            b.slices[0].append(unit)
            b.slices[1].append(sh)
            continue
        if b.slices is not None or code in _PICTURE_ENDS:
            pic = b.finish()
            if pic is not None:
                yield pic
        if code == StartCode.SEQUENCE_HEADER:
            b.header = parse_sequence_header(unit)
            b.sequence = None
            b.matrices = QuantMatrices.of_sequence(b.header)
        elif code == StartCode.EXTENSION:
            _extension(b, unit)
        elif code == StartCode.GROUP:
            _need_sequence(b, unit, "a group of pictures header")
            b.gop = parse_group_of_pictures_header(unit)
        elif code == StartCode.PICTURE:
            _need_sequence(b, unit, "a picture")
            b.picture = parse_picture_header(unit)
            if b.picture.picture_coding_type == PictureCodingType.D:
                raise Mpeg2NotSupported("D pictures (MPEG-1 DC-coded pictures)", unit.offset)
        elif code in (StartCode.USER_DATA, StartCode.SEQUENCE_END):
            continue
        elif code == StartCode.SEQUENCE_ERROR:
            raise BitstreamError("sequence_error_code: the encoder marked the stream as damaged", unit.offset)
        else:
            raise BitstreamError(f"reserved or system start code 0x{code:02x} in a video stream", unit.offset)
    pic = b.finish()
    if pic is not None:
        yield pic


def _need_sequence(b: _Builder, unit: Unit, what: str) -> None:
    if b.sequence is not None:
        return
    if b.header is not None:
        raise Mpeg2NotSupported(
            "MPEG-1 video (a sequence header without sequence_extension)", b.header.offset
        )
    raise BitstreamError(f"{what} before any sequence header", unit.offset)


def _extension(b: _Builder, unit: Unit) -> None:
    ext = extension_id(unit)
    if ext in _SCALABLE:
        raise Mpeg2NotSupported(_SCALABLE[ExtensionId(ext)], unit.offset)
    if ext == ExtensionId.SEQUENCE:
        if b.header is None:
            raise BitstreamError("a sequence extension without a sequence header", unit.offset)
        b.sequence = Sequence(b.header, parse_sequence_extension(unit))
    elif ext == ExtensionId.PICTURE_CODING:
        if b.picture is None:
            raise BitstreamError("a picture coding extension outside a picture", unit.offset)
        b.coding = parse_picture_coding_extension(unit)
        if b.coding.picture_structure != PictureStructure.FRAME and b.sequence is not None and \
                b.sequence.extension.progressive_sequence:  # fmt: skip
            raise BitstreamError("a field picture in a progressive sequence", unit.offset)
    elif ext == ExtensionId.QUANT_MATRIX:
        b.matrices = b.matrices.updated(parse_quant_matrix_extension(unit))


def buffer_flags(pic: Picture) -> int:
    kind = pic.header.picture_coding_type
    if kind == PictureCodingType.I:
        return int(C.V4L2_BUF_FLAG_KEYFRAME)
    if kind == PictureCodingType.P:
        return int(C.V4L2_BUF_FLAG_PFRAME)
    return int(C.V4L2_BUF_FLAG_BFRAME)


def stream_format(seq: Sequence) -> StreamFormat:
    return StreamFormat(C.V4L2_PIX_FMT_MPEG2_SLICE, seq.horizontal_size, seq.vertical_size)


def _payload(pic: Picture) -> bytes:
    return b"".join(s.with_start_code for s in pic.slices)


def build(stream: bytes) -> RequestStream:
    """The request stream of an MPEG-2 elementary video stream."""
    pics = tuple(pictures(stream))
    if not pics:
        raise BitstreamError("the stream holds no coded pictures", 0)
    first = pics[0].sequence
    size = (first.horizontal_size, first.vertical_size)
    refs: list[int] = []
    """Timestamps of the reference frames decoded so far, newest last (two kept)."""
    first_field: Picture | None = None
    frame_refs = (0, 0)
    frame = -1
    requests: list[DecodeRequest] = []
    for pic in pics:
        if (pic.sequence.horizontal_size, pic.sequence.vertical_size) != size:
            raise Mpeg2NotSupported("a change of picture size mid-stream", pic.offset)
        second = first_field is not None
        if second:
            assert first_field is not None
            if not pic.is_field:
                where = first_field.offset
                raise BitstreamError(f"a frame picture after the first field at offset {where}", pic.offset)
            if pic.coding.picture_structure == first_field.coding.picture_structure:
                raise BitstreamError("two fields of the same parity in one frame", pic.offset)
        else:
            frame += 1
        ts = timestamp_ns(frame)
        kind = pic.header.picture_coding_type
        if not second:
            frame_refs = _references(kind, refs, pic)
        forward, backward = frame_refs
        if second and kind == PictureCodingType.P and forward == 0:
            forward = ts  # predicts from the first field of its own frame
        elif kind != PictureCodingType.I and forward == 0 and kind == PictureCodingType.P:
            raise BitstreamError("a P picture without a reference picture before it", pic.offset)
        flags = buffer_flags(pic)
        if pic.is_field and not second:
            flags |= C.V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF
        controls = (
            ControlValue.of(C.V4L2_CID_STATELESS_MPEG2_SEQUENCE, sequence_control(pic.sequence)),
            ControlValue.of(C.V4L2_CID_STATELESS_MPEG2_PICTURE,
                            picture_control(pic.header, pic.coding, forward, backward)),
            ControlValue.of(C.V4L2_CID_STATELESS_MPEG2_QUANTISATION, quantisation_control(pic.matrices)),
        )  # fmt: skip
        requests.append(DecodeRequest(controls, _payload(pic), ts, flags))
        if pic.is_field and not second:
            first_field = pic
            continue
        reference = (first_field or pic).is_reference
        first_field = None
        if reference:
            refs = [*refs[-1:], ts]
    if first_field is not None:
        raise BitstreamError("the stream ends after the first field of a frame", first_field.offset)
    return RequestStream(stream_format(first), tuple(requests))


def _references(kind: int, refs: list[int], pic: Picture) -> tuple[int, int]:
    """(forward_ref_ts, backward_ref_ts) of a frame (or of both fields of one)."""
    if kind == PictureCodingType.P:
        return (refs[-1] if refs else 0, 0)
    if kind == PictureCodingType.B:
        if not refs:
            raise BitstreamError("a B picture without a reference picture before it", pic.offset)
        # An open GOP's leading B pictures at the start of a stream lack the forward one.
        return (refs[-2] if len(refs) > 1 else 0, refs[-1])
    return (0, 0)
