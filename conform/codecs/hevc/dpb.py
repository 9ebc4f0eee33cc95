"""HEVC picture order count and reference picture sets (Rec. ITU-T H.265 §8.3.1, §8.3.2, §8.3.4).

The decoded picture buffer as a stateless client keeps it: the pictures still marked as
reference, with their PicOrderCntVal, marking and request timestamp.  Each picture's RPS
(PocStCurrBefore, PocStCurrAfter, PocStFoll, PocLtCurr, PocLtFoll) decides which of them
stay; the ones it keeps are what a driver's ``dpb[]`` lists, and the three "Curr" lists
become indices into it.  RASL pictures of an IRAP picture with NoRaslOutputFlag 1 (a
stream beginning with a CRA) reference pictures that were never decoded: like any
decoder, the front-end drops them (§8.1.3) before they reach the DPB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conform.codecs.bitreader import BitstreamError
from conform.codecs.hevc.parser import SliceHeader, SliceType, Sps


@dataclass(frozen=True, slots=True)
class RefPicture:
    """One decoded picture marked "used for reference"."""

    pic_order_cnt_val: int
    timestamp_ns: int
    """The request timestamp of the picture (``timestamp`` of a V4L2 DPB entry)."""
    long_term: bool = False


@dataclass(frozen=True, slots=True)
class ReferenceSet:
    """One picture's view of the DPB after §8.3.2: the entries and the Curr lists as indices."""

    entries: tuple[RefPicture, ...]
    st_curr_before: tuple[int, ...] = ()
    st_curr_after: tuple[int, ...] = ()
    lt_curr: tuple[int, ...] = ()

    @property
    def num_pic_total_curr(self) -> int:
        return len(self.st_curr_before) + len(self.st_curr_after) + len(self.lt_curr)

    def ref_pic_lists(self, hdr: SliceHeader) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """RefPicList0 and RefPicList1 of a slice as DPB indices (§8.3.4, 8-8 to 8-11)."""
        if hdr.slice_type == SliceType.I:
            return (), ()
        if self.num_pic_total_curr == 0:
            raise BitstreamError(f"a {hdr.slice_type.name} slice with no reference picture", hdr.nal.offset)
        lists: list[tuple[int, ...]] = []
        for lx, (active, modified, entries) in enumerate((
            (hdr.num_ref_idx_l0_active_minus1 + 1, hdr.ref_pic_list_modification_flag_l0, hdr.list_entry_l0),
            (hdr.num_ref_idx_l1_active_minus1 + 1, hdr.ref_pic_list_modification_flag_l1, hdr.list_entry_l1),
        )):  # fmt: skip
            if lx == 1 and hdr.slice_type != SliceType.B:
                lists.append(())
                break
            order = (
                (self.st_curr_before, self.st_curr_after, self.lt_curr)
                if lx == 0
                else (self.st_curr_after, self.st_curr_before, self.lt_curr)
            )
            size = max(active, self.num_pic_total_curr)
            temp: list[int] = []
            while len(temp) < size:
                for part in order:
                    temp.extend(part[: size - len(temp)])
            lists.append(tuple(temp[entries[r]] if modified else temp[r] for r in range(active)))
        return lists[0], lists[1]


