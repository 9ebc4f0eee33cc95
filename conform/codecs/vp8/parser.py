"""VP8 frame headers (RFC 6386): the uncompressed data chunk (§9.1) and the first partition's
frame header (§9.2-§9.11, syntax in §19.2), read with the boolean decoder of §7.

Records use the RFC's syntax element names.  A frame is parsed against the
:class:`StreamState` the frames before it left (dimensions from the last key frame,
segment feature data and probabilities, loop filter deltas, the entropy context of
:mod:`conform.codecs.vp8.probs`), and the header records the values *in effect* for the
frame, which is what the V4L2 frame control carries.

Where the header ends matters to a stateless driver: :class:`CoderState` and
``first_part_header_bits`` describe the boolean decoder there, in the convention of
libvpx's ``BOOL_DECODER`` as GStreamer's and FFmpeg's V4L2/VA-API paths report it (the
bits shifted out of the value window since the partition began; the top byte of the
window; the bits of the window below that byte, modulo 8).

Every parse may be traced: with ``trace`` set, each syntax element is recorded as
``(name[subscripts], value, bit position)``; positions of the uncompressed chunk are bit
offsets in the frame, positions of boolean-coded elements are ``8 * chunk size`` plus the
bits the boolean decoder has consumed.  The oracle test compares the trace with
``ffmpeg -bsf:v trace_headers``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from conform.codecs.bitreader import BitstreamError, Trace
from conform.codecs.vp8.probs import (
    COEFF_UPDATE_FLAT,
    MV_UPDATE_PROBS,
    EntropyContext,
    EntropyProbs,
    coeff_index,
)
from conform.codecs.vp8.reader import IvfFrame
from conform.errors import FeatureNotSupported

START_CODE = b"\x9d\x01\x2a"
KEY_FRAME_CHUNK = 10
"""Frame tag (3 bytes), start code (3), horizontal and vertical size codes (2 + 2) (§9.1)."""
INTER_FRAME_CHUNK = 3
NOT_UPDATED = 0xFF
"""No 7-bit MV probability update reads as this."""


class VP8NotSupported(FeatureNotSupported):
    """A stream uses a feature this front-end (or the V4L2 VP8 API) cannot express."""


class BoolDecoder:
    """The boolean entropy decoder of RFC 6386 §7.3 over ``data[start:end]``.

    The value window holds ``bits`` bits (at least 8 before a decode); bytes past ``end``
    read as zero, as in libvpx.  ``consumed`` counts normalisation shifts: the bits of the
    partition decoded so far.
    """

    __slots__ = ("_bits", "_data", "_end", "_pos", "_range", "_start", "_value", "file_offset")

    def __init__(self, data: bytes, start: int, end: int, file_offset: int) -> None:
        self._data = data
        self._start = start
        self._end = end
        self._pos = start
        self._value = 0
        self._bits = 0
        self._range = 255
        self.file_offset = file_offset
        """File offset of ``data[0]`` (errors name file offsets)."""

    def _fill(self) -> None:
        chunk = self._data[self._pos : min(self._pos + 4, self._end)]
        self._value = (self._value << 32) | int.from_bytes(chunk.ljust(4, b"\x00"), "big")
        self._pos += 4
        self._bits += 32

    def read_bool(self, prob: int) -> int:
        split = 1 + (((self._range - 1) * prob) >> 8)
        if self._bits < 8:
            self._fill()
        bigsplit = split << (self._bits - 8)
        if self._value >= bigsplit:
            rng = self._range - split
            self._value -= bigsplit
            bit = 1
        else:
            rng = split
            bit = 0
        if rng < 128:
            shift = 8 - rng.bit_length()
            rng <<= shift
            self._bits -= shift
        self._range = rng
        return bit

    def read_flagged_literals(self, update_probs: bytes, target: bytearray, bits: int) -> None:
        """For each ``n``: a flag at probability ``update_probs[n]``, and when it is set,
        ``target[n] = L(bits)`` (the update loops of §13.4 and §17.2, decoder state kept in
        locals for speed; the same arithmetic as :meth:`read_bool`)."""
        data, end = self._data, self._end
        pos, value, nbits, rng = self._pos, self._value, self._bits, self._range
        for n, prob in enumerate(update_probs):
            split = 1 + (((rng - 1) * prob) >> 8)
            if nbits < 8:
                value = (value << 32) | int.from_bytes(data[pos : min(pos + 4, end)].ljust(4, b"\x00"), "big")
                pos += 4
                nbits += 32
            bigsplit = split << (nbits - 8)
            if value >= bigsplit:
                rng -= split
                value -= bigsplit
                if rng < 128:
                    shift = 8 - rng.bit_length()
                    rng <<= shift
                    nbits -= shift
                self._pos, self._value, self._bits, self._range = pos, value, nbits, rng
                target[n] = self.read_literal(bits)
                pos, value, nbits, rng = self._pos, self._value, self._bits, self._range
            else:
                rng = split
                if rng < 128:
                    shift = 8 - rng.bit_length()
                    rng <<= shift
                    nbits -= shift
        self._pos, self._value, self._bits, self._range = pos, value, nbits, rng

    def read_literal(self, n: int) -> int:
        """``L(n)``: an n-bit unsigned value, most significant bit first, each at probability 128."""
        v = 0
        for _ in range(n):
            v = (v << 1) | self.read_bool(128)
        return v

    def read_signed(self, n: int) -> int:
        """An n-bit magnitude then a sign bit (the delta coding of §9.3, §9.6, §19.2)."""
        magnitude = self.read_literal(n)
        return -magnitude if self.read_bool(128) else magnitude

    @property
    def consumed(self) -> int:
        return 8 * (self._pos - self._start) - self._bits

    def state(self) -> CoderState:
        if self._bits < 8:
            self._fill()
        return CoderState(self._range, (self._value >> (self._bits - 8)) & 0xFF, self._bits % 8)


@dataclass(frozen=True, slots=True)
class CoderState:
    """``struct v4l2_vp8_entropy_coder_state``: the boolean decoder where the header ends."""

    range: int
    value: int
    bit_count: int


@dataclass(frozen=True, slots=True)
class Segmentation:
    """update_segmentation() (§9.3, §19.2) with the feature data and tree probabilities in effect."""

    segmentation_enabled: bool = False
    update_mb_segmentation_map: bool = False
    update_segment_feature_data: bool = False
    segment_feature_mode: int = 0
    """1: absolute values, 0: deltas."""
    quantizer_update_value: tuple[int, ...] = (0, 0, 0, 0)
    lf_update_value: tuple[int, ...] = (0, 0, 0, 0)
    segment_prob: tuple[int, ...] = (255, 255, 255)


@dataclass(frozen=True, slots=True)
class LoopFilter:
    """filter_type, loop_filter_level, sharpness_level and mb_lf_adjustments() (§9.6, §19.2)."""

    filter_type: int = 0
    """0: normal, 1: simple."""
    loop_filter_level: int = 0
    sharpness_level: int = 0
    loop_filter_adj_enable: bool = False
    mode_ref_lf_delta_update: bool = False
    ref_frame_delta: tuple[int, ...] = (0, 0, 0, 0)
    """In effect: intra, last, golden, altref."""
    mb_mode_delta: tuple[int, ...] = (0, 0, 0, 0)
    """In effect: B_PRED, ZEROMV, NEARESTMV..NEWMV (mv), SPLITMV."""


@dataclass(frozen=True, slots=True)
class Quantization:
    """quant_indices() (§9.6, §19.2); absent deltas are 0."""

    y_ac_qi: int
    y_dc_delta: int = 0
    y2_dc_delta: int = 0
    y2_ac_delta: int = 0
    uv_dc_delta: int = 0
    uv_ac_delta: int = 0


@dataclass(frozen=True, slots=True)
class FrameHeader:
    """One VP8 frame's headers, values in effect for the frame."""

    index: int
    offset: int
    """File offset of the frame (its frame tag)."""
    size: int
    key_frame: bool
    version: int
    show_frame: bool
    first_part_size: int
    width: int
    horizontal_scale: int
    height: int
    vertical_scale: int
    color_space: int
    clamping_type: int
    segmentation: Segmentation
    loop_filter: LoopFilter
    log2_nbr_of_dct_partitions: int
    quant: Quantization
    refresh_golden_frame: bool
    refresh_alternate_frame: bool
    copy_buffer_to_golden: int
    """0: none, 1: last frame, 2: alt ref frame."""
    copy_buffer_to_alternate: int
    """0: none, 1: last frame, 2: golden frame."""
    sign_bias_golden: bool
    sign_bias_alternate: bool
    refresh_entropy_probs: bool
    refresh_last: bool
    mb_no_coeff_skip: bool
    prob_skip_false: int
    prob_intra: int
    prob_last: int
    prob_gf: int
    probs: EntropyProbs
    first_part_header_bits: int
    coder_state: CoderState
    partition_sizes: tuple[int, ...]
    """Sizes of the DCT token partitions (§9.5), ``1 << log2_nbr_of_dct_partitions`` of them."""

    @property
    def chunk_size(self) -> int:
        """Bytes before the first partition: 10 for a key frame, 3 otherwise."""
        return KEY_FRAME_CHUNK if self.key_frame else INTER_FRAME_CHUNK


