"""The network stage: wire format, signing, releasability guards and simulated links."""

__all__: list[str] = []