@dataclass(slots=True)
class Dpb:
    """Reference state carried from picture to picture (runtime state, not a record)."""

    pictures: list[RefPicture] = field(default_factory=list)
    prev_tid0_poc: int = 0
    """PicOrderCntVal of prevTid0Pic (§8.3.1)."""
    first_in_sequence: bool = True
    """The next picture is the first of the stream or follows an end of sequence."""
    no_rasl_output: bool = False
    """NoRaslOutputFlag of the last IRAP picture: its RASL pictures are dropped."""

    def end_of_sequence(self) -> None:
        self.first_in_sequence = True

    def skips(self, hdr: SliceHeader) -> bool:
        """Whether the picture is a RASL picture of an IRAP with NoRaslOutputFlag 1 (§8.1.3)."""
        nal = hdr.nal
        if nal.is_irap:
            self.no_rasl_output = nal.is_idr or nal.is_bla or self.first_in_sequence
            return False
        return nal.is_rasl and self.no_rasl_output

    def picture_order_count(self, sps: Sps, hdr: SliceHeader) -> int:
        """PicOrderCntVal (§8.3.1, 8-1 and 8-2)."""
        nal = hdr.nal
        lsb = hdr.slice_pic_order_cnt_lsb
        if nal.is_irap and (nal.is_idr or nal.is_bla or self.first_in_sequence):
            return lsb  # PicOrderCntMsb = 0
        max_lsb = sps.max_pic_order_cnt_lsb
        prev_lsb = self.prev_tid0_poc & (max_lsb - 1)
        prev_msb = self.prev_tid0_poc - prev_lsb
        if lsb < prev_lsb and prev_lsb - lsb >= max_lsb // 2:
            msb = prev_msb + max_lsb
        elif lsb > prev_lsb and lsb - prev_lsb > max_lsb // 2:
            msb = prev_msb - max_lsb
        else:
            msb = prev_msb
        return msb + lsb

    def reference_set(self, sps: Sps, hdr: SliceHeader, poc: int) -> ReferenceSet:
        """Apply the RPS of the picture (§8.3.2): mark, drop, and index what stays."""
        nal = hdr.nal
        if nal.is_irap and (nal.is_idr or nal.is_bla or self.first_in_sequence):
            self.pictures = []
        rps = hdr.st_rps
        if nal.is_idr or rps is None:
            self.pictures = []
            return ReferenceSet(())
        max_lsb = sps.max_pic_order_cnt_lsb
        st_before = [poc + d for d, u in zip(rps.delta_poc_s0, rps.used_by_curr_pic_s0, strict=True) if u]
        st_after = [poc + d for d, u in zip(rps.delta_poc_s1, rps.used_by_curr_pic_s1, strict=True) if u]
        st_foll = [poc + d for d, u in zip(rps.delta_poc_s0 + rps.delta_poc_s1,
                                           rps.used_by_curr_pic_s0 + rps.used_by_curr_pic_s1, strict=True)
                   if not u]  # fmt: skip
        lt = hdr.long_term
        lt_curr: list[tuple[int, bool]] = []
        lt_foll: list[tuple[int, bool]] = []
        for i, lsb in enumerate(lt.poc_lsb_lt):
            value = lsb
            if lt.delta_poc_msb_present_flag[i]:
                value += poc - lt.delta_poc_msb_cycle_lt[i] * max_lsb - (poc & (max_lsb - 1))
            target = lt_curr if lt.used_by_curr_pic_lt[i] else lt_foll
            target.append((value, lt.delta_poc_msb_present_flag[i]))
        offset = nal.offset
        keep: dict[int, RefPicture] = {}  # by position in self.pictures

        def find_lt(value: int, full: bool) -> int | None:
            for i, pic in enumerate(self.pictures):
                got = pic.pic_order_cnt_val if full else pic.pic_order_cnt_val & (max_lsb - 1)
                if got == value:
                    return i
            return None

        lt_curr_at: list[int] = []
        for value, full in lt_curr + lt_foll:
            hit = find_lt(value, full)
            if hit is None:
                if (value, full) in lt_curr:
                    raise BitstreamError(
                        f"long-term reference POC {value} of picture POC {poc} is not in the DPB", offset
                    )
                continue
            keep[hit] = RefPicture(
                self.pictures[hit].pic_order_cnt_val, self.pictures[hit].timestamp_ns, True
            )
            if (value, full) in lt_curr:
                lt_curr_at.append(hit)

        def find_st(value: int) -> int | None:
            for i, pic in enumerate(self.pictures):
                if not pic.long_term and pic.pic_order_cnt_val == value and i not in keep:
                    return i
            return None

        before_at: list[int] = []
        after_at: list[int] = []
        for values, into in ((st_before, before_at), (st_after, after_at), (st_foll, None)):
            for value in values:
                hit = find_st(value)
                if hit is None:
                    if into is not None:
                        raise BitstreamError(
                            f"short-term reference POC {value} of picture POC {poc} is not in the DPB", offset
                        )
                    continue
                keep[hit] = self.pictures[hit]
                if into is not None:
                    into.append(hit)
        order = sorted(keep)
        self.pictures = [keep[i] for i in order]
        if len(self.pictures) > 16:
            raise BitstreamError(
                f"the RPS of picture POC {poc} keeps {len(self.pictures)} references (at most 16)", offset
            )
        index = {old: new for new, old in enumerate(order)}
        return ReferenceSet(
            tuple(self.pictures),
            tuple(index[i] for i in before_at),
            tuple(index[i] for i in after_at),
            tuple(index[i] for i in lt_curr_at),
        )

    def finish_picture(self, hdr: SliceHeader, poc: int, timestamp_ns: int, sps: Sps) -> None:
        """Mark the decoded picture as a short-term reference (§8.3.2) and keep prevTid0Pic."""
        nal = hdr.nal
        if len(self.pictures) >= sps.sps_max_dec_pic_buffering_minus1[-1] + 1:
            raise BitstreamError(
                f"the DPB already holds {len(self.pictures)} pictures (sps_max_dec_pic_buffering_minus1 "
                f"{sps.sps_max_dec_pic_buffering_minus1[-1]}) after picture POC {poc}",
                nal.offset,
            )
        self.pictures.append(RefPicture(poc, timestamp_ns))
        if nal.nuh_temporal_id_plus1 == 1 and not (
            nal.is_rasl or nal.is_radl or nal.is_sub_layer_non_reference
        ):
            self.prev_tid0_poc = poc
        self.first_in_sequence = False