class StreamState:
    """What a VP8 decoder carries from one frame to the next (§9.3, §9.6, §9.7, §9.11)."""

    def __init__(self) -> None:
        self.dimensions: tuple[int, int, int, int] | None = None
        """width, horizontal_scale, height, vertical_scale of the last key frame."""
        self.segmentation = Segmentation()
        self.ref_frame_delta: tuple[int, ...] = (0, 0, 0, 0)
        self.mb_mode_delta: tuple[int, ...] = (0, 0, 0, 0)
        self.entropy = EntropyContext()

    def reset_for_key_frame(self) -> None:
        """A key frame resets segment feature data (deltas, zero), loop filter deltas and
        probabilities (as libvpx's vp8_decode_frame does); tree probabilities persist."""
        self.segmentation = Segmentation(segment_prob=self.segmentation.segment_prob)
        self.ref_frame_delta = (0, 0, 0, 0)
        self.mb_mode_delta = (0, 0, 0, 0)


def _element(trace: Trace | None, name: str, value: int, pos: int) -> None:
    if trace is not None:
        trace.append((name, value, pos))


def parse_frame(frame: IvfFrame, state: StreamState, trace: Trace | None = None) -> FrameHeader:
    """Parse one frame's headers against ``state`` and advance ``state`` past the frame."""
    data, off = frame.data, frame.offset
    if len(data) < INTER_FRAME_CHUNK:
        if not data:
            raise VP8NotSupported(f"an empty (dropped) frame {frame.index}", off)
        raise BitstreamError(f"frame {frame.index} is {len(data)} bytes, shorter than a frame tag", off)
    tag = data[0] | (data[1] << 8) | (data[2] << 16)
    key_frame = not tag & 1
    version = (tag >> 1) & 7
    show_frame = bool((tag >> 4) & 1)
    first_part_size = tag >> 5
    _element(trace, "frame_type", tag & 1, 0)
    _element(trace, "version", version, 1)
    _element(trace, "show_frame", int(show_frame), 4)
    _element(trace, "first_part_size", first_part_size, 5)
    if version > 3:
        raise VP8NotSupported(f"bitstream version {version} (RFC 6386 defines 0 to 3)", off)
    if key_frame:
        if len(data) < KEY_FRAME_CHUNK:
            raise BitstreamError(
                f"key frame {frame.index} is {len(data)} bytes, shorter than its header", off
            )
        for i in range(3):
            _element(trace, "start_code", data[3 + i], 24 + 8 * i)
        if data[3:6] != START_CODE:
            raise BitstreamError(f"key frame start code {data[3:6].hex()} is not 9d012a", off + 3)
        hcode = data[6] | (data[7] << 8)
        vcode = data[8] | (data[9] << 8)
        dims = (hcode & 0x3FFF, hcode >> 14, vcode & 0x3FFF, vcode >> 14)
        for name, value, pos in zip(
            ("width", "horizontal_scale", "height", "vertical_scale"), dims, (48, 62, 64, 78), strict=True
        ):
            _element(trace, name, value, pos)
        if dims[0] == 0 or dims[2] == 0:
            raise BitstreamError(f"key frame {frame.index} has size {dims[0]}x{dims[2]}", off + 6)
        state.dimensions = dims
        state.reset_for_key_frame()
        chunk = KEY_FRAME_CHUNK
    else:
        if state.dimensions is None:
            raise BitstreamError(f"frame {frame.index} is an inter frame before any key frame", off)
        dims = state.dimensions
        chunk = INTER_FRAME_CHUNK
    part_end = chunk + first_part_size
    if part_end > len(data):
        raise BitstreamError(
            f"first partition of frame {frame.index} is {first_part_size} bytes, "
            f"the frame has {len(data) - chunk} after its {chunk}-byte header",
            off,
        )
    bd = BoolDecoder(data, chunk, part_end, off)
    base = 8 * chunk

    def lit(name: str, n: int) -> int:
        pos = base + bd.consumed
        v = bd.read_literal(n)
        _element(trace, name, v, pos)
        return v

    def signed(name: str, n: int) -> int:
        pos = base + bd.consumed
        v = bd.read_signed(n)
        _element(trace, name, v, pos)
        return v

    color_space = clamping_type = 0
    if key_frame:
        color_space = lit("color_space", 1)
        clamping_type = lit("clamping_type", 1)

    # §9.3 segmentation (keyword arguments evaluate, and so read, in order)
    seg = replace(
        state.segmentation,
        segmentation_enabled=False,
        update_mb_segmentation_map=False,
        update_segment_feature_data=False,
    )
    if lit("segmentation_enabled", 1):
        update_map = bool(lit("update_mb_segmentation_map", 1))
        update_data = bool(lit("update_segment_feature_data", 1))
        seg = replace(
            seg, segmentation_enabled=True, update_mb_segmentation_map=update_map,
            update_segment_feature_data=update_data,
        )  # fmt: skip
        if update_data:
            seg = replace(
                seg,
                segment_feature_mode=lit("segment_feature_mode", 1),
                quantizer_update_value=tuple(
                    signed(f"quantizer_update_value[{i}]", 7) if lit("quantizer_update", 1) else 0
                    for i in range(4)
                ),
                lf_update_value=tuple(
                    signed(f"lf_update_value[{i}]", 6) if lit("loop_filter_update", 1) else 0
                    for i in range(4)
                ),
            )
        if update_map:
            seg = replace(
                seg,
                segment_prob=tuple(
                    lit(f"segment_prob[{i}]", 8) if lit("segment_prob_update", 1) else 255 for i in range(3)
                ),
            )
    state.segmentation = seg

    # §9.6 loop filter
    filter_type = lit("filter_type", 1)
    level = lit("loop_filter_level", 6)
    sharpness = lit("sharpness_level", 3)
    adj_enable = bool(lit("loop_filter_adj_enable", 1))
    delta_update = False
    if adj_enable:
        delta_update = bool(lit("mode_ref_lf_delta_update", 1))
        if delta_update:
            ref = list(state.ref_frame_delta)
            for i in range(4):
                if lit("ref_frame_delta_update_flag", 1):
                    ref[i] = signed(f"ref_frame_delta[{i}]", 6)
            mode_d = list(state.mb_mode_delta)
            for i in range(4):
                if lit("mb_mode_delta_update_flag", 1):
                    mode_d[i] = signed(f"mb_mode_delta[{i}]", 6)
            state.ref_frame_delta, state.mb_mode_delta = tuple(ref), tuple(mode_d)
    loop_filter = LoopFilter(filter_type, level, sharpness, adj_enable, delta_update,
                             state.ref_frame_delta, state.mb_mode_delta)  # fmt: skip

    # §9.5 partitions, §9.6 quantizer indices
    log2_parts = lit("log2_nbr_of_dct_partitions", 2)
    y_ac_qi = lit("y_ac_qi", 7)
    deltas = []
    for name in ("y_dc_delta", "y2_dc_delta", "y2_ac_delta", "uv_dc_delta", "uv_ac_delta"):
        deltas.append(signed(name, 4) if lit(f"{name}_present", 1) else 0)
    quant_idx = Quantization(y_ac_qi, *deltas)

    # §9.7-§9.8 reference updates, §9.11 entropy persistence
    entropy = state.entropy
    entropy.begin(key_frame)
    refresh_golden = refresh_alt = refresh_last = True
    copy_golden = copy_alt = 0
    sign_golden = sign_alt = False
    if key_frame:
        refresh_entropy = bool(lit("refresh_entropy_probs", 1))
    else:
        refresh_golden = bool(lit("refresh_golden_frame", 1))
        refresh_alt = bool(lit("refresh_alternate_frame", 1))
        if not refresh_golden:
            copy_golden = lit("copy_buffer_to_golden", 2)
        if not refresh_alt:
            copy_alt = lit("copy_buffer_to_alternate", 2)
        sign_golden = bool(lit("sign_bias_golden", 1))
        sign_alt = bool(lit("sign_bias_alternate", 1))
        refresh_entropy = bool(lit("refresh_entropy_probs", 1))
        refresh_last = bool(lit("refresh_last", 1))
    if not refresh_entropy:
        entropy.save_for_restore()

    # §13.4 token probability updates
    coeff = entropy.coeff
    if trace is None:
        bd.read_flagged_literals(COEFF_UPDATE_FLAT, coeff, 8)
    else:
        for n, update_prob in enumerate(COEFF_UPDATE_FLAT):
            pos = base + bd.consumed
            flag = bd.read_bool(update_prob)
            trace.append(("coeff_prob_update_flag", flag, pos))
            if flag:
                i, j, k, t = coeff_index(n)
                coeff[n] = lit(f"coeff_prob[{i}][{j}][{k}][{t}]", 8)

    # §9.10, §9.11 remaining frame header
    mb_no_coeff_skip = bool(lit("mb_no_coeff_skip", 1))
    prob_skip_false = lit("prob_skip_false", 8) if mb_no_coeff_skip else 0
    prob_intra = prob_last = prob_gf = 0
    if not key_frame:
        prob_intra = lit("prob_intra", 8)
        prob_last = lit("prob_last", 8)
        prob_gf = lit("prob_gf", 8)
        if lit("intra_16x16_prob_update_flag", 1):
            entropy.set_y_mode(tuple(lit(f"intra_16x16_prob[{i}]", 8) for i in range(4)))
        if lit("intra_chroma_prob_update_flag", 1):
            entropy.set_uv_mode(tuple(lit(f"intra_chroma_prob[{i}]", 8) for i in range(3)))
        # §17.2 MV probability updates: a 7-bit x gives probability x << 1, or 1 for x == 0
        for i, updates in enumerate(MV_UPDATE_PROBS):
            raw = bytearray(NOT_UPDATED for _ in updates)
            if trace is None:
                bd.read_flagged_literals(bytes(updates), raw, 7)
            else:
                for j, update_prob in enumerate(updates):
                    pos = base + bd.consumed
                    flag = bd.read_bool(update_prob)
                    trace.append(("mv_prob_update_flag", flag, pos))
                    if flag:
                        raw[j] = lit(f"mv_prob[{i}][{j}]", 7)
            mv = entropy.mv[i]
            for j, x in enumerate(raw):
                if x != NOT_UPDATED:
                    mv[j] = x << 1 if x else 1

    header_bits = bd.consumed
    check_header_end(frame, header_bits, first_part_size, chunk)
    coder_state = bd.state()
    probs_in_effect = entropy.finish()
    sizes = _partition_sizes(frame, part_end, 1 << log2_parts)
    return FrameHeader(
        index=frame.index,
        offset=off,
        size=len(data),
        key_frame=key_frame,
        version=version,
        show_frame=show_frame,
        first_part_size=first_part_size,
        width=dims[0],
        horizontal_scale=dims[1],
        height=dims[2],
        vertical_scale=dims[3],
        color_space=color_space,
        clamping_type=clamping_type,
        segmentation=seg,
        loop_filter=loop_filter,
        log2_nbr_of_dct_partitions=log2_parts,
        quant=quant_idx,
        refresh_golden_frame=refresh_golden,
        refresh_alternate_frame=refresh_alt,
        copy_buffer_to_golden=copy_golden,
        copy_buffer_to_alternate=copy_alt,
        sign_bias_golden=sign_golden,
        sign_bias_alternate=sign_alt,
        refresh_entropy_probs=refresh_entropy,
        refresh_last=refresh_last,
        mb_no_coeff_skip=mb_no_coeff_skip,
        prob_skip_false=prob_skip_false,
        prob_intra=prob_intra,
        prob_last=prob_last,
        prob_gf=prob_gf,
        probs=probs_in_effect,
        first_part_header_bits=header_bits,
        coder_state=coder_state,
        partition_sizes=sizes,
    )


