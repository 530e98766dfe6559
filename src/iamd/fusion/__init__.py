"""The fusion stage: track-to-track association and fusion, track numbers, the air picture."""

__all__: list[str] = []
