"""The bit reader: exp-Golomb codes (H.264 §9.1, Table 9-2), emulation prevention, error offsets."""

from __future__ import annotations

import pytest

from conform.codecs.bitreader import BitReader, BitstreamError, Rbsp


def reader(bits: str, offset: int = 0) -> BitReader:
    bits += "0" * (-len(bits) % 8)
    return BitReader(Rbsp(int(bits, 2).to_bytes(len(bits) // 8, "big"), offset))


@pytest.mark.parametrize(("code", "value"), [("1", 0), ("010", 1), ("011", 2), ("00100", 3), ("0001000", 7)])
def test_ue_table_9_2(code: str, value: int) -> None:
    r = reader(code + "1")
    assert r.ue("x") == value
    assert r.pos == len(code)


@pytest.mark.parametrize(("code", "value"), [("1", 0), ("010", 1), ("011", -1), ("00100", 2), ("00101", -2)])
def test_se_table_9_3(code: str, value: int) -> None:
    assert reader(code + "1").se("x") == value


def test_fixed_width_and_trace() -> None:
    r = reader("101100111")
    r.trace = []
    assert (r.u(3, "a"), r.flag("b"), r.u(0, "c"), r.u(5, "d")) == (0b101, True, 0, 0b00111)
    assert r.trace == [("a", 5, 0), ("b", 1, 3), ("c", 0, 4), ("d", 7, 4)]


def test_emulation_prevention_map() -> None:
    escaped = bytes([0x67, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x00, 0x05])
    rbsp = Rbsp.unescape(escaped, 100)
    assert rbsp.data == bytes([0x67, 0, 0, 1, 0, 0, 0, 5])
    assert rbsp.epb == (3, 6)
    assert rbsp.offset_of(3) == 104  # the 0x01 after the first removed 0x03
    assert rbsp.offset_of(7) == 109
    assert rbsp.escaped_bits(8 * 3) == 8 * 4


def test_truncated_names_byte_offset() -> None:
    r = reader("11111111", offset=4242)
    r.u(8, "a")
    with pytest.raises(BitstreamError, match=r"truncated NAL unit: b needs 4 bits.*byte offset 4242"):
        r.u(4, "b")


def test_bounds_and_overlong_codes() -> None:
    with pytest.raises(BitstreamError, match="exceeds its maximum 2"):
        reader("00100").ue("pic_order_cnt_type", 2)
    with pytest.raises(BitstreamError, match="leading zero bits"):
        reader("0" * 40 + "1").ue("x")


def test_more_rbsp_data() -> None:
    r = reader("1" + "1000000")  # one element, then the stop bit
    r.u(1, "a")
    assert not r.more_rbsp_data()
    r = reader("11" + "100000" + "00000000")  # cabac_zero_word-style trailing zeros
    r.u(1, "a")
    assert r.more_rbsp_data()
