"""Plain values: what a checkpoint stores besides tensors survives ``weights_only`` loading."""

from __future__ import annotations

import io
from fractions import Fraction

import pytest
import torch

from stemgui.separation.plain_values import decode_plain, encode_plain


@pytest.mark.parametrize("terms", [[1, 0], "x", [1.5, 2], [1, 2, 3], None, [True, 2]])
def test_a_damaged_fraction_is_a_value_error_naming_it(terms):
    """It was a ZeroDivisionError, a TypeError or an unpacking's ValueError."""
    with pytest.raises(ValueError) as refused:
        decode_plain({"segment": {"__fraction__": terms}})
    assert str(refused.value) == (
        f"a fraction must be two whole numbers, the second not 0, not {terms!r}"
    )


def test_plain_value_encoding_round_trips():
    value = {"a": [1, 2.5, None, True], "b": (Fraction(1, 3), "x"), "c": {"d": Fraction(5)}}
    encoded = encode_plain(value)
    buffer = io.BytesIO()
    torch.save(encoded, buffer)
    buffer.seek(0)
    assert decode_plain(torch.load(buffer, weights_only=True)) == value
    with pytest.raises(ValueError, match=r"\['k'\]"):
        encode_plain({"k": object()})
