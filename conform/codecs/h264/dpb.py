"""H.264 picture order count and reference marking (Rec. ITU-T H.264 §8.2.1, §8.2.5).

The decoded picture buffer as a stateless client keeps it: which earlier pictures are
short- or long-term references, with their FrameNum, FrameNumWrap, LongTermFrameIdx and
field order counts.  Frame pictures only (MBAFF frames included): field pictures (PAFF)
are refused before any request is built.  Frames inferred for ``frame_num`` gaps
(§8.2.5.2) take their place in the sliding window but, having no picture behind them,
are never handed to a driver, though they keep their place in reference picture lists
(§8.2.4), which are built here for slice-based decoding.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from conform.codecs.bitreader import BitstreamError
from conform.codecs.h264.parser import Mmco, RefPicListModification, SliceHeader, SliceType, Sps


@dataclass(frozen=True, slots=True)
class RefFrame:
    """One frame marked "used for reference" (both fields: frame decoding)."""

    frame_num: int
    top_field_order_cnt: int
    bottom_field_order_cnt: int
    timestamp_ns: int
    """The request timestamp of the picture (``reference_ts`` in V4L2); 0 for non-existing frames."""
    long_term_frame_idx: int | None = None
    """None while short-term."""
    non_existing: bool = False

    @property
    def long_term(self) -> bool:
        return self.long_term_frame_idx is not None


@dataclass(frozen=True, slots=True)
class PictureOrder:
    """The POC values of one picture (§8.2.1) as V4L2's decode params carry them."""

    top_field_order_cnt: int
    bottom_field_order_cnt: int


RefPicList = tuple[int | None, ...]
"""A reference picture list as indices into ``Dpb.refs``; None is "no reference picture"."""


