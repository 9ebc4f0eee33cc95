"""The root of conform's exceptions; every layer derives its own from it."""


class ConformError(Exception):
    """Something conform cannot do, with enough context to say why."""


class NotSupportedError(ConformError):
    """An expected outcome: the driver or stream lacks a feature; not a failure."""


class FeatureNotSupported(NotSupportedError):
    """A stream uses a feature a codec front-end (or the V4L2 API) cannot express: which
    feature, and where in the file when known."""

    def __init__(self, feature: str, offset: int | None = None) -> None:
        self.feature = feature
        self.offset = offset
        where = f" (at byte offset {offset})" if offset is not None else ""
        super().__init__(f"not supported: {feature}{where}")
