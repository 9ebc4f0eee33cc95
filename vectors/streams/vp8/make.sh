#!/bin/sh
# Recipes for the VP8 streams (IVF) made here with libvpx through Debian trixie's ffmpeg 7.1.
# They add what the VP8 test vectors lack: a change of resolution at a key frame.  (One-pass
# libvpx through ffmpeg makes no hidden alternate reference frames and cannot set the number
# of token partitions; the test vectors cover both.)
# Usage: FFMPEG="<argv of ffmpeg>" ./make.sh
set -eu
FF=${FFMPEG:-ffmpeg}
E="-c:v libvpx -threads 1 -fflags +bitexact -deadline good -cpu-used 4 -f ivf -y"
# Temporal noise keeps every frame coded: a still 64x48 picture makes near-empty inter frames
# that ffmpeg's trace_headers (the header oracle) cannot read.
src() { echo "-f lavfi -i testsrc2=size=$1:rate=25,noise=alls=20:allf=t"; }
# A resolution change: 64x48 for 6 frames, then 96x64 from a key frame on, in one IVF file
# (the second encode's frames appended with their presentation times continued).
$FF -v error $(src 64x48) -frames:v 6 $E -g 6 part1.ivf
$FF -v error $(src 96x64) -frames:v 6 $E -g 6 part2.ivf
python3 - part1.ivf part2.ivf libvpx-resize.ivf <<'PY'
import struct, sys
first, second = (open(p, "rb").read() for p in sys.argv[1:3])
def frames(ivf):
    pos, out = struct.unpack_from("<H", ivf, 6)[0], []
    while pos < len(ivf):
        size, pts = struct.unpack_from("<IQ", ivf, pos)
        out.append((pts, ivf[pos + 12:pos + 12 + size]))
        pos += 12 + size
    return out
a, b = frames(first), frames(second)
header = bytearray(first[:32])
struct.pack_into("<I", header, 24, len(a) + len(b))
body = b"".join(struct.pack("<IQ", len(d), pts) + d for pts, d in a)
body += b"".join(struct.pack("<IQ", len(d), pts + len(a)) + d for pts, d in b)
open(sys.argv[3], "wb").write(bytes(header) + body)
PY
rm part1.ivf part2.ivf
