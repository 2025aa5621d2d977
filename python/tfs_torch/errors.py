"""The one error the bridge raises for input it cannot take: it names the field."""


class CheckpointError(ValueError):
    """A checkpoint, config or run file that cannot be read as tfs wrote it."""
