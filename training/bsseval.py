"""SDR as MUSDB reports it: BSS Eval version 4, images variant, on 1-second frames.

This is the metric of ``museval`` (SiSEC 2018, ``museval.evaluate`` with ``mode="v4"``), written
again with numpy:

1. Distortion filters are time-invariant: for each source ``j`` the estimate is projected, by
   least squares over the whole track, on the span of the delayed reference sources (delays
   ``0 .. filters_len - 1`` samples, every source and channel: the ``C`` filters) and on the
   delayed reference ``j`` alone (the ``Cj`` filters).
2. The track is cut in frames of ``window`` samples every ``hop`` samples (a partial last frame
   is dropped). In each frame the estimate ``ŝ`` splits into the true image ``s``, a spatial
   error ``e_spat = Cj * s - s``, an interference ``e_interf = C * refs - Cj * s`` and artifacts
   ``e_artif = ŝ - C * refs`` (``*``: filtering of the frame's references, the frame zero-padded
   by ``filters_len - 1`` samples).
3. ``SDR = 10 log10(|s|² / |ŝ - s|²)``, ``ISR = |s|² / |e_spat|²``,
   ``SIR = |s + e_spat|² / |e_interf|²``, ``SAR = |ŝ - e_artif|² / |e_artif|²`` (in dB). In the
   images variant SDR needs no filter at all: it is the frame's signal-to-error ratio, so a gain
   error costs SDR (an estimate at half the reference's amplitude scores 6.02 dB) while SIR and
   SAR stay high.
4. A frame in which any reference or any estimate is silent (its channel sum is zero at every
   sample, museval's test) is NaN for every source and metric.
5. Per track: median over the frames that are not NaN. Per source: median over tracks.

Differences with museval: a source whose reference is silent over the whole track is left out
(museval raises ``ValueError`` for the track): its scores are NaN and the other sources are
scored as museval scores the track without it, so an instrumental's silent vocals leave its
drums, bass and other scored. An estimate silent over the whole track (of a reference with
sound) leaves every source of the track NaN, where museval raises: as museval scores it when
the estimate has a sound only after the last full frame (step 4 in every frame), and a model
that drops a stem is not scored on the others alone. And the reference-correlation system is
factorised once for all sources (museval solves it once per source); results agree to rounding.

Shapes: references and estimates are (sources, channels, time) arrays at 44.1 kHz.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

SAMPLERATE = 44100
WINDOW = SAMPLERATE  # MUSDB: 1-second frames, no overlap
HOP = SAMPLERATE
FILTERS_LEN = 512
METRICS = ("sdr", "isr", "sir", "sar")


@dataclass(frozen=True)
class FrameScores:
    """Per-frame BSS Eval v4 scores in dB, each (sources, frames); NaN for silent frames.

    ``isr``, ``sir`` and ``sar`` are None when only SDR was asked for.
    """

    sdr: np.ndarray
    isr: np.ndarray | None = None
    sir: np.ndarray | None = None
    sar: np.ndarray | None = None

    def medians(self) -> dict[str, np.ndarray]:
        """Median over the non-NaN frames, per metric: {name: (sources,)}; NaN if none."""
        return {
            name: _nanmedian(values, axis=-1)
            for name in METRICS
            if (values := getattr(self, name)) is not None
        }


# ----------------------------------------------------------------------------- framing


def frame_slices(length: int, window: int = WINDOW, hop: int = HOP) -> list[slice]:
    """museval's framing: full frames only, or one frame of the whole signal when shorter."""
    if window >= length:
        return [slice(0, length)]
    count = (length - window + hop) // hop
    return [slice(i * hop, min(i * hop + window, length)) for i in range(count)]


def silent_sources(signals: np.ndarray) -> np.ndarray:
    """(sources, channels, time) -> (sources,): whether the channel sum is zero at every sample
    (museval's test of a silent source)."""
    return np.all(signals.sum(axis=1) == 0, axis=-1)


