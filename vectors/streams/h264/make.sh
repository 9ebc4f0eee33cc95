#!/bin/sh
# Recipes for the H.264 streams made here (x264 through Debian trixie's ffmpeg 7.1).
# They cover what the conformance streams in the vector store do not: High profiles,
# scaling lists, the 8x8 transform, weighted prediction, CABAC B-pyramids, MBAFF,
# 4:2:2 and 4:4:4, high bit depth, lossless, multiple slices per picture.
# Usage: FFMPEG="<argv of ffmpeg>" ./make.sh   (conform's copy: python -m conform.codecs.ffmpeg)
set -eu
FF=${FFMPEG:-ffmpeg}
SRC="-f lavfi -i testsrc2=size=128x96:rate=25,format=yuv420p"
X="-c:v libx264 -threads 1 -bsf:v h264_mp4toannexb -f h264 -y"
CQM4="16,12,14,18,12,14,20,24,14,20,26,30,18,24,30,36"
CQM8="8,10,12,14,16,18,20,22,10,12,14,16,18,20,22,24,12,14,16,18,20,22,24,26,14,16,18,20,22,24,26,28,16,18,20,22,24,26,28,30,18,20,22,24,26,28,30,32,20,22,24,26,28,30,32,34,22,24,26,28,30,32,34,36"
# High profile, custom 4x4/8x8 scaling lists, weighted P and B prediction, B-pyramid, 4 refs.
$FF -v error $SRC -frames:v 12 $X -profile:v high \
  -x264-params "cqm4=$CQM4:cqm8=$CQM8:8x8dct=1:weightp=2:weightb=1:bframes=3:b-pyramid=normal:ref=4:slices=2" \
  x264-high-cqm-wp.h264
# MBAFF (interlaced=1, top field first), CABAC, B frames.
$FF -v error $SRC -frames:v 10 $X -profile:v high -x264-params "interlaced=1:tff=1:bframes=2:ref=3" \
  x264-mbaff.h264
# High 4:4:4 Predictive: 12 scaling lists in the SPS, lossless (qpprime_y_zero_transform_bypass_flag).
$FF -v error -f lavfi -i testsrc2=size=64x64:rate=25,format=yuv444p -frames:v 6 $X -profile:v high444 \
  -x264-params "qp=0:cqm=jvt:8x8dct=1:bframes=0" x264-444-lossless.h264
# High 4:2:2 10-bit, CAVLC, 4 slices per picture.
$FF -v error -f lavfi -i testsrc2=size=64x64:rate=25,format=yuv422p10le -frames:v 6 $X -profile:v high422 \
  -x264-params "cabac=0:slices=4:bframes=1" x264-422-10bit.h264
# Constrained baseline with 3 slices and an IDR every 4 pictures.
$FF -v error $SRC -frames:v 9 $X -profile:v baseline -x264-params "slices=3:keyint=4:min-keyint=4:scenecut=0" \
  x264-baseline-slices.h264
