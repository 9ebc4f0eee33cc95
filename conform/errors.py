"""The root of conform's exceptions; every layer derives its own from it."""


class ConformError(Exception):
    """Something conform cannot do, with enough context to say why."""


class NotSupportedError(ConformError):
    """An expected outcome: the driver or stream lacks a feature; not a failure."""