def check_header_end(frame: IvfFrame, header_bits: int, first_part_size: int, chunk: int) -> None:
    """The frame header must end inside the first partition (the boolean decoder reads zeros
    past its end, so a corrupt header would otherwise parse silently)."""
    if header_bits > 8 * first_part_size:
        raise BitstreamError(
            f"frame {frame.index} header needs {header_bits} bits, its first partition has "
            f"{8 * first_part_size}",
            frame.offset + chunk,
        )


def _partition_sizes(frame: IvfFrame, part_end: int, count: int) -> tuple[int, ...]:
    """§9.5: ``count - 1`` 3-byte little-endian sizes after the first partition; the last
    partition takes the rest of the frame."""
    data = frame.data
    table = part_end
    first = table + 3 * (count - 1)
    if first > len(data):
        raise BitstreamError(
            f"frame {frame.index}: the partition size table ({count - 1} entries) runs past the frame",
            frame.offset + table,
        )
    sizes = [int.from_bytes(data[table + 3 * i : table + 3 * i + 3], "little") for i in range(count - 1)]
    used = first + sum(sizes)
    if used > len(data):
        raise BitstreamError(
            f"frame {frame.index}: DCT partitions of {sizes} bytes run past the frame's {len(data)} bytes",
            frame.offset + table,
        )
    sizes.append(len(data) - used)
    return tuple(sizes)


def trace_frames(stream: bytes) -> list[tuple[FrameHeader, Trace]]:
    """Every frame header of an IVF stream with the trace of its parse."""
    from conform.codecs.vp8.reader import frames

    state = StreamState()
    out: list[tuple[FrameHeader, Trace]] = []
    for frame in frames(stream):
        trace: Trace = []
        out.append((parse_frame(frame, state, trace), trace))
    return out