def _any_silent(signals: np.ndarray) -> bool:
    """(sources, channels, time) -> whether a source is silent (``silent_sources``)."""
    return bool(np.any(silent_sources(signals)))


# ----------------------------------------------------------------------------- filters


def _correlations(left: np.ndarray, right: np.ndarray, lags: int, n_fft: int) -> np.ndarray:
    """Cross-correlations ``r[a, b, d] = Σ_m x_a(m) y_b(m + d)`` for ``d`` in ``-(lags-1) ..
    lags-1`` (index ``d + lags - 1``): (rows a, time), (rows b, time) -> (a, b, 2 lags - 1).

    ``n_fft >= time + lags - 1`` keeps the lags used free of circular aliasing.
    """
    left_spectra = np.fft.rfft(left, n=n_fft, axis=-1)  # (a, bins)
    right_spectra = np.fft.rfft(right, n=n_fft, axis=-1)  # (b, bins)
    out = np.empty((len(left), len(right), 2 * lags - 1))
    for a, spectrum in enumerate(left_spectra):  # one row at a time: bounded memory
        circular = np.fft.irfft(np.conj(spectrum) * right_spectra, n=n_fft, axis=-1)
        out[a, :, : lags - 1] = circular[:, n_fft - lags + 1 :]
        out[a, :, lags - 1 :] = circular[:, :lags]
    return out


def _gram(correlation: np.ndarray, lags: int) -> np.ndarray:
    """Gram matrix of the delayed signals from their correlations.

    (rows, rows, 2 lags - 1) -> (rows * lags, rows * lags) with entry
    ``[(a, τa), (b, τb)] = Σ_n x_a(n - τa) x_b(n - τb) = r[a, b, τa - τb]``.
    """
    rows = correlation.shape[0]
    delay = np.arange(lags)
    index = delay[:, None] - delay[None, :] + lags - 1  # (τa, τb)
    blocks = correlation[:, :, index]  # (a, b, τa, τb)
    return blocks.transpose(0, 2, 1, 3).reshape(rows * lags, rows * lags)


