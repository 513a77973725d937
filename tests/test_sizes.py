"""``stemgui.sizes.in_words``: every size the user reads is in decimal units (1 GB = 10^9
bytes, as macOS's Finder and the disk's label count), the stem cache's limit too."""

from __future__ import annotations

from stemgui.sizes import GB, MB, in_words


def test_sizes_are_said_in_decimal_units():
    assert (GB, MB) == (10**9, 10**6)
    assert in_words(4 * 10**9) == "4.0 GB"  # a full 4 GB stem cache (4 << 30 read 4.3)
    assert in_words(1_500_000_000) == "1.5 GB"
    assert in_words(420 * 10**6) == "420 MB"
    assert in_words(999_400_000) == "999 MB"
    assert in_words(3 << 20) == "3 MB"  # 3.1 MB
    assert in_words(0) == "0 MB"


def test_a_size_that_rounds_to_a_thousand_mb_is_said_in_gb():
    """999.6 MB read "1000 MB", where a byte more reads "1.0 GB"."""
    assert in_words(999_600_000) == "1.0 GB"
    assert in_words(999_999_999) == "1.0 GB"
    assert in_words(999_499_999) == "999 MB"
