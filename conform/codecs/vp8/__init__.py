"""VP8 (RFC 6386): IVF reader, frame header parser, entropy state, V4L2 controls, requests."""
