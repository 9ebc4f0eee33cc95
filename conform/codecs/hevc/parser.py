"""HEVC syntax: VPS, SPS, PPS and slice segment header (Rec. ITU-T H.265 (V10) §7.3, Annex E.2).

Records use the spec's syntax element names.  VUI and HRD are read in full (a wrong
walk shifts everything after them) but only what a stateless client uses is kept.
Scaling lists are resolved (§7.4.5: prediction from reference lists, Table 7-5/7-6
defaults) so parameter sets carry the lists in effect; short-term reference picture sets
are resolved to DeltaPocS0/S1 and UsedByCurrPicS0/S1 (§7.4.8, inter RPS prediction
included).

Every ``parse_*`` takes an optional trace list: the oracle test compares it, element by
element and bit position by bit position, with ``ffmpeg -bsf:v trace_headers``.  Where
the syntax element has a different name in ffmpeg's tracer, conform keeps the spec's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import IntEnum

from conform.codecs.bitreader import BitReader, BitstreamError, Rbsp, RbspExhausted, Trace
from conform.codecs.hevc.reader import NalUnit, NalUnitType
from conform.errors import FeatureNotSupported

# Table 7-6, in up-right diagonal scan order (sizeId 1..3; sizeId 0 defaults are flat).
DEFAULT_8X8_INTRA = (
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 17, 16, 17, 16, 17, 18,
    17, 18, 18, 17, 18, 21, 19, 20, 21, 20, 19, 21, 24, 22, 22, 24,
    24, 22, 22, 24, 25, 25, 27, 30, 27, 25, 25, 29, 31, 35, 35, 31,
    29, 36, 41, 44, 41, 36, 47, 54, 54, 47, 65, 70, 65, 88, 88, 115,
)  # fmt: skip
DEFAULT_8X8_INTER = (
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 17, 17, 17, 17, 17, 18,
    18, 18, 18, 18, 18, 20, 20, 20, 20, 20, 20, 20, 24, 24, 24, 24,
    24, 24, 24, 24, 25, 25, 25, 25, 25, 25, 25, 28, 28, 28, 28, 28,
    28, 33, 33, 33, 33, 33, 41, 41, 41, 41, 54, 54, 54, 71, 71, 91,
)  # fmt: skip
FLAT_4X4 = (16,) * 16

ScalingList = tuple[int, ...]


class HevcNotSupported(FeatureNotSupported):
    """A stream uses a feature this front-end (or the V4L2 HEVC API) cannot express."""


class SliceType(IntEnum):
    """Table 7-7."""

    B = 0
    P = 1
    I = 2  # noqa: E741 - the spec's name


def default_list(size_id: int, matrix_id: int) -> ScalingList:
    if size_id == 0:
        return FLAT_4X4
    return DEFAULT_8X8_INTRA if matrix_id < 3 else DEFAULT_8X8_INTER


@dataclass(frozen=True, slots=True)
class ScalingLists:
    """ScalingList[sizeId][matrixId] in effect (diagonal scan order) and the DC coefficients.

    ``lists[3]`` holds all six matrixIds, the chroma ones (1, 2, 4, 5) copied from sizeId 2
    as for ChromaArrayType 3 (§7.4.5); V4L2 carries matrixId 0 and 3 only.
    """

    lists: tuple[tuple[ScalingList, ...], ...]
    dc_16x16: tuple[int, ...]
    dc_32x32: tuple[int, ...]


DEFAULT_SCALING = ScalingLists(
    tuple(tuple(default_list(s, m) for m in range(6)) for s in range(4)), (16,) * 6, (16,) * 6
)


@dataclass(frozen=True, slots=True)
class ProfileTierLevel:
    """profile_tier_level() (§7.3.3), the general part."""

    general_profile_space: int
    general_tier_flag: bool
    general_profile_idc: int
    general_level_idc: int


@dataclass(frozen=True, slots=True)
class StRefPicSet:
    """st_ref_pic_set() resolved (§7.4.8): DeltaPocS0/S1, UsedByCurrPicS0/S1."""

    delta_poc_s0: tuple[int, ...]
    used_by_curr_pic_s0: tuple[bool, ...]
    delta_poc_s1: tuple[int, ...]
    used_by_curr_pic_s1: tuple[bool, ...]
    inter_ref_pic_set_prediction_flag: bool = False
    num_delta_pocs_of_ref_rps_idx: int = 0
    """NumDeltaPocs[RefRpsIdx] when predicted, else 0 (V4L2's num_delta_pocs_of_ref_rps_idx)."""

    @property
    def num_negative_pics(self) -> int:
        return len(self.delta_poc_s0)

    @property
    def num_positive_pics(self) -> int:
        return len(self.delta_poc_s1)

    @property
    def num_delta_pocs(self) -> int:
        return len(self.delta_poc_s0) + len(self.delta_poc_s1)


@dataclass(frozen=True, slots=True)
class Vps:
    """video_parameter_set_rbsp() (§7.3.2.1)."""

    offset: int
    vps_video_parameter_set_id: int
    vps_max_sub_layers_minus1: int
    vps_temporal_id_nesting_flag: bool
    profile_tier_level: ProfileTierLevel


@dataclass(frozen=True, slots=True)
class Sps:
    """seq_parameter_set_rbsp() (§7.3.2.2)."""

    offset: int
    sps_video_parameter_set_id: int
    sps_max_sub_layers_minus1: int
    profile_tier_level: ProfileTierLevel
    sps_seq_parameter_set_id: int
    chroma_format_idc: int
    separate_colour_plane_flag: bool
    pic_width_in_luma_samples: int
    pic_height_in_luma_samples: int
    conf_win_offsets: tuple[int, int, int, int]
    bit_depth_luma_minus8: int
    bit_depth_chroma_minus8: int
    log2_max_pic_order_cnt_lsb_minus4: int
    sps_max_dec_pic_buffering_minus1: tuple[int, ...]
    sps_max_num_reorder_pics: tuple[int, ...]
    sps_max_latency_increase_plus1: tuple[int, ...]
    log2_min_luma_coding_block_size_minus3: int
    log2_diff_max_min_luma_coding_block_size: int
    log2_min_luma_transform_block_size_minus2: int
    log2_diff_max_min_luma_transform_block_size: int
    max_transform_hierarchy_depth_inter: int
    max_transform_hierarchy_depth_intra: int
    scaling_list_enabled_flag: bool
    sps_scaling_list_data_present_flag: bool
    scaling_lists: ScalingLists
    amp_enabled_flag: bool
    sample_adaptive_offset_enabled_flag: bool
    pcm_enabled_flag: bool
    pcm_sample_bit_depth_luma_minus1: int
    pcm_sample_bit_depth_chroma_minus1: int
    log2_min_pcm_luma_coding_block_size_minus3: int
    log2_diff_max_min_pcm_luma_coding_block_size: int
    pcm_loop_filter_disabled_flag: bool
    st_ref_pic_sets: tuple[StRefPicSet, ...]
    long_term_ref_pics_present_flag: bool
    lt_ref_pic_poc_lsb_sps: tuple[int, ...]
    used_by_curr_pic_lt_sps_flag: tuple[bool, ...]
    sps_temporal_mvp_enabled_flag: bool
    strong_intra_smoothing_enabled_flag: bool
    vui_parameters_present_flag: bool
    video_full_range_flag: bool
    colour_primaries: int
    sps_range_extension_flag: bool
    range_extension_flags: tuple[str, ...]
    """The sps_range_extension() flags that are set (V4L2's HEVC SPS has none of them)."""
    sps_multilayer_extension_flag: bool
    sps_3d_extension_flag: bool
    sps_scc_extension_flag: bool
    motion_vector_resolution_control_idc: int = 0

    @property
    def ctb_log2_size_y(self) -> int:
        return self.log2_min_luma_coding_block_size_minus3 + 3 + self.log2_diff_max_min_luma_coding_block_size

    @property
    def pic_width_in_ctbs_y(self) -> int:
        size = 1 << self.ctb_log2_size_y
        return (self.pic_width_in_luma_samples + size - 1) // size

    @property
    def pic_height_in_ctbs_y(self) -> int:
        size = 1 << self.ctb_log2_size_y
        return (self.pic_height_in_luma_samples + size - 1) // size

    @property
    def pic_size_in_ctbs_y(self) -> int:
        return self.pic_width_in_ctbs_y * self.pic_height_in_ctbs_y

    @property
    def max_pic_order_cnt_lsb(self) -> int:
        return 1 << (self.log2_max_pic_order_cnt_lsb_minus4 + 4)

    @property
    def chroma_array_type(self) -> int:
        return 0 if self.separate_colour_plane_flag else self.chroma_format_idc


@dataclass(frozen=True, slots=True)
class Pps:
    """pic_parameter_set_rbsp() (§7.3.2.3)."""

    offset: int
    pps_pic_parameter_set_id: int
    pps_seq_parameter_set_id: int
    dependent_slice_segments_enabled_flag: bool
    output_flag_present_flag: bool
    num_extra_slice_header_bits: int
    sign_data_hiding_enabled_flag: bool
    cabac_init_present_flag: bool
    num_ref_idx_l0_default_active_minus1: int
    num_ref_idx_l1_default_active_minus1: int
    init_qp_minus26: int
    constrained_intra_pred_flag: bool
    transform_skip_enabled_flag: bool
    cu_qp_delta_enabled_flag: bool
    diff_cu_qp_delta_depth: int
    pps_cb_qp_offset: int
    pps_cr_qp_offset: int
    pps_slice_chroma_qp_offsets_present_flag: bool
    weighted_pred_flag: bool
    weighted_bipred_flag: bool
    transquant_bypass_enabled_flag: bool
    tiles_enabled_flag: bool
    entropy_coding_sync_enabled_flag: bool
    num_tile_columns_minus1: int
    num_tile_rows_minus1: int
    uniform_spacing_flag: bool
    column_width_minus1: tuple[int, ...]
    """Sent or, with uniform spacing, derived (6-3); num_tile_columns_minus1 + 1 entries."""
    row_height_minus1: tuple[int, ...]
    loop_filter_across_tiles_enabled_flag: bool
    pps_loop_filter_across_slices_enabled_flag: bool
    deblocking_filter_control_present_flag: bool
    deblocking_filter_override_enabled_flag: bool
    pps_deblocking_filter_disabled_flag: bool
    pps_beta_offset_div2: int
    pps_tc_offset_div2: int
    pps_scaling_list_data_present_flag: bool
    scaling_lists: ScalingLists
    """The lists in effect for pictures using this PPS (its own, the SPS's, or the defaults)."""
    lists_modification_present_flag: bool
    log2_parallel_merge_level_minus2: int
    slice_segment_header_extension_present_flag: bool
    pps_range_extension_flag: bool
    range_extension_in_use: tuple[str, ...]
    """pps_range_extension() fields that change decoding (V4L2's HEVC PPS has none of them)."""
    pps_multilayer_extension_flag: bool
    pps_3d_extension_flag: bool
    pps_scc_extension_flag: bool


@dataclass(frozen=True, slots=True)
class PredWeightTable:
    """pred_weight_table() (§7.3.6.3) as coded (deltas), absent entries 0."""

    luma_log2_weight_denom: int
    delta_chroma_log2_weight_denom: int
    delta_luma_weight_l0: tuple[int, ...]
    luma_offset_l0: tuple[int, ...]
    delta_chroma_weight_l0: tuple[tuple[int, int], ...]
    delta_chroma_offset_l0: tuple[tuple[int, int], ...]
    delta_luma_weight_l1: tuple[int, ...] = ()
    luma_offset_l1: tuple[int, ...] = ()
    delta_chroma_weight_l1: tuple[tuple[int, int], ...] = ()
    delta_chroma_offset_l1: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class LongTermRefs:
    """The long-term part of a slice header resolved: PocLsbLt, UsedByCurrPicLt,
    delta_poc_msb_present_flag and DeltaPocMsbCycleLt (7-52), one entry per picture."""

    poc_lsb_lt: tuple[int, ...] = ()
    used_by_curr_pic_lt: tuple[bool, ...] = ()
    delta_poc_msb_present_flag: tuple[bool, ...] = ()
    delta_poc_msb_cycle_lt: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SliceHeader:
    """slice_segment_header() (§7.3.6.1).  A dependent slice segment carries the values of
    the independent segment before it, as §7.4.7.1 infers them."""

    nal: NalUnit = field(repr=False)
    first_slice_segment_in_pic_flag: bool
    no_output_of_prior_pics_flag: bool
    slice_pic_parameter_set_id: int
    dependent_slice_segment_flag: bool
    slice_segment_address: int
    slice_type: SliceType
    pic_output_flag: bool
    colour_plane_id: int
    slice_pic_order_cnt_lsb: int
    short_term_ref_pic_set_sps_flag: bool
    short_term_ref_pic_set_idx: int
    st_rps: StRefPicSet | None
    """The RPS in effect (the SPS's chosen one, or the slice's own); None for IDR."""
    long_term: LongTermRefs
    slice_temporal_mvp_enabled_flag: bool
    slice_sao_luma_flag: bool
    slice_sao_chroma_flag: bool
    num_ref_idx_active_override_flag: bool
    num_ref_idx_l0_active_minus1: int
    num_ref_idx_l1_active_minus1: int
    ref_pic_list_modification_flag_l0: bool
    list_entry_l0: tuple[int, ...]
    ref_pic_list_modification_flag_l1: bool
    list_entry_l1: tuple[int, ...]
    mvd_l1_zero_flag: bool
    cabac_init_flag: bool
    collocated_from_l0_flag: bool
    collocated_ref_idx: int
    pred_weight_table: PredWeightTable | None
    five_minus_max_num_merge_cand: int
    use_integer_mv_flag: bool
    slice_qp_delta: int
    slice_cb_qp_offset: int
    slice_cr_qp_offset: int
    deblocking_filter_override_flag: bool
    slice_deblocking_filter_disabled_flag: bool
    slice_beta_offset_div2: int
    slice_tc_offset_div2: int
    slice_loop_filter_across_slices_enabled_flag: bool
    entry_point_offset_minus1: tuple[int, ...]
    short_term_ref_pic_set_size: int
    """Bits of the slice's own st_ref_pic_set() (escaped, as the driver sees them); 0 if none."""
    long_term_ref_pic_set_size: int
    """Bits of the if(long_term_ref_pics_present_flag) block (escaped)."""
    header_bytes: int
    """Escaped bytes from the NAL header up to slice_segment_data(): V4L2's data_byte_offset."""

    @property
    def num_entry_point_offsets(self) -> int:
        return len(self.entry_point_offset_minus1)

    @property
    def num_pic_total_curr(self) -> int:
        """NumPicTotalCurr (7-55), no current-picture referencing (SCC)."""
        n = 0
        if self.st_rps is not None:
            n += sum(self.st_rps.used_by_curr_pic_s0) + sum(self.st_rps.used_by_curr_pic_s1)
        return n + sum(self.long_term.used_by_curr_pic_lt)


def rbsp_of(nal: NalUnit, limit: int | None = None) -> Rbsp:
    return Rbsp.unescape(nal.data, nal.offset, limit)


def _nal_header(r: BitReader) -> None:
    r.u(1, "forbidden_zero_bit")
    r.u(6, "nal_unit_type")
    r.u(6, "nuh_layer_id")
    r.u(3, "nuh_temporal_id_plus1")


def _trailing_bits(r: BitReader) -> None:
    if r.u(1, "rbsp_stop_one_bit") != 1:
        raise r.error("rbsp_stop_one_bit is 0")


def _extension_data(r: BitReader) -> None:
    while r.more_rbsp_data():
        r.u(1, "extension_data")


def _ceil_log2(n: int) -> int:
    return (n - 1).bit_length() if n > 1 else 0


def _profile_compatible(idc: int, compat: int, *profiles: int) -> bool:
    return any(idc == p or compat >> p & 1 for p in profiles)


def _profile_tier_level(r: BitReader, max_sub_layers_minus1: int) -> ProfileTierLevel:
    """profile_tier_level(1, maxNumSubLayersMinus1) (§7.3.3)."""
    space = r.u(2, "general_profile_space")
    tier = r.flag("general_tier_flag")
    idc = r.u(5, "general_profile_idc")
    compat = 0
    for j in range(32):
        compat |= r.u(1, "general_profile_compatibility_flag") << j
    _constraint_flags(r, "general", idc, compat)
    level = r.u(8, "general_level_idc")
    profile_present: list[bool] = []
    level_present: list[bool] = []
    for _ in range(max_sub_layers_minus1):
        profile_present.append(r.flag("sub_layer_profile_present_flag"))
        level_present.append(r.flag("sub_layer_level_present_flag"))
    if max_sub_layers_minus1 > 0:
        for _ in range(max_sub_layers_minus1, 8):
            r.u(2, "reserved_zero_2bits")
    for i in range(max_sub_layers_minus1):
        if profile_present[i]:
            r.u(2, "sub_layer_profile_space")
            r.u(1, "sub_layer_tier_flag")
            sub_idc = r.u(5, "sub_layer_profile_idc")
            sub_compat = 0
            for j in range(32):
                sub_compat |= r.u(1, "sub_layer_profile_compatibility_flag") << j
            _constraint_flags(r, "sub_layer", sub_idc, sub_compat)
        if level_present[i]:
            r.u(8, "sub_layer_level_idc")
    return ProfileTierLevel(space, tier, idc, level)


def _constraint_flags(r: BitReader, p: str, idc: int, compat: int) -> None:
    """The 43 constraint bits and the inbld bit (§7.3.3), named as the profile makes them."""
    for name in ("progressive_source_flag", "interlaced_source_flag", "non_packed_constraint_flag",
                 "frame_only_constraint_flag"):  # fmt: skip
        r.u(1, f"{p}_{name}")
    if _profile_compatible(idc, compat, 4, 5, 6, 7, 8, 9, 10, 11):
        for name in ("max_12bit", "max_10bit", "max_8bit", "max_422chroma", "max_420chroma",
                     "max_monochrome", "intra", "one_picture_only", "lower_bit_rate"):  # fmt: skip
            r.u(1, f"{p}_{name}_constraint_flag")
        if _profile_compatible(idc, compat, 5, 9, 10, 11):
            r.u(1, f"{p}_max_14bit_constraint_flag")
            r.u(24, f"{p}_reserved_zero_33bits")
            r.u(9, f"{p}_reserved_zero_33bits")
        else:
            r.u(24, f"{p}_reserved_zero_34bits")
            r.u(10, f"{p}_reserved_zero_34bits")
    elif _profile_compatible(idc, compat, 2):
        r.u(7, f"{p}_reserved_zero_7bits")
        r.u(1, f"{p}_one_picture_only_constraint_flag")
        r.u(24, f"{p}_reserved_zero_35bits")
        r.u(11, f"{p}_reserved_zero_35bits")
    else:
        r.u(24, f"{p}_reserved_zero_43bits")
        r.u(19, f"{p}_reserved_zero_43bits")
    if _profile_compatible(idc, compat, 1, 2, 3, 4, 5, 9, 11):
        r.u(1, f"{p}_inbld_flag")
    else:
        r.u(1, f"{p}_reserved_zero_bit")


def _sub_layer_hrd(r: BitReader, cpb_cnt: int, sub_pic: bool) -> None:
    for _ in range(cpb_cnt):
        r.ue("bit_rate_value_minus1")
        r.ue("cpb_size_value_minus1")
        if sub_pic:
            r.ue("cpb_size_du_value_minus1")
            r.ue("bit_rate_du_value_minus1")
        r.u(1, "cbr_flag")


def _hrd_parameters(r: BitReader, common: bool, max_sub_layers_minus1: int) -> None:
    """hrd_parameters() (E.2.2), read and dropped."""
    nal = vcl = sub_pic = False
    if common:
        nal = r.flag("nal_hrd_parameters_present_flag")
        vcl = r.flag("vcl_hrd_parameters_present_flag")
        if nal or vcl:
            sub_pic = r.flag("sub_pic_hrd_params_present_flag")
            if sub_pic:
                r.u(8, "tick_divisor_minus2")
                r.u(5, "du_cpb_removal_delay_increment_length_minus1")
                r.u(1, "sub_pic_cpb_params_in_pic_timing_sei_flag")
                r.u(5, "dpb_output_delay_du_length_minus1")
            r.u(4, "bit_rate_scale")
            r.u(4, "cpb_size_scale")
            if sub_pic:
                r.u(4, "cpb_size_du_scale")
            r.u(5, "initial_cpb_removal_delay_length_minus1")
            r.u(5, "au_cpb_removal_delay_length_minus1")
            r.u(5, "dpb_output_delay_length_minus1")
    for _ in range(max_sub_layers_minus1 + 1):
        fixed_general = r.flag("fixed_pic_rate_general_flag")
        fixed_cvs = True if fixed_general else r.flag("fixed_pic_rate_within_cvs_flag")
        low_delay = False
        if fixed_cvs:
            r.ue("elemental_duration_in_tc_minus1", 2047)
        else:
            low_delay = r.flag("low_delay_hrd_flag")
        cpb_cnt = 1 if low_delay else r.ue("cpb_cnt_minus1", 31) + 1
        if nal:
            _sub_layer_hrd(r, cpb_cnt, sub_pic)
        if vcl:
            _sub_layer_hrd(r, cpb_cnt, sub_pic)


def _vui(r: BitReader, max_sub_layers_minus1: int) -> tuple[bool, int]:
    """vui_parameters() (E.2.1); returns (video_full_range_flag, colour_primaries)."""
    full_range, primaries = False, 2
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
            r.u(8, "transfer_characteristics")
            r.u(8, "matrix_coefficients")
    if r.flag("chroma_loc_info_present_flag"):
        r.ue("chroma_sample_loc_type_top_field", 5)
        r.ue("chroma_sample_loc_type_bottom_field", 5)
    r.u(1, "neutral_chroma_indication_flag")
    r.u(1, "field_seq_flag")
    r.u(1, "frame_field_info_present_flag")
    if r.flag("default_display_window_flag"):
        for side in ("left", "right", "top", "bottom"):
            r.ue(f"def_disp_win_{side}_offset")
    if r.flag("vui_timing_info_present_flag"):
        r.u(32, "vui_num_units_in_tick")
        r.u(32, "vui_time_scale")
        if r.flag("vui_poc_proportional_to_timing_flag"):
            r.ue("vui_num_ticks_poc_diff_one_minus1")
        if r.flag("vui_hrd_parameters_present_flag"):
            _hrd_parameters(r, True, max_sub_layers_minus1)
    if r.flag("bitstream_restriction_flag"):
        r.u(1, "tiles_fixed_structure_flag")
        r.u(1, "motion_vectors_over_pic_boundaries_flag")
        r.u(1, "restricted_ref_pic_lists_flag")
        r.ue("min_spatial_segmentation_idc", 4095)
        r.ue("max_bytes_per_pic_denom", 16)
        r.ue("max_bits_per_min_cu_denom", 16)
        r.ue("log2_max_mv_length_horizontal", 15)
        r.ue("log2_max_mv_length_vertical", 15)
    return full_range, primaries


def _scaling_list_data(r: BitReader) -> ScalingLists:
    """scaling_list_data() (§7.3.4) resolved with §7.4.5's prediction and defaults."""
    lists: list[list[ScalingList]] = [[FLAT_4X4] * 6 for _ in range(4)]
    dc = [[16] * 6, [16] * 6]
    for size_id in range(4):
        step = 3 if size_id == 3 else 1
        for matrix_id in range(0, 6, step):
            if not r.flag("scaling_list_pred_mode_flag"):
                delta = r.ue("scaling_list_pred_matrix_id_delta", matrix_id // step)
                if delta == 0:
                    lists[size_id][matrix_id] = default_list(size_id, matrix_id)
                    if size_id > 1:
                        dc[size_id - 2][matrix_id] = 16
                else:
                    ref = matrix_id - delta * step
                    lists[size_id][matrix_id] = lists[size_id][ref]
                    if size_id > 1:
                        dc[size_id - 2][matrix_id] = dc[size_id - 2][ref]
            else:
                nxt = 8
                count = min(64, 1 << (4 + (size_id << 1)))
                if size_id > 1:
                    nxt = r.se("scaling_list_dc_coef_minus8", -7, 247) + 8
                    dc[size_id - 2][matrix_id] = nxt
                out: list[int] = []
                for _ in range(count):
                    delta = r.se("scaling_list_delta_coeff", -128, 127)
                    nxt = (nxt + delta + 256) % 256
                    if nxt == 0:
                        raise r.error("a scaling list coefficient is 0")
                    out.append(nxt)
                lists[size_id][matrix_id] = tuple(out)
    for matrix_id in (1, 2, 4, 5):  # §7.4.5, ChromaArrayType 3: 32x32 chroma from 16x16
        lists[3][matrix_id] = lists[2][matrix_id]
        dc[1][matrix_id] = dc[0][matrix_id]
    return ScalingLists(tuple(tuple(s) for s in lists), tuple(dc[0]), tuple(dc[1]))


def _st_ref_pic_set(r: BitReader, idx: int, num_sets: int, sets: list[StRefPicSet]) -> StRefPicSet:
    """st_ref_pic_set(stRpsIdx) (§7.3.7) resolved by §7.4.8."""
    if idx != 0 and r.flag("inter_ref_pic_set_prediction_flag"):
        delta_idx = r.ue("delta_idx_minus1", idx - 1) + 1 if idx == num_sets else 1
        ref = sets[idx - delta_idx]
        sign = r.u(1, "delta_rps_sign")
        delta_rps = (1 - 2 * sign) * (r.ue("abs_delta_rps_minus1", 32767) + 1)
        used: list[bool] = []
        use_delta: list[bool] = []
        for _ in range(ref.num_delta_pocs + 1):
            u = r.flag("used_by_curr_pic_flag")
            used.append(u)
            use_delta.append(True if u else r.flag("use_delta_flag"))
        n_neg, n_all = ref.num_negative_pics, ref.num_delta_pocs
        s0: list[tuple[int, bool]] = []
        for j in range(ref.num_positive_pics - 1, -1, -1):  # (7-61)
            d = ref.delta_poc_s1[j] + delta_rps
            if d < 0 and use_delta[n_neg + j]:
                s0.append((d, used[n_neg + j]))
        if delta_rps < 0 and use_delta[n_all]:
            s0.append((delta_rps, used[n_all]))
        for j in range(n_neg):
            d = ref.delta_poc_s0[j] + delta_rps
            if d < 0 and use_delta[j]:
                s0.append((d, used[j]))
        s1: list[tuple[int, bool]] = []
        for j in range(n_neg - 1, -1, -1):  # (7-62)
            d = ref.delta_poc_s0[j] + delta_rps
            if d > 0 and use_delta[j]:
                s1.append((d, used[j]))
        if delta_rps > 0 and use_delta[n_all]:
            s1.append((delta_rps, used[n_all]))
        for j in range(ref.num_positive_pics):
            d = ref.delta_poc_s1[j] + delta_rps
            if d > 0 and use_delta[n_neg + j]:
                s1.append((d, used[n_neg + j]))
        if len(s0) + len(s1) > 16:
            raise r.error(f"short-term RPS {idx} predicts {len(s0) + len(s1)} pictures (at most 16)")
        return StRefPicSet(tuple(d for d, _ in s0), tuple(u for _, u in s0), tuple(d for d, _ in s1),
                           tuple(u for _, u in s1), True, n_all)  # fmt: skip
    neg = r.ue("num_negative_pics", 16)
    pos = r.ue("num_positive_pics", 16 - neg)
    poc = 0
    d0: list[int] = []
    u0: list[bool] = []
    for _ in range(neg):
        poc -= r.ue("delta_poc_s0_minus1", 32767) + 1
        d0.append(poc)
        u0.append(r.flag("used_by_curr_pic_s0_flag"))
    poc = 0
    d1: list[int] = []
    u1: list[bool] = []
    for _ in range(pos):
        poc += r.ue("delta_poc_s1_minus1", 32767) + 1
        d1.append(poc)
        u1.append(r.flag("used_by_curr_pic_s1_flag"))
    return StRefPicSet(tuple(d0), tuple(u0), tuple(d1), tuple(u1))


def parse_vps(nal: NalUnit, trace: Trace | None = None) -> Vps:
    r = BitReader(rbsp_of(nal), trace=trace)
    _nal_header(r)
    vps_id = r.u(4, "vps_video_parameter_set_id")
    r.u(1, "vps_base_layer_internal_flag")
    r.u(1, "vps_base_layer_available_flag")
    r.u(6, "vps_max_layers_minus1")
    sub_layers = r.u(3, "vps_max_sub_layers_minus1")
    if sub_layers > 6:
        raise r.error(f"vps_max_sub_layers_minus1 = {sub_layers} exceeds its maximum 6")
    nesting = r.flag("vps_temporal_id_nesting_flag")
    r.u(16, "vps_reserved_0xffff_16bits")
    ptl = _profile_tier_level(r, sub_layers)
    ordering = r.flag("vps_sub_layer_ordering_info_present_flag")
    for _ in range(0 if ordering else sub_layers, sub_layers + 1):
        r.ue("vps_max_dec_pic_buffering_minus1", 15)
        r.ue("vps_max_num_reorder_pics", 15)
        r.ue("vps_max_latency_increase_plus1")
    max_layer_id = r.u(6, "vps_max_layer_id")
    layer_sets = r.ue("vps_num_layer_sets_minus1", 1023)
    for _ in range(layer_sets):
        for _ in range(max_layer_id + 1):
            r.u(1, "layer_id_included_flag")
    if r.flag("vps_timing_info_present_flag"):
        r.u(32, "vps_num_units_in_tick")
        r.u(32, "vps_time_scale")
        if r.flag("vps_poc_proportional_to_timing_flag"):
            r.ue("vps_num_ticks_poc_diff_one_minus1")
        hrds = r.ue("vps_num_hrd_parameters", layer_sets + 1)
        for i in range(hrds):
            r.ue("hrd_layer_set_idx", layer_sets)
            common = r.flag("cprms_present_flag") if i > 0 else True
            _hrd_parameters(r, common, sub_layers)
    if r.flag("vps_extension_flag"):
        _extension_data(r)
    _trailing_bits(r)
    return Vps(nal.offset, vps_id, sub_layers, nesting, ptl)


RANGE_EXTENSION_FLAGS = (
    "transform_skip_rotation_enabled_flag", "transform_skip_context_enabled_flag",
    "implicit_rdpcm_enabled_flag", "explicit_rdpcm_enabled_flag", "extended_precision_processing_flag",
    "intra_smoothing_disabled_flag", "high_precision_offsets_enabled_flag",
    "persistent_rice_adaptation_enabled_flag", "cabac_bypass_alignment_enabled_flag",
)  # fmt: skip


def parse_sps(nal: NalUnit, vpss: dict[int, Vps], trace: Trace | None = None) -> Sps:
    """seq_parameter_set_rbsp() of a base-layer SPS (nuh_layer_id 0)."""
    r = BitReader(rbsp_of(nal), trace=trace)
    _nal_header(r)
    vps_id = r.u(4, "sps_video_parameter_set_id")
    if vps_id not in vpss:
        raise BitstreamError(f"SPS refers to VPS {vps_id}, which the stream has not sent", nal.offset)
    sub_layers = r.u(3, "sps_max_sub_layers_minus1")
    if sub_layers > 6:
        raise r.error(f"sps_max_sub_layers_minus1 = {sub_layers} exceeds its maximum 6")
    r.u(1, "sps_temporal_id_nesting_flag")
    ptl = _profile_tier_level(r, sub_layers)
    sps_id = r.ue("sps_seq_parameter_set_id", 15)
    chroma = r.ue("chroma_format_idc", 3)
    separate = r.flag("separate_colour_plane_flag") if chroma == 3 else False
    width = r.ue("pic_width_in_luma_samples", 16888)
    height = r.ue("pic_height_in_luma_samples", 16888)
    if width == 0 or height == 0:
        raise r.error(f"picture size {width}x{height}")
    conf = (0, 0, 0, 0)
    if r.flag("conformance_window_flag"):
        left = r.ue("conf_win_left_offset", width)
        right = r.ue("conf_win_right_offset", width)
        top = r.ue("conf_win_top_offset", height)
        bottom = r.ue("conf_win_bottom_offset", height)
        conf = (left, right, top, bottom)
    depth_luma = r.ue("bit_depth_luma_minus8", 8)
    depth_chroma = r.ue("bit_depth_chroma_minus8", 8)
    log2_poc = r.ue("log2_max_pic_order_cnt_lsb_minus4", 12)
    ordering = r.flag("sps_sub_layer_ordering_info_present_flag")
    dec: list[int] = []
    reorder: list[int] = []
    latency: list[int] = []
    for _ in range(0 if ordering else sub_layers, sub_layers + 1):
        dec.append(r.ue("sps_max_dec_pic_buffering_minus1", 15))
        reorder.append(r.ue("sps_max_num_reorder_pics", dec[-1]))
        latency.append(r.ue("sps_max_latency_increase_plus1", 0xFFFFFFFE))
    min_cb = r.ue("log2_min_luma_coding_block_size_minus3", 3)
    diff_cb = r.ue("log2_diff_max_min_luma_coding_block_size", 3)
    if width % (1 << (min_cb + 3)) or height % (1 << (min_cb + 3)):
        raise r.error(f"picture size {width}x{height} is not a multiple of MinCbSizeY {1 << (min_cb + 3)}")
    ctb_log2 = min_cb + 3 + diff_cb
    min_tb = r.ue("log2_min_luma_transform_block_size_minus2", min_cb)
    diff_tb = r.ue("log2_diff_max_min_luma_transform_block_size", max(0, min(ctb_log2, 5) - min_tb - 2))
    depth_inter = r.ue("max_transform_hierarchy_depth_inter", ctb_log2 - min_tb - 2)
    depth_intra = r.ue("max_transform_hierarchy_depth_intra", ctb_log2 - min_tb - 2)
    scaling_enabled = r.flag("scaling_list_enabled_flag")
    scaling_present = False
    scaling = DEFAULT_SCALING
    if scaling_enabled:
        scaling_present = r.flag("sps_scaling_list_data_present_flag")
        if scaling_present:
            scaling = _scaling_list_data(r)
    amp = r.flag("amp_enabled_flag")
    sao = r.flag("sample_adaptive_offset_enabled_flag")
    pcm = r.flag("pcm_enabled_flag")
    pcm_luma = pcm_chroma = pcm_min = pcm_diff = 0
    pcm_loop = False
    if pcm:
        pcm_luma = r.u(4, "pcm_sample_bit_depth_luma_minus1")
        pcm_chroma = r.u(4, "pcm_sample_bit_depth_chroma_minus1")
        pcm_min = r.ue("log2_min_pcm_luma_coding_block_size_minus3", 2)
        pcm_diff = r.ue("log2_diff_max_min_pcm_luma_coding_block_size", 2)
        pcm_loop = r.flag("pcm_loop_filter_disabled_flag")
    num_sets = r.ue("num_short_term_ref_pic_sets", 64)
    sets: list[StRefPicSet] = []
    for i in range(num_sets):
        sets.append(_st_ref_pic_set(r, i, num_sets, sets))
    lt_present = r.flag("long_term_ref_pics_present_flag")
    lt_lsb: list[int] = []
    lt_used: list[bool] = []
    if lt_present:
        for _ in range(r.ue("num_long_term_ref_pics_sps", 32)):
            lt_lsb.append(r.u(log2_poc + 4, "lt_ref_pic_poc_lsb_sps"))
            lt_used.append(r.flag("used_by_curr_pic_lt_sps_flag"))
    tmvp = r.flag("sps_temporal_mvp_enabled_flag")
    strong = r.flag("strong_intra_smoothing_enabled_flag")
    vui_present = r.flag("vui_parameters_present_flag")
    full_range, primaries = _vui(r, sub_layers) if vui_present else (False, 2)
    range_ext = multilayer = ext_3d = scc = False
    ext_4bits = 0
    if r.flag("sps_extension_present_flag"):
        range_ext = r.flag("sps_range_extension_flag")
        multilayer = r.flag("sps_multilayer_extension_flag")
        ext_3d = r.flag("sps_3d_extension_flag")
        scc = r.flag("sps_scc_extension_flag")
        ext_4bits = r.u(4, "sps_extension_4bits")
    range_set: list[str] = []
    if range_ext:
        range_set = [name for name in RANGE_EXTENSION_FLAGS if r.flag(name)]
    if multilayer:
        r.u(1, "inter_view_mv_vert_constraint_flag")
    if ext_3d:
        raise HevcNotSupported("sps_3d_extension() (3D-HEVC)", nal.offset)
    mv_res = 0
    if scc:
        r.u(1, "sps_curr_pic_ref_enabled_flag")
        if r.flag("palette_mode_enabled_flag"):
            r.ue("palette_max_size", 64)
            r.ue("delta_palette_max_predictor_size", 128)
            if r.flag("sps_palette_predictor_initializer_present_flag"):
                count = r.ue("sps_num_palette_predictor_initializer_minus1", 127) + 1
                for comp in range(3 if chroma else 1):
                    for _ in range(count):
                        r.u(
                            (depth_luma if comp == 0 else depth_chroma) + 8,
                            "sps_palette_predictor_initializers",
                        )
        mv_res = r.u(2, "motion_vector_resolution_control_idc")
        r.u(1, "intra_boundary_filtering_disable_flag")
    if ext_4bits:
        _extension_data(r)
    _trailing_bits(r)

    def per_layer(values: list[int]) -> tuple[int, ...]:
        return tuple([values[0]] * (sub_layers + 1 - len(values)) + values)

    return Sps(
        nal.offset, vps_id, sub_layers, ptl, sps_id, chroma, separate, width, height, conf, depth_luma,
        depth_chroma, log2_poc, per_layer(dec), per_layer(reorder), per_layer(latency), min_cb, diff_cb,
        min_tb, diff_tb, depth_inter, depth_intra, scaling_enabled, scaling_present, scaling, amp, sao, pcm,
        pcm_luma, pcm_chroma, pcm_min, pcm_diff, pcm_loop, tuple(sets), lt_present, tuple(lt_lsb),
        tuple(lt_used), tmvp, strong, vui_present, full_range, primaries, range_ext, tuple(range_set),
        multilayer, ext_3d, scc, mv_res,
    )  # fmt: skip


def _uniform(count: int, size: int) -> tuple[int, ...]:
    """(6-3)/(6-4): column widths or row heights minus 1 with uniform spacing."""
    return tuple(((i + 1) * size) // count - (i * size) // count - 1 for i in range(count))


def parse_pps(nal: NalUnit, spss: dict[int, Sps], trace: Trace | None = None) -> Pps:
    """pic_parameter_set_rbsp(); the SPS it names must be known (for sizes and scaling lists)."""
    r = BitReader(rbsp_of(nal), trace=trace)
    _nal_header(r)
    pps_id = r.ue("pps_pic_parameter_set_id", 63)
    sps_id = r.ue("pps_seq_parameter_set_id", 15)
    sps = spss.get(sps_id)
    if sps is None:
        raise BitstreamError(
            f"PPS {pps_id} refers to SPS {sps_id}, which the stream has not sent", nal.offset
        )
    dependent = r.flag("dependent_slice_segments_enabled_flag")
    output_flag = r.flag("output_flag_present_flag")
    extra_bits = r.u(3, "num_extra_slice_header_bits")
    sign_hiding = r.flag("sign_data_hiding_enabled_flag")
    cabac_init = r.flag("cabac_init_present_flag")
    l0 = r.ue("num_ref_idx_l0_default_active_minus1", 14)
    l1 = r.ue("num_ref_idx_l1_default_active_minus1", 14)
    init_qp = r.se("init_qp_minus26", -(26 + 6 * sps.bit_depth_luma_minus8), 25)
    constrained = r.flag("constrained_intra_pred_flag")
    transform_skip = r.flag("transform_skip_enabled_flag")
    cu_qp = r.flag("cu_qp_delta_enabled_flag")
    qp_depth = r.ue("diff_cu_qp_delta_depth", sps.log2_diff_max_min_luma_coding_block_size) if cu_qp else 0
    cb = r.se("pps_cb_qp_offset", -12, 12)
    cr = r.se("pps_cr_qp_offset", -12, 12)
    chroma_offsets = r.flag("pps_slice_chroma_qp_offsets_present_flag")
    weighted = r.flag("weighted_pred_flag")
    bipred = r.flag("weighted_bipred_flag")
    bypass = r.flag("transquant_bypass_enabled_flag")
    tiles = r.flag("tiles_enabled_flag")
    wpp = r.flag("entropy_coding_sync_enabled_flag")
    cols = rows = 0
    uniform = True
    widths: tuple[int, ...] = (sps.pic_width_in_ctbs_y - 1,)
    heights: tuple[int, ...] = (sps.pic_height_in_ctbs_y - 1,)
    across_tiles = True
    if tiles:
        cols = r.ue("num_tile_columns_minus1", sps.pic_width_in_ctbs_y - 1)
        rows = r.ue("num_tile_rows_minus1", sps.pic_height_in_ctbs_y - 1)
        uniform = r.flag("uniform_spacing_flag")
        if uniform:
            widths = _uniform(cols + 1, sps.pic_width_in_ctbs_y)
            heights = _uniform(rows + 1, sps.pic_height_in_ctbs_y)
        else:
            w = [r.ue("column_width_minus1", sps.pic_width_in_ctbs_y - 1) for _ in range(cols)]
            h = [r.ue("row_height_minus1", sps.pic_height_in_ctbs_y - 1) for _ in range(rows)]
            last_w = sps.pic_width_in_ctbs_y - sum(x + 1 for x in w)
            last_h = sps.pic_height_in_ctbs_y - sum(x + 1 for x in h)
            if last_w < 1 or last_h < 1:
                raise r.error("tile columns or rows are wider than the picture")
            widths, heights = (*w, last_w - 1), (*h, last_h - 1)
        across_tiles = r.flag("loop_filter_across_tiles_enabled_flag")
    across_slices = r.flag("pps_loop_filter_across_slices_enabled_flag")
    deblock_control = r.flag("deblocking_filter_control_present_flag")
    override = disabled = False
    beta = tc = 0
    if deblock_control:
        override = r.flag("deblocking_filter_override_enabled_flag")
        disabled = r.flag("pps_deblocking_filter_disabled_flag")
        if not disabled:
            beta = r.se("pps_beta_offset_div2", -6, 6)
            tc = r.se("pps_tc_offset_div2", -6, 6)
    scaling_present = r.flag("pps_scaling_list_data_present_flag")
    if scaling_present and not sps.scaling_list_enabled_flag:
        raise r.error("pps_scaling_list_data_present_flag is 1 but the SPS disables scaling lists")
    scaling = _scaling_list_data(r) if scaling_present else sps.scaling_lists
    lists_mod = r.flag("lists_modification_present_flag")
    merge = r.ue("log2_parallel_merge_level_minus2", sps.ctb_log2_size_y - 2)
    header_ext = r.flag("slice_segment_header_extension_present_flag")
    range_ext = multilayer = ext_3d = scc = False
    ext_4bits = 0
    if r.flag("pps_extension_present_flag"):
        range_ext = r.flag("pps_range_extension_flag")
        multilayer = r.flag("pps_multilayer_extension_flag")
        ext_3d = r.flag("pps_3d_extension_flag")
        scc = r.flag("pps_scc_extension_flag")
        ext_4bits = r.u(4, "pps_extension_4bits")
    in_use: list[str] = []
    if range_ext:
        if transform_skip and r.ue("log2_max_transform_skip_block_size_minus2", 3):
            in_use.append("log2_max_transform_skip_block_size_minus2")
        if r.flag("cross_component_prediction_enabled_flag"):
            in_use.append("cross_component_prediction_enabled_flag")
        if r.flag("chroma_qp_offset_list_enabled_flag"):
            in_use.append("chroma_qp_offset_list_enabled_flag")
            r.ue("diff_cu_chroma_qp_offset_depth", sps.log2_diff_max_min_luma_coding_block_size)
            for _ in range(r.ue("chroma_qp_offset_list_len_minus1", 5) + 1):
                r.se("cb_qp_offset_list", -12, 12)
                r.se("cr_qp_offset_list", -12, 12)
        if r.ue("log2_sao_offset_scale_luma", max(0, sps.bit_depth_luma_minus8 - 2)):
            in_use.append("log2_sao_offset_scale_luma")
        if r.ue("log2_sao_offset_scale_chroma", max(0, sps.bit_depth_chroma_minus8 - 2)):
            in_use.append("log2_sao_offset_scale_chroma")
    if multilayer or ext_3d or scc:
        raise HevcNotSupported("PPS multilayer, 3D or screen content coding extensions", nal.offset)
    if ext_4bits:
        _extension_data(r)
    _trailing_bits(r)
    return Pps(
        nal.offset, pps_id, sps_id, dependent, output_flag, extra_bits, sign_hiding, cabac_init, l0, l1,
        init_qp, constrained, transform_skip, cu_qp, qp_depth, cb, cr, chroma_offsets, weighted, bipred,
        bypass, tiles, wpp, cols, rows, uniform, widths, heights, across_tiles, across_slices,
        deblock_control, override, disabled, beta, tc, scaling_present, scaling, lists_mod, merge,
        header_ext, range_ext, tuple(in_use), multilayer, ext_3d, scc,
    )  # fmt: skip


def _pred_weight_table(r: BitReader, sps: Sps, kind: SliceType, l0: int, l1: int) -> PredWeightTable:
    """pred_weight_table() (§7.3.6.3)."""
    luma_denom = r.ue("luma_log2_weight_denom", 7)
    chroma = sps.chroma_array_type != 0
    chroma_delta = r.se("delta_chroma_log2_weight_denom", -luma_denom, 7 - luma_denom) if chroma else 0
    offset_half = 1 << (sps.bit_depth_luma_minus8 + 7)
    offset_half_c = 1 << (sps.bit_depth_chroma_minus8 + 7)
    out: list[
        tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]
    ] = []
    for lx, count in (("l0", l0 + 1), ("l1", l1 + 1 if kind == SliceType.B else 0)):
        luma_flags = [r.flag(f"luma_weight_{lx}_flag") for _ in range(count)]
        chroma_flags = (
            [r.flag(f"chroma_weight_{lx}_flag") for _ in range(count)] if chroma else [False] * count
        )
        lw: list[int] = []
        lo: list[int] = []
        cw: list[tuple[int, int]] = []
        co: list[tuple[int, int]] = []
        for i in range(count):
            w = o = 0
            if luma_flags[i]:
                w = r.se(f"delta_luma_weight_{lx}", -128, 127)
                o = r.se(f"luma_offset_{lx}", -offset_half, offset_half - 1)
            lw.append(w)
            lo.append(o)
            ws = [0, 0]
            os_ = [0, 0]
            if chroma_flags[i]:
                for j in range(2):
                    ws[j] = r.se(f"delta_chroma_weight_{lx}", -128, 127)
                    os_[j] = r.se(f"delta_chroma_offset_{lx}", -4 * offset_half_c, 4 * offset_half_c - 1)
            cw.append((ws[0], ws[1]))
            co.append((os_[0], os_[1]))
        out.append((tuple(lw), tuple(lo), tuple(cw), tuple(co)))
    return PredWeightTable(luma_denom, chroma_delta, *out[0], *out[1])


SLICE_PREFIX_BYTES = 512
"""Slice headers are short: unescape this much of a slice NAL first, all of it only if needed."""


def parse_slice_header(
    nal: NalUnit,
    spss: dict[int, Sps],
    ppss: dict[int, Pps],
    previous: SliceHeader | None = None,
    trace: Trace | None = None,
) -> SliceHeader:
    """slice_segment_header() of a VCL NAL unit; ``previous`` is the picture's preceding
    independent slice segment (needed by a dependent one)."""
    try:
        return _slice_header(nal, rbsp_of(nal, SLICE_PREFIX_BYTES), spss, ppss, previous, trace)
    except RbspExhausted:
        if trace is not None:
            trace.clear()
        return _slice_header(nal, rbsp_of(nal), spss, ppss, previous, trace)


def _slice_header(
    nal: NalUnit, rbsp: Rbsp, spss: dict[int, Sps], ppss: dict[int, Pps], previous: SliceHeader | None,
    trace: Trace | None,
) -> SliceHeader:  # fmt: skip
    r = BitReader(rbsp, trace=trace)
    _nal_header(r)
    kind = nal.nal_unit_type
    if kind > NalUnitType.RSV_IRAP_VCL23 or kind in (10, 11, 12, 13, 14, 15, 22, 23):
        raise HevcNotSupported(f"reserved VCL NAL unit type {kind}", nal.offset)
    first = r.flag("first_slice_segment_in_pic_flag")
    no_output = r.flag("no_output_of_prior_pics_flag") if nal.is_irap else False
    pps_id = r.ue("slice_pic_parameter_set_id", 63)
    pps = ppss.get(pps_id)
    if pps is None:
        raise r.error(f"slice refers to PPS {pps_id}, which the stream has not sent")
    sps = spss.get(pps.pps_seq_parameter_set_id)
    if sps is None:
        raise r.error(
            f"PPS {pps_id} refers to SPS {pps.pps_seq_parameter_set_id}, which the stream has not sent"
        )
    dependent = False
    address = 0
    if not first:
        if pps.dependent_slice_segments_enabled_flag:
            dependent = r.flag("dependent_slice_segment_flag")
        address = r.u(_ceil_log2(sps.pic_size_in_ctbs_y), "slice_segment_address")
        if address >= sps.pic_size_in_ctbs_y:
            raise r.error(
                f"slice_segment_address {address} is beyond the picture's {sps.pic_size_in_ctbs_y} CTBs"
            )
    if dependent:
        if previous is None or previous.slice_pic_parameter_set_id != pps_id:
            raise r.error("a dependent slice segment without an independent one before it in the picture")
        base = previous
    else:
        base = None
    fields: dict[str, object] = {}
    st_size = lt_size = 0
    if base is None:
        for _ in range(pps.num_extra_slice_header_bits):
            r.u(1, "slice_reserved_flag")
        slice_type = SliceType(r.ue("slice_type", 2))
        pic_output = r.flag("pic_output_flag") if pps.output_flag_present_flag else True
        colour_plane = r.u(2, "colour_plane_id") if sps.separate_colour_plane_flag else 0
        if colour_plane > 2:
            raise r.error(f"colour_plane_id {colour_plane}")
        poc_lsb = 0
        sps_flag = False
        rps_idx = 0
        rps: StRefPicSet | None = None
        long_term = LongTermRefs()
        tmvp = False
        if not nal.is_idr:
            poc_lsb = r.u(sps.log2_max_pic_order_cnt_lsb_minus4 + 4, "slice_pic_order_cnt_lsb")
            sps_flag = r.flag("short_term_ref_pic_set_sps_flag")
            num_sets = len(sps.st_ref_pic_sets)
            if not sps_flag:
                start = r.pos
                rps = _st_ref_pic_set(r, num_sets, num_sets, list(sps.st_ref_pic_sets))
                st_size = rbsp.escaped_bits(r.pos) - rbsp.escaped_bits(start)
            else:
                if num_sets == 0:
                    raise r.error("short_term_ref_pic_set_sps_flag is 1 but the SPS has no RPS")
                if num_sets > 1:
                    rps_idx = r.u(_ceil_log2(num_sets), "short_term_ref_pic_set_idx")
                    if rps_idx >= num_sets:
                        raise r.error(f"short_term_ref_pic_set_idx {rps_idx} of {num_sets}")
                rps = sps.st_ref_pic_sets[rps_idx]
            if sps.long_term_ref_pics_present_flag:
                start = r.pos
                long_term = _long_term(r, sps, rps)
                lt_size = rbsp.escaped_bits(r.pos) - rbsp.escaped_bits(start)
            if sps.sps_temporal_mvp_enabled_flag:
                tmvp = r.flag("slice_temporal_mvp_enabled_flag")
        sao_luma = sao_chroma = False
        if sps.sample_adaptive_offset_enabled_flag:
            sao_luma = r.flag("slice_sao_luma_flag")
            if sps.chroma_array_type != 0:
                sao_chroma = r.flag("slice_sao_chroma_flag")
        override = False
        l0, l1 = pps.num_ref_idx_l0_default_active_minus1, pps.num_ref_idx_l1_default_active_minus1
        mod0 = mod1 = mvd_zero = cabac_init = False
        entries0: tuple[int, ...] = ()
        entries1: tuple[int, ...] = ()
        col_l0 = True
        col_idx = 0
        pwt = None
        merge = 0
        integer_mv = sps.motion_vector_resolution_control_idc == 1
        total = 0
        if rps is not None:
            total = sum(rps.used_by_curr_pic_s0) + sum(rps.used_by_curr_pic_s1)
        total += sum(long_term.used_by_curr_pic_lt)
        if slice_type in (SliceType.P, SliceType.B):
            override = r.flag("num_ref_idx_active_override_flag")
            if override:
                l0 = r.ue("num_ref_idx_l0_active_minus1", 14)
                if slice_type == SliceType.B:
                    l1 = r.ue("num_ref_idx_l1_active_minus1", 14)
            if total == 0:
                raise r.error(f"a {slice_type.name} slice with no reference picture (NumPicTotalCurr 0)")
            if pps.lists_modification_present_flag and total > 1:
                bits = _ceil_log2(total)
                mod0 = r.flag("ref_pic_list_modification_flag_l0")
                if mod0:
                    entries0 = tuple(r.u(bits, "list_entry_l0") for _ in range(l0 + 1))
                if slice_type == SliceType.B:
                    mod1 = r.flag("ref_pic_list_modification_flag_l1")
                    if mod1:
                        entries1 = tuple(r.u(bits, "list_entry_l1") for _ in range(l1 + 1))
                if any(e >= total for e in entries0 + entries1):
                    raise r.error(f"a list_entry is beyond NumPicTotalCurr {total}")
            if slice_type == SliceType.B:
                mvd_zero = r.flag("mvd_l1_zero_flag")
            if pps.cabac_init_present_flag:
                cabac_init = r.flag("cabac_init_flag")
            if tmvp:
                if slice_type == SliceType.B:
                    col_l0 = r.flag("collocated_from_l0_flag")
                if (col_l0 and l0 > 0) or (not col_l0 and l1 > 0):
                    col_idx = r.ue("collocated_ref_idx", l0 if col_l0 else l1)
            if (pps.weighted_pred_flag and slice_type == SliceType.P) or (
                pps.weighted_bipred_flag and slice_type == SliceType.B
            ):
                pwt = _pred_weight_table(r, sps, slice_type, l0, l1)
            merge = r.ue("five_minus_max_num_merge_cand", 4)
            if sps.motion_vector_resolution_control_idc == 2:
                integer_mv = r.flag("use_integer_mv_flag")
        if slice_type == SliceType.I:
            l0 = l1 = 0
        elif slice_type == SliceType.P:
            l1 = 0
        qp_base = 26 + pps.init_qp_minus26
        qp_delta = r.se("slice_qp_delta", -6 * sps.bit_depth_luma_minus8 - qp_base, 51 - qp_base)
        cb = cr = 0
        if pps.pps_slice_chroma_qp_offsets_present_flag:
            cb = r.se("slice_cb_qp_offset", -12, 12)
            cr = r.se("slice_cr_qp_offset", -12, 12)
        if "chroma_qp_offset_list_enabled_flag" in pps.range_extension_in_use:
            r.u(1, "cu_chroma_qp_offset_enabled_flag")
        deblock_override = False
        if pps.deblocking_filter_override_enabled_flag:
            deblock_override = r.flag("deblocking_filter_override_flag")
        disabled = pps.pps_deblocking_filter_disabled_flag
        beta, tc = pps.pps_beta_offset_div2, pps.pps_tc_offset_div2
        if deblock_override:
            disabled = r.flag("slice_deblocking_filter_disabled_flag")
            if not disabled:
                beta = r.se("slice_beta_offset_div2", -6, 6)
                tc = r.se("slice_tc_offset_div2", -6, 6)
        across = pps.pps_loop_filter_across_slices_enabled_flag
        if across and (sao_luma or sao_chroma or not disabled):
            across = r.flag("slice_loop_filter_across_slices_enabled_flag")
        fields = dict(
            slice_type=slice_type, pic_output_flag=pic_output, colour_plane_id=colour_plane,
            slice_pic_order_cnt_lsb=poc_lsb, short_term_ref_pic_set_sps_flag=sps_flag,
            short_term_ref_pic_set_idx=rps_idx, st_rps=rps, long_term=long_term,
            slice_temporal_mvp_enabled_flag=tmvp, slice_sao_luma_flag=sao_luma,
            slice_sao_chroma_flag=sao_chroma,
            num_ref_idx_active_override_flag=override, num_ref_idx_l0_active_minus1=l0,
            num_ref_idx_l1_active_minus1=l1, ref_pic_list_modification_flag_l0=mod0, list_entry_l0=entries0,
            ref_pic_list_modification_flag_l1=mod1, list_entry_l1=entries1, mvd_l1_zero_flag=mvd_zero,
            cabac_init_flag=cabac_init, collocated_from_l0_flag=col_l0, collocated_ref_idx=col_idx,
            pred_weight_table=pwt, five_minus_max_num_merge_cand=merge, use_integer_mv_flag=integer_mv,
            slice_qp_delta=qp_delta, slice_cb_qp_offset=cb, slice_cr_qp_offset=cr,
            deblocking_filter_override_flag=deblock_override, slice_deblocking_filter_disabled_flag=disabled,
            slice_beta_offset_div2=beta, slice_tc_offset_div2=tc,
            slice_loop_filter_across_slices_enabled_flag=across,
        )  # fmt: skip
    entries: tuple[int, ...] = ()
    if pps.tiles_enabled_flag or pps.entropy_coding_sync_enabled_flag:
        tiles = (pps.num_tile_columns_minus1 + 1) * (pps.num_tile_rows_minus1 + 1)
        if not pps.tiles_enabled_flag:
            limit = sps.pic_height_in_ctbs_y - 1
        elif not pps.entropy_coding_sync_enabled_flag:
            limit = tiles - 1
        else:
            limit = (pps.num_tile_columns_minus1 + 1) * sps.pic_height_in_ctbs_y - 1
        count = r.ue("num_entry_point_offsets", limit)
        if count:
            length = r.ue("offset_len_minus1", 31) + 1
            entries = tuple(r.u(length, "entry_point_offset_minus1") for _ in range(count))
    if pps.slice_segment_header_extension_present_flag:
        for _ in range(r.ue("slice_segment_header_extension_length", 256)):
            r.u(8, "slice_segment_header_extension_data_byte")
    if r.u(1, "alignment_bit_equal_to_one") != 1:
        raise r.error("byte_alignment() does not begin with a 1 bit")
    while r.pos % 8:
        if r.u(1, "alignment_bit_equal_to_zero") != 0:
            raise r.error("byte_alignment() has a 1 bit after its first")
    header_bytes = rbsp.escaped_index(r.pos // 8)
    common = dict(
        nal=nal, first_slice_segment_in_pic_flag=first, no_output_of_prior_pics_flag=no_output,
        slice_pic_parameter_set_id=pps_id, dependent_slice_segment_flag=dependent,
        slice_segment_address=address, entry_point_offset_minus1=entries, header_bytes=header_bytes,
    )  # fmt: skip
    if base is not None:
        return dataclasses.replace(base, **common)  # type: ignore[arg-type]
    sizes = dict(short_term_ref_pic_set_size=st_size, long_term_ref_pic_set_size=lt_size)
    return SliceHeader(**common, **fields, **sizes)  # type: ignore[arg-type]


def _long_term(r: BitReader, sps: Sps, rps: StRefPicSet) -> LongTermRefs:
    """The if(long_term_ref_pics_present_flag) block of §7.3.6.1, resolved (7-52)."""
    lt_sps = 0
    room = 16 - rps.num_delta_pocs
    if sps.lt_ref_pic_poc_lsb_sps:
        lt_sps = r.ue("num_long_term_sps", min(len(sps.lt_ref_pic_poc_lsb_sps), room))
    lt_pics = r.ue("num_long_term_pics", room - lt_sps)
    lsb: list[int] = []
    used: list[bool] = []
    present: list[bool] = []
    cycle: list[int] = []
    for i in range(lt_sps + lt_pics):
        if i < lt_sps:
            idx = 0
            if len(sps.lt_ref_pic_poc_lsb_sps) > 1:
                idx = r.u(_ceil_log2(len(sps.lt_ref_pic_poc_lsb_sps)), "lt_idx_sps")
                if idx >= len(sps.lt_ref_pic_poc_lsb_sps):
                    raise r.error(f"lt_idx_sps {idx} of {len(sps.lt_ref_pic_poc_lsb_sps)}")
            lsb.append(sps.lt_ref_pic_poc_lsb_sps[idx])
            used.append(sps.used_by_curr_pic_lt_sps_flag[idx])
        else:
            lsb.append(r.u(sps.log2_max_pic_order_cnt_lsb_minus4 + 4, "poc_lsb_lt"))
            used.append(r.flag("used_by_curr_pic_lt_flag"))
        flag = r.flag("delta_poc_msb_present_flag")
        present.append(flag)
        value = r.ue("delta_poc_msb_cycle_lt") if flag else 0
        if i not in (0, lt_sps):
            value += cycle[-1]
        cycle.append(value)
    return LongTermRefs(tuple(lsb), tuple(used), tuple(present), tuple(cycle))


HEADER_TITLES: dict[int, str] = {
    NalUnitType.VPS: "Video Parameter Set",
    NalUnitType.SPS: "Sequence Parameter Set",
    NalUnitType.PPS: "Picture Parameter Set",
}
"""The non-VCL units traced, under the titles ``ffmpeg -bsf:v trace_headers`` gives them."""
SLICE_TITLE = "Slice Segment Header"


def trace_headers(stream: bytes) -> list[tuple[NalUnit, str, Trace]]:
    """Every base-layer VPS, SPS, PPS and slice segment header of an Annex B stream with the
    trace of its parse."""
    from conform.codecs.hevc.reader import nal_units

    vpss: dict[int, Vps] = {}
    spss: dict[int, Sps] = {}
    ppss: dict[int, Pps] = {}
    previous: SliceHeader | None = None
    out: list[tuple[NalUnit, str, Trace]] = []
    for nal in nal_units(stream):
        if nal.nuh_layer_id > 0:
            continue
        trace: Trace = []
        if nal.nal_unit_type == NalUnitType.VPS:
            vps = parse_vps(nal, trace)
            vpss[vps.vps_video_parameter_set_id] = vps
        elif nal.nal_unit_type == NalUnitType.SPS:
            sps = parse_sps(nal, vpss, trace)
            spss[sps.sps_seq_parameter_set_id] = sps
        elif nal.nal_unit_type == NalUnitType.PPS:
            pps = parse_pps(nal, spss, trace)
            ppss[pps.pps_pic_parameter_set_id] = pps
        elif nal.is_vcl:
            hdr = parse_slice_header(nal, spss, ppss, previous, trace)
            if not hdr.dependent_slice_segment_flag:
                previous = hdr
            out.append((nal, SLICE_TITLE, trace))
            continue
        else:
            continue
        out.append((nal, HEADER_TITLES[nal.nal_unit_type], trace))
    return out
