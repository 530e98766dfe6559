"""Wire format: pinned layout, bit-exact round trips, every reject reason, fuzzing."""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamd.core import IamdError, NationCode
from iamd.messages.reports import (
    EngagementStatuses,
    MeasurementReports,
    MissileWarnings,
    TrackReports,
)
from iamd.network import wire
from iamd.network.wire import (
    DEFAULT_MAX_MESSAGE_BYTES,
    HEADER_BYTES,
    MessageType,
    RejectReason,
    WireError,
    WireMessage,
    check,
    decode,
    encode,
    item_dtype,
    read_header,
)

USA, JPN, KOR = (NationCode(code) for code in ("USA", "JPN", "KOR"))
NATIONS = (USA, JPN, KOR)
NAN = float("nan")


# ---------------------------------------------------------------------------------------------
# Builders of valid records


def spd(count: int, rng: np.random.Generator) -> np.ndarray:
    """Symmetric positive definite ECEF-like covariances: m² position, m²/s² velocity."""
    a = rng.normal(size=(count, 6, 6))
    p = a @ np.swapaxes(a, 1, 2) + 0.5 * np.eye(6)
    scale = np.array([300.0, 300.0, 300.0, 5.0, 5.0, 5.0])
    p = p * scale[:, None] * scale[None, :]
    return np.asarray(0.5 * (p + np.swapaxes(p, 1, 2)), dtype=np.float64)


def track_reports(count: int = 4, seed: int = 0, **changes: Any) -> TrackReports:
    rng = np.random.default_rng(seed)
    # Rows cycle through: full impact prediction, point without ellipse, none.
    kind = np.arange(count) % 3
    full, point = kind == 0, kind <= 1
    record = TrackReports(
        sender=USA,
        sent_at=120.25,
        sequence=41,
        nations=NATIONS,
        network_track_number=np.arange(count, dtype=np.int64) + 1000,
        originator=np.arange(count, dtype=np.int64) % 3,
        reporting_node=np.zeros(count, np.int64),
        local_track_number=np.arange(count, dtype=np.int64) + 1,
        valid_at=120.0 - rng.random(count),
        state=rng.normal(size=(count, 6)) * np.array([4e6, 4e6, 4e6, 2e3, 2e3, 2e3]),
        covariance=spd(count, rng),
        quality=rng.integers(0, 16, count),
        status=rng.integers(1, 5, count),
        category=rng.integers(0, 4, count),
        impact_time_s=np.where(point, 400.0 + rng.random(count), NAN),
        impact_lat_deg=np.where(point, 35.5, NAN),
        impact_lon_deg=np.where(point, 139.75, NAN),
        impact_semi_major_m=np.where(full, 900.0, NAN),
        impact_semi_minor_m=np.where(full, 300.0, NAN),
        impact_orientation_deg=np.where(full, 42.0, NAN),
        sensor_id=rng.integers(0, 40, count),
        classification=rng.integers(0, 5, count),
        rel_to=rng.integers(0, 8, count).astype(np.uint64),
        caveats=rng.integers(0, 8, count),
    )
    return dataclasses.replace(record, **changes)


def missile_warnings(count: int = 3, **changes: Any) -> MissileWarnings:
    record = MissileWarnings(
        sender=JPN,
        sent_at=300.0,
        sequence=7,
        nations=NATIONS,
        network_track_number=np.arange(count, dtype=np.int64) + 50,
        valid_at=np.full(count, 299.0),
        launch_time_s=np.full(count, 100.0),
        launch_lat_deg=np.full(count, 40.0),
        launch_lon_deg=np.full(count, 127.5),
        impact_time_s=np.full(count, 700.0),
        impact_lat_deg=np.full(count, 35.0),
        impact_lon_deg=np.full(count, 139.0),
        impact_semi_major_m=np.where(np.arange(count) == 1, NAN, 2000.0),
        impact_semi_minor_m=np.where(np.arange(count) == 1, NAN, 800.0),
        impact_orientation_deg=np.where(np.arange(count) == 1, NAN, 179.5),
        update_number=np.arange(count, dtype=np.int64) + 1,
        category=np.ones(count, np.int64),
        originator=np.ones(count, np.int64),
        classification=np.full(count, 3, np.int64),
        rel_to=np.full(count, 0b111, np.uint64),
        caveats=np.zeros(count, np.int64),
    )
    return dataclasses.replace(record, **changes)


