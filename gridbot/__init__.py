"""gridbot: entry points and wiring (the composition root)."""

__version__ = "0.1.0"
