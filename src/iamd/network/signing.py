"""Message authentication: every node signs what it sends, every receiver verifies the sender.

Why Ed25519
-----------
Nations do not share secrets. With a message authentication code (HMAC) every pair of
nations would need a shared key, and any holder of a key could forge messages in the name of
the other holder; a coalition-wide key would let any one nation impersonate all the others.
With a signature scheme each node keeps its private key to itself and publishes only its
public key: a receiver checks that a message claiming to come from ``USA`` was signed by
``USA``'s key, and no ally, however trusted, can forge it. Ed25519 (RFC 8032) is the
signature scheme of choice for this: deterministic (no per-signature random number to get
wrong, and reproducible bytes in a seeded simulation), 32-byte keys, 64-byte signatures, no
parameters to choose, and fast in the ``cryptography`` package's OpenSSL backend.

Cost
----
Measured on the project's machine kind (2-core AMD EPYC VM, ``cryptography`` 46 over
OpenSSL, best of 15 runs on a shared host):

=============================  ==========  ==========
message                        sign        verify
=============================  ==========  ==========
1 track report (480 B)         45 µs       130 µs
100 track reports (43 kB)      160 µs      190 µs
=============================  ==========  ==========

The fixed cost (about 45 µs to sign, 130 µs to verify) is the elliptic-curve arithmetic;
the rest is SHA-512 over the message: 1.4 µs per kB to verify, 2.7 µs to sign (which hashes
it twice). Batching reports into one message therefore makes authentication cheap per
report: 1.6 µs to sign and 1.9 µs to verify each of 100 reports, against about 2.9 µs to
decode and validate it.

What is signed
--------------
The signature covers every byte before it: the header (so the claimed sender, sequence and
send time cannot be altered, nor the message passed off under another sender's name) and
the payload. It is
appended as a 64-byte trailer; :meth:`KeyRing.verify` checks it and returns the message
without it, ready for :func:`~iamd.network.wire.decode`. Signatures authenticate, they do not
encrypt, and they do not stop a replay of a whole message: receivers discard sequence numbers
they have already seen from a sender.

Reproducible keys
-----------------
:meth:`NodeKeys.derive` makes a node's private key from the simulation's root seed and the
node code (SHA-256 with a domain label), so a seeded run produces the same keys and therefore
the same signed bytes every time. Such keys are as secret as the seed, which is not secret at
all: for live use across machines, create keys with :meth:`NodeKeys.generate` and distribute
only the public halves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from iamd.core.errors import ConfigurationError
from iamd.core.ids import NationCode
from iamd.network.wire import (
    DEFAULT_MAX_MESSAGE_BYTES,
    RejectReason,
    WireError,
    read_header,
)

SIGNATURE_BYTES = 64
"""Length of the Ed25519 signature trailer, bytes."""

PUBLIC_KEY_BYTES = 32
"""Length of a raw Ed25519 public key, bytes."""

_DERIVATION_LABEL = b"iamd/node-signing-key/v1"


def derive_seed(root_seed: int, node: NationCode) -> bytes:
    """The 32-byte Ed25519 private key seed of ``node`` under ``root_seed``.

    Parameters
    ----------
    root_seed : int
        The simulation's root seed, a non-negative integer.
    node : NationCode
        The node's code.

    Returns
    -------
    bytes
        SHA-256 of a domain label, the seed and the code, length-prefixed so that no two
        (seed, code) pairs hash the same input.

    Examples
    --------
    >>> derive_seed(7, NationCode("USA")) == derive_seed(7, NationCode("USA"))
    True
    >>> derive_seed(7, NationCode("USA")) == derive_seed(7, NationCode("JPN"))
    False
    """
    if root_seed < 0:
        raise ValueError(f"root_seed must be non-negative (got {root_seed})")
    seed_bytes = root_seed.to_bytes((root_seed.bit_length() + 7) // 8 or 1, "big")
    code = node.encode("utf-8")
    digest = hashlib.sha256()
    for part in (_DERIVATION_LABEL, seed_bytes, code):
        digest.update(len(part).to_bytes(4, "big"))
        digest.update(part)
    return digest.digest()


@dataclass(frozen=True, slots=True)
class NodeKeys:
    """The signing key of one node.

    Parameters
    ----------
    node : NationCode
        The node's code; messages it signs must claim it as their sender.
    private_key : Ed25519PrivateKey
        Its private key.

    Examples
    --------
    >>> usa = NodeKeys.derive(7, NationCode("USA"))
    >>> len(usa.public_bytes())
    32
    """

    node: NationCode
    private_key: Ed25519PrivateKey

    @classmethod
    def derive(cls, root_seed: int, node: NationCode) -> NodeKeys:
        """Deterministic keys for a seeded simulation (see the module docstring)."""
        seed = derive_seed(root_seed, node)
        return cls(node, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def generate(cls, node: NationCode) -> NodeKeys:
        """Fresh random keys from the operating system's generator, for live use."""
        return cls(node, Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half, to be given to every receiver's :class:`KeyRing`."""
        return self.private_key.public_key()

    def public_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, message: bytes | bytearray | memoryview) -> bytes:
        """The message with its 64-byte signature appended.

        Parameters
        ----------
        message : bytes-like
            An unsigned message as :func:`~iamd.network.wire.encode` produced it.

        Returns
        -------
        bytes
            ``message`` followed by the Ed25519 signature of all of it.

        Raises
        ------
        WireError
            If ``message`` has no valid header.
        ConfigurationError
            If its header names another sender than this node: a node signing in another's
            name is a wiring mistake, and receivers would reject the message anyway.
        """
        data = bytes(message)
        header = read_header(data)
        if header.sender != self.node:
            raise ConfigurationError(
                f"keys of {self.node} cannot sign a message whose sender is {header.sender}"
            )
        return data + self.private_key.sign(data)


