"""Work identifiers are stored in one canonical form and refused when their format or check digit is wrong."""

import pytest
from django.utils import translation

from members.registry.identifiers import IdentifierInvalid, identifier_normalise


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("scheme", "raw", "canonical"),
    [
        ("isrc", "JP-AB0-26-00001", "JPAB02600001"),
        ("isrc", "isrc jpab02600001", "JPAB02600001"),
        ("iswc", "T-034.524.680-1", "T-034.524.680-1"),
        ("iswc", "T0345246801", "T-034.524.680-1"),
        ("jan", "4901234567894", "4901234567894"),
        ("jan", "4901-2345-6789-4", "4901234567894"),
        ("jan", "49123456", "49123456"),
        ("isan", "ISAN 0000-0001-8CFA-0000-Q", "000000018CFA0000Q"),
        ("isan", "0000-0001-8cfa-0000", "000000018CFA0000"),
        ("internal", "  CHR-0001 ", "CHR-0001"),
    ],
)
def test_valid_identifiers_are_normalised(scheme, raw, canonical):
    assert identifier_normalise(scheme, raw) == canonical


@pytest.mark.parametrize(
    ("scheme", "raw", "problem"),
    [
        ("isrc", "JPAB0260001", "12 characters"),
        ("iswc", "T-034.524.680-2", "check digit"),
        ("jan", "4901234567890", "check digit"),
        ("jan", "490123456789", r"13 \(or 8\) digits"),
        ("isan", "XYZ", "hexadecimal"),
        ("internal", "", "Give a value"),
        ("internal", "tab\there", "Control characters"),
    ],
)
def test_invalid_identifiers_are_refused_with_the_reason(scheme, raw, problem):
    with pytest.raises(IdentifierInvalid, match=problem):
        identifier_normalise(scheme, raw)
