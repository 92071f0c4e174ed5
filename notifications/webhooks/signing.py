"""Signing webhook bodies, and checking a signature the way a receiver should.

Plain Python with no Django, so that the README's receiver example can be this very code.

The ``RightsDesk-Signature`` header reads ``t=<unix seconds>,v1=<hex>``: the HMAC-SHA256, keyed
with the endpoint's secret, of the timestamp, a dot, and the raw request body. Right after a
secret is rotated the header carries one ``v1=`` per valid secret, and a signature made with
any of them is good.
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable

SIGNATURE_HEADER = "RightsDesk-Signature"
EVENT_HEADER = "RightsDesk-Event"
DELIVERY_HEADER = "RightsDesk-Delivery"
USER_AGENT = "RightsDesk-Webhooks/1"
SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


def secret_generate() -> str:
    """Return a new signing secret: 256 random bits, URL-safe."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature_compute(secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``f"{timestamp}."`` followed by the body."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets_in_use: Iterable[str], body: bytes, timestamp: int) -> str:
    """Return the header value signing ``body`` at ``timestamp`` with each secret given."""
    signatures = [f"v1={signature_compute(secret, timestamp, body)}" for secret in secrets_in_use if secret]
    return ",".join([f"t={timestamp}", *signatures])


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Return True when ``header`` signs exactly ``body`` with ``secret`` within ``tolerance`` seconds.

    ``body`` must be the raw bytes received, before any JSON parsing. The time window stops an
    old request captured on the way from being replayed later.
    """
    timestamp = None
    signatures = []
    for item in (header or "").split(","):
        key, _sep, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature_compute(secret, timestamp, body)
    return any(hmac.compare_digest(expected, signature) for signature in signatures)
