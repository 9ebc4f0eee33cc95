"""Unmodified programs people point at visl, run on both drivers: GStreamer's v4l2codecs."""