def _solve(gram: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Least-squares filters: (n, n) x (n, k) -> (n, k), regularised as museval does."""
    regularised = gram.copy()
    regularised[np.diag_indices_from(regularised)] += np.finfo(float).eps
    try:
        return np.linalg.solve(regularised, right)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(gram, right, rcond=None)[0]


def distortion_filters(
    references: np.ndarray, estimates: np.ndarray, filters_len: int = FILTERS_LEN
) -> tuple[np.ndarray, np.ndarray]:
    """The time-invariant filters of BSS Eval v4 over the whole signals.

    (sources, channels, time) x2 ->
    ``C`` (sources est, sources ref, channels ref, filters_len, channels est): estimate ``j``
    projected on every delayed reference, and ``Cj`` (sources, channels ref, filters_len,
    channels est): estimate ``j`` projected on reference ``j`` alone.
    """
    sources, channels, length = references.shape
    rows = sources * channels
    n_fft = 1 << int(np.ceil(np.log2(length + filters_len - 1)))
    refs = references.reshape(rows, length)
    correlation = _correlations(
        refs, np.concatenate([refs, estimates.reshape(rows, length)]), filters_len, n_fft
    )
    gram = _gram(correlation[:, :rows], filters_len)  # (rows L, rows L)
    # right[(i, ci, τ), (j, c)] = Σ_n ref_{i,ci}(n - τ) est_{j,c}(n) = r[ref, est, +τ]
    cross = correlation[:, rows:, filters_len - 1 :]  # (rows ref, rows est, L)
    right = cross.transpose(0, 2, 1).reshape(rows * filters_len, rows)
    full = _solve(gram, right).reshape(sources, channels, filters_len, sources, channels)
    full = full.transpose(3, 0, 1, 2, 4)  # (j est, i ref, ci, τ, c)
    own = np.empty((sources, channels, filters_len, channels))
    block = channels * filters_len
    for j in range(sources):
        part = slice(j * block, (j + 1) * block)
        solved = _solve(gram[part, part], right[part, j * channels : (j + 1) * channels])
        own[j] = solved.reshape(channels, filters_len, channels)
    return full, own


def _filter(signals: np.ndarray, responses: np.ndarray, n_fft: int, length: int) -> np.ndarray:
    """Sum of filtered signals, full convolution length.

    signals (sources, channels in, time) and filter spectra (..., sources, channels in, bins,
    channels out) -> (..., channels out, length).
    """
    spectra = np.fft.rfft(signals, n=n_fft, axis=-1)  # (i, ci, bins)
    mixed = np.einsum("icf,...icfd->...df", spectra, responses)
    return np.fft.irfft(mixed, n=n_fft, axis=-1)[..., :length]


# ----------------------------------------------------------------------------- evaluation


def _db(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 10 * np.log10(numerator / denominator)


def bss_eval(
    references: np.ndarray,
    estimates: np.ndarray,
    *,
    window: int = WINDOW,
    hop: int = HOP,
    filters_len: int = FILTERS_LEN,
    sdr_only: bool = False,
    track: str = "",
    sources: Sequence[str] = (),
    said: set[tuple[str, str]] | None = None,
) -> FrameScores:
    """BSS Eval v4 (images) scores per frame, as ``museval.evaluate(mode="v4")`` computes them.

    Args:
        references: true sources, (sources, channels, time).
        estimates: their estimates, same shape (pad or cut them to the references' length).
        window, hop: frame length and step in samples (MUSDB: 1 s and 1 s).
        filters_len: taps of the distortion filters (MUSDB: 512).
        sdr_only: skip the filters (the costly part): SDR does not depend on them.
        track, sources: the track's name and the sources' names, for the warning about a source
            silent over the whole track (a reference: NaN for it, the others scored without it;
            an estimate of a reference with sound: NaN for every source).
        said: the (track, source) pairs already warned silent: not warned again; those warned
            now are added.

    Returns:
        ``FrameScores`` with (sources, frames) arrays in dB.

    Raises:
        ValueError: shapes differ or are not (sources, channels, time).
    """
    references = np.asarray(references, dtype=np.float64)
    estimates = np.asarray(estimates, dtype=np.float64)
    if references.shape != estimates.shape or references.ndim != 3:
        raise ValueError(
            "references and estimates must both be (sources, channels, time), got "
            f"{references.shape} and {estimates.shape}"
        )
    count, channels, length = references.shape
    frames = frame_slices(length, window, hop)
    scores = {name: np.full((count, len(frames)), np.nan) for name in METRICS}
    silent_references = silent_sources(references)
    # a silent estimate of a reference with sound: museval scores no frame with it in any source
    unscored = silent_sources(estimates) & ~silent_references
    silent = silent_references | unscored
    if silent.any():
        names = {j: sources[j] if sources else f"source {j}" for j in np.flatnonzero(silent)}
        new = [j for j in names if said is None or (track, names[j]) not in said]
        if new:
            logger.warning(
                "%s%s silent over the whole track: %s",
                f"{track}: " if track else "",
                " and ".join(
                    f"{names[j]} (its {'reference' if silent_references[j] else 'estimate'})"
                    for j in new
                ),
                "museval refuses such a track; none of its sources is scored (NaN)"
                if unscored.any()
                else "left out of its BSS Eval scores (NaN), the other sources scored without it",
            )
        if said is not None:
            said.update((track, names[j]) for j in new)
        # the others scored as museval scores the track without the silent references
        if not silent.all() and not unscored.any():
            kept = bss_eval(
                references[~silent],
                estimates[~silent],
                window=window,
                hop=hop,
                filters_len=filters_len,
                sdr_only=sdr_only,
            )
            for name in METRICS:
                if (values := getattr(kept, name)) is not None:
                    scores[name][~silent] = values
        return _scores(scores, sdr_only)
    if not sdr_only:
        full, own = distortion_filters(references, estimates, filters_len)
    responses: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for t, frame in enumerate(frames):
        refs, ests = references[..., frame], estimates[..., frame]
        if _any_silent(refs) or _any_silent(ests):
            continue
        energy = np.sum(refs**2, axis=(1, 2))
        scores["sdr"][:, t] = _db(energy, np.sum((ests - refs) ** 2, axis=(1, 2)))
        if sdr_only:
            continue
        size = refs.shape[-1] + filters_len - 1
        n_fft = 1 << int(np.ceil(np.log2(size)))
        if n_fft not in responses:  # the same for every full frame: transform the filters once
            responses[n_fft] = (
                np.fft.rfft(full, n=n_fft, axis=-2),
                np.fft.rfft(own, n=n_fft, axis=-2),
            )
        full_response, own_response = responses[n_fft]
        # s + e_spat: each reference through its own filters, (sources, channels, size)
        own_image = np.stack(
            [_filter(refs[j : j + 1], own_response[j][None], n_fft, size) for j in range(count)]
        )
        projection = _filter(refs, full_response, n_fft, size)  # s + e_spat + e_interf
        padded_refs = np.zeros((count, channels, size))
        padded_refs[..., : refs.shape[-1]] = refs
        padded_ests = np.zeros_like(padded_refs)
        padded_ests[..., : ests.shape[-1]] = ests
        spatial = own_image - padded_refs
        interference = projection - own_image
        artifacts = padded_ests - projection
        total = (1, 2)
        scores["isr"][:, t] = _db(energy, np.sum(spatial**2, axis=total))
        scores["sir"][:, t] = _db(np.sum(own_image**2, axis=total), np.sum(interference**2, total))
        scores["sar"][:, t] = _db(np.sum(projection**2, axis=total), np.sum(artifacts**2, total))
    return _scores(scores, sdr_only)


def _scores(scores: dict[str, np.ndarray], sdr_only: bool) -> FrameScores:
    if sdr_only:
        return FrameScores(sdr=scores["sdr"])
    return FrameScores(**scores)


def _nanmedian(values: np.ndarray, axis: int) -> np.ndarray:
    """``np.nanmedian`` without its warning on all-NaN slices (they give NaN)."""
    values = np.asarray(values, dtype=np.float64)
    valid = ~np.isnan(values)
    out = np.full(np.delete(values.shape, axis), np.nan)
    has_any = valid.any(axis=axis)
    if has_any.any():
        moved = np.moveaxis(values, axis, -1)[has_any]
        out[has_any] = np.nanmedian(moved, axis=-1)
    return out


def track_sdr(references: np.ndarray, estimates: np.ndarray, **kwargs) -> np.ndarray:
    """MUSDB's SDR of one track: median over its 1-second frames, (sources,) in dB.

    (sources, channels, time) x2 -> (sources,); NaN for a source with no scored frame.
    Keyword arguments go to ``bss_eval``.
    """
    kwargs.setdefault("sdr_only", True)
    return bss_eval(references, estimates, **kwargs).medians()["sdr"]


def median_over_tracks(per_track: Sequence[np.ndarray]) -> np.ndarray:
    """MUSDB's figure per source: median over tracks of the per-track medians (NaN skipped).

    [(sources,), ...] -> (sources,)
    """
    return _nanmedian(np.stack([np.asarray(s, dtype=np.float64) for s in per_track]), axis=0)


def evaluate_tracks(
    tracks: Sequence[tuple[np.ndarray, np.ndarray]], *, sdr_only: bool = True, **kwargs
) -> dict[str, np.ndarray]:
    """BSS Eval v4 over tracks: {metric: (sources,)} medians over frames, then over tracks.

    ``tracks``: (references, estimates) pairs, each (sources, channels, time).
    """
    per_track = [bss_eval(r, e, sdr_only=sdr_only, **kwargs).medians() for r, e in tracks]
    if not per_track:
        raise ValueError("no tracks to evaluate")
    return {name: median_over_tracks([t[name] for t in per_track]) for name in per_track[0]}
