"""Normalise and check work identifiers: pure functions, no database.

Each scheme's check is the one that is simple and certain: ISRC by its pattern, ISWC and JAN
(EAN-13 / EAN-8) by their check digits, ISAN by its hexadecimal shape. Values are stored in a
canonical form so that the same identifier typed two ways is still one identifier.
"""

import re

from django.utils.translation import gettext as _

from members.registry.models import IdentifierScheme

VALUE_MAX_LENGTH = 100
_SEPARATORS = re.compile(r"[\s\-.]")
_ISRC = re.compile(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}")
_ISWC = re.compile(r"T[0-9]{10}")
_ISAN = re.compile(r"[0-9A-F]{16}([0-9A-Z]?)([0-9A-F]{8}[0-9A-Z]?)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class IdentifierInvalid(ValueError):
    """The value is not an identifier of the scheme; the message says why, for people."""


def iswc_check_digit(digits: str) -> int:
    """Return the ISWC check digit of the nine digits after the T (ISO 15707)."""
    total = 1 + sum(index * int(digit) for index, digit in enumerate(digits, start=1))
    return (10 - total % 10) % 10


def gtin_check_digit(body: str) -> int:
    """Return the GS1 check digit for the digits before it (EAN-13 / EAN-8 / JAN)."""
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def identifier_normalise(scheme: str, raw: str) -> str:
    """Return the canonical form of ``raw`` in ``scheme``, or raise IdentifierInvalid."""
    value = (raw or "").strip()
    if not value:
        raise IdentifierInvalid(_("Give a value."))
    if len(value) > VALUE_MAX_LENGTH:
        raise IdentifierInvalid(_("At most %(n)d characters.") % {"n": VALUE_MAX_LENGTH})
    if _CONTROL.search(value):
        raise IdentifierInvalid(_("Control characters are not allowed."))
    if scheme == IdentifierScheme.INTERNAL:
        return value
    compact = _SEPARATORS.sub("", value).upper()
    if scheme == IdentifierScheme.ISRC:
        compact = compact.removeprefix("ISRC")
        if not _ISRC.fullmatch(compact):
            raise IdentifierInvalid(_("An ISRC has 12 characters, e.g. JPAB02600001."))
        return compact
    if scheme == IdentifierScheme.ISWC:
        compact = compact.removeprefix("ISWC")
        if not _ISWC.fullmatch(compact):
            raise IdentifierInvalid(_("An ISWC is T, nine digits and a check digit, e.g. T-034.524.680-1."))
        if iswc_check_digit(compact[1:10]) != int(compact[10]):
            raise IdentifierInvalid(_("The check digit of this ISWC is wrong."))
        return f"T-{compact[1:4]}.{compact[4:7]}.{compact[7:10]}-{compact[10]}"
    if scheme == IdentifierScheme.JAN:
        if not compact.isdigit() or len(compact) not in (8, 13):
            raise IdentifierInvalid(_("A JAN code has 13 (or 8) digits."))
        if gtin_check_digit(compact[:-1]) != int(compact[-1]):
            raise IdentifierInvalid(_("The check digit of this JAN code is wrong."))
        return compact
    if scheme == IdentifierScheme.ISAN:
        compact = compact.removeprefix("ISAN")
        if not _ISAN.fullmatch(compact):
            raise IdentifierInvalid(
                _("An ISAN is 16 hexadecimal digits (and optionally the version), e.g. 0000-0001-8CFA-0000.")
            )
        return compact
    raise IdentifierInvalid(_("Unknown identifier scheme."))
