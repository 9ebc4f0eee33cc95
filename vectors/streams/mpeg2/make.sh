#!/bin/sh
# Recipes for the MPEG-2 video streams (elementary .m2v) made here: ffmpeg's mpeg2video
# encoder (Debian trixie's ffmpeg 7.1) and mjpegtools' mpeg2enc (Debian trixie's 2.1.0).
# Together they cover I/P/B pictures and GOPs, interlaced frame pictures (field DCT and
# field prediction, both field orders), 3:2 pulldown (repeat_first_field), loaded
# quantiser matrices, intra VLC, alternate scan, the non-linear quantiser scale,
# intra_dc_precision 9/10 bits, 4:2:2, and sizes that are not a multiple of 16.
# Neither encoder writes field pictures: ffmpeg's always codes frame pictures, and
# mpeg2enc's field-picture mode (-I 2) crashes after the first field.
# Usage: FFMPEG="<argv of ffmpeg>" MPEG2ENC="<argv of mpeg2enc>" ./make.sh
set -eu
FF=${FFMPEG:-ffmpeg}
M2E=${MPEG2ENC:-mpeg2enc}
E="-c:v mpeg2video -threads 1 -fflags +bitexact -flags:v +bitexact -f mpeg2video -y"
src() { echo "-f lavfi -i testsrc2=size=$1:rate=${2:-25},format=${3:-yuv420p}"; }
# Progressive I/P/B, two GOPs of 6 (I B B P B B), 64x48.
$FF -v error $(src 64x48) -frames:v 12 $E -g 6 -bf 2 ffmpeg-ipb.m2v
# Interlaced frame pictures with field DCT and field motion, top field first, B pictures.
$FF -v error $(src 64x64) -frames:v 8 $E -g 8 -bf 2 -flags:v +bitexact+ildct+ilme -top 1 \
  ffmpeg-interlaced-tff.m2v
# Loaded intra and non-intra matrices, intra VLC, alternate scan, non-linear quantiser scale,
# intra_dc_precision 9 bits.
IM="8,9,10,11,12,13,14,15,9,10,11,12,13,14,15,16,10,11,12,13,14,15,16,17,11,12,13,14,15,16,17,18,12,13,14,15,16,17,18,19,13,14,15,16,17,18,19,20,14,15,16,17,18,19,20,21,15,16,17,18,19,20,21,22"
NM="16,17,18,19,20,21,22,23,17,18,19,20,21,22,23,24,18,19,20,21,22,23,24,25,19,20,21,22,23,24,25,26,20,21,22,23,24,25,26,27,21,22,23,24,25,26,27,28,22,23,24,25,26,27,28,29,23,24,25,26,27,28,29,30"
$FF -v error $(src 64x48) -frames:v 6 $E -g 6 -bf 1 -qmax 28 -intra_matrix $IM -inter_matrix $NM \
  -intra_vlc 1 -alternate_scan 1 -non_linear_quant 1 -dc 9 ffmpeg-tools.m2v
# An odd size (50x34: the picture is 4x3 macroblocks, the display size is not), B pictures.
$FF -v error $(src 50x34) -frames:v 6 $E -g 6 -bf 2 ffmpeg-odd-50x34.m2v
# 4:2:2 (ffmpeg picks the 4:2:2 profile), interlaced bottom field first.
$FF -v error $(src 48x32 25 yuv422p) -frames:v 5 $E -g 5 -bf 1 -flags:v +bitexact+ildct -top 0 \
  ffmpeg-422-bff.m2v
# mpeg2enc: 3:2 pulldown of 23.976 fps (repeat_first_field, top_field_first alternating),
# intra_dc_precision 10 bits, q_scale_type 1, alternate scan, KVCD matrices in the sequence header.
$FF -v error $(src 64x64 24000/1001) -frames:v 8 -f yuv4mpegpipe -y src-24.y4m
$M2E -v 0 -f 3 -b 2000 -p -D 10 -K kvcd -o mpeg2enc-pulldown.m2v < src-24.y4m
# mpeg2enc: interlaced frame pictures, bottom field first, I/P/B with two B pictures.
$FF -v error $(src 64x64) -vf setfield=bff -frames:v 8 -f yuv4mpegpipe -y src-bff.y4m
$M2E -v 0 -f 3 -b 2000 -I 1 -z b -R 2 -g 6 -G 6 -o mpeg2enc-interlaced-bff.m2v < src-bff.y4m
rm -f src-24.y4m src-bff.y4m