def engagement_statuses(count: int = 3, **changes: Any) -> EngagementStatuses:
    record = EngagementStatuses(
        sender=KOR,
        sent_at=500.0,
        sequence=2**64 - 1,
        nations=NATIONS,
        network_track_number=np.arange(count, dtype=np.int64),
        valid_at=np.full(count, 499.5),
        predicted_intercept_time_s=np.where(np.arange(count) == 0, NAN, 530.0),
        engaging_nation=np.full(count, 2, np.int64),
        shooter_id=np.arange(count, dtype=np.int64) + 1,
        state=(np.arange(count, dtype=np.int64) % 8) + 1,
        interceptors_in_flight=np.full(count, 2, np.int64),
        originator=np.full(count, 2, np.int64),
        classification=np.full(count, 2, np.int64),
        rel_to=np.full(count, 0b101, np.uint64),
        caveats=np.full(count, 4, np.int64),
    )
    return dataclasses.replace(record, **changes)


def measurement_reports(count: int = 3, **changes: Any) -> MeasurementReports:
    rng = np.random.default_rng(count)
    a = rng.normal(size=(count, 3, 3))
    noise = a @ np.swapaxes(a, 1, 2) + np.eye(3)
    noise *= np.array([50.0, 1e-3, 1e-3])[:, None] * np.array([50.0, 1e-3, 1e-3])[None, :]
    record = MeasurementReports(
        sender=JPN,
        sent_at=61.5,
        sequence=9,
        nations=NATIONS,
        originator=np.ones(count, np.int64),
        sensor_id=np.full(count, 2, np.int64),
        local_track_number=np.arange(count, dtype=np.int64),
        valid_at=np.full(count, 61.0),
        measurement=np.column_stack(
            [rng.uniform(1e4, 1e6, count), rng.uniform(0, 6, count), rng.uniform(0, 1, count)]
        ),
        measurement_covariance=0.5 * (noise + np.swapaxes(noise, 1, 2)),
        sensor_position=np.tile([-3.9e6, 3.4e6, 3.7e6], (count, 1)),
        sensor_lat_deg=np.full(count, 35.7),
        sensor_lon_deg=np.full(count, 139.7),
        scan_size=np.full(count, count, np.int64),
        classification=np.full(count, 2, np.int64),
        rel_to=np.full(count, 0b011, np.uint64),
        caveats=np.zeros(count, np.int64),
    )
    return dataclasses.replace(record, **changes)


BUILDERS: dict[MessageType, Callable[..., WireMessage]] = {
    MessageType.TRACK_REPORTS: track_reports,
    MessageType.MISSILE_WARNINGS: missile_warnings,
    MessageType.ENGAGEMENT_STATUSES: engagement_statuses,
    MessageType.MEASUREMENT_REPORTS: measurement_reports,
}


def with_item(record: WireMessage, name: str, index: int, value: Any) -> WireMessage:
    """A copy of ``record`` whose ``name`` array has ``value`` at item ``index``."""
    array = np.array(getattr(record, name))
    array[index] = value
    changes: dict[str, Any] = {name: array}
    return dataclasses.replace(record, **changes)


def patch_item(data: bytes, name: str, index: int, value: Any) -> bytes:
    """``data`` with one field of one item overwritten in its wire type."""
    header = read_header(data)
    buffer = bytearray(data)
    items = np.frombuffer(
        buffer,
        dtype=item_dtype(header.message_type),
        count=header.item_count,
        offset=header.length,
    )
    items[name][index] = value
    return bytes(buffer)


def patch_bytes(data: bytes, offset: int, fmt: str, value: Any) -> bytes:
    buffer = bytearray(data)
    struct.pack_into(fmt, buffer, offset, value)
    return bytes(buffer)


def assert_same(a: WireMessage, b: WireMessage) -> None:
    """Records equal bit for bit (NaN payloads and signed zeros included)."""
    assert type(a) is type(b)
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert x.shape == y.shape, field.name
            if x.dtype.kind == "f":
                np.testing.assert_array_equal(x.view(np.uint64), y.view(np.uint64), field.name)
            else:
                np.testing.assert_array_equal(x, y, field.name)
        elif isinstance(x, float):
            assert struct.pack("<d", x) == struct.pack("<d", y), field.name
        else:
            assert x == y, field.name


# ---------------------------------------------------------------------------------------------
# The layout is pinned


def test_item_sizes_and_offsets_are_pinned() -> None:
    reports = item_dtype(MessageType.TRACK_REPORTS)
    assert reports.itemsize == 432
    assert reports.fields is not None
    offsets = {name: spec[1] for name, spec in reports.fields.items()}
    assert offsets["covariance"] == 72
    assert offsets["rel_to"] == 408
    assert offsets["sensor_id"] == 416
    assert offsets["caveats"] == 424
    assert item_dtype(MessageType.MISSILE_WARNINGS).itemsize == 104
    assert item_dtype(MessageType.ENGAGEMENT_STATUSES).itemsize == 48


