"""The one money formatter: integer cents in, the same words everywhere."""
from __future__ import annotations

import pytest

from hotlead.core.money import money_format, whole_dollars_format


def test_cents_read_as_currency_with_separators_and_sign():
    assert money_format(0) == "$0.00"
    assert money_format(123456789) == "$1,234,567.89"
    assert money_format(-2500) == "-$25.00"
    assert money_format(5, "CHF") == "0.05 CHF"
    assert money_format(5, "EUR") == "€0.05"
    assert money_format(None) == "—"


def test_signed_marks_a_credit_and_leaves_a_debit_and_zero_alone():
    assert [money_format(c, signed=True) for c in (1500, -1500, 0)] == ["+$15.00", "-$15.00", "$0.00"]


def test_a_float_is_refused_never_rounded():
    with pytest.raises(TypeError):
        money_format(12.5)


def test_whole_dollars_drop_the_cents():
    assert whole_dollars_format(5_000_000_00) == "$5,000,000"
