import numpy as np
import pytest

from iamd.core import RandomStreams


def test_same_seed_and_name_give_the_same_draws() -> None:
    a = RandomStreams(11).stream("sensor/A").normal(size=5)
    b = RandomStreams(11).stream("sensor/A").normal(size=5)
    np.testing.assert_array_equal(a, b)


def test_streams_do_not_depend_on_creation_order() -> None:
    first = RandomStreams(3)
    first.stream("x")
    late_y = first.stream("y").integers(0, 2**32, size=4)
    early_y = RandomStreams(3).stream("y").integers(0, 2**32, size=4)
    np.testing.assert_array_equal(late_y, early_y)


def test_different_names_and_seeds_differ() -> None:
    streams = RandomStreams(5)
    a = streams.stream("a").random(8)
    b = streams.stream("b").random(8)
    c = RandomStreams(6).stream("a").random(8)
    assert not np.allclose(a, b)
    assert not np.allclose(a, c)


def test_a_name_is_issued_once() -> None:
    streams = RandomStreams(0)
    streams.stream("dup")
    with pytest.raises(ValueError, match="already issued"):
        streams.stream("dup")


def test_negative_seed_is_rejected() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        RandomStreams(-1)