@dataclass(slots=True)
class Dpb:
    """Reference state carried from picture to picture (runtime state, not a record)."""

    sps: Sps | None = None
    refs: list[RefFrame] = field(default_factory=list)
    max_long_term_frame_idx: int | None = None
    """MaxLongTermFrameIdx; None is "no long-term frame indices"."""
    # §8.2.1 state of the previous (reference) picture.
    prev_poc_msb: int = 0
    prev_poc_lsb: int = 0
    prev_frame_num_offset: int = 0
    prev_frame_num: int = 0
    prev_ref_frame_num: int = 0
    prev_had_mmco5: bool = False

    def frame_num_wrap(self, ref: RefFrame, frame_num: int, sps: Sps) -> int:
        """FrameNumWrap (8-27) of a short-term reference seen from a picture with ``frame_num``."""
        return ref.frame_num - sps.max_frame_num if ref.frame_num > frame_num else ref.frame_num

    def references(self) -> list[RefFrame]:
        """The references a driver is told about (non-existing frames left out)."""
        return [r for r in self.refs if not r.non_existing]

    # §8.2.1 -----------------------------------------------------------------
    def picture_order(self, sps: Sps, hdr: SliceHeader) -> tuple[PictureOrder, int]:
        """(TopFieldOrderCnt, BottomFieldOrderCnt) of a frame, and its FrameNumOffset."""
        if sps.pic_order_cnt_type == 0:
            return self._poc0(sps, hdr), 0
        if hdr.idr:
            offset = 0
        else:
            prev = 0 if self.prev_had_mmco5 else self.prev_frame_num_offset
            offset = prev + sps.max_frame_num if self.prev_frame_num > hdr.frame_num else prev
        if sps.pic_order_cnt_type == 1:
            return self._poc1(sps, hdr, offset), offset
        if hdr.idr:
            temp = 0
        elif hdr.nal_ref_idc == 0:
            temp = 2 * (offset + hdr.frame_num) - 1
        else:
            temp = 2 * (offset + hdr.frame_num)
        return PictureOrder(temp, temp), offset

    def _poc0(self, sps: Sps, hdr: SliceHeader) -> PictureOrder:
        if hdr.idr:
            prev_msb = prev_lsb = 0
        else:
            prev_msb, prev_lsb = self.prev_poc_msb, self.prev_poc_lsb
        lsb, half = hdr.pic_order_cnt_lsb, sps.max_pic_order_cnt_lsb // 2
        if lsb < prev_lsb and prev_lsb - lsb >= half:
            msb = prev_msb + sps.max_pic_order_cnt_lsb
        elif lsb > prev_lsb and lsb - prev_lsb > half:
            msb = prev_msb - sps.max_pic_order_cnt_lsb
        else:
            msb = prev_msb
        top = msb + lsb
        return PictureOrder(top, top + hdr.delta_pic_order_cnt_bottom)

    def _poc1(self, sps: Sps, hdr: SliceHeader, frame_num_offset: int) -> PictureOrder:
        cycle = len(sps.offset_for_ref_frame)
        abs_frame_num = frame_num_offset + hdr.frame_num if cycle else 0
        if hdr.nal_ref_idc == 0 and abs_frame_num > 0:
            abs_frame_num -= 1
        expected = 0
        if abs_frame_num > 0:
            count, in_cycle = divmod(abs_frame_num - 1, cycle)
            expected = count * sum(sps.offset_for_ref_frame) + sum(sps.offset_for_ref_frame[: in_cycle + 1])
        if hdr.nal_ref_idc == 0:
            expected += sps.offset_for_non_ref_pic
        top = expected + hdr.delta_pic_order_cnt[0]
        bottom = top + sps.offset_for_top_to_bottom_field + hdr.delta_pic_order_cnt[1]
        return PictureOrder(top, bottom)

    # §8.2.4 -----------------------------------------------------------------
    def ref_pic_lists(self, sps: Sps, hdr: SliceHeader, order: PictureOrder) -> tuple[RefPicList, RefPicList]:
        """RefPicList0 and RefPicList1 of one slice of a frame (§8.2.4), before the picture is marked."""
        kind = hdr.kind
        if kind in (SliceType.I, SliceType.SI):
            return (), ()
        refs = self.refs
        short = [i for i, r in enumerate(refs) if not r.long_term]
        # LongTermPicNum = LongTermFrameIdx for frames (8-29): ascending in both lists.
        long = sorted(
            (i for i, r in enumerate(refs) if r.long_term), key=lambda i: refs[i].long_term_frame_idx or 0
        )
        l0 = hdr.num_ref_idx_l0_active_minus1 + 1
        if kind != SliceType.B:
            # §8.2.4.2.1: short-term by descending PicNum (= FrameNumWrap for frames).
            init0 = sorted(short, key=lambda i: -self.frame_num_wrap(refs[i], hdr.frame_num, sps)) + long
            return self._modified(init0, l0, hdr.ref_pic_list_modification_l0, sps, hdr), ()
        # §8.2.4.2.3: PicOrderCnt of a frame is the smaller of its field order counts (8-1).
        current = min(order.top_field_order_cnt, order.bottom_field_order_cnt)

        def poc(i: int) -> int:
            return min(refs[i].top_field_order_cnt, refs[i].bottom_field_order_cnt)

        before = sorted((i for i in short if poc(i) < current), key=lambda i: -poc(i))
        after = sorted((i for i in short if poc(i) > current), key=poc)
        init0, init1 = before + after + long, after + before + long
        if len(init1) > 1 and init1 == init0:
            init1[0], init1[1] = init1[1], init1[0]
        l1 = hdr.num_ref_idx_l1_active_minus1 + 1
        return (
            self._modified(init0, l0, hdr.ref_pic_list_modification_l0, sps, hdr),
            self._modified(init1, l1, hdr.ref_pic_list_modification_l1, sps, hdr),
        )

    def _modified(
        self,
        initial: list[int],
        active: int,
        mods: tuple[RefPicListModification, ...] | None,
        sps: Sps,
        hdr: SliceHeader,
    ) -> RefPicList:
        """§8.2.4.2 truncation to num_ref_idx_lX_active, then §8.2.4.3 modification."""
        entries: list[int | None] = [*initial[:active], *([None] * (active - len(initial)))]
        if not mods:
            return tuple(entries)
        refs, max_pic_num, curr_pic_num = self.refs, sps.max_frame_num, hdr.frame_num
        pred = curr_pic_num
        for ref_idx, mod in enumerate(mods):
            if ref_idx >= active:
                raise BitstreamError(
                    f"{len(mods)} reference list modifications for {active} active references", hdr.nal.offset
                )
            if mod.modification_of_pic_nums_idc in (0, 1):
                delta = mod.value + 1  # abs_diff_pic_num_minus1 + 1 (8-34, 8-35)
                no_wrap = pred - delta if mod.modification_of_pic_nums_idc == 0 else pred + delta
                no_wrap %= max_pic_num
                pred = no_wrap
                pic_num = no_wrap - max_pic_num if no_wrap > curr_pic_num else no_wrap  # 8-36

                def named(i: int | None, n: int = pic_num) -> bool:
                    if i is None or refs[i].long_term:
                        return False
                    return self.frame_num_wrap(refs[i], curr_pic_num, sps) == n

                what = f"short-term PicNum {pic_num}"
            else:

                def named(i: int | None, n: int = mod.value) -> bool:
                    return i is not None and refs[i].long_term_frame_idx == n

                what = f"LongTermPicNum {mod.value}"
            target = next((i for i in range(len(refs)) if named(i)), None)
            if target is None:
                raise BitstreamError(f"a reference list modification names {what}, not in the DPB",
                                     hdr.nal.offset)  # fmt: skip
            # 8-37 / 8-38: insert at ref_idx, then drop the later copy of the same picture.
            rest = [i for i in entries[ref_idx:] if not named(i)]
            entries = [*entries[:ref_idx], target, *rest]
            entries = [*entries[:active], *([None] * (active - len(entries)))]
        return tuple(entries)

    # §8.2.5 -----------------------------------------------------------------
    def fill_frame_num_gap(self, sps: Sps, hdr: SliceHeader) -> int:
        """§8.2.5.2: insert the non-existing frames a gap in frame_num implies; returns how many."""
        if hdr.idr:
            return 0
        expected = (self.prev_ref_frame_num + 1) % sps.max_frame_num
        if hdr.frame_num in (self.prev_ref_frame_num, expected):
            return 0
        if not sps.gaps_in_frame_num_value_allowed_flag:
            raise BitstreamError(
                f"frame_num jumps from {self.prev_ref_frame_num} to {hdr.frame_num} "
                "and the SPS allows no gaps "
                "(a lost picture)",
                hdr.nal.offset,
            )
        count = 0
        frame_num = expected
        while frame_num != hdr.frame_num:
            self._sliding_window(sps, frame_num)
            poc = 0
            if sps.pic_order_cnt_type != 0:
                offset = self.prev_frame_num_offset + (
                    sps.max_frame_num if self.prev_frame_num > frame_num else 0
                )
                poc = 2 * (offset + frame_num) if sps.pic_order_cnt_type == 2 else 0
                self.prev_frame_num_offset = offset
            self.refs.append(RefFrame(frame_num, poc, poc, 0, non_existing=True))
            self.prev_frame_num = self.prev_ref_frame_num = frame_num
            self.prev_had_mmco5 = False
            frame_num = (frame_num + 1) % sps.max_frame_num
            count += 1
        return count

    def _sliding_window(self, sps: Sps, frame_num: int) -> None:
        """§8.2.5.3: drop the short-term reference with the smallest FrameNumWrap when full."""
        short = [r for r in self.refs if not r.long_term]
        if short and len(self.refs) >= max(sps.max_num_ref_frames, 1):
            oldest = min(short, key=lambda r: self.frame_num_wrap(r, frame_num, sps))
            self.refs.remove(oldest)

    def _short_term(self, pic_num: int, frame_num: int, sps: Sps) -> RefFrame | None:
        for r in self.refs:
            if not r.long_term and self.frame_num_wrap(r, frame_num, sps) == pic_num:
                return r
        return None

    def _drop_long_term_idx(self, idx: int) -> None:
        self.refs = [r for r in self.refs if r.long_term_frame_idx != idx]

    def _mmco(self, op: Mmco, hdr: SliceHeader, sps: Sps) -> bool:
        """One memory_management_control_operation on frames (§8.2.5.4); True if it was 5."""
        kind = op.memory_management_control_operation
        if kind in (1, 3):
            pic_num = hdr.frame_num - (op.difference_of_pic_nums_minus1 + 1)
            target = self._short_term(pic_num, hdr.frame_num, sps)
            if target is None:
                raise BitstreamError(
                    f"MMCO {kind} names short-term PicNum {pic_num}, which is not in the DPB", hdr.nal.offset
                )
            if kind == 1:
                self.refs.remove(target)
            else:
                self._drop_long_term_idx(op.long_term_frame_idx)
                i = self.refs.index(target)
                self.refs[i] = dataclasses.replace(target, long_term_frame_idx=op.long_term_frame_idx)
        elif kind == 2:
            self.refs = [r for r in self.refs if r.long_term_frame_idx != op.long_term_pic_num]
        elif kind == 4:
            top = op.max_long_term_frame_idx_plus1 - 1
            self.max_long_term_frame_idx = None if top < 0 else top
            self.refs = [
                r for r in self.refs if r.long_term_frame_idx is None or r.long_term_frame_idx <= top
            ]
        elif kind == 5:
            self.refs = []
            self.max_long_term_frame_idx = None
            return True
        return False

    def finish_picture(self, sps: Sps, hdr: SliceHeader, order: PictureOrder, frame_num_offset: int,
                       timestamp_ns: int) -> None:  # fmt: skip
        """Mark the decoded picture (§8.2.5.1) and keep what §8.2.1 needs of it."""
        mmco5 = False
        current_long_term: int | None = None
        if hdr.nal_ref_idc != 0:
            marking = hdr.dec_ref_pic_marking
            assert marking is not None  # parsed whenever nal_ref_idc != 0
            if hdr.idr:
                self.refs = []
                if marking.long_term_reference_flag:
                    current_long_term, self.max_long_term_frame_idx = 0, 0
                else:
                    self.max_long_term_frame_idx = None
            elif marking.adaptive_ref_pic_marking_mode_flag:
                for op in marking.mmcos:
                    mmco5 |= self._mmco(op, hdr, sps)
                    if op.memory_management_control_operation == 6:
                        self._drop_long_term_idx(op.long_term_frame_idx)
                        current_long_term = op.long_term_frame_idx
            else:
                self._sliding_window(sps, hdr.frame_num)
            top, bottom = order.top_field_order_cnt, order.bottom_field_order_cnt
            frame_num = hdr.frame_num
            if mmco5:
                temp = min(top, bottom)
                top, bottom, frame_num = top - temp, bottom - temp, 0
            if len(self.refs) >= max(sps.max_num_ref_frames, 1) and current_long_term is None:
                raise BitstreamError(
                    f"the DPB already holds {len(self.refs)} references (max_num_ref_frames "
                    f"{sps.max_num_ref_frames}) when marking frame_num {hdr.frame_num}",
                    hdr.nal.offset,
                )
            self.refs.append(RefFrame(frame_num, top, bottom, timestamp_ns, current_long_term))
            self.prev_ref_frame_num = frame_num
            if sps.pic_order_cnt_type == 0:
                self.prev_poc_msb = 0 if mmco5 else order.top_field_order_cnt - hdr.pic_order_cnt_lsb
                self.prev_poc_lsb = top if mmco5 else hdr.pic_order_cnt_lsb
        self.prev_had_mmco5 = mmco5
        self.prev_frame_num = 0 if mmco5 else hdr.frame_num
        self.prev_frame_num_offset = 0 if mmco5 else frame_num_offset
