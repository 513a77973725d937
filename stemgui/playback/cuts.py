"""Where the stretcher cuts each window (WSOLA): near where the speed puts it, where it best
continues the window before, and where the song stops or starts (its end, or silence: the
quiet under the notes a separated stem has too), where the windows stop and start with it, the
notes there played once.

Input indices are the stretcher's: frames of song audio counted from where it started reading.
``heard`` is what the mix heard of that input (``BlockRenderer.heard``), (frames,) from input
index ``first``.
"""

from __future__ import annotations

import numpy as np

from stemgui.playback.joins import between

QUIET = 10 ** (-30 / 20)
"""What the mix heard is silent at or below, as a part of the loudest it heard in the last
``HOLD_SECONDS`` of song (``Loudest``): a separated stem is never exactly silent (a model
leaves a floor of bleed, -60 to -40 dBFS), and that floor under the notes (bleed, noise, a
pad held at -45 dBFS under the beats) is where the song stops and starts, as silence is."""
HOLD_SECONDS = 2.0


class Loudest:
    """The loudest the mix heard over the last ``hold`` input frames (and in what is weighed
    now): the level the quiet under the notes is told from. Held, so that a floor between
    beats is quiet all through: told from the notes in what is weighed alone, or against a
    fixed level near its own, it was silence in one window and a note in the next, and a
    beat came up to 0.3 s off at 25 %. A floor alone for longer is the loudest, and plays
    as a note does."""

    def __init__(self, hold: int) -> None:
        self.hold = hold
        # (input index where weighed, loudest), later and quieter along it: one that a later
        # one as loud or louder outlasts is never the loudest again, and is left out (going
        # through them all each window cost 2-6 % of the stretcher's CPU time)
        self._peaks: list[tuple[int, float]] = []

    def add(self, heard: np.ndarray, first: int) -> float:
        """The loudest of ``heard`` (frames,), from input index ``first``, and the held:
        that of what was weighed up to ``hold`` frames before where ``heard`` ends."""
        end = first + heard.shape[0]
        peak = float(np.abs(heard).max(initial=0.0))
        peaks = self._peaks
        after = len(peaks)  # where it goes: after those weighed up to where it ends
        while after and peaks[after - 1][0] > end:
            after -= 1
        if after == len(peaks) or peaks[after][1] < peak:  # not outlasted by a louder one
            before = after
            while before and peaks[before - 1][1] <= peak:
                before -= 1
            peaks[before:after] = [(end, peak)]
        gone = 0
        while peaks[gone][0] <= end - self.hold:
            gone += 1
        del peaks[:gone]
        return peaks[0][1]


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
    loudest: float,
    following: int | None = None,
) -> int:
    """The input index the next window (``2 * hop`` frames) is cut at: where ``heard`` holds
    no silence, the one in the search [``low``, ``high``] that best continues the previous
    one, cut at ``previous`` (highest cross-correlation with what followed it in the song, the
    template); where the song stops or starts in reach, one that can lie before ``low`` or
    past ``high`` (below).

    Where the song stops or starts (its end, or ``search`` frames of silence or more: at
    or below ``QUIET`` times ``loudest``, what the mix heard loudest lately), a
    window's first half must fall silent and sound where the previous one's second half
    does: slower than about half speed the template lies past the search, and a window cut
    near ``aim`` played the last notes again after the one before fell silent (a stutter),
    or fell silent after the one before had brought the first in (a flam). So after a
    window whose second half holds a stop or a start comes the template, the notes heard
    once, as they come; after one whose second half begins sounding, one that holds the
    note (``_held``) until its stop is due, then the template, then silence; after one that
    ends in silence, a silent one within the search while the song to come is not due in
    it, else the one that brings it in where ``speed`` puts it (``aim`` is where the window's
    middle plays the song at that speed), or nearest that, never what was heard again,
    within the search or not (the silence before the song to come is silent wherever it is
    cut); with no song to come in reach, a silent one within the search, else the template.

    A silent one is the one whose first half best continues the previous one's second half
    (the halves that overlap; nearest ``aim`` in digital silence), from as many cuts as the
    search has, before it where the song to come cuts it short: the quiet under the notes
    still sounds (a pad after a loud fill, a quiet verse after a loud chorus), and cut
    nearest ``aim``, for the timing alone, its windows joined out of phase, the pad dipping
    up to 9 dB 10 ms at a time at each join (16 dB 5 ms at a time) at 25-75 %. Where they
    are cut in silence leaves the song to come where it is due. The last one before it,
    where the next window (aimed at ``following``) is the one that brings it in, is the one
    that joins both (``joins.between``): that one is cut where it plays the song to come on
    time, not where it continues, and the silent one before it joined it out of phase, the
    pad under the beats dipping 4-10 dB 20-50 ms before each. While the song to come cuts
    the search short, the lags before it that ``heard`` holds may be cut (slower than about
    half speed the windows' aims run past where they must end, and they were cut there, the
    same window again and again, joined out of phase).
    The windows cut so far end at input index ``reached`` at most; ``heard`` begins at
    ``previous`` or ``low``, whichever is first, or before (``Stretcher``: in the quiet)."""
    size = 2 * hop
    follow = previous + hop
    template = heard[follow - first :][:size]
    lags = high - low + 1
    region = heard[low - first :][: lags - 1 + size]
    quiet = quiet_frames(heard, search, QUIET * loudest)
    fits = (
        None
        if not quiet.any()
        else _fits(quiet, first, follow, reached, aim, low, lags, hop, speed, following)
    )
    if isinstance(fits, int):
        return fits
    weighed = size
    if fits is not None:
        low, fits, into = fits
        lags = fits.shape[0]
        if into is not None:  # the silent one before the song to come: it joins both
            region = heard[low - first :][: lags - 1 + size]
            beat = heard[into - first :][:hop]
            return low + between(region, template[:hop], beat, fits, _fft_size(lags - 1 + size))
        if quiet[follow - first]:  # in the quiet: the halves that overlap (at half the cost)
            weighed = hop
            template = template[:hop]
        region = heard[low - first :][: lags - 1 + weighed]
        if not (region.any() and template.any()):  # digital silence: nearest aim
            fits = np.flatnonzero(fits)
            return low + int(fits[np.argmin(np.abs(fits + low - aim))])
    n = _fft_size(lags - 1 + weighed)
    spectrum = np.fft.rfft(region, n) * np.conj(np.fft.rfft(template, n))
    correlation = np.fft.irfft(spectrum, n)[:lags]
    if fits is not None:
        correlation[~fits] = -np.inf
    return low + int(np.argmax(correlation))


