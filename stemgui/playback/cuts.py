"""Where the stretcher cuts each window (WSOLA): near where the speed puts it, where it best
continues the window before, and where the song stops or starts (its end, or silence), where
the windows stop and start with it, the notes there played once.

Input indices are the stretcher's: frames of song audio counted from where it started reading.
``heard`` is what the mix heard of that input (``BlockRenderer.heard``), (frames,) from input
index ``first``.
"""

from __future__ import annotations

import numpy as np


def cut_at(
    heard: np.ndarray,
    first: int,
    previous: int,
    reached: int,
    aim: int,
    low: int,
    high: int,
    hop: int,
    search: int,
    speed: float,
) -> int:
    """The input index in [``low``, ``high``] where a window (``2 * hop`` frames) best
    continues the previous one, cut at ``previous``: highest cross-correlation with what
    followed it in the song (the template).

    Where the song stops or starts (its end, or ``search`` frames of silence or more), a
    window's first half must fall silent and sound where the previous one's second half
    does: slower than about half speed the template lies past the search, and a window cut
    near ``aim`` played the last notes again after the one before fell silent (a stutter),
    or fell silent after the one before had brought the first in (a flam). So after a
    window whose second half holds a stop or a start comes the template, the notes heard
    once, as they come; after one that ends sounding, the best of those that begin sounding
    (one that ends before the song stops, while one can); after one that ends in silence, a
    silent one nearest ``aim`` while the song to come is not due in it, else the one that
    brings it in where ``speed`` puts it (``aim`` is where the window's middle plays the song
    at that speed), or nearest that, never what was heard again, within the search or not
    (the silence before the song to come is silent wherever it is cut); with no song to come
    in reach, a silent one within the search nearest ``aim``, else the template. The windows
    cut so far end at input index ``reached`` at most; ``heard`` begins at ``previous`` or
    ``low``, whichever is first."""
    size = 2 * hop
    follow = previous + hop
    template = heard[follow - first :][:size]
    lags = high - low + 1
    region = heard[low - first :][: lags - 1 + size]
    quiet = quiet_frames(heard, search)
    fits = (
        None
        if not quiet.any()
        else _fits(quiet, first, follow, reached, aim, low, lags, hop, speed)
    )
    if isinstance(fits, int):
        return fits
    n = 1 << int(np.ceil(np.log2(region.shape[0] + size)))
    spectrum = np.fft.rfft(region, n) * np.conj(np.fft.rfft(template, n))
    correlation = np.fft.irfft(spectrum, n)[:lags]
    if fits is not None:
        correlation[~fits] = -np.inf
    return low + int(np.argmax(correlation))


def _fits(
    quiet: np.ndarray,
    first: int,
    follow: int,
    reached: int,
    aim: int,
    low: int,
    lags: int,
    hop: int,
    speed: float,
) -> int | np.ndarray:
    """Where the song stops or starts (``quiet``, from input index ``first``): the input
    index the window is cut at, or which of the ``lags`` from ``low`` may be (``cut_at``)."""
    size = 2 * hop
    before = quiet[follow - first :][:hop]  # the previous second half
    if np.any(before) and not np.all(before):
        return follow
    at = low - first
    counted = np.concatenate([[0], np.cumsum(quiet[at:])])
    silent = counted[hop : hop + lags] - counted[:lags]  # in each first half
    if np.all(before):  # the song heard has stopped
        sounded = np.flatnonzero(~quiet[: reached - first])
        after = first + int(sounded[-1]) + 1 if sounded.size else first
        coming = np.flatnonzero(~quiet[after - first :])
        if not coming.size:  # none in reach: a silent one nearest aim
            starts = np.arange(low, low + lags)
            whole = counted[size : size + lags] - counted[:lags] == size
            fits = np.flatnonzero(whole & (starts >= after))
            if fits.size:
                return low + int(fits[np.argmin(np.abs(fits + low - aim))])
            return max(follow, after)
        # Every cut in [after, coming) is silent there, in reach or not: the search is for
        # where a window continues the notes, and slower than about half speed the cut that
        # brings the song to come in where it is due can lie past it (up to (1 - speed) * hop
        # from aim, the search 0.52 hop): each beat after silence came up to 21 ms early at 25 %.
        coming = after + int(coming[0])
        # the cut that plays the song to come where the speed puts it
        due = coming - hop + round((aim + hop - coming) / speed)
        if due + size <= coming and after + size <= coming:  # not due: a silent one
            return min(max(aim, after), coming - size)
        # the one that brings the song to come in where it is due, or nearest
        return max(after, min(due, coming - hop))
    fits = silent == 0
    stops = np.flatnonzero(quiet[at + 1 :] & ~quiet[at:-1]) + 1
    if stops.size and np.any(fits[: max(0, stops[0] - size + 1)]):
        fits[stops[0] - size + 1 :] = False  # ends before the song stops
    return fits if np.any(fits) else follow


def quiet_frames(heard: np.ndarray, run: int) -> np.ndarray:
    """(frames,) bool: the frames of ``heard`` (frames,) inside ``run`` frames or more of
    silence (0.0), or inside the silence it ends in (the song may stop there)."""
    frames = heard.shape[0]
    edges = np.flatnonzero(np.diff((heard == 0).view(np.int8), prepend=0, append=0))
    starts, stops = edges[::2], edges[1::2]  # of each silence
    keep = (stops - starts >= run) | (stops == frames)
    change = np.zeros(frames + 1, np.int8)
    change[starts[keep]] = 1
    change[stops[keep]] -= 1
    return np.cumsum(change[:frames]) > 0
