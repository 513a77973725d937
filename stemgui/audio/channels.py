"""Channel conversion: mono to stereo, multichannel downmix, anything to mono.

Multichannel sources are folded to stereo with the usual ITU-R BS.775 weights: front left and
right go to their side at full level, the centre to both sides at -3 dB (1/sqrt 2), surround and
back channels to their side at -3 dB, the LFE channel is dropped. Each output row is then divided
by its sum of weights, so that the result can never exceed the loudest input channel (the same
normalisation FFmpeg applies by default). For a 5.1 source this gives

    L = (FL + 0.7071 FC + 0.7071 BL) / 2.4142
    R = (FR + 0.7071 FC + 0.7071 BR) / 2.4142

Channel roles come from the file's layout when the decoder knows it (PyAV; for a WAV, the
channel mask of its WAVE_FORMAT_EXTENSIBLE header, which libsndfile reads but does not expose:
``wave_mask_roles``; for an Ogg read by libsndfile, the Vorbis order ``VORBIS_ROLES``), or else
from the default WAVE/FLAC order for the channel count.
A layout with a role this table does not know is averaged into both sides instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

_G = 1.0 / math.sqrt(2.0)

# Weight of each channel role in (left, right).
_ROLE_WEIGHTS: dict[str, tuple[float, float]] = {
    "FL": (1.0, 0.0),
    "FR": (0.0, 1.0),
    "FC": (_G, _G),
    "LFE": (0.0, 0.0),
    "LFE2": (0.0, 0.0),
    "BL": (_G, 0.0),
    "BR": (0.0, _G),
    "SL": (_G, 0.0),
    "SR": (0.0, _G),
    "BC": (_G, _G),
    "FLC": (_G, 0.0),
    "FRC": (0.0, _G),
    "TFL": (_G, 0.0),
    "TFR": (0.0, _G),
    "TFC": (_G * _G, _G * _G),
    "TBL": (_G, 0.0),
    "TBR": (0.0, _G),
    "TC": (_G * _G, _G * _G),
    "TBC": (_G * _G, _G * _G),
    "WL": (_G, 0.0),
    "WR": (0.0, _G),
}

# Default channel order by count (WAVE_FORMAT_EXTENSIBLE / FLAC order).
DEFAULT_ROLES: dict[int, tuple[str, ...]] = {
    1: ("FC",),
    2: ("FL", "FR"),
    3: ("FL", "FR", "FC"),
    4: ("FL", "FR", "BL", "BR"),
    5: ("FL", "FR", "FC", "BL", "BR"),
    6: ("FL", "FR", "FC", "LFE", "BL", "BR"),
    7: ("FL", "FR", "FC", "LFE", "BC", "SL", "SR"),
    8: ("FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR"),
}

# Vorbis and Opus order by count, which libsndfile keeps when it reads an Ogg (FFmpeg reorders
# to its own layouts when it decodes one).
VORBIS_ROLES: dict[int, tuple[str, ...]] = {
    3: ("FL", "FC", "FR"),
    4: ("FL", "FR", "BL", "BR"),
    5: ("FL", "FC", "FR", "BL", "BR"),
    6: ("FL", "FC", "FR", "BL", "BR", "LFE"),
    7: ("FL", "FC", "FR", "SL", "SR", "BC", "LFE"),
    8: ("FL", "FC", "FR", "SL", "SR", "BL", "BR", "LFE"),
}


# The speaker of each bit of a WAVE_FORMAT_EXTENSIBLE channel mask, lowest first; channels are
# stored in this order, one per set bit.
_MASK_ROLES = (
    "FL", "FR", "FC", "LFE", "BL", "BR", "FLC", "FRC", "BC", "SL", "SR",
    "TC", "TFL", "TFC", "TFR", "TBL", "TBC", "TBR",
)  # fmt: skip
_EXTENSIBLE = 0xFFFE


def wave_mask_roles(head: bytes, count: int) -> tuple[str, ...] | None:
    """The roles a WAV file's channel mask gives its ``count`` channels, from the file's first
    bytes ``head``; None when it is no such WAV, has no mask, or the mask does not fit."""
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return None
    offset = 12
    while offset + 8 <= len(head):
        chunk, size = (
            head[offset : offset + 4],
            int.from_bytes(head[offset + 4 : offset + 8], "little"),
        )
        body = head[offset + 8 : offset + 8 + size]
        if chunk == b"fmt ":
            if len(body) < 24 or int.from_bytes(body[:2], "little") != _EXTENSIBLE:
                return None
            mask = int.from_bytes(body[20:24], "little")
            roles = tuple(role for bit, role in enumerate(_MASK_ROLES) if mask >> bit & 1)
            return roles if len(roles) == count else None
        offset += 8 + size + (size & 1)  # chunks are padded to an even size
    return None


def downmix_matrix(roles: Sequence[str] | None, count: int) -> np.ndarray:
    """Weights of shape (2, count) that fold ``count`` channels to stereo.

    ``roles`` are FFmpeg channel names ("FL", "FC", "LFE", ...) in file order, or None to use
    the default order for ``count``. Unknown roles or counts fall back to the plain average of
    all channels on both sides.
    """
    if roles is None or len(roles) != count:
        roles = DEFAULT_ROLES.get(count)
    if roles is None or any(role not in _ROLE_WEIGHTS for role in roles):
        return np.full((2, count), 1.0 / count, dtype=np.float32)
    weights = np.array([_ROLE_WEIGHTS[role] for role in roles], dtype=np.float64).T
    sums = weights.sum(axis=1, keepdims=True)
    if np.any(sums == 0):
        return np.full((2, count), 1.0 / count, dtype=np.float32)
    return (weights / sums).astype(np.float32)


def convert_channels(
    samples: np.ndarray, channels: int, roles: Sequence[str] | None = None
) -> np.ndarray:
    """Return ``samples`` (source_channels, frames) as (channels, frames) float32.

    Same count: unchanged. One source channel: copied to every output channel. One output
    channel: mean of all source channels. More than two source channels to stereo: the downmix
    above. Other combinations (e.g. stereo to 5.1) are not invented and raise ValueError.
    """
    source = samples.shape[0]
    if source == channels:
        return samples
    if source == 1:
        return np.repeat(samples, channels, axis=0)
    if channels == 1:
        return samples.mean(axis=0, keepdims=True, dtype=np.float32)
    if channels == 2:
        matrix = downmix_matrix(roles, source)
        return (matrix @ samples).astype(np.float32, copy=False)
    raise ValueError(f"cannot convert {source} channels to {channels}")
