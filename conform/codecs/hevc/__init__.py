"""HEVC front-end: Annex B reader, syntax parser, DPB, V4L2 stateless controls."""
