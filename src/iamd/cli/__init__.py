"""The ``iamd`` command line."""

from iamd.cli.main import app, main

__all__ = ["app", "main"]
