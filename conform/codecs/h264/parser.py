"""H.264 syntax: SPS, PPS and slice header (Rec. ITU-T H.264 (08/2021) §7.3, Annex E.1).

Records use the spec's syntax element names.  VUI and HRD are read in full (their
length is what matters: a wrong VUI walk shifts everything after it) but only the
fields a stateless client uses are kept.  Scaling lists are resolved with the
fall-back rules of Table 7-2 so the parameter sets carry the lists in effect.

Every ``parse_*`` takes an optional trace list: the oracle test compares it, element by
element and bit position by bit position, with ``ffmpeg -bsf:v trace_headers``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from conform.codecs.bitreader import BitReader, BitstreamError, Rbsp, RbspExhausted, Trace
from conform.codecs.h264.reader import NalUnit, NalUnitType
from conform.errors import FeatureNotSupported

# §7.4.2.1.1: profiles whose SPS carries chroma_format_idc, bit depths and scaling lists.
HIGH_PROFILES = frozenset((100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135))

# Table 7-3 and 7-4, in zig-zag scan order.
DEFAULT_4X4_INTRA = (6, 13, 13, 20, 20, 20, 28, 28, 28, 28, 32, 32, 32, 37, 37, 42)
DEFAULT_4X4_INTER = (10, 14, 14, 20, 20, 20, 24, 24, 24, 24, 27, 27, 27, 30, 30, 34)
DEFAULT_8X8_INTRA = (
    6, 10, 10, 13, 11, 13, 16, 16, 16, 16, 18, 18, 18, 18, 18, 23,
    23, 23, 23, 23, 23, 25, 25, 25, 25, 25, 25, 25, 27, 27, 27, 27,
    27, 27, 27, 27, 29, 29, 29, 29, 29, 29, 29, 31, 31, 31, 31, 31,
    31, 33, 33, 33, 33, 33, 36, 36, 36, 36, 38, 38, 38, 40, 40, 42,
)  # fmt: skip
DEFAULT_8X8_INTER = (
    9, 13, 13, 15, 13, 15, 17, 17, 17, 17, 19, 19, 19, 19, 19, 21,
    21, 21, 21, 21, 21, 22, 22, 22, 22, 22, 22, 22, 24, 24, 24, 24,
    24, 24, 24, 24, 25, 25, 25, 25, 25, 25, 25, 27, 27, 27, 27, 27,
    27, 28, 28, 28, 28, 28, 30, 30, 30, 30, 32, 32, 32, 33, 33, 35,
)  # fmt: skip
FLAT_4X4 = (16,) * 16
FLAT_8X8 = (16,) * 64

ScalingList = tuple[int, ...]


class H264NotSupported(FeatureNotSupported):
    """A stream uses a feature this front-end (or the V4L2 H.264 API) cannot express."""


class SliceType(IntEnum):
    """Table 7-6, ``slice_type % 5``."""

    P = 0
    B = 1
    I = 2  # noqa: E741 - the spec's name
    SP = 3
    SI = 4


@dataclass(frozen=True, slots=True)
class ScalingMatrix:
    """The lists in effect (zig-zag order): six 4x4, and two or six 8x8 lists."""

    lists_4x4: tuple[ScalingList, ...]
    lists_8x8: tuple[ScalingList, ...]


FLAT_MATRIX = ScalingMatrix((FLAT_4X4,) * 6, (FLAT_8X8,) * 6)


@dataclass(frozen=True, slots=True)
class Vui:
    """E.1.1, the fields a decoder client uses; the rest is read and dropped."""

    video_full_range_flag: bool = False
    colour_primaries: int = 2
    transfer_characteristics: int = 2
    matrix_coefficients: int = 2
    max_num_reorder_frames: int | None = None
    max_dec_frame_buffering: int | None = None


@dataclass(frozen=True, slots=True)
class Sps:
    """seq_parameter_set_data() (§7.3.2.1.1)."""

    offset: int
    profile_idc: int
    constraint_set_flags: int
    """constraint_set0_flag in bit 0 … constraint_set5_flag in bit 5 (V4L2's layout)."""
    level_idc: int
    seq_parameter_set_id: int
    chroma_format_idc: int = 1
    separate_colour_plane_flag: bool = False
    bit_depth_luma_minus8: int = 0
    bit_depth_chroma_minus8: int = 0
    qpprime_y_zero_transform_bypass_flag: bool = False
    seq_scaling_matrix_present_flag: bool = False
    scaling_matrix: ScalingMatrix = FLAT_MATRIX
    log2_max_frame_num_minus4: int = 0
    pic_order_cnt_type: int = 0
    log2_max_pic_order_cnt_lsb_minus4: int = 0
    delta_pic_order_always_zero_flag: bool = False
    offset_for_non_ref_pic: int = 0
    offset_for_top_to_bottom_field: int = 0
    offset_for_ref_frame: tuple[int, ...] = ()
    max_num_ref_frames: int = 0
    gaps_in_frame_num_value_allowed_flag: bool = False
    pic_width_in_mbs_minus1: int = 0
    pic_height_in_map_units_minus1: int = 0
    frame_mbs_only_flag: bool = True
    mb_adaptive_frame_field_flag: bool = False
    direct_8x8_inference_flag: bool = False
    frame_cropping_flag: bool = False
    frame_crop_left_offset: int = 0
    frame_crop_right_offset: int = 0
    frame_crop_top_offset: int = 0
    frame_crop_bottom_offset: int = 0
    vui_parameters_present_flag: bool = False
    vui: Vui = field(default_factory=Vui)

    @property
    def chroma_array_type(self) -> int:
        return 0 if self.separate_colour_plane_flag else self.chroma_format_idc

    @property
    def max_frame_num(self) -> int:
        return 1 << (self.log2_max_frame_num_minus4 + 4)

    @property
    def max_pic_order_cnt_lsb(self) -> int:
        return 1 << (self.log2_max_pic_order_cnt_lsb_minus4 + 4)

    @property
    def width_mbs(self) -> int:
        return self.pic_width_in_mbs_minus1 + 1

    @property
    def height_mbs(self) -> int:
        """FrameHeightInMbs (7-18)."""
        return (2 - int(self.frame_mbs_only_flag)) * (self.pic_height_in_map_units_minus1 + 1)

    @property
    def pic_size_in_map_units(self) -> int:
        return self.width_mbs * (self.pic_height_in_map_units_minus1 + 1)


@dataclass(frozen=True, slots=True)
class Pps:
    """pic_parameter_set_rbsp() (§7.3.2.2)."""

    offset: int
    pic_parameter_set_id: int
    seq_parameter_set_id: int
    entropy_coding_mode_flag: bool
    bottom_field_pic_order_in_frame_present_flag: bool
    num_slice_groups_minus1: int
    slice_group_map_type: int
    slice_group_change_rate_minus1: int
    num_ref_idx_l0_default_active_minus1: int
    num_ref_idx_l1_default_active_minus1: int
    weighted_pred_flag: bool
    weighted_bipred_idc: int
    pic_init_qp_minus26: int
    pic_init_qs_minus26: int
    chroma_qp_index_offset: int
    deblocking_filter_control_present_flag: bool
    constrained_intra_pred_flag: bool
    redundant_pic_cnt_present_flag: bool
    transform_8x8_mode_flag: bool = False
    pic_scaling_matrix_present_flag: bool = False
    scaling_matrix: ScalingMatrix = FLAT_MATRIX
    """The lists in effect for pictures using this PPS (the SPS's when the PPS sends none)."""
    second_chroma_qp_index_offset: int = 0


@dataclass(frozen=True, slots=True)
class RefPicListModification:
    """One (modification_of_pic_nums_idc, value) of ref_pic_list_modification() (§7.3.3.1)."""

    modification_of_pic_nums_idc: int
    value: int
    """abs_diff_pic_num_minus1 (idc 0, 1) or long_term_pic_num (idc 2)."""


@dataclass(frozen=True, slots=True)
class WeightEntry:
    """One reference's weights; absent flags leave the defaults of §7.4.3.2."""

    luma_weight: int
    luma_offset: int
    chroma_weight: tuple[int, int]
    chroma_offset: tuple[int, int]


@dataclass(frozen=True, slots=True)
class PredWeightTable:
    """pred_weight_table() (§7.3.3.2), inferred weights filled in."""

    luma_log2_weight_denom: int
    chroma_log2_weight_denom: int
    l0: tuple[WeightEntry, ...]
    l1: tuple[WeightEntry, ...]


@dataclass(frozen=True, slots=True)
class Mmco:
    """One memory_management_control_operation with its operands (§7.3.3.3)."""

    memory_management_control_operation: int
    difference_of_pic_nums_minus1: int = 0
    long_term_pic_num: int = 0
    long_term_frame_idx: int = 0
    max_long_term_frame_idx_plus1: int = 0


@dataclass(frozen=True, slots=True)
class DecRefPicMarking:
    """dec_ref_pic_marking() (§7.3.3.3)."""

    no_output_of_prior_pics_flag: bool = False
    long_term_reference_flag: bool = False
    adaptive_ref_pic_marking_mode_flag: bool = False
    mmcos: tuple[Mmco, ...] = ()


@dataclass(frozen=True, slots=True)
class SliceHeader:
    """slice_header() (§7.3.3) plus the bit sizes V4L2's controls carry."""

    nal: NalUnit = field(repr=False)
    first_mb_in_slice: int
    slice_type: int
    pic_parameter_set_id: int
    colour_plane_id: int
    frame_num: int
    field_pic_flag: bool
    bottom_field_flag: bool
    idr_pic_id: int
    pic_order_cnt_lsb: int
    delta_pic_order_cnt_bottom: int
    delta_pic_order_cnt: tuple[int, int]
    redundant_pic_cnt: int
    direct_spatial_mv_pred_flag: bool
    num_ref_idx_active_override_flag: bool
    num_ref_idx_l0_active_minus1: int
    num_ref_idx_l1_active_minus1: int
    ref_pic_list_modification_l0: tuple[RefPicListModification, ...] | None
    ref_pic_list_modification_l1: tuple[RefPicListModification, ...] | None
    pred_weight_table: PredWeightTable | None
    dec_ref_pic_marking: DecRefPicMarking | None
    cabac_init_idc: int
    slice_qp_delta: int
    sp_for_switch_flag: bool
    slice_qs_delta: int
    disable_deblocking_filter_idc: int
    slice_alpha_c0_offset_div2: int
    slice_beta_offset_div2: int
    slice_group_change_cycle: int
    header_bit_size: int
    """Bits from the end of the NAL header to slice_data(), in the RBSP (emulation prevention
    bytes not counted, as GStreamer counts them for cedrus, which skips them in hardware)."""
    pic_order_cnt_bit_size: int
    """Bits of pic_order_cnt_lsb, delta_pic_order_cnt_bottom and delta_pic_order_cnt[0..1]."""
    dec_ref_pic_marking_bit_size: int
    """Bits of dec_ref_pic_marking() (0 for a non-reference picture)."""

    @property
    def kind(self) -> SliceType:
        return SliceType(self.slice_type % 5)

    @property
    def idr(self) -> bool:
        return self.nal.nal_unit_type == NalUnitType.SLICE_IDR

    @property
    def nal_ref_idc(self) -> int:
        return self.nal.nal_ref_idc

    @property
    def has_mmco5(self) -> bool:
        m = self.dec_ref_pic_marking
        return m is not None and any(op.memory_management_control_operation == 5 for op in m.mmcos)


def rbsp_of(nal: NalUnit, limit: int | None = None) -> Rbsp:
    return Rbsp.unescape(nal.data, nal.offset, limit)


def _nal_header(r: BitReader) -> None:
    r.u(1, "forbidden_zero_bit")
    r.u(2, "nal_ref_idc")
    r.u(5, "nal_unit_type")


def _scaling_list(r: BitReader, size: int, default: ScalingList) -> tuple[ScalingList, bool]:
    """§7.3.2.1.1.1; returns the list and useDefaultScalingMatrixFlag."""
    last = nxt = 8
    out: list[int] = []
    for j in range(size):
        if nxt != 0:
            delta = r.se("delta_scale", -128, 127)
            nxt = (last + delta + 256) % 256
            if j == 0 and nxt == 0:
                return default, True
        value = last if nxt == 0 else nxt
        out.append(value)
        last = value
    return tuple(out), False


def _scaling_lists(r: BitReader, count: int, name: str, fallback: ScalingMatrix | None) -> ScalingMatrix:
    """Read ``count`` lists and apply fall-back rule A (``fallback`` None) or B (Table 7-2)."""
    defaults = (DEFAULT_4X4_INTRA,) * 3 + (DEFAULT_4X4_INTER,) * 3
    l4: list[ScalingList] = []
    l8: list[ScalingList] = []
    for i in range(count):
        present = r.flag(name)
        if i < 6:
            if present:
                lst, _ = _scaling_list(r, 16, defaults[i])
            elif i in (0, 3):
                lst = defaults[i] if fallback is None else fallback.lists_4x4[i]
            else:
                lst = l4[i - 1]
            l4.append(lst)
        else:
            k = i - 6
            default8 = DEFAULT_8X8_INTRA if k % 2 == 0 else DEFAULT_8X8_INTER
            if present:
                lst, _ = _scaling_list(r, 64, default8)
            elif k < 2:
                lst = default8 if fallback is None else fallback.lists_8x8[k]
            else:
                lst = l8[k - 2]
            l8.append(lst)
    if not l8:
        # No 8x8 lists sent (transform_8x8_mode_flag 0): those of the level below, unused.
        l8 = list(fallback.lists_8x8 if fallback is not None else FLAT_MATRIX.lists_8x8)
    while len(l8) < 6:
        l8.append(l8[len(l8) - 2])  # 4:2:0 and 4:2:2 send two; Cb and Cr repeat them (rule A/B)
    return ScalingMatrix(tuple(l4), tuple(l8))


def _hrd(r: BitReader) -> None:
    cpb_cnt_minus1 = r.ue("cpb_cnt_minus1", 31)
    r.u(4, "bit_rate_scale")
    r.u(4, "cpb_size_scale")
    for _ in range(cpb_cnt_minus1 + 1):
        r.ue("bit_rate_value_minus1")
        r.ue("cpb_size_value_minus1")
        r.u(1, "cbr_flag")
    r.u(5, "initial_cpb_removal_delay_length_minus1")
    r.u(5, "cpb_removal_delay_length_minus1")
    r.u(5, "dpb_output_delay_length_minus1")
    r.u(5, "time_offset_length")


def _vui(r: BitReader) -> Vui:
    """vui_parameters() (E.1.1)."""
    full_range, primaries, transfer, matrix = False, 2, 2, 2
    reorder: int | None = None
    dec_buffering: int | None = None
    if r.flag("aspect_ratio_info_present_flag") and r.u(8, "aspect_ratio_idc") == 255:
        r.u(16, "sar_width")
        r.u(16, "sar_height")
    if r.flag("overscan_info_present_flag"):
        r.u(1, "overscan_appropriate_flag")
    if r.flag("video_signal_type_present_flag"):
        r.u(3, "video_format")
        full_range = r.flag("video_full_range_flag")
        if r.flag("colour_description_present_flag"):
            primaries = r.u(8, "colour_primaries")
            transfer = r.u(8, "transfer_characteristics")
            matrix = r.u(8, "matrix_coefficients")
    if r.flag("chroma_loc_info_present_flag"):
        r.ue("chroma_sample_loc_type_top_field", 5)
        r.ue("chroma_sample_loc_type_bottom_field", 5)
    if r.flag("timing_info_present_flag"):
        r.u(32, "num_units_in_tick")
        r.u(32, "time_scale")
        r.u(1, "fixed_frame_rate_flag")
    nal_hrd = r.flag("nal_hrd_parameters_present_flag")
    if nal_hrd:
        _hrd(r)
    vcl_hrd = r.flag("vcl_hrd_parameters_present_flag")
    if vcl_hrd:
        _hrd(r)
    if nal_hrd or vcl_hrd:
        r.u(1, "low_delay_hrd_flag")
    r.u(1, "pic_struct_present_flag")
    if r.flag("bitstream_restriction_flag"):
        r.u(1, "motion_vectors_over_pic_boundaries_flag")
        r.ue("max_bytes_per_pic_denom", 16)
        r.ue("max_bits_per_mb_denom", 16)
        r.ue("log2_max_mv_length_horizontal", 16)
        r.ue("log2_max_mv_length_vertical", 16)
        reorder = r.ue("max_num_reorder_frames", 16)
        dec_buffering = r.ue("max_dec_frame_buffering", 16)
    return Vui(full_range, primaries, transfer, matrix, reorder, dec_buffering)


def parse_sps(nal: NalUnit, trace: Trace | None = None) -> Sps:
    """seq_parameter_set_rbsp() of an SPS NAL unit."""
    r = BitReader(rbsp_of(nal), trace=trace)
    _nal_header(r)
    profile_idc = r.u(8, "profile_idc")
    constraints = 0
    for i in range(6):
        constraints |= r.u(1, f"constraint_set{i}_flag") << i
    r.u(2, "reserved_zero_2bits")
    level_idc = r.u(8, "level_idc")
    sps_id = r.ue("seq_parameter_set_id", 31)
    kw: dict[str, object] = {}
    if profile_idc in HIGH_PROFILES:
        chroma = r.ue("chroma_format_idc", 3)
        kw["chroma_format_idc"] = chroma
        if chroma == 3:
            kw["separate_colour_plane_flag"] = r.flag("separate_colour_plane_flag")
        kw["bit_depth_luma_minus8"] = r.ue("bit_depth_luma_minus8", 6)
        kw["bit_depth_chroma_minus8"] = r.ue("bit_depth_chroma_minus8", 6)
        kw["qpprime_y_zero_transform_bypass_flag"] = r.flag("qpprime_y_zero_transform_bypass_flag")
        present = r.flag("seq_scaling_matrix_present_flag")
        kw["seq_scaling_matrix_present_flag"] = present
        if present:
            kw["scaling_matrix"] = _scaling_lists(
                r, 8 if chroma != 3 else 12, "seq_scaling_list_present_flag", None
            )
    kw["log2_max_frame_num_minus4"] = r.ue("log2_max_frame_num_minus4", 12)
    poc_type = r.ue("pic_order_cnt_type", 2)
    kw["pic_order_cnt_type"] = poc_type
    if poc_type == 0:
        kw["log2_max_pic_order_cnt_lsb_minus4"] = r.ue("log2_max_pic_order_cnt_lsb_minus4", 12)
    elif poc_type == 1:
        kw["delta_pic_order_always_zero_flag"] = r.flag("delta_pic_order_always_zero_flag")
        kw["offset_for_non_ref_pic"] = r.se("offset_for_non_ref_pic")
        kw["offset_for_top_to_bottom_field"] = r.se("offset_for_top_to_bottom_field")
        cycle = r.ue("num_ref_frames_in_pic_order_cnt_cycle", 255)
        kw["offset_for_ref_frame"] = tuple(r.se("offset_for_ref_frame") for _ in range(cycle))
    kw["max_num_ref_frames"] = r.ue("max_num_ref_frames", 16)
    kw["gaps_in_frame_num_value_allowed_flag"] = r.flag("gaps_in_frame_num_value_allowed_flag")
    kw["pic_width_in_mbs_minus1"] = r.ue("pic_width_in_mbs_minus1", 1023)
    kw["pic_height_in_map_units_minus1"] = r.ue("pic_height_in_map_units_minus1", 1023)
    frame_mbs_only = r.flag("frame_mbs_only_flag")
    kw["frame_mbs_only_flag"] = frame_mbs_only
    if not frame_mbs_only:
        kw["mb_adaptive_frame_field_flag"] = r.flag("mb_adaptive_frame_field_flag")
    kw["direct_8x8_inference_flag"] = r.flag("direct_8x8_inference_flag")
    cropping = r.flag("frame_cropping_flag")
    kw["frame_cropping_flag"] = cropping
    if cropping:
        for side in ("left", "right", "top", "bottom"):
            kw[f"frame_crop_{side}_offset"] = r.ue(f"frame_crop_{side}_offset")
    vui_present = r.flag("vui_parameters_present_flag")
    kw["vui_parameters_present_flag"] = vui_present
    if vui_present:
        kw["vui"] = _vui(r)
    return Sps(nal.offset, profile_idc, constraints, level_idc, sps_id, **kw)  # type: ignore[arg-type]


def parse_pps(nal: NalUnit, spss: dict[int, Sps], trace: Trace | None = None) -> Pps:
    """pic_parameter_set_rbsp(); the SPS it names must be known (for its scaling lists)."""
    r = BitReader(rbsp_of(nal), trace=trace)
    _nal_header(r)
    pps_id = r.ue("pic_parameter_set_id", 255)
    sps_id = r.ue("seq_parameter_set_id", 31)
    sps = spss.get(sps_id)
    if sps is None:
        raise BitstreamError(
            f"PPS {pps_id} refers to SPS {sps_id}, which the stream has not sent", nal.offset
        )
    entropy = r.flag("entropy_coding_mode_flag")
    bottom_present = r.flag("bottom_field_pic_order_in_frame_present_flag")
    groups = r.ue("num_slice_groups_minus1", 7)
    map_type = change_rate = 0
    if groups > 0:
        map_type = r.ue("slice_group_map_type", 6)
        if map_type == 0:
            for _ in range(groups + 1):
                r.ue("run_length_minus1")
        elif map_type == 2:
            for _ in range(groups):
                r.ue("top_left")
                r.ue("bottom_right")
        elif map_type in (3, 4, 5):
            r.u(1, "slice_group_change_direction_flag")
            change_rate = r.ue("slice_group_change_rate_minus1")
        elif map_type == 6:
            units = r.ue("pic_size_in_map_units_minus1")
            bits = (groups).bit_length()
            for _ in range(units + 1):
                r.u(bits, "slice_group_id")
    l0 = r.ue("num_ref_idx_l0_default_active_minus1", 31)
    l1 = r.ue("num_ref_idx_l1_default_active_minus1", 31)
    weighted = r.flag("weighted_pred_flag")
    bipred = r.u(2, "weighted_bipred_idc")
    if bipred == 3:
        raise r.error("weighted_bipred_idc = 3 is reserved")
    qp = r.se("pic_init_qp_minus26", -26 - 6 * sps.bit_depth_luma_minus8, 25)
    qs = r.se("pic_init_qs_minus26", -26, 25)
    cqp = r.se("chroma_qp_index_offset", -12, 12)
    deblock = r.flag("deblocking_filter_control_present_flag")
    constrained = r.flag("constrained_intra_pred_flag")
    redundant = r.flag("redundant_pic_cnt_present_flag")
    t8x8 = matrix_present = False
    matrix = sps.scaling_matrix
    second = cqp
    if r.more_rbsp_data():
        t8x8 = r.flag("transform_8x8_mode_flag")
        matrix_present = r.flag("pic_scaling_matrix_present_flag")
        if matrix_present:
            count = 6 + (2 if sps.chroma_format_idc != 3 else 6) * int(t8x8)
            matrix = _scaling_lists(r, count, "pic_scaling_list_present_flag", sps.scaling_matrix)
        second = r.se("second_chroma_qp_index_offset", -12, 12)
    return Pps(
        nal.offset, pps_id, sps_id, entropy, bottom_present, groups, map_type, change_rate, l0, l1,
        weighted, bipred, qp, qs, cqp, deblock, constrained, redundant, t8x8, matrix_present, matrix, second,
    )  # fmt: skip


def _modifications(r: BitReader) -> tuple[RefPicListModification, ...]:
    out: list[RefPicListModification] = []
    while True:
        idc = r.ue("modification_of_pic_nums_idc", 5)
        if idc == 3:
            return tuple(out)
        if idc in (0, 1):
            out.append(RefPicListModification(idc, r.ue("abs_diff_pic_num_minus1", 131071)))
        elif idc == 2:
            out.append(RefPicListModification(idc, r.ue("long_term_pic_num")))
        else:
            raise r.error(f"modification_of_pic_nums_idc {idc} is for MVC, not in a base-layer slice")
        if len(out) > 32:
            raise r.error("more than 32 reference list modifications")


def _weights(
    r: BitReader, count: int, lx: str, chroma: bool, luma_denom: int, chroma_denom: int
) -> tuple[WeightEntry, ...]:
    out = []
    for _ in range(count):
        lw, lo = 1 << luma_denom, 0
        cw, co = (1 << chroma_denom, 1 << chroma_denom), (0, 0)
        if r.flag(f"luma_weight_{lx}_flag"):
            lw = r.se(f"luma_weight_{lx}", -128, 127)
            lo = r.se(f"luma_offset_{lx}", -128, 127)
        if chroma and r.flag(f"chroma_weight_{lx}_flag"):
            w0 = r.se(f"chroma_weight_{lx}", -128, 127)
            o0 = r.se(f"chroma_offset_{lx}", -128, 127)
            w1 = r.se(f"chroma_weight_{lx}", -128, 127)
            o1 = r.se(f"chroma_offset_{lx}", -128, 127)
            cw, co = (w0, w1), (o0, o1)
        out.append(WeightEntry(lw, lo, cw, co))
    return tuple(out)


def _pred_weight_table(r: BitReader, sps: Sps, kind: SliceType, l0: int, l1: int) -> PredWeightTable:
    luma_denom = r.ue("luma_log2_weight_denom", 7)
    chroma = sps.chroma_array_type != 0
    chroma_denom = r.ue("chroma_log2_weight_denom", 7) if chroma else 0
    w0 = _weights(r, l0 + 1, "l0", chroma, luma_denom, chroma_denom)
    w1 = _weights(r, l1 + 1, "l1", chroma, luma_denom, chroma_denom) if kind == SliceType.B else ()
    return PredWeightTable(luma_denom, chroma_denom, w0, w1)


def _dec_ref_pic_marking(r: BitReader, idr: bool) -> DecRefPicMarking:
    if idr:
        return DecRefPicMarking(r.flag("no_output_of_prior_pics_flag"), r.flag("long_term_reference_flag"))
    if not r.flag("adaptive_ref_pic_marking_mode_flag"):
        return DecRefPicMarking()
    ops: list[Mmco] = []
    while True:
        op = r.ue("memory_management_control_operation", 6)
        if op == 0:
            return DecRefPicMarking(adaptive_ref_pic_marking_mode_flag=True, mmcos=tuple(ops))
        diff = lt_num = lt_idx = max_plus1 = 0
        if op in (1, 3):
            diff = r.ue("difference_of_pic_nums_minus1")
        if op == 2:
            lt_num = r.ue("long_term_pic_num")
        if op in (3, 6):
            lt_idx = r.ue("long_term_frame_idx", 15)
        if op == 4:
            max_plus1 = r.ue("max_long_term_frame_idx_plus1", 16)
        ops.append(Mmco(op, diff, lt_num, lt_idx, max_plus1))
        if len(ops) > 66:
            raise r.error("more than 66 memory management control operations")


SLICE_PREFIX_BYTES = 256
"""Slice headers are short: unescape this much of a slice NAL first, all of it only if needed."""


def parse_slice_header(
    nal: NalUnit, spss: dict[int, Sps], ppss: dict[int, Pps], trace: Trace | None = None
) -> SliceHeader:
    """slice_header() of a slice NAL unit (types 1 and 5)."""
    if nal.nal_unit_type in (NalUnitType.SLICE_DATA_A, NalUnitType.SLICE_DATA_B, NalUnitType.SLICE_DATA_C):
        raise H264NotSupported("slice data partitioning (Extended profile)", nal.offset)
    try:
        return _slice_header(nal, rbsp_of(nal, SLICE_PREFIX_BYTES), spss, ppss, trace)
    except RbspExhausted:
        if trace is not None:
            trace.clear()
        return _slice_header(nal, rbsp_of(nal), spss, ppss, trace)


def _slice_header(
    nal: NalUnit, rbsp: Rbsp, spss: dict[int, Sps], ppss: dict[int, Pps], trace: Trace | None
) -> SliceHeader:
    r = BitReader(rbsp, trace=trace)
    _nal_header(r)
    idr = nal.nal_unit_type == NalUnitType.SLICE_IDR
    first_mb = r.ue("first_mb_in_slice")
    slice_type = r.ue("slice_type", 9)
    kind = SliceType(slice_type % 5)
    pps_id = r.ue("pic_parameter_set_id", 255)
    pps = ppss.get(pps_id)
    if pps is None:
        raise r.error(f"slice refers to PPS {pps_id}, which the stream has not sent")
    sps = spss.get(pps.seq_parameter_set_id)
    if sps is None:
        raise r.error(f"PPS {pps_id} refers to SPS {pps.seq_parameter_set_id}, which the stream has not sent")
    if first_mb >= sps.width_mbs * sps.height_mbs:
        raise r.error(f"first_mb_in_slice {first_mb} is beyond the picture")
    colour_plane = r.u(2, "colour_plane_id") if sps.separate_colour_plane_flag else 0
    frame_num = r.u(sps.log2_max_frame_num_minus4 + 4, "frame_num")
    field_pic = bottom = False
    if not sps.frame_mbs_only_flag:
        field_pic = r.flag("field_pic_flag")
        if field_pic:
            bottom = r.flag("bottom_field_flag")
    idr_pic_id = r.ue("idr_pic_id", 65535) if idr else 0
    poc_start = r.pos
    poc_lsb = delta_bottom = 0
    delta = [0, 0]
    if sps.pic_order_cnt_type == 0:
        poc_lsb = r.u(sps.log2_max_pic_order_cnt_lsb_minus4 + 4, "pic_order_cnt_lsb")
        if pps.bottom_field_pic_order_in_frame_present_flag and not field_pic:
            delta_bottom = r.se("delta_pic_order_cnt_bottom")
    if sps.pic_order_cnt_type == 1 and not sps.delta_pic_order_always_zero_flag:
        delta[0] = r.se("delta_pic_order_cnt")
        if pps.bottom_field_pic_order_in_frame_present_flag and not field_pic:
            delta[1] = r.se("delta_pic_order_cnt")
    poc_end = r.pos
    redundant = r.ue("redundant_pic_cnt", 127) if pps.redundant_pic_cnt_present_flag else 0
    direct_spatial = r.flag("direct_spatial_mv_pred_flag") if kind == SliceType.B else False
    override = False
    l0, l1 = pps.num_ref_idx_l0_default_active_minus1, pps.num_ref_idx_l1_default_active_minus1
    limit = 31 if field_pic else 15
    if kind in (SliceType.P, SliceType.SP, SliceType.B):
        override = r.flag("num_ref_idx_active_override_flag")
        if override:
            l0 = r.ue("num_ref_idx_l0_active_minus1", limit)
            if kind == SliceType.B:
                l1 = r.ue("num_ref_idx_l1_active_minus1", limit)
        if l0 > limit or l1 > limit:
            raise r.error(f"num_ref_idx_active_minus1 {max(l0, l1)} exceeds {limit}")
    mod0 = mod1 = None
    if kind not in (SliceType.I, SliceType.SI):
        mod0 = _modifications(r) if r.flag("ref_pic_list_modification_flag_l0") else ()
    if kind == SliceType.B:
        mod1 = _modifications(r) if r.flag("ref_pic_list_modification_flag_l1") else ()
    pwt = None
    if (pps.weighted_pred_flag and kind in (SliceType.P, SliceType.SP)) or (
        pps.weighted_bipred_idc == 1 and kind == SliceType.B
    ):
        pwt = _pred_weight_table(r, sps, kind, l0, l1)
    marking = None
    marking_start = marking_end = r.pos
    if nal.nal_ref_idc != 0:
        marking = _dec_ref_pic_marking(r, idr)
        marking_end = r.pos
    cabac_init = 0
    if pps.entropy_coding_mode_flag and kind not in (SliceType.I, SliceType.SI):
        cabac_init = r.ue("cabac_init_idc", 2)
    qp_delta = r.se("slice_qp_delta", -87, 77)
    sp_switch = False
    qs_delta = 0
    if kind in (SliceType.SP, SliceType.SI):
        if kind == SliceType.SP:
            sp_switch = r.flag("sp_for_switch_flag")
        qs_delta = r.se("slice_qs_delta", -51, 51)
    deblock_idc = alpha = beta = 0
    if pps.deblocking_filter_control_present_flag:
        deblock_idc = r.ue("disable_deblocking_filter_idc", 2)
        if deblock_idc != 1:
            alpha = r.se("slice_alpha_c0_offset_div2", -6, 6)
            beta = r.se("slice_beta_offset_div2", -6, 6)
    change_cycle = 0
    if pps.num_slice_groups_minus1 > 0 and 3 <= pps.slice_group_map_type <= 5:
        units = sps.pic_size_in_map_units
        rate = pps.slice_group_change_rate_minus1 + 1
        bits = 0
        while (rate << bits) < units + rate:  # Ceil(Log2(PicSizeInMapUnits / rate + 1))
            bits += 1
        change_cycle = r.u(bits, "slice_group_change_cycle")
    end = r.pos

    def escaped(a: int, b: int) -> int:
        return rbsp.escaped_bits(b) - rbsp.escaped_bits(a)

    return SliceHeader(
        nal, first_mb, slice_type, pps_id, colour_plane, frame_num, field_pic, bottom, idr_pic_id,
        poc_lsb, delta_bottom, (delta[0], delta[1]), redundant, direct_spatial, override, l0, l1,
        mod0, mod1, pwt, marking, cabac_init, qp_delta, sp_switch, qs_delta, deblock_idc, alpha, beta,
        change_cycle, end - 8, escaped(poc_start, poc_end), escaped(marking_start, marking_end),
    )  # fmt: skip


def first_slice_of_new_picture(prev: SliceHeader, cur: SliceHeader, sps: Sps) -> bool:
    """§7.4.1.2.4: does ``cur`` start a new primary coded picture after ``prev``?"""
    if cur.frame_num != prev.frame_num or cur.pic_parameter_set_id != prev.pic_parameter_set_id:
        return True
    if cur.field_pic_flag != prev.field_pic_flag or cur.bottom_field_flag != prev.bottom_field_flag:
        return True
    if (cur.nal_ref_idc == 0) != (prev.nal_ref_idc == 0):
        return True
    if sps.pic_order_cnt_type == 0 and (
        cur.pic_order_cnt_lsb != prev.pic_order_cnt_lsb
        or cur.delta_pic_order_cnt_bottom != prev.delta_pic_order_cnt_bottom
    ):
        return True
    if sps.pic_order_cnt_type == 1 and cur.delta_pic_order_cnt != prev.delta_pic_order_cnt:
        return True
    if cur.idr != prev.idr:
        return True
    return cur.idr and prev.idr and cur.idr_pic_id != prev.idr_pic_id


HEADER_TITLES: dict[int, str] = {
    NalUnitType.SPS: "Sequence Parameter Set",
    NalUnitType.PPS: "Picture Parameter Set",
    NalUnitType.SLICE: "Slice Header",
    NalUnitType.SLICE_IDR: "Slice Header",
}
"""The units traced, under the titles ``ffmpeg -bsf:v trace_headers`` gives them."""


def trace_headers(stream: bytes) -> list[tuple[NalUnit, str, Trace]]:
    """Every SPS, PPS and slice header of an Annex B stream with the trace of its parse."""
    from conform.codecs.h264.reader import nal_units

    spss: dict[int, Sps] = {}
    ppss: dict[int, Pps] = {}
    out: list[tuple[NalUnit, str, Trace]] = []
    for nal in nal_units(stream):
        title = HEADER_TITLES.get(nal.nal_unit_type)
        if title is None:
            continue
        trace: Trace = []
        if nal.nal_unit_type == NalUnitType.SPS:
            sps = parse_sps(nal, trace)
            spss[sps.seq_parameter_set_id] = sps
        elif nal.nal_unit_type == NalUnitType.PPS:
            pps = parse_pps(nal, spss, trace)
            ppss[pps.pic_parameter_set_id] = pps
        else:
            parse_slice_header(nal, spss, ppss, trace)
        out.append((nal, title, trace))
    return out