def _fft_size(frames: int) -> int:
    """The length of the FFTs that correlate a template with the ``frames`` it is weighed
    over: the shortest power of two, or nine times one, that holds them (the lags weighed
    take nothing wrapped round; twice as long, as it was, cost a fifth of the stretcher's
    time more)."""
    return min(1 << int(np.ceil(np.log2(frames))), 9 << max(0, int(np.ceil(np.log2(frames / 9)))))


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
    following: int | None = None,
) -> int | tuple[int, np.ndarray, int | None]:
    """Where the song stops or starts (``quiet``, from input index ``first``): the input
    index the window is cut at, or the first lag and which lags from there may be
    (``cut_at``)."""
    before = quiet[follow - first :][:hop]  # the previous second half
    if not before[0]:  # the song heard goes on (or stops, not due yet)
        return _held(quiet, first, follow, aim, low, lags, hop, speed)
    if not np.all(before):  # it starts: the attack, played as it comes
        return follow
    # the song heard has stopped
    sounded = np.flatnonzero(~quiet[: reached - first])
    after = first + int(sounded[-1]) + 1 if sounded.size else first
    return _silent(quiet, first, follow, after, aim, low, lags, hop, speed, following)


def _silent(
    quiet: np.ndarray,
    first: int,
    follow: int,
    after: int,
    aim: int,
    low: int,
    lags: int,
    hop: int,
    speed: float,
    following: int | None = None,
) -> int | tuple[int, np.ndarray, int | None]:
    """The song heard has stopped at input index ``after``: the input index the window is
    cut at, or the first lag and which lags from there may be (``cut_at``)."""
    size = 2 * hop
    coming = np.flatnonzero(~quiet[after - first :])
    if not coming.size:  # none in reach: a silent one within the search
        starts = np.arange(low, low + lags)
        counted = np.concatenate([[0], np.cumsum(quiet[low - first :])])
        whole = counted[size : size + lags] - counted[:lags] == size
        fits = whole & (starts >= after)
        return (low, fits, None) if fits.any() else max(follow, after)
    # Every cut in [after, coming) is silent there, in reach or not: the search is for
    # where a window continues the notes, and slower than about half speed the cut that
    # brings the song to come in where it is due can lie past it (up to (1 - speed) * hop
    # from aim, the search 0.52 hop): each beat after silence came up to 21 ms early at 25 %.
    coming = after + int(coming[0])

    def bringing(aimed: int) -> tuple[int, bool]:  # for a window aimed at ``aimed``: the
        # cut that plays the song to come where the speed puts it, or nearest; whether it is
        # due in that window
        due = _due(coming, aimed, hop, speed)
        return max(after, min(due, coming - hop)), due + size > coming

    cut, due = bringing(aim)
    if not due and after + size <= coming:  # not due: a silent one, from as many as the
        # search has (before it where the song to come cuts it short)
        high = min(max(low + lags - 1, after), coming - size)
        low = max(after, first, min(low, high - lags + 1))
        into = None
        if following is not None:  # the next one's cut, if it brings the song to come in
            next_cut, next_due = bringing(following)
            into = next_cut if next_due else None
        return low, np.ones(high - low + 1, bool), into
    return cut