@dataclass(frozen=True, slots=True, init=False)
class KeyRing:
    """The public keys a receiver trusts, by node code.

    Parameters
    ----------
    keys : mapping of NationCode to Ed25519PublicKey or bytes
        Public key of each known node (key objects or raw 32-byte keys).

    Raises
    ------
    ConfigurationError
        If a raw key is not a valid 32-byte Ed25519 public key.
    """

    keys: Mapping[NationCode, Ed25519PublicKey]

    def __init__(self, keys: Mapping[NationCode, Ed25519PublicKey | bytes]) -> None:
        loaded: dict[NationCode, Ed25519PublicKey] = {}
        for node, key in keys.items():
            if isinstance(key, Ed25519PublicKey):
                loaded[node] = key
                continue
            if len(key) != PUBLIC_KEY_BYTES:
                raise ConfigurationError(
                    f"public key of {node} must be {PUBLIC_KEY_BYTES} bytes (got {len(key)})"
                )
            try:
                loaded[node] = Ed25519PublicKey.from_public_bytes(bytes(key))
            except ValueError as error:
                raise ConfigurationError(f"public key of {node} is invalid: {error}") from None
        object.__setattr__(self, "keys", MappingProxyType(loaded))

    @classmethod
    def of(cls, nodes: Iterable[NodeKeys]) -> KeyRing:
        """The key ring holding the public keys of ``nodes``."""
        return cls({keys.node: keys.public_key for keys in nodes})

    def __contains__(self, node: object) -> bool:
        return node in self.keys

    def __len__(self) -> int:
        return len(self.keys)

    def verify(
        self,
        data: bytes | bytearray | memoryview,
        *,
        max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> bytes:
        """Check a signed message against its claimed sender's key; return it unsigned.

        Cheap checks run first (size, header, known sender) so that a flood of junk costs
        little; the signature is verified last.

        Parameters
        ----------
        data : bytes-like
            A signed message (header, payload, 64-byte signature).
        max_bytes : int
            Largest unsigned message accepted, bytes (the signature is not counted).

        Returns
        -------
        bytes
            The message without its signature, for :func:`~iamd.network.wire.decode`.

        Raises
        ------
        WireError
            ``OVERSIZED``; ``TRUNCATED`` (too short for a header and a signature);
            any header rejection of :func:`~iamd.network.wire.read_header`;
            ``UNKNOWN_SENDER`` if the claimed sender has no key here; ``BAD_SIGNATURE`` if
            the signature does not verify (tampered bytes, or another node's key).
        """
        signed = bytes(data)
        if len(signed) > max_bytes + SIGNATURE_BYTES:
            raise WireError(
                RejectReason.OVERSIZED,
                f"signed message of {len(signed)} bytes exceeds the {max_bytes}-byte limit "
                f"plus the {SIGNATURE_BYTES}-byte signature",
            )
        if len(signed) < SIGNATURE_BYTES:
            raise WireError(
                RejectReason.TRUNCATED,
                f"signed message of {len(signed)} bytes is shorter than its "
                f"{SIGNATURE_BYTES}-byte signature",
                field="signature",
            )
        message, signature = signed[:-SIGNATURE_BYTES], signed[-SIGNATURE_BYTES:]
        header = read_header(message)
        key = self.keys.get(header.sender)
        if key is None:
            raise WireError(
                RejectReason.UNKNOWN_SENDER,
                f"header: sender {header.sender} has no public key in this key ring "
                f"(known: {', '.join(sorted(self.keys)) or 'none'})",
                field="sender",
            )
        try:
            key.verify(signature, message)
        except InvalidSignature:
            raise WireError(
                RejectReason.BAD_SIGNATURE,
                f"signature: does not verify with the public key of {header.sender}",
                field="signature",
            ) from None
        return message


__all__ = [
    "PUBLIC_KEY_BYTES",
    "SIGNATURE_BYTES",
    "KeyRing",
    "NodeKeys",
    "derive_seed",
]
