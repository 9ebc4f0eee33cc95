#!/bin/sh
# Recipes for the HEVC streams made here (libx265 through Debian trixie's ffmpeg 7.1).
# They cover what the cros-codecs streams in the vector store do not: B-pyramids with
# weighted prediction, several slices per picture, wavefront parallel processing (entry
# points), the default scaling lists, open GOPs (CRA with RASL pictures),
# temporal sub-layers, Main 10, lossless CUs (transquant bypass), deblocking overrides.
# x265 writes no tiles, so the two tile streams come from kvazaar (Debian trixie's 2.3.1).
# Neither encoder writes long-term references, SPS reference picture sets (hence no inter
# RPS prediction), list modifications or dependent slice segments; x265 here also refuses
# custom scaling-list files.  None of these streams have them.
# Usage: FFMPEG="<argv of ffmpeg>" KVAZAAR="<argv of kvazaar>" ./make.sh
#   (for example conform's copy of trixie's ffmpeg, and trixie's kvazaar unpacked with dpkg -x)
set -eu
FF=${FFMPEG:-ffmpeg}
KVZ=${KVAZAAR:-kvazaar}
SRC="-f lavfi -i testsrc2=size=128x96:rate=25,format=yuv420p"
X="-c:v libx265 -threads 1 -f hevc -y"
P="log-level=error:frame-threads=1"  # pools=none breaks x265 slices
# B-pyramid (3 B frames, hierarchical), 4 references, weighted P and B prediction (a fade in).
$FF -v error $SRC -vf fade=in:0:12 -frames:v 12 $X -x265-params "$P:bframes=3:b-pyramid=1:ref=4:weightp=1:weightb=1:keyint=60" \
  x265-bpyramid-wp.h265
# Three slices per picture, 32x32 CTUs, deblocking offsets, SAO off, no temporal MVP (192x128:
# at 128x96, or without a thread pool, this x265 writes slices without slice data).
$FF -v error -f lavfi -i testsrc2=size=192x128:rate=25,format=yuv420p -frames:v 6 $X -x265-params "$P:slices=3:ctu=32:deblock=2,-1:sao=0:tmvp=0:bframes=1" \
  x265-slices.h265
# Wavefront parallel processing (entropy_coding_sync): one entry point per CTU row.
$FF -v error $SRC -frames:v 6 $X -x265-params "$P:wpp=1:ctu=16:bframes=2" x265-wpp.h265
# The default scaling lists (scaling_list_enabled_flag, no lists sent).
$FF -v error $SRC -frames:v 5 $X -x265-params "$P:scaling-list=default:bframes=1" x265-scaling-default.h265
# Open GOP: CRA pictures every 8 with RASL pictures before them in output order.
$FF -v error $SRC -frames:v 20 $X -x265-params "$P:keyint=8:min-keyint=8:open-gop=1:bframes=3:scenecut=0" \
  x265-open-gop.h265
# Temporal sub-layers (TSA/STSA, nuh_temporal_id_plus1 > 1) and an IDR every 6 pictures.
$FF -v error $SRC -frames:v 12 $X -x265-params "$P:temporal-layers=3:bframes=3:keyint=6:min-keyint=6:scenecut=0" \
  x265-temporal-layers.h265
# Main 10, 64x64.
$FF -v error -f lavfi -i testsrc2=size=64x64:rate=25,format=yuv420p10le -frames:v 6 $X -profile:v main10 \
  -x265-params "$P:bframes=2" x265-main10.h265
# Lossless (cu_transquant_bypass), sign hiding off, transform skip, constrained intra.
$FF -v error -f lavfi -i testsrc2=size=64x64:rate=25,format=yuv420p -frames:v 4 $X \
  -x265-params "$P:lossless=1:signhide=0:tskip=1:constrained-intra=1:bframes=0" x265-lossless.h265
# kvazaar: 192x128 in 64x64 CTBs (3x2).  Uniform 3x2 tiles, one slice per tile.
$FF -v error -f lavfi -i testsrc2=size=192x128:rate=25,format=yuv420p -frames:v 10 -f rawvideo -y kvz-src.yuv
$KVZ -i kvz-src.yuv --input-res 192x128 -o kvz-tiles.h265 --tiles 3x2 --slices tiles --gop 8 --threads 0 \
  --owf 0 --no-psnr --no-info
# Non-uniform 2x2 tiles (a 64-pixel first column) with WPP inside them, default scaling lists.
$KVZ -i kvz-src.yuv --input-res 192x128 -o kvz-tiles-wpp.h265 --tiles-width-split 64 --tiles-height-split u2 \
  --wpp --gop lp-g4d3t1 --scaling-list default --threads 0 --owf 0 --no-psnr --no-info
rm -f kvz-src.yuv