def cut_before(
    heard: np.ndarray, hop: int, search: int, speed: float, loudest: float
) -> tuple[int, int] | None:
    """Play started in the quiet (``heard`` (frames,): what the mix heard of the song read
    from input index 0, where it started): the input index the window before the first is
    cut at (before 0: the quiet standing in for the song before, ``Stretcher``), so that the
    song to come plays where ``speed`` puts it, and the input index where it comes in
    (``heard``'s end where it does not). None where the song sounds where play started: the
    first half window plays it as it comes. Played so in the quiet too, the first window went
    at 100 %: a beat 40 ms after where play started was heard 120 ms early at 25 % (13 ms
    late at 150 %); faster than 1 the windows after it took that back too slowly for a beat
    up to 100 ms on at 150 % (225 ms at 200 %): up to 15 and 22 ms late."""
    quiet = quiet_frames(heard, search, QUIET * loudest)
    if not quiet[0]:
        return None
    if quiet.all():
        return -hop, heard.shape[0]
    coming = int(np.argmin(quiet))
    return _due(coming, -hop, hop, speed), coming  # (aimed where output frame 0 plays 0)


def _due(at: int, aim: int, hop: int, speed: float) -> int:
    """The cut that plays input index ``at`` where ``speed`` puts it, for a window aimed at
    ``aim`` (its middle plays the song there)."""
    return at - hop + round((aim + hop - at) / speed)


