import pytest

from iamd.core import Registry, RegistryError


def test_register_and_get() -> None:
    registry: Registry[int] = Registry("widget")
    registry.register("radar.rotating")(1)
    registry.register("radar.array")(2)
    assert registry.get("radar.array") == 2
    assert list(registry) == ["radar.array", "radar.rotating"]
    assert "radar.rotating" in registry


def test_miss_suggests_close_kinds() -> None:
    registry: Registry[int] = Registry("sensor")
    registry.register("radar")(1)
    registry.register("infrared.space")(2)
    with pytest.raises(RegistryError, match=r"unknown sensor kind 'rader'; did you mean 'radar'\?"):
        registry.get("rader")


def test_duplicate_registration_is_an_error() -> None:
    registry: Registry[int] = Registry("sensor")
    registry.register("radar")(1)
    with pytest.raises(RegistryError, match="already registered"):
        registry.register("radar")(2)
