"""MPEG-2 video (ISO/IEC 13818-2) front-end: reader, parser, controls, requests."""