def _held(
    quiet: np.ndarray,
    first: int,
    follow: int,
    aim: int,
    low: int,
    lags: int,
    hop: int,
    speed: float,
) -> int | tuple[int, np.ndarray]:
    """The song heard goes on (the previous second half sounds): the input index the window
    is cut at, or the first lag and which lags from there may be (``cut_at``).

    A window holds the note: its first half sounds (the note's attack not heard again), and
    it ends before the song stops while one can. Cut within the note wherever the speed aims
    it (after its attack, played as it comes, the windows run ahead of ``aim``), not near
    ``aim`` alone: a note shorter than a window and its search was played at speed 1, the
    windows ran ahead of the song, and the ones after played the notes before again (at 25 %
    notes of 40-80 ms between gaps of 13-100 ms sounded for as little as a quarter of their
    time, and were heard up to four times). The window that holds the stop is cut where it
    plays it where ``speed`` puts it (or as soon as it can, overdue), so that the note ends
    on time, and the next one, its template, plays it once."""
    size = 2 * hop
    silence = np.flatnonzero(quiet[: follow - first])
    onset = first + (int(silence[-1]) + 1 if silence.size else 0)  # of the note heard
    stops = np.flatnonzero(quiet[follow - first :])
    stop = follow + int(stops[0]) if stops.size else None
    if stop is not None:
        due = _due(stop, aim, hop, speed)  # plays it where it is due
        if stop - due < size:  # due in this window, or overdue
            if stop < follow + hop:  # the previous window plays it: once, and then the
                # silence (held, while a half window of it comes before the next note)
                coming = np.flatnonzero(~quiet[stop - first :])
                if coming.size and coming[0] < hop:
                    return follow
                return _silent(quiet, first, follow, stop, aim, low, lags, hop, speed)
            target = min(due, stop - hop)
            start, end = max(target - lags // 4, onset), min(target + lags // 4, stop - hop)
            if start > end:  # a note too short to hold
                return follow
            return start, np.ones(end - start + 1, bool), None
    start = max(low, onset)  # nearest aim: within the search, else as near as the note lets
    # (as far as the song read reaches: ``heard`` holds the template, from ``follow``)
    lags = min(max(low + lags, start + lags // 2), first + quiet.shape[0] - size + 1) - start
    if lags <= 0:
        return follow
    counted = np.concatenate([[0], np.cumsum(quiet[start - first :])])
    fits = counted[hop : hop + lags] - counted[:lags] == 0  # each first half sounds
    if stop is not None and np.any(fits[: max(0, stop - start - size + 1)]):
        fits[stop - start - size + 1 :] = False  # ends before the song stops
    return (start, fits, None) if np.any(fits) else follow


def quiet_frames(heard: np.ndarray, run: int, floor: float = 0.0) -> np.ndarray:
    """(frames,) bool: the frames of ``heard`` (frames,) inside ``run`` frames or more of
    silence (at or below ``floor``, its peaks over it a few frames each), or inside
    the silence it ends in (the song may stop there) or begins in (it may have been longer:
    a note's attack after it is not taken for its middle), an eighth of ``run`` or more
    (shorter, a low note crossing zero), or digital silence."""
    frames = heard.shape[0]
    level = np.abs(heard)
    if heard[0] != 0 and heard[-1] != 0 and not _may_be_quiet(level, run, floor):
        return np.zeros(frames, bool)
    edges = np.flatnonzero(np.diff((level <= floor).view(np.int8), prepend=0, append=0))
    starts, stops = edges[::2], edges[1::2]  # of each silence
    if starts.size > 1:  # noise's peaks over the floor (a few frames, 12 dB) break no silence
        peaks = np.maximum.reduceat(level, np.column_stack([stops[:-1], starts[1:]]).ravel())
        apart = (starts[1:] - stops[:-1] >= max(1, run // 32)) | (peaks[::2] > 4 * floor)
        starts, stops = starts[np.r_[True, apart]], stops[np.r_[apart, True]]
    # at an edge: longer than a low note's crossing of the floor, or digital silence
    edge = (stops == frames) | (starts == 0)
    keep = (stops - starts >= run) | (edge & (stops - starts >= run // 8))
    for at in np.flatnonzero(edge & ~keep):  # two at most
        keep[at] = not heard[starts[at] : stops[at]].any()
    change = np.zeros(frames + 1, np.int8)
    change[starts[keep]] = 1
    change[stops[keep]] -= 1
    return np.cumsum(change[:frames]) > 0


def _may_be_quiet(level: np.ndarray, run: int, floor: float) -> bool:
    """Whether ``level`` (frames,) may hold a silence ``quiet_frames`` keeps (but for one of
    digital silence at an edge): at an edge, ``run // 8`` frames none over ``4 * floor``, or
    inside, every ``run // 32``-th frame for ``run`` frames. (What plays mostly has none,
    and is told so at a fraction of the cost.)"""
    edge, step = max(1, run // 8), max(1, run // 32)
    if level[:edge].max() <= 4 * floor or level[-edge:].max() <= 4 * floor:
        return True
    marks = level[::step] > 4 * floor  # every step-th frame: a silence inside holds
    count = run // step  # this many of them in a row at least
    loud = np.flatnonzero(marks)
    if loud.size == 0 or loud[0] >= count or marks.shape[0] - 1 - loud[-1] >= count:
        return True
    return loud.size > 1 and int((loud[1:] - loud[:-1]).max()) > count
