"""Bit-level reading of NAL unit payloads: emulation prevention, fixed-width and exp-Golomb codes.

A NAL unit as stored in a file carries emulation prevention bytes (H.264 §7.4.1,
``emulation_prevention_three_byte``); syntax is read from the RBSP they are removed from.
:class:`Rbsp` keeps where each removed byte was, so a reader positioned in the RBSP can
name the byte offset *in the file* of whatever it failed on, and can give bit positions
in either domain (V4L2's ``header_bit_size`` counts the escaped payload the driver gets).

Every read may be traced: with ``trace`` set, each syntax element is recorded as
``(name, value, rbsp_bit_position)`` — the same triple ``ffmpeg -bsf:v trace_headers``
prints, which is how the header oracle compares parsers element by element.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from conform.errors import ConformError

EPB = b"\x00\x00\x03"


class BitstreamError(ConformError):
    """A stream is corrupt or truncated; the message names the byte offset in the file."""

    def __init__(self, message: str, offset: int, frame: int | None = None) -> None:
        self.offset = offset
        self.frame = frame
        where = f"byte offset {offset}" + (f", picture {frame}" if frame is not None else "")
        super().__init__(f"{message} (at {where})")


class RbspExhausted(Exception):
    """The RBSP prefix a reader was given ended; the caller retries with the whole unit."""


@dataclass(frozen=True, slots=True)
class Rbsp:
    """The payload of one NAL unit with emulation prevention removed, and the map back.

    ``epb`` holds, ascending, the RBSP byte index each removed ``0x03`` would have preceded;
    ``complete`` is False when only a prefix of the unit was unescaped.
    """

    data: bytes
    file_offset: int
    """Offset in the file of the unit's first byte (the NAL header)."""
    epb: tuple[int, ...] = ()
    complete: bool = True

    @classmethod
    def unescape(cls, escaped: bytes, file_offset: int, limit: int | None = None) -> Rbsp:
        """Remove emulation prevention from ``escaped`` (only its first ``limit`` bytes if given)."""
        complete = limit is None or limit >= len(escaped)
        src = escaped if complete else escaped[:limit]
        if EPB not in src:
            return cls(src, file_offset, (), complete)
        parts: list[bytes] = []
        epb: list[int] = []
        start = out = 0
        while True:
            hit = src.find(EPB, start)
            if hit < 0:
                break
            parts.append(src[start : hit + 2])
            out += hit + 2 - start
            epb.append(out)
            start = hit + 3
        parts.append(src[start:])
        return cls(b"".join(parts), file_offset, tuple(epb), complete)

    def escaped_index(self, rbsp_byte: int) -> int:
        """Index in the escaped unit of RBSP byte ``rbsp_byte``."""
        return rbsp_byte + bisect_right(self.epb, rbsp_byte)

    def escaped_bits(self, rbsp_bit: int) -> int:
        """Bit position in the escaped unit of RBSP bit ``rbsp_bit`` (removed bytes count 8 each)."""
        return rbsp_bit + 8 * bisect_right(self.epb, rbsp_bit // 8)

    def offset_of(self, rbsp_byte: int) -> int:
        """File offset of RBSP byte ``rbsp_byte``."""
        return self.file_offset + self.escaped_index(rbsp_byte)


Trace = list[tuple[str, int, int]]


@dataclass(slots=True)
class BitReader:
    """MSB-first reader over an :class:`Rbsp` (Rec. ITU-T H.264 §7.2 descriptors u, ue, se)."""

    rbsp: Rbsp
    pos: int = 0
    """Bit position in the RBSP."""
    trace: Trace | None = None
    _value: int = field(init=False, repr=False)
    _bits: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._value = int.from_bytes(self.rbsp.data, "big")
        self._bits = len(self.rbsp.data) * 8

    @property
    def byte_offset(self) -> int:
        """File offset of the byte the reader is in."""
        return self.rbsp.offset_of(min(self.pos // 8, max(len(self.rbsp.data) - 1, 0)))

    def error(self, message: str) -> BitstreamError:
        return BitstreamError(message, self.byte_offset)

    def _short(self, n: int, name: str) -> Exception:
        if not self.rbsp.complete:
            return RbspExhausted()
        return BitstreamError(
            f"truncated NAL unit: {name} needs {n} bits, {self._bits - self.pos} left", self.byte_offset
        )

    def bits_left(self) -> int:
        return self._bits - self.pos

    def u(self, n: int, name: str) -> int:
        """``u(n)``: an n-bit unsigned integer."""
        start = self.pos
        if n == 0:
            value = 0
        else:
            end = start + n
            if end > self._bits:
                raise self._short(n, name)
            value = (self._value >> (self._bits - end)) & ((1 << n) - 1)
            self.pos = end
        if self.trace is not None:
            self.trace.append((name, value, start))
        return value

    def flag(self, name: str) -> bool:
        return bool(self.u(1, name))

    def _golomb(self, name: str) -> int:
        left = self._bits - self.pos
        rest = self._value & ((1 << left) - 1)
        if rest == 0:
            raise self._short(1, name)
        zeros = left - rest.bit_length()
        if zeros > 31:
            raise self.error(f"exp-Golomb code of {name} has {zeros} leading zero bits (at most 31)")
        total = 2 * zeros + 1
        if total > left:
            raise self._short(total, name)
        self.pos += total
        return ((rest >> (left - total)) & ((1 << total) - 1)) - 1

    def ue(self, name: str, maximum: int | None = None) -> int:
        """``ue(v)``: unsigned exp-Golomb; ``maximum`` bounds what the spec allows."""
        start = self.pos
        value = self._golomb(name)
        if maximum is not None and value > maximum:
            self.pos = start
            raise self.error(f"{name} = {value} exceeds its maximum {maximum}")
        if self.trace is not None:
            self.trace.append((name, value, start))
        return value

    def se(self, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
        """``se(v)``: signed exp-Golomb (k → (-1)^(k+1) ⌈k÷2⌉)."""
        start = self.pos
        k = self._golomb(name)
        value = (k + 1) // 2 if k & 1 else -(k // 2)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.pos = start
            raise self.error(f"{name} = {value} is outside [{minimum}, {maximum}]")
        if self.trace is not None:
            self.trace.append((name, value, start))
        return value

    def more_rbsp_data(self) -> bool:
        """§7.2 more_rbsp_data(): is there syntax before the rbsp_stop_one_bit?"""
        data = self.rbsp.data.rstrip(b"\x00")
        if not data:
            return False
        last = data[-1]
        stop = len(data) * 8 - 1 - ((last & -last).bit_length() - 1)
        return self.pos < stop

    def byte_aligned(self) -> bool:
        return self.pos % 8 == 0