def test_bytes_of_a_small_message_match_the_documented_layout() -> None:
    record = engagement_statuses(1)
    data = encode(record)
    # Rebuilt from docs/wire-format.md with struct alone, independently of the encoder.
    header = struct.pack("<4sHBB3sBQdII", b"IAMD", 1, 3, 0, b"KOR", 3, 2**64 - 1, 500.0, 1, 48)
    table = b"USAJPNKOR" + bytes(3)  # 36 + 9 = 45 bytes, padded to 48
    item = struct.pack("<qddQHHBBBBB7x", 0, 499.5, NAN, 0b101, 1, 2, 2, 1, 2, 2, 4)
    assert data == header + table + item
    assert HEADER_BYTES == 36


def test_read_header() -> None:
    data = encode(track_reports(5))
    header = read_header(data)
    assert header.version == 1
    assert header.message_type is MessageType.TRACK_REPORTS
    assert header.sender == USA
    assert header.nations == NATIONS
    assert (header.sequence, header.sent_at, header.item_count) == (41, 120.25, 5)
    assert header.length == 48
    assert header.payload_length == 5 * 432 == len(data) - header.length


# ---------------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("message_type", list(MessageType))
@pytest.mark.parametrize("count", [0, 1, 7])
def test_round_trip_of_each_message_type(message_type: MessageType, count: int) -> None:
    record = BUILDERS[message_type](count)
    data = encode(record)
    decoded = decode(data)
    assert_same(record, decoded)
    assert encode(decoded) == data
    check(record)


def test_decoded_arrays_are_native_copies() -> None:
    data = bytearray(encode(track_reports(3)))
    decoded = decode(data)
    assert isinstance(decoded, TrackReports)
    assert decoded.covariance.flags.c_contiguous
    assert decoded.covariance.flags.writeable
    assert decoded.state.dtype == np.float64
    assert decoded.quality.dtype == np.int64
    assert decoded.rel_to.dtype == np.uint64
    before = decoded.state.copy()
    data[100:200] = bytes(100)  # a transport reusing its buffer must not change the record
    np.testing.assert_array_equal(decoded.state, before)
    assert_same(decode(memoryview(bytes(encode(track_reports(3))))), track_reports(3))


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def track_report_records(draw: st.DrawFn) -> TrackReports:
    count = draw(st.integers(0, 6))
    table = tuple(
        NationCode(code)
        for code in draw(
            st.lists(
                st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
                min_size=1,
                max_size=64,
                unique=True,
            )
        )
    )
    nations = len(table)

    def ints(low: int, high: int) -> np.ndarray:
        values = draw(st.lists(st.integers(low, high), min_size=count, max_size=count))
        return np.array(values, dtype=np.int64)

    def floats(strategy: st.SearchStrategy[float] = finite) -> np.ndarray:
        values = draw(st.lists(strategy, min_size=count, max_size=count))
        return np.array(values, dtype=np.float64).reshape(count)

    impact = draw(
        st.lists(st.sampled_from(["full", "point", "none"]), min_size=count, max_size=count)
    )
    point = np.array([kind != "none" for kind in impact], dtype=bool)
    full = np.array([kind == "full" for kind in impact], dtype=bool)
    minor = floats(st.floats(0.0, 1e7))
    return TrackReports(
        sender=draw(st.sampled_from(table)),
        sent_at=draw(finite),
        sequence=draw(st.integers(0, 2**64 - 1)),
        nations=table,
        network_track_number=ints(0, 2**63 - 1),
        originator=ints(0, nations - 1),
        reporting_node=ints(0, nations - 1),
        local_track_number=ints(0, 2**63 - 1),
        valid_at=floats(),
        state=np.array(draw(st.lists(finite, min_size=6 * count, max_size=6 * count))).reshape(
            count, 6
        ),
        covariance=spd(count, np.random.default_rng(draw(st.integers(0, 2**32)))),
        quality=ints(0, 15),
        status=ints(1, 4),
        category=ints(0, 3),
        impact_time_s=np.where(point, floats(), NAN),
        impact_lat_deg=np.where(point, floats(st.floats(-90.0, 90.0)), NAN),
        impact_lon_deg=np.where(point, floats(st.floats(-180.0, 180.0)), NAN),
        impact_semi_major_m=np.where(full, minor + floats(st.floats(0.0, 1e7)), NAN),
        impact_semi_minor_m=np.where(full, minor, NAN),
        impact_orientation_deg=np.where(full, floats(st.floats(0.0, 180.0)), NAN),
        sensor_id=ints(0, 2**16 - 1),
        classification=ints(0, 4),
        rel_to=np.array(
            draw(st.lists(st.integers(0, 2**nations - 1), min_size=count, max_size=count)),
            dtype=np.uint64,
        ).reshape(count),
        caveats=ints(0, 7),
    )


@given(track_report_records())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_track_reports_round_trip_bit_exact(record: TrackReports) -> None:
    data = encode(record)
    decoded = decode(data)
    assert_same(record, decoded)
    assert encode(decoded) == data


# ---------------------------------------------------------------------------------------------
# Every reject reason


