"""Codec front-ends: bitstreams in, request streams out (one package per codec)."""
