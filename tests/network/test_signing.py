"""Message signing: reproducible keys, verification against the claimed sender, tampering."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.core import ConfigurationError, NationCode
from iamd.messages.reports import EngagementState, EngagementStatuses
from iamd.network.signing import (
    PUBLIC_KEY_BYTES,
    SIGNATURE_BYTES,
    KeyRing,
    NodeKeys,
    derive_seed,
)
from iamd.network.wire import RejectReason, WireError, decode, encode

USA, JPN, KOR = (NationCode(code) for code in ("USA", "JPN", "KOR"))
NATIONS = (USA, JPN, KOR)
SEED = 20261123
KEYS = {node: NodeKeys.derive(SEED, node) for node in NATIONS}
RING = KeyRing.of(KEYS.values())


def message(sender: NationCode = USA, count: int = 3) -> bytes:
    """An unsigned engagement-status message claiming ``sender``."""
    return encode(
        EngagementStatuses(
            sender=sender,
            sent_at=61.5,
            sequence=12,
            nations=NATIONS,
            network_track_number=np.arange(count, dtype=np.int64) + 7,
            valid_at=np.full(count, 61.0),
            predicted_intercept_time_s=np.full(count, 75.0),
            engaging_nation=np.zeros(count, np.int64),
            shooter_id=np.ones(count, np.int64),
            state=np.full(count, EngagementState.ENGAGING, np.int64),
            interceptors_in_flight=np.full(count, 2, np.int64),
            originator=np.zeros(count, np.int64),
            classification=np.full(count, 2, np.int64),
            rel_to=np.full(count, 0b011, np.uint64),
            caveats=np.zeros(count, np.int64),
        )
    )


def rejected(reason: RejectReason, match: str, data: bytes, ring: KeyRing = RING) -> None:
    with pytest.raises(WireError, match=match) as info:
        ring.verify(data)
    assert info.value.reason is reason


def test_sign_appends_a_signature_that_verifies() -> None:
    data = message()
    signed = KEYS[USA].sign(data)
    assert len(signed) == len(data) + SIGNATURE_BYTES
    assert signed[: len(data)] == data
    assert RING.verify(signed) == data
    assert RING.verify(bytearray(signed)) == data
    assert RING.verify(memoryview(signed)) == data
    # The pipeline of an inbound gate.
    decoded = decode(RING.verify(signed))
    assert decoded.sender == USA


def test_keys_are_reproducible_from_the_seed_and_distinct_per_node() -> None:
    again = NodeKeys.derive(SEED, USA)
    assert again.public_bytes() == KEYS[USA].public_bytes()
    assert len(again.public_bytes()) == PUBLIC_KEY_BYTES
    # Ed25519 is deterministic: the same keys sign the same bytes identically.
    assert again.sign(message()) == KEYS[USA].sign(message())
    publics = {keys.public_bytes() for keys in KEYS.values()}
    assert len(publics) == len(NATIONS)
    assert NodeKeys.derive(SEED + 1, USA).public_bytes() != KEYS[USA].public_bytes()
    assert derive_seed(SEED, USA) == derive_seed(SEED, USA)
    assert len(derive_seed(0, USA)) == 32
    # Length prefixes keep (seed, code) pairs apart even when their bytes run together.
    assert derive_seed(1, NationCode("AUSA")) != derive_seed(1 * 256 + ord("A"), USA)
    with pytest.raises(ValueError, match="root_seed must be non-negative"):
        derive_seed(-1, USA)


def test_generated_keys_are_random() -> None:
    a, b = NodeKeys.generate(USA), NodeKeys.generate(USA)
    assert a.public_bytes() != b.public_bytes()
    assert KeyRing.of([a]).verify(a.sign(message())) == message()


def test_signed_by_jpn_but_claiming_usa_fails() -> None:
    data = message(sender=USA)
    forged = data + KEYS[JPN].private_key.sign(data)
    rejected(
        RejectReason.BAD_SIGNATURE,
        r"signature: does not verify with the public key of USA \[BAD_SIGNATURE\]",
        forged,
    )
    # The honest path refuses to sign in another node's name at all.
    with pytest.raises(ConfigurationError, match="keys of JPN cannot sign a message whose sender"):
        KEYS[JPN].sign(data)


def test_unknown_sender_is_rejected_before_any_signature_work() -> None:
    fra = NodeKeys.derive(SEED, NationCode("FRA"))
    signed = fra.sign(message(sender=NationCode("FRA")))
    rejected(
        RejectReason.UNKNOWN_SENDER,
        r"header: sender FRA has no public key in this key ring \(known: JPN, KOR, USA\)",
        signed,
    )
    rejected(
        RejectReason.UNKNOWN_SENDER, r"\(known: none\)", KEYS[USA].sign(message()), KeyRing({})
    )


def test_framing_is_checked_before_the_signature() -> None:
    signed = KEYS[USA].sign(message())
    rejected(RejectReason.TRUNCATED, r"10 bytes is shorter than its 64-byte signature", signed[:10])
    rejected(RejectReason.TRUNCATED, r"shorter than the 36-byte header", signed[:80])
    rejected(RejectReason.BAD_MAGIC, r"magic must be", b"XXXX" + signed[4:])
    with pytest.raises(WireError, match=r"exceeds the 100-byte limit plus the 64-byte") as info:
        RING.verify(signed, max_bytes=100)
    assert info.value.reason is RejectReason.OVERSIZED


@given(st.data())
@settings(max_examples=150, deadline=None)
def test_any_tampered_byte_fails_verification(data: st.DataObject) -> None:
    signed = KEYS[KOR].sign(message(sender=KOR))
    position = data.draw(st.integers(0, len(signed) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = bytearray(signed)
    tampered[position] ^= flip
    with pytest.raises(WireError) as info:
        RING.verify(bytes(tampered))
    header_end = 48
    if position >= header_end:
        # Payload and signature bytes: only the signature can tell.
        assert info.value.reason is RejectReason.BAD_SIGNATURE
    else:
        # Header bytes may also break the header itself, or name another (known) sender.
        assert info.value.reason in {
            RejectReason.BAD_SIGNATURE,
            RejectReason.UNKNOWN_SENDER,
            RejectReason.BAD_MAGIC,
            RejectReason.UNSUPPORTED_VERSION,
            RejectReason.UNKNOWN_MESSAGE_TYPE,
            RejectReason.RESERVED_NOT_ZERO,
            RejectReason.BAD_NATION_CODE,
            RejectReason.BAD_NATION_TABLE,
            RejectReason.TRUNCATED,
            RejectReason.NON_FINITE,
        }


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_verify_only_raises_wire_error_on_junk(data: bytes) -> None:
    for candidate in (data, b"IAMD\x01\x00" + data):
        with pytest.raises(WireError):
            RING.verify(candidate)


def test_key_ring_from_raw_public_keys() -> None:
    ring = KeyRing({node: keys.public_bytes() for node, keys in KEYS.items()})
    assert len(ring) == 3
    assert USA in ring
    assert NationCode("FRA") not in ring
    assert ring.verify(KEYS[JPN].sign(message(sender=JPN))) == message(sender=JPN)
    with pytest.raises(ConfigurationError, match="public key of USA must be 32 bytes"):
        KeyRing({USA: b"short"})
    with pytest.raises(TypeError):
        ring.keys[USA] = KEYS[USA].public_key  # type: ignore[index]