@dataclasses.dataclass(frozen=True)
class Case:
    """One crafted message: its bytes (or a record encoded without validation) and its error."""

    reason: RejectReason
    match: str
    make: Callable[[], bytes | WireMessage]
    index: int | None = None
    field: str | None = None
    max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES


def reports_bytes() -> bytes:
    return encode(track_reports(3))


def covariance_with(index: int, change: Callable[[np.ndarray], None]) -> TrackReports:
    reports = track_reports(4)
    covariance = np.array(reports.covariance)
    change(covariance[index])
    return dataclasses.replace(reports, covariance=covariance)


def no_impact_point(record: WireMessage, index: int) -> WireMessage:
    for name in ("impact_time_s", "impact_lat_deg", "impact_lon_deg"):
        record = with_item(record, name, index, NAN)
    return record


def singular(matrix: np.ndarray) -> None:
    matrix[:] = np.eye(6)
    matrix[0, 1] = matrix[1, 0] = 1.0  # correlation exactly 1


def overflowing(matrix: np.ndarray) -> None:
    matrix[:] = np.eye(6)
    matrix[0, 0] = 5e-324
    matrix[0, 1] = matrix[1, 0] = 1e300


def asymmetric(matrix: np.ndarray) -> None:
    matrix[0, 3] *= 1 + 1e-6


def zero_variance(matrix: np.ndarray) -> None:
    matrix[5, 5] = 0.0


