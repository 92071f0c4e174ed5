"""How alike two responses read: pure functions, no database.

A response's text (summary, then each item's rationale and measures) is normalised (NFKC,
lower case, whitespace collapsed) and cut into overlapping character 3-grams, so Japanese,
which has no spaces between words, compares as well as English. The similarity of two
responses is the Jaccard index of their 3-gram sets: shared 3-grams over all 3-grams.

Comparing a new response with each of a provider's tens of thousands of earlier ones would
be slow, so each response also gets a MinHash signature (``NUM_HASHES`` minimum hash values
of its 3-grams; two signatures agree at a position with a probability equal to the Jaccard
index) cut into ``BANDS`` bands of ``ROWS`` values. A band key is the hash of one band; two
responses sharing any band key are candidates. With 16 bands of 8 rows, a pair at similarity
0.85 shares a band with probability 0.994, at 0.9 with 0.9999, while a pair at 0.5 does
with 0.06 and at 0.3 with 0.001: the candidates are few, and their exact similarity is then
computed from their texts.
"""

import hashlib
import struct
import unicodedata
from collections.abc import Iterable

SHINGLE_SIZE = 3
BANDS = 16
ROWS = 8
NUM_HASHES = BANDS * ROWS
# Texts longer than this are compared on their beginning: it bounds the work per response.
MAX_CHARS = 100_000
_CHUNK = 1000
_SIGNATURE = struct.Struct(f"<{NUM_HASHES}I")
_BAND = struct.Struct(f"<H{ROWS}I")


def normalise(text: str) -> str:
    """Return the text as compared: NFKC (full-width forms folded), lower case, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def response_text(summary: str, items: Iterable[tuple[str, str]]) -> str:
    """Return the normalised text of a response: its summary, then each item's rationale and measures."""
    parts = [summary or ""]
    for rationale, measures in items:
        parts.extend((rationale or "", measures or ""))
    return normalise("\n".join(part for part in parts if part))[:MAX_CHARS]


def shingles(text: str, size: int = SHINGLE_SIZE) -> frozenset[str]:
    """Return the set of overlapping character n-grams; a text shorter than ``size`` is one shingle."""
    if len(text) <= size:
        return frozenset({text}) if text else frozenset()
    return frozenset(text[i : i + size] for i in range(len(text) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Return |a ∩ b| / |a ∪ b| (0.0 for two empty sets)."""
    if not a and not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def minhash(shingle_set: Iterable[str]) -> tuple[int, ...]:
    """Return the MinHash signature: per hash function, the least 32-bit hash over the shingles.

    SHAKE-128 gives each shingle ``NUM_HASHES`` independent 32-bit hashes in one call; the
    element-wise minimum runs in C (``map(min, ...)``), in chunks to bound memory. The result
    is stable across processes and machines, unlike Python's salted ``hash()``.
    """
    signature = None
    chunk = []
    for shingle in shingle_set:
        chunk.append(_SIGNATURE.unpack(hashlib.shake_128(shingle.encode()).digest(_SIGNATURE.size)))
        if len(chunk) == _CHUNK:
            signature = _fold(signature, chunk)
            chunk = []
    if chunk or signature is None:
        signature = _fold(signature, chunk or [(0xFFFFFFFF,) * NUM_HASHES])
    return signature


def _fold(signature, chunk):
    if signature is not None:
        chunk.append(signature)
    return tuple(map(min, *chunk)) if len(chunk) > 1 else tuple(chunk[0])


def band_keys(signature: tuple[int, ...]) -> list[int]:
    """Return one signed 64-bit key per band (the band's number is hashed in: bands never collide)."""
    keys = []
    for band in range(BANDS):
        packed = _BAND.pack(band, *signature[band * ROWS : (band + 1) * ROWS])
        digest = hashlib.blake2b(packed, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys
