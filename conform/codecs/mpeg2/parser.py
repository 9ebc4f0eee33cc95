"""MPEG-2 video syntax: sequence, GOP, picture and slice headers and their extensions.

ISO/IEC 13818-2 (Rec. ITU-T H.262) §6.2.2 - §6.2.4.  Records use the spec's syntax
element names.  Quantiser matrices stay in the order the bitstream carries them, the
default zig-zag scan order (§6.3.11), which is the order V4L2's
``v4l2_ctrl_mpeg2_quantisation`` wants.

Every ``parse_*`` takes an optional trace list: the oracle test compares it, element by
element and bit position by bit position, with ``ffmpeg -bsf:v trace_headers``.  Bit
positions count from the start code value byte (position 0), as ffmpeg's do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum

from conform.codecs.bitreader import BitReader, BitstreamError, Rbsp, Trace
from conform.codecs.mpeg2.reader import ExtensionId, StartCode, Unit, units
from conform.errors import FeatureNotSupported

# §7.3 Figure 7-2 (alternate_scan 0): zig-zag index -> raster index.
ZIGZAG = (
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
)  # fmt: skip
# §6.3.11: the default intra matrix, given by the spec in raster order.
DEFAULT_INTRA_RASTER = (
    8, 16, 19, 22, 26, 27, 29, 34,
    16, 16, 22, 24, 27, 29, 34, 37,
    19, 22, 26, 27, 29, 34, 34, 38,
    22, 22, 26, 27, 29, 34, 37, 40,
    22, 26, 27, 29, 32, 35, 40, 48,
    26, 27, 29, 32, 35, 40, 48, 58,
    26, 27, 29, 34, 38, 46, 56, 69,
    27, 29, 35, 38, 46, 56, 69, 83,
)  # fmt: skip
DEFAULT_INTRA = tuple(DEFAULT_INTRA_RASTER[ZIGZAG[i]] for i in range(64))
"""The default intra matrix in zig-zag scan order (the bitstream's and V4L2's order)."""
DEFAULT_NON_INTRA = (16,) * 64

Matrix = tuple[int, ...]


class Mpeg2NotSupported(FeatureNotSupported):
    """A stream uses a feature this front-end (or the V4L2 MPEG-2 API) cannot express."""


class PictureCodingType(IntEnum):
    """Table 6-12."""

    I = 1  # noqa: E741 - the spec's name
    P = 2
    B = 3
    D = 4


class PictureStructure(IntEnum):
    """Table 6-14."""

    TOP_FIELD = 1
    BOTTOM_FIELD = 2
    FRAME = 3


@dataclass(frozen=True, slots=True)
class SequenceHeader:
    """sequence_header() (§6.2.2.1); matrices in zig-zag order, None when not loaded."""

    offset: int
    horizontal_size_value: int
    vertical_size_value: int
    aspect_ratio_information: int
    frame_rate_code: int
    bit_rate_value: int
    vbv_buffer_size_value: int
    constrained_parameters_flag: bool
    intra_quantiser_matrix: Matrix | None
    non_intra_quantiser_matrix: Matrix | None


@dataclass(frozen=True, slots=True)
class SequenceExtension:
    """sequence_extension() (§6.2.2.3)."""

    offset: int
    profile_and_level_indication: int
    progressive_sequence: bool
    chroma_format: int
    horizontal_size_extension: int
    vertical_size_extension: int
    bit_rate_extension: int
    vbv_buffer_size_extension: int
    low_delay: bool
    frame_rate_extension_n: int
    frame_rate_extension_d: int


@dataclass(frozen=True, slots=True)
class Sequence:
    """A sequence header with its sequence extension: what V4L2's sequence control carries."""

    header: SequenceHeader
    extension: SequenceExtension

    @property
    def horizontal_size(self) -> int:
        return self.header.horizontal_size_value | self.extension.horizontal_size_extension << 12

    @property
    def vertical_size(self) -> int:
        return self.header.vertical_size_value | self.extension.vertical_size_extension << 12

    @property
    def mb_width(self) -> int:
        return (self.horizontal_size + 15) // 16

    @property
    def mb_height(self) -> int:
        """§6.3.3: frame macroblock rows; an interlaced sequence rounds to whole field rows."""
        if self.extension.progressive_sequence:
            return (self.vertical_size + 15) // 16
        return 2 * ((self.vertical_size + 31) // 32)

    @property
    def vbv_buffer_size(self) -> int:
        """In units of 16 kbit (§6.3.3)."""
        return self.header.vbv_buffer_size_value | self.extension.vbv_buffer_size_extension << 10


@dataclass(frozen=True, slots=True)
class GroupOfPicturesHeader:
    """group_of_pictures_header() (§6.2.2.6)."""

    offset: int
    time_code: int
    closed_gop: bool
    broken_link: bool


@dataclass(frozen=True, slots=True)
class PictureHeader:
    """picture_header() (§6.2.3)."""

    offset: int
    temporal_reference: int
    picture_coding_type: int
    vbv_delay: int
    full_pel_forward_vector: bool = False
    forward_f_code: int = 0
    full_pel_backward_vector: bool = False
    backward_f_code: int = 0


@dataclass(frozen=True, slots=True)
class PictureCodingExtension:
    """picture_coding_extension() (§6.2.3.1)."""

    offset: int
    f_code: tuple[tuple[int, int], tuple[int, int]]
    """``f_code[s][t]``: s 0 forward, 1 backward; t 0 horizontal, 1 vertical."""
    intra_dc_precision: int
    picture_structure: int
    top_field_first: bool
    frame_pred_frame_dct: bool
    concealment_motion_vectors: bool
    q_scale_type: bool
    intra_vlc_format: bool
    alternate_scan: bool
    repeat_first_field: bool
    chroma_420_type: bool
    progressive_frame: bool
    composite_display_flag: bool


@dataclass(frozen=True, slots=True)
class QuantMatrixExtension:
    """quant_matrix_extension() (§6.2.3.2); each matrix None when not loaded."""

    offset: int
    intra_quantiser_matrix: Matrix | None
    non_intra_quantiser_matrix: Matrix | None
    chroma_intra_quantiser_matrix: Matrix | None
    chroma_non_intra_quantiser_matrix: Matrix | None


@dataclass(frozen=True, slots=True)
class SliceHeader:
    """The header part of slice() (§6.2.4), up to the first macroblock."""

    offset: int
    slice_vertical_position: int
    slice_vertical_position_extension: int
    quantiser_scale_code: int
    intra_slice: bool

    @property
    def mb_row(self) -> int:
        """§6.3.16: the macroblock row, counting from 0."""
        return (self.slice_vertical_position_extension << 7) + self.slice_vertical_position - 1


@dataclass(frozen=True, slots=True)
class QuantMatrices:
    """The four matrices in effect (zig-zag order), §6.3.11 and §6.3.7."""

    intra: Matrix = DEFAULT_INTRA
    non_intra: Matrix = DEFAULT_NON_INTRA
    chroma_intra: Matrix = DEFAULT_INTRA
    chroma_non_intra: Matrix = DEFAULT_NON_INTRA

    @classmethod
    def of_sequence(cls, seq: SequenceHeader) -> QuantMatrices:
        """A sequence header resets all four: loaded ones, else the defaults; chroma follows luma."""
        intra = seq.intra_quantiser_matrix or DEFAULT_INTRA
        non_intra = seq.non_intra_quantiser_matrix or DEFAULT_NON_INTRA
        return cls(intra, non_intra, intra, non_intra)

    def updated(self, ext: QuantMatrixExtension) -> QuantMatrices:
        """A quant matrix extension replaces what it loads; a loaded luma matrix also sets the
        chroma one unless that is loaded too (§6.3.11)."""
        intra, non_intra = self.intra, self.non_intra
        chroma_intra, chroma_non_intra = self.chroma_intra, self.chroma_non_intra
        if ext.intra_quantiser_matrix is not None:
            intra = chroma_intra = ext.intra_quantiser_matrix
        if ext.non_intra_quantiser_matrix is not None:
            non_intra = chroma_non_intra = ext.non_intra_quantiser_matrix
        if ext.chroma_intra_quantiser_matrix is not None:
            chroma_intra = ext.chroma_intra_quantiser_matrix
        if ext.chroma_non_intra_quantiser_matrix is not None:
            chroma_non_intra = ext.chroma_non_intra_quantiser_matrix
        return QuantMatrices(intra, non_intra, chroma_intra, chroma_non_intra)


def reader(unit: Unit, trace: Trace | None = None) -> BitReader:
    """A bit reader over ``unit`` from its start code value byte (MPEG-2 has no emulation prevention)."""
    return BitReader(Rbsp(unit.data, unit.offset + 3), trace=trace)


def _marker(r: BitReader) -> None:
    if not r.flag("marker_bit"):
        raise r.error("marker_bit is 0")


def _matrix(r: BitReader, name: str) -> Matrix:
    values = tuple(r.u(8, name) for _ in range(64))
    if 0 in values:
        raise r.error(f"{name} holds a zero (§6.3.11 forbids it)")
    return values


def _load(r: BitReader, flag: str, name: str) -> Matrix | None:
    return _matrix(r, name) if r.flag(flag) else None


def parse_sequence_header(unit: Unit, trace: Trace | None = None) -> SequenceHeader:
    r = reader(unit, trace)
    r.u(8, "sequence_header_code")
    horizontal = r.u(12, "horizontal_size_value")
    vertical = r.u(12, "vertical_size_value")
    aspect = r.u(4, "aspect_ratio_information")
    rate = r.u(4, "frame_rate_code")
    bit_rate = r.u(18, "bit_rate_value")
    _marker(r)
    vbv = r.u(10, "vbv_buffer_size_value")
    constrained = r.flag("constrained_parameters_flag")
    intra = _load(r, "load_intra_quantiser_matrix", "intra_quantiser_matrix")
    non_intra = _load(r, "load_non_intra_quantiser_matrix", "non_intra_quantiser_matrix")
    if horizontal == 0 or vertical == 0:
        raise BitstreamError(f"picture size {horizontal}x{vertical} in the sequence header", unit.offset)
    return SequenceHeader(unit.offset, horizontal, vertical, aspect, rate, bit_rate, vbv, constrained,
                          intra, non_intra)  # fmt: skip


def _extension_id(r: BitReader) -> int:
    r.u(8, "extension_start_code")
    return r.u(4, "extension_start_code_identifier")


def extension_id(unit: Unit) -> int:
    """The extension_start_code_identifier of an extension unit."""
    if len(unit.data) < 2:
        raise BitstreamError("truncated extension: no extension_start_code_identifier", unit.offset)
    return unit.data[1] >> 4


def parse_sequence_extension(unit: Unit, trace: Trace | None = None) -> SequenceExtension:
    r = reader(unit, trace)
    _extension_id(r)
    profile_level = r.u(8, "profile_and_level_indication")
    progressive = r.flag("progressive_sequence")
    chroma = r.u(2, "chroma_format")
    if chroma == 0:
        raise r.error("chroma_format 0 is reserved")
    h_ext = r.u(2, "horizontal_size_extension")
    v_ext = r.u(2, "vertical_size_extension")
    br_ext = r.u(12, "bit_rate_extension")
    _marker(r)
    vbv_ext = r.u(8, "vbv_buffer_size_extension")
    low_delay = r.flag("low_delay")
    n = r.u(2, "frame_rate_extension_n")
    d = r.u(5, "frame_rate_extension_d")
    return SequenceExtension(unit.offset, profile_level, progressive, chroma, h_ext, v_ext, br_ext, vbv_ext,
                             low_delay, n, d)  # fmt: skip


def parse_sequence_display_extension(unit: Unit, trace: Trace | None = None) -> None:
    """sequence_display_extension() (§6.2.2.4): read for its trace; V4L2 has no use for it."""
    r = reader(unit, trace)
    _extension_id(r)
    r.u(3, "video_format")
    if r.flag("colour_description"):
        r.u(8, "colour_primaries")
        r.u(8, "transfer_characteristics")
        r.u(8, "matrix_coefficients")
    r.u(14, "display_horizontal_size")
    _marker(r)
    r.u(14, "display_vertical_size")


def parse_group_of_pictures_header(unit: Unit, trace: Trace | None = None) -> GroupOfPicturesHeader:
    r = reader(unit, trace)
    r.u(8, "group_start_code")
    time_code = r.u(25, "time_code")
    closed = r.flag("closed_gop")
    broken = r.flag("broken_link")
    return GroupOfPicturesHeader(unit.offset, time_code, closed, broken)


def parse_picture_header(unit: Unit, trace: Trace | None = None) -> PictureHeader:
    r = reader(unit, trace)
    r.u(8, "picture_start_code")
    temporal_reference = r.u(10, "temporal_reference")
    kind = r.u(3, "picture_coding_type")
    if kind not in (1, 2, 3, 4):
        raise r.error(f"picture_coding_type {kind} is reserved")
    vbv_delay = r.u(16, "vbv_delay")
    fpf = fpb = False
    ff = bf = 0
    if kind in (PictureCodingType.P, PictureCodingType.B):
        fpf = r.flag("full_pel_forward_vector")
        ff = r.u(3, "forward_f_code")
    if kind == PictureCodingType.B:
        fpb = r.flag("full_pel_backward_vector")
        bf = r.u(3, "backward_f_code")
    while r.flag("extra_bit_picture"):
        r.u(8, "extra_information_picture")
    return PictureHeader(unit.offset, temporal_reference, kind, vbv_delay, fpf, ff, fpb, bf)


def parse_picture_coding_extension(unit: Unit, trace: Trace | None = None) -> PictureCodingExtension:
    r = reader(unit, trace)
    _extension_id(r)
    f = [[r.u(4, f"f_code[{s}][{t}]") for t in range(2)] for s in range(2)]
    dc = r.u(2, "intra_dc_precision")
    structure = r.u(2, "picture_structure")
    if structure == 0:
        raise r.error("picture_structure 0 is reserved")
    top_field_first = r.flag("top_field_first")
    frame_pred_frame_dct = r.flag("frame_pred_frame_dct")
    concealment_motion_vectors = r.flag("concealment_motion_vectors")
    q_scale_type = r.flag("q_scale_type")
    intra_vlc_format = r.flag("intra_vlc_format")
    alternate_scan = r.flag("alternate_scan")
    repeat_first_field = r.flag("repeat_first_field")
    chroma_420_type = r.flag("chroma_420_type")
    progressive_frame = r.flag("progressive_frame")
    composite = r.flag("composite_display_flag")
    if composite:
        r.flag("v_axis")
        r.u(3, "field_sequence")
        r.flag("sub_carrier")
        r.u(7, "burst_amplitude")
        r.u(8, "sub_carrier_phase")
    return PictureCodingExtension(
        unit.offset, ((f[0][0], f[0][1]), (f[1][0], f[1][1])), dc, structure, top_field_first,
        frame_pred_frame_dct, concealment_motion_vectors, q_scale_type, intra_vlc_format, alternate_scan,
        repeat_first_field, chroma_420_type, progressive_frame, composite,
    )  # fmt: skip


def parse_quant_matrix_extension(unit: Unit, trace: Trace | None = None) -> QuantMatrixExtension:
    r = reader(unit, trace)
    _extension_id(r)
    return QuantMatrixExtension(
        unit.offset,
        _load(r, "load_intra_quantiser_matrix", "intra_quantiser_matrix"),
        _load(r, "load_non_intra_quantiser_matrix", "non_intra_quantiser_matrix"),
        _load(r, "load_chroma_intra_quantiser_matrix", "chroma_intra_quantiser_matrix"),
        _load(r, "load_chroma_non_intra_quantiser_matrix", "chroma_non_intra_quantiser_matrix"),
    )


def frame_centre_offsets(seq: SequenceExtension, pce: PictureCodingExtension) -> int:
    """§6.3.12: how many frame centre offsets a picture display extension carries."""
    if seq.progressive_sequence:
        return (3 if pce.top_field_first else 2) if pce.repeat_first_field else 1
    if pce.picture_structure != PictureStructure.FRAME:
        return 1
    return 3 if pce.repeat_first_field else 2


def parse_picture_display_extension(unit: Unit, offsets: int, trace: Trace | None = None) -> None:
    """picture_display_extension() (§6.2.3.3): read for its trace."""
    r = reader(unit, trace)
    _extension_id(r)
    for i in range(offsets):
        r.u(16, f"frame_centre_horizontal_offset[{i}]")
        _marker(r)
        r.u(16, f"frame_centre_vertical_offset[{i}]")
        _marker(r)


def parse_slice_header(unit: Unit, vertical_size: int, trace: Trace | None = None) -> SliceHeader:
    """The slice header (§6.2.4) of a stream without scalable extensions."""
    r = reader(unit, trace)
    position = r.u(8, "slice_vertical_position")
    extension = r.u(3, "slice_vertical_position_extension") if vertical_size > 2800 else 0
    qscale = r.u(5, "quantiser_scale_code")
    if qscale == 0:
        raise r.error("quantiser_scale_code 0 is forbidden")
    intra_slice = False
    if r.bits_left() > 0 and r.rbsp.data[r.pos // 8] >> (7 - r.pos % 8) & 1:
        r.flag("intra_slice_flag")
        intra_slice = r.flag("intra_slice")
        r.flag("slice_picture_id_enable")
        r.u(6, "slice_picture_id")
        while r.flag("extra_bit_slice"):
            r.u(8, "extra_information_slice")
    else:
        r.flag("extra_bit_slice")
    return SliceHeader(unit.offset, position, extension, qscale, intra_slice)


HEADER_TITLES: dict[str, str] = {
    "sequence_header": "Sequence Header",
    "sequence_extension": "Sequence Extension",
    "sequence_display_extension": "Sequence Display Extension",
    "quant_matrix_extension": "Quant Matrix Extension",
    "picture_display_extension": "Picture Display Extension",
    "picture_coding_extension": "Picture Coding Extension",
    "group_of_pictures_header": "Group of Pictures Header",
    "picture_header": "Picture Header",
    "slice_header": "Slice Header",
    "sequence_end": "Sequence End",
}
"""The headers traced, under the titles ``ffmpeg -bsf:v trace_headers`` gives them."""


def trace_headers(stream: bytes) -> Iterator[tuple[Unit, str, Trace]]:
    """Every header of an elementary stream with the trace of its parse, in stream order."""
    seq_ext: SequenceExtension | None = None
    seq_hdr: SequenceHeader | None = None
    pce: PictureCodingExtension | None = None
    for unit in units(stream):
        trace: Trace = []
        code = unit.code
        if code == StartCode.SEQUENCE_HEADER:
            seq_hdr = parse_sequence_header(unit, trace)
            title = HEADER_TITLES["sequence_header"]
        elif code == StartCode.GROUP:
            parse_group_of_pictures_header(unit, trace)
            title = HEADER_TITLES["group_of_pictures_header"]
        elif code == StartCode.PICTURE:
            parse_picture_header(unit, trace)
            title = HEADER_TITLES["picture_header"]
        elif code == StartCode.SEQUENCE_END:
            reader(unit, trace).u(8, "sequence_end_code")
            title = HEADER_TITLES["sequence_end"]
        elif code == StartCode.EXTENSION:
            ext = extension_id(unit)
            if ext == ExtensionId.SEQUENCE:
                seq_ext = parse_sequence_extension(unit, trace)
                title = HEADER_TITLES["sequence_extension"]
            elif ext == ExtensionId.SEQUENCE_DISPLAY:
                parse_sequence_display_extension(unit, trace)
                title = HEADER_TITLES["sequence_display_extension"]
            elif ext == ExtensionId.QUANT_MATRIX:
                parse_quant_matrix_extension(unit, trace)
                title = HEADER_TITLES["quant_matrix_extension"]
            elif ext == ExtensionId.PICTURE_CODING:
                pce = parse_picture_coding_extension(unit, trace)
                title = HEADER_TITLES["picture_coding_extension"]
            elif ext == ExtensionId.PICTURE_DISPLAY and seq_ext is not None and pce is not None:
                parse_picture_display_extension(unit, frame_centre_offsets(seq_ext, pce), trace)
                title = HEADER_TITLES["picture_display_extension"]
            else:
                continue
        elif unit.is_slice and seq_hdr is not None:
            vertical = seq_hdr.vertical_size_value | (seq_ext.vertical_size_extension << 12 if seq_ext else 0)
            parse_slice_header(unit, vertical, trace)
            title = HEADER_TITLES["slice_header"]
        else:
            continue
        yield unit, title, trace
