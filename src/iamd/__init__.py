"""iamd: a networked, multinational integrated air and missile defense testbed.

The package is layered (see ``DESIGN.md``): ``core`` and ``geo`` at the bottom,
``messages``, then the stages (``world``, ``sensors``, …), then ``scenario`` and
``record``, then ``sim`` which wires the pipeline, and ``cli`` at the top.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("iamd")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