CASES = [
    # Framing and header.
    Case(
        RejectReason.TRUNCATED,
        r"2 bytes is shorter than the 36-byte header",
        lambda: reports_bytes()[:2],
    ),
    Case(
        RejectReason.TRUNCATED,
        r"20 bytes is shorter than the 36-byte header",
        lambda: reports_bytes()[:20],
    ),
    Case(
        RejectReason.TRUNCATED,
        r"40 bytes is shorter than the 48-byte header with its 3-nation table",
        lambda: reports_bytes()[:40],
    ),
    Case(
        RejectReason.TRUNCATED,
        r"payload: 1295 bytes, the header declares 1296",
        lambda: reports_bytes()[:-1],
        field="payload_length",
    ),
    Case(
        RejectReason.OVERSIZED,
        r"message of 1344 bytes exceeds the 1000-byte limit",
        reports_bytes,
        max_bytes=1000,
    ),
    Case(
        RejectReason.OVERSIZED,
        r"payload_length 1048577 exceeds the 1048576-byte limit",
        lambda: patch_bytes(reports_bytes(), 32, "<I", DEFAULT_MAX_MESSAGE_BYTES + 1),
    ),
    Case(
        RejectReason.TRAILING_DATA,
        r"64 bytes after the declared end \(a signed message must go through KeyRing.verify",
        lambda: reports_bytes() + bytes(64),
    ),
    Case(
        RejectReason.BAD_MAGIC,
        r"magic must be b'IAMD' \(got b'IAMX'\)",
        lambda: b"IAMX" + reports_bytes()[4:],
        field="magic",
    ),
    Case(
        RejectReason.UNSUPPORTED_VERSION,
        r"version 2 is not supported \(supported: \[1\]\)",
        lambda: patch_bytes(reports_bytes(), 4, "<H", 2),
        field="version",
    ),
    Case(
        RejectReason.UNKNOWN_MESSAGE_TYPE,
        r"message_type must be one of \[1, 2, 3, 4\] \(got 9\)",
        lambda: patch_bytes(reports_bytes(), 6, "<B", 9),
        field="message_type",
    ),
    Case(
        RejectReason.RESERVED_NOT_ZERO,
        r"flags are reserved and must be 0 \(got 0x01\)",
        lambda: patch_bytes(reports_bytes(), 7, "<B", 1),
        field="flags",
    ),
    Case(
        RejectReason.RESERVED_NOT_ZERO,
        r"padding after the nation table must be zero",
        lambda: patch_bytes(reports_bytes(), 46, "<B", 1),
        field="padding",
    ),
    Case(
        RejectReason.RESERVED_NOT_ZERO,
        r"item 1: reserved: reserved bytes must be zero \(got 00000000000001\)",
        lambda: patch_item(reports_bytes(), "_reserved", 1, [0, 0, 0, 0, 0, 0, 1]),
        index=1,
        field="reserved",
    ),
    Case(
        RejectReason.COUNT_MISMATCH,
        r"1296 bytes cannot hold 2 items of 432 bytes",
        lambda: patch_bytes(reports_bytes(), 28, "<I", 2),
        field="item_count",
    ),
    Case(
        RejectReason.NON_FINITE,
        r"header: sent_at must be finite \(got nan\)",
        lambda: patch_bytes(reports_bytes(), 20, "<d", NAN),
        field="sent_at",
    ),
    # Nations.
    Case(
        RejectReason.BAD_NATION_CODE,
        r"header: sender must be three letters A-Z \(got b'UsA'\)",
        lambda: reports_bytes()[:8] + b"UsA" + reports_bytes()[11:],
        field="sender",
    ),
    Case(
        RejectReason.BAD_NATION_CODE,
        r"header: nations\[1\] must be three letters A-Z \(got b'J\\xc3N'\)",
        lambda: reports_bytes()[:39] + b"J\xc3N" + reports_bytes()[42:],
        index=1,
        field="nations",
    ),
    Case(
        RejectReason.BAD_NATION_TABLE,
        r"header: nations\[2\] repeats USA \(first at 0\)",
        lambda: reports_bytes()[:42] + b"USA" + reports_bytes()[45:],
        index=2,
        field="nations",
    ),
    Case(
        RejectReason.BAD_NATION_TABLE,
        r"nation table has 65 entries, at most 64",
        lambda: patch_bytes(reports_bytes(), 11, "<B", 65),
        field="nations",
    ),
    Case(
        RejectReason.BAD_NATION_INDEX,
        r"item 2: originator: must index the 3-nation table \(got 3\)",
        lambda: with_item(track_reports(3), "originator", 2, 3),
        index=2,
    ),
    Case(
        RejectReason.BAD_NATION_INDEX,
        r"item 0: reporting_node: must index the 3-nation table \(got 7\)",
        lambda: with_item(track_reports(3), "reporting_node", 0, 7),
        index=0,
    ),
    Case(
        RejectReason.BAD_NATION_INDEX,
        r"item 1: engaging_nation: must index the 3-nation table \(got 3\)",
        lambda: with_item(engagement_statuses(3), "engaging_nation", 1, 3),
        index=1,
    ),
    Case(
        RejectReason.REL_TO_OUTSIDE_TABLE,
        r"item 1: rel_to: bits must stay within the 3-nation table \(got 0x9\)",
        lambda: with_item(track_reports(3), "rel_to", 1, 0b1001),
        index=1,
    ),
    # Closed vocabularies.
    Case(
        RejectReason.UNKNOWN_ENUM,
        r"item 2: status: must be one of \[1, 2, 3, 4\] \(got 0\)",
        lambda: with_item(track_reports(3), "status", 2, 0),
        index=2,
    ),
    Case(
        RejectReason.UNKNOWN_ENUM,
        r"item 0: category: must be one of \[0, 1, 2, 3\] \(got 4\)",
        lambda: with_item(track_reports(3), "category", 0, 4),
        index=0,
    ),
    Case(
        RejectReason.UNKNOWN_ENUM,
        r"item 1: classification: must be one of \[0, 1, 2, 3, 4\] \(got 5\)",
        lambda: with_item(track_reports(3), "classification", 1, 5),
        index=1,
    ),
    Case(
        RejectReason.UNKNOWN_ENUM,
        r"item 1: caveats: must combine only the caveat flags 0x7 \(got 8\)",
        lambda: with_item(track_reports(3), "caveats", 1, 8),
        index=1,
    ),
    Case(
        RejectReason.UNKNOWN_ENUM,
        r"item 2: state: must be one of \[1, 2, 3, 4, 5, 6, 7, 8\] \(got 9\)",
        lambda: with_item(engagement_statuses(3), "state", 2, 9),
        index=2,
    ),
    Case(
        RejectReason.UNKNOWN_ENUM,
        r"item 0: category: must be one of \[0, 1, 2, 3\] \(got 200\)",
        lambda: with_item(missile_warnings(3), "category", 0, 200),
        index=0,
    ),
    # Measurement reports: a measurement is useless without its sensor.
    Case(
        RejectReason.OUT_OF_RANGE,
        r"item 1: sensor_id: must be in \[1, 65535\] \(got 0\)",
        lambda: with_item(measurement_reports(3), "sensor_id", 1, 0),
        index=1,
    ),
    Case(
        RejectReason.NON_FINITE,
        r"item 2: measurement: must be finite",
        lambda: with_item(measurement_reports(3), "measurement", 2, [1e5, NAN, 0.1]),
        index=2,
    ),
    Case(
        RejectReason.OUT_OF_RANGE,
        r"item 0: sensor_lat_deg: must be in \[-90, 90\] \(got 91",
        lambda: with_item(measurement_reports(3), "sensor_lat_deg", 0, 91.0),
        index=0,
    ),
    Case(
        RejectReason.COVARIANCE_NOT_POSITIVE_DEFINITE,
        r"item 1: measurement_covariance: diagonal must be positive",
        lambda: with_item(measurement_reports(3), "measurement_covariance", 1, -np.eye(3)),
        index=1,
    ),
    # Ranges.
    Case(
        RejectReason.OUT_OF_RANGE,
        r"item 3: quality: must be in \[0, 15\] \(got 16\)",
        lambda: with_item(track_reports(4), "quality", 3, 16),
        index=3,
    ),
    Case(
        RejectReason.OUT_OF_RANGE,
        r"item 1: network_track_number: must be non-negative \(got -5\)",
        lambda: with_item(track_reports(4), "network_track_number", 1, -5),
        index=1,
    ),
    Case(
        RejectReason.OUT_OF_RANGE,
        r"item 0: local_track_number: must be non-negative \(got -1\)",
        lambda: with_item(track_reports(4), "local_track_number", 0, -1),
        index=0,
    ),
    Case(
        RejectReason.OUT_OF_RANGE,
        r"item 0: impact_lat_deg: must be in \[-90, 90\] \(got 90.5\)",
        lambda: with_item(track_reports(4), "impact_lat_deg", 0, 90.5),
        index=0,
    ),
    Case(
        RejectReason.OUT_OF_RANGE,
        r"item 1: impact_lon_deg: must be in \[-180, 180\] \(got -180.5\)",
        lambda: with_item(track_reports(4), "impact_lon_deg", 1, -180.5),
        index=1,
    ),
    Case(
        RejectReason.OUT_OF_RANGE,
        r"item 0: impact_semi_minor_m: must be non-negative \(got -1.0\)",
        lambda: with_item(track_reports(4), "impact_semi_minor_m", 0, -1.0),
        index=0,
    ),
    Case(
        RejectReason.OUT_OF_RANGE,
        r"item 0: impact_semi_minor_m: must not exceed impact_semi_major_m "
        r"\(got 950.0 > 900.0\)",
        lambda: with_item(track_reports(4), "impact_semi_minor_m", 0, 950.0),
        index=0,
    ),
    Case(
        RejectReason.OUT_OF_RANGE,
        r"item 0: impact_orientation_deg: must be in \[0, 180\] \(got 180.5\)",
        lambda: with_item(track_reports(4), "impact_orientation_deg", 0, 180.5),
        index=0,
    ),
    Case(
        RejectReason.OUT_OF_RANGE,
        r"item 2: launch_lon_deg: must be in \[-180, 180\] \(got 181.0\)",
        lambda: with_item(missile_warnings(3), "launch_lon_deg", 2, 181.0),
        index=2,
    ),
    Case(
        RejectReason.OUT_OF_RANGE,
        r"item 1: launch_lat_deg: must be in \[-90, 90\] \(got -91.0\)",
        lambda: with_item(missile_warnings(3), "launch_lat_deg", 1, -91.0),
        index=1,
    ),
    # Finiteness.
    Case(
        RejectReason.NON_FINITE,
        r"item 2: state: must be finite \(got nan\)",
        lambda: with_item(track_reports(4), "state", 2, [0, 0, NAN, 0, 0, 0]),
        index=2,
    ),
    Case(
        RejectReason.NON_FINITE,
        r"item 0: valid_at: must be finite \(got inf\)",
        lambda: with_item(track_reports(4), "valid_at", 0, np.inf),
        index=0,
    ),
    Case(
        RejectReason.NON_FINITE,
        r"item 1: covariance: must be finite \(got -inf\)",
        lambda: covariance_with(1, lambda m: m.__setitem__((4, 5), -np.inf)),
        index=1,
    ),
    Case(
        RejectReason.NON_FINITE,
        # A lone latitude makes the (NaN) time the first field out of its group.
        r"item 2: impact_time_s: must be finite, or NaN together with impact_lat_deg, "
        r"impact_lon_deg \(got nan\)",
        lambda: with_item(track_reports(4), "impact_lat_deg", 2, 35.0),
        index=2,
    ),
    Case(
        RejectReason.NON_FINITE,
        r"item 0: impact_orientation_deg: must be finite, or NaN together with "
        r"impact_semi_major_m, impact_semi_minor_m \(got nan\)",
        lambda: with_item(track_reports(4), "impact_orientation_deg", 0, NAN),
        index=0,
    ),
    Case(
        RejectReason.NON_FINITE,
        r"item 0: impact_time_s: must be finite, or NaN together with .* \(got inf\)",
        lambda: with_item(track_reports(4), "impact_time_s", 0, np.inf),
        index=0,
    ),
    Case(
        RejectReason.NON_FINITE,
        r"item 0: impact_semi_major_m: must be NaN when impact_time_s, impact_lat_deg, "
        r"impact_lon_deg are NaN \(got 900.0\)",
        lambda: no_impact_point(track_reports(4), 0),
        index=0,
    ),
    Case(
        RejectReason.NON_FINITE,
        r"item 1: impact_time_s: must be finite \(got nan\)",
        lambda: with_item(missile_warnings(3), "impact_time_s", 1, NAN),
        index=1,
    ),
    Case(
        RejectReason.NON_FINITE,
        r"item 0: launch_time_s: must be finite \(got nan\)",
        lambda: with_item(missile_warnings(3), "launch_time_s", 0, NAN),
        index=0,
    ),
    Case(
        RejectReason.NON_FINITE,
        r"item 2: predicted_intercept_time_s: must be finite or NaN \(none\) \(got inf\)",
        lambda: with_item(engagement_statuses(3), "predicted_intercept_time_s", 2, np.inf),
        index=2,
    ),
    # Covariances.
    Case(
        RejectReason.COVARIANCE_NOT_SYMMETRIC,
        r"item 2: covariance: must be symmetric to a relative 1e-09 "
        r"\(got relative asymmetry [0-9.e-]+\)",
        lambda: covariance_with(2, asymmetric),
        index=2,
    ),
    Case(
        RejectReason.COVARIANCE_NOT_POSITIVE_DEFINITE,
        r"item 3: covariance: must be positive definite "
        r"\(got smallest correlation eigenvalue [0-9.e-]+\)",
        lambda: covariance_with(3, singular),
        index=3,
    ),
    Case(
        RejectReason.COVARIANCE_NOT_POSITIVE_DEFINITE,
        r"item 1: covariance: diagonal must be positive",
        lambda: covariance_with(1, zero_variance),
        index=1,
    ),
    Case(
        RejectReason.COVARIANCE_NOT_POSITIVE_DEFINITE,
        r"item 0: covariance: must be positive definite \(got a correlation beyond",
        lambda: covariance_with(0, overflowing),
        index=0,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.reason.name}:{case.match[:40]}")
def test_crafted_message_is_rejected(case: Case) -> None:
    made = case.make()
    data = made if isinstance(made, bytes) else encode(made, validate=False)
    with pytest.raises(WireError, match=case.match) as info:
        decode(data, max_bytes=case.max_bytes)
    error = info.value
    assert error.reason is case.reason
    assert error.index == case.index
    if not isinstance(made, bytes):
        # The sender's check and the receiver's decoder give the same verdict.
        with pytest.raises(WireError, match=case.match) as info:
            check(made)
        assert info.value.reason is case.reason
        with pytest.raises(WireError, match=case.match):
            encode(made)
        assert error.field == case.match.split(": ")[1]
    elif case.field is not None:
        assert error.field == case.field


def test_every_reject_reason_has_a_crafted_message() -> None:
    # MALFORMED_RECORD comes from the encoder (below); the signing reasons are provoked in
    # test_signing.py; REPLAYED by the receiving node (tests/sim/test_node.py).
    elsewhere = {
        RejectReason.MALFORMED_RECORD,
        RejectReason.UNKNOWN_SENDER,
        RejectReason.BAD_SIGNATURE,
        RejectReason.REPLAYED,
    }
    assert {case.reason for case in CASES} == set(RejectReason) - elsewhere


def test_values_that_do_not_fit_their_wire_type_are_refused_before_they_wrap() -> None:
    reports = track_reports(4)
    with pytest.raises(WireError, match=r"item 1: sensor_id: must fit in uint16") as info:
        check(with_item(reports, "sensor_id", 1, 70_000))
    assert info.value.reason is RejectReason.OUT_OF_RANGE
    with pytest.raises(WireError, match=r"item 0: originator: must fit in uint8"):
        check(with_item(reports, "originator", 0, 256))
    with pytest.raises(WireError, match=r"header: sequence must be in \[0, 2\*\*64\)"):
        check(dataclasses.replace(reports, sequence=-1))
    with pytest.raises(WireError, match=r"header: sent_at must be finite"):
        check(dataclasses.replace(reports, sent_at=np.inf))


def test_tolerances_accept_rounding_and_bad_scaling() -> None:
    # Rounding-level asymmetry (a filter that did not symmetrise) is accepted.
    check(covariance_with(2, lambda m: m.__setitem__((0, 3), m[0, 3] * (1 + 1e-13))))
    # km² position next to (mm/s)² velocity, correlated at 0.999: valid.
    good = np.diag([1e12, 1e12, 1e12, 1e-6, 1e-6, 1e-6])
    good[0, 3] = good[3, 0] = 0.999 * np.sqrt(1e12 * 1e-6)
    check(dataclasses.replace(track_reports(1), covariance=good[None]))


def test_a_full_nation_table_uses_bit_63() -> None:
    table = tuple(NationCode(f"N{chr(65 + i // 26)}{chr(65 + i % 26)}") for i in range(64))
    record = engagement_statuses(1, nations=table, rel_to=np.array([2**63], np.uint64))
    assert_same(decode(encode(record)), record)


def test_malformed_records_are_refused_by_the_encoder() -> None:
    reports = track_reports(3)
    with pytest.raises(WireError, match=r"state: shape must be \(3, 6\) \(got \(3, 3\)\)") as info:
        encode(dataclasses.replace(reports, state=np.zeros((3, 3))))
    assert info.value.reason is RejectReason.MALFORMED_RECORD
    with pytest.raises(WireError, match=r"quality: dtype must be integer \(got float64\)"):
        encode(dataclasses.replace(reports, quality=reports.quality.astype(float)))
    with pytest.raises(WireError, match=r"nations\[1\] must be three letters A-Z \(got 'jpn'\)"):
        encode(dataclasses.replace(reports, nations=(USA, NationCode("jpn"), KOR)))
    with pytest.raises(WireError, match=r"nations\[2\] repeats USA"):
        encode(dataclasses.replace(reports, nations=(USA, JPN, USA)))
    with pytest.raises(WireError, match=r"sender must be three letters A-Z \(got 'USAF'\)"):
        encode(dataclasses.replace(reports, sender=NationCode("USAF")))
    with pytest.raises(TypeError, match="cannot encode a str"):
        encode("not a record")  # type: ignore[arg-type]


def test_wire_error_is_an_iamd_value_error() -> None:
    error = WireError(RejectReason.TRUNCATED, "short", field="x", index=3)
    assert isinstance(error, IamdError)
    assert isinstance(error, ValueError)
    assert str(error) == "short [TRUNCATED]"
    assert (error.reason, error.field, error.index) == (RejectReason.TRUNCATED, "x", 3)


# ---------------------------------------------------------------------------------------------
# Order of rules, partial predictions, signed masks


def test_first_rule_in_documented_order_and_lowest_item_is_reported() -> None:
    record = with_item(track_reports(4), "quality", 1, 99)
    record = with_item(record, "status", 3, 9)
    record = with_item(record, "status", 2, 9)
    # status comes before quality in the rule order; item 2 is the lowest offender.
    with pytest.raises(WireError, match=r"item 2: status: must be one of") as info:
        decode(encode(record, validate=False))
    assert info.value.index == 2
    with pytest.raises(WireError, match=r"item 2: status: must be one of"):
        check(record)


def test_predictions_with_a_point_but_no_ellipse_are_accepted() -> None:
    record = track_reports(3)
    assert np.isnan(record.impact_semi_major_m[1])
    assert np.isfinite(record.impact_time_s[1])
    assert np.isnan(record.impact_time_s[2])
    assert_same(decode(encode(record)), record)


def test_signed_rel_to_masks_are_encoded_by_their_bits() -> None:
    record = track_reports(3)
    signed = dataclasses.replace(record, rel_to=record.rel_to.astype(np.int64))
    assert encode(signed) == encode(record)


# ---------------------------------------------------------------------------------------------
# Fuzzing: any bytes decode to a valid message or raise WireError, nothing else


def outcome(data: bytes) -> tuple[str, object]:
    try:
        message = decode(data)
    except WireError as error:
        return ("rejected", (error.reason, str(error)))
    return ("accepted", encode(message))


def forced_outcome(data: bytes) -> tuple[str, object]:
    """The outcome with the grouped fast path disabled (every rule checked one by one)."""
    with mock.patch.object(wire, "_quick_accept", return_value=False):
        return outcome(data)


VALID = [
    encode(track_reports(3)),
    encode(missile_warnings(2)),
    encode(engagement_statuses(2)),
    encode(track_reports(0)),
]


@given(st.binary(max_size=600))
@settings(max_examples=300, deadline=None)
def test_random_bytes_only_raise_wire_error(data: bytes) -> None:
    kind, _ = outcome(data)
    assert kind == "rejected"
    kind, _ = outcome(b"IAMD\x01\x00" + data)
    assert kind in {"rejected", "accepted"}


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "set", "truncate", "extend", "splice"]))
        if action == "flip" and data:
            position = draw(st.integers(0, len(data) - 1))
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "set" and data:
            position = draw(st.integers(0, len(data) - 1))
            data[position] = draw(st.integers(0, 255))
        elif action == "truncate":
            del data[draw(st.integers(0, len(data))) :]
        elif action == "extend":
            data += draw(st.binary(max_size=64))
        elif action == "splice" and len(data) >= 8:
            position = draw(st.integers(0, len(data) - 8))
            data[position : position + 8] = struct.pack(
                "<d", draw(st.sampled_from([NAN, np.inf, -np.inf, 1e308, -0.0, 5e-324]))
            )
    return bytes(data)


@given(mutations())
@settings(max_examples=400, deadline=None)
def test_mutated_messages_are_rejected_cleanly_or_are_canonical(data: bytes) -> None:
    kind, detail = outcome(data)
    if kind == "accepted":
        # Whatever is accepted re-encodes to the very same bytes: the format is canonical.
        assert detail == data
    # The grouped fast path and the rule-by-rule path never disagree.
    assert forced_outcome(data) == (kind, detail)


@given(mutations())
@settings(max_examples=100, deadline=None)
def test_small_limits_still_only_raise_wire_error(data: bytes) -> None:
    with pytest.raises(WireError):
        decode(data, max_bytes=35)
