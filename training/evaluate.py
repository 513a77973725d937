"""Evaluation of a model on multitracks, beside the two baselines every table shows.

- ``mixture/4``: every source estimated as a quarter of the mixture (what doing nothing scores).
- ``IRM oracle``: the ideal ratio mask computed from the true sources' STFT magnitudes and applied
  to the mixture (an upper bound for masking methods).
Tracks are (1 + sources, channels, frames) arrays, the mixture first, as ``training.data`` gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from training.sdr import global_sdr, mean_over_tracks


def separate_tracks(
    model: nn.Module,
    tracks: Sequence[np.ndarray],
    *,
    score: Callable[[np.ndarray, np.ndarray], np.ndarray] = global_sdr,
    segment: float | None = None,
    overlap: float = 0.25,
    device: str = "cpu",
) -> list[np.ndarray]:
    """``score(references, estimates)`` of every track, separating with ``Separator``: by
    default the global SDR, one (sources,) array per track (``bsseval.track_sdr``: MUSDB's)."""
    from stemgui.separation.separator import Separator

    was_training = model.training
    model.eval()
    try:
        separator = Separator(model, device=device, segment=segment, overlap=overlap, shifts=0)
        scores = []
        for track in tracks:
            estimates = separator.separate(np.ascontiguousarray(track[0], dtype=np.float32))
            scores.append(score(np.asarray(track[1:]), estimates))
    finally:
        model.train(was_training)
    return scores


def validation_tracks(
    roots: Sequence[str], cache: str, max_tracks: int = 0, *, samplerate: int = 44100
) -> list[np.ndarray]:
    """The decoded MUSDB validation tracks found under the data ``roots`` (cached in ``cache``),
    at ``samplerate``: the rate of the model they are separated by.

    Raises:
        ValueError: there are none.
    """
    from training import data as data_mod

    _, valid = data_mod.split_validation(data_mod.discover(roots))
    valid = valid[:max_tracks] if max_tracks else valid
    if not valid:
        raise ValueError(
            f"no validation tracks under {', '.join(map(str, roots))} (the 14 MUSDB18 "
            f"validation songs, training.data.MUSDB_VALIDATION, by their names)"
        )
    store = data_mod.TrackCache(cache, samplerate=samplerate)
    return [store.load(track) for track in valid]


def model_validation_tracks(
    path: str | Path, roots: Sequence[str], cache: str, max_tracks: int = 0
) -> list[np.ndarray]:
    """``validation_tracks`` for the model file ``path``, at its rate, once its stems and
    channels are known to be scorable on them (``reference_order``, ``check_channels``).

    Raises:
        ValueError: naming ``path``, for stems or channels the tracks cannot score; or no tracks.
        ModelLoadError: ``path`` does not read.
    """
    from training.models import network_settings

    rate, sources, channels = network_settings(path)
    reference_order(sources, str(path))
    check_channels(channels, str(path))
    return validation_tracks(roots, cache, max_tracks, samplerate=rate)


def reference_order(sources: Sequence[str], what: str) -> list[int]:
    """Where each of a model's ``sources`` is among a track's references (``training.data``'s
    stems): its estimate ``i`` is scored against the stem ``order[i]``, by name.

    Raises:
        ValueError: naming ``what``, when its stems are not the data's (a six-stem model).
    """
    from training.data import SOURCES

    if sorted(sources) != sorted(SOURCES):
        raise ValueError(
            f"{what}: its stems are {list(sources)}; --data scores models of {list(SOURCES)} "
            "(in any order): leave --data out for this one"
        )
    return [SOURCES.index(source) for source in sources]


def check_channels(channels: int, what: str) -> None:
    """Refuse, naming ``what``, a network that does not take the tracks' channels: ``training.data``
    decodes every signal to stereo.

    Raises:
        ValueError: it takes another count (a mono model).
    """
    if channels != 2:
        raise ValueError(
            f"{what}: it takes {channels} audio channel{'' if channels == 1 else 's'}; --data "
            "tracks are stereo: leave --data out for this one"
        )


def mean_sdr(model: nn.Module, tracks: Sequence[np.ndarray], **options) -> np.ndarray:
    """(sources,) global SDR per source in the model's order, each scored against the reference
    of its name; mean over the ``tracks`` that score it (``separate_tracks``'s options)."""
    order = reference_order(model.sources, "the model")
    if order != sorted(order):  # the references put in the model's order
        tracks = [np.concatenate([t[:1], np.asarray(t)[1:][order]]) for t in tracks]
    return mean_over_tracks(separate_tracks(model, tracks, **options))


def scores_by_source(sources: Sequence[str], means: np.ndarray) -> dict[str, float]:
    """``{source: SDR, ..., "all": their mean}`` from (sources,) SDRs: as run histories and the
    manifest's ``valid_sdr`` record them ("all" over the sources scored, ``scored_mean``)."""
    scores = {source: float(value) for source, value in zip(sources, means)}
    scores["all"] = scored_mean(means)
    return scores


def scored_mean(values: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """The (weighted) mean of (sources,) SDRs over the sources that have one, the weights
    renormalised over them: MUSDB's is NaN for a source silent in every track. NaN when no
    source with a weight has a score."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.ones_like(values) if weights is None else np.asarray(weights, dtype=np.float64)
    scored = ~np.isnan(values)
    total = weights[scored].sum()
    return float(np.dot(weights[scored], values[scored]) / total) if total > 0 else math.nan


def mixture_baseline(tracks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Global SDR per source of the estimate "each source is the mixture divided by the count"."""
    scores = []
    for track in tracks:
        sources = np.asarray(track[1:])
        estimate = np.broadcast_to(np.asarray(track[0]) / len(sources), sources.shape)
        scores.append(global_sdr(sources, estimate))
    return scores


def irm_estimates(track: np.ndarray, n_fft: int = 4096, power: float = 1.0) -> np.ndarray:
    """Ideal-ratio-mask estimates: (sources, channels, frames) from a (1 + sources, C, T) track."""
    signals = torch.from_numpy(np.array(track, dtype=np.float32))  # a writable copy (memmaps)
    count, channels, frames = signals.shape
    window = torch.hann_window(n_fft)
    hop = n_fft // 4
    spec = torch.stft(
        signals.reshape(-1, frames), n_fft, hop, window=window, return_complex=True
    ).reshape(count, channels, n_fft // 2 + 1, -1)
    magnitudes = spec[1:].abs() ** power
    masks = magnitudes / magnitudes.sum(dim=0, keepdim=True).clamp_min(1e-10)
    masked = (masks * spec[0]).reshape(-1, *spec.shape[-2:])
    out = torch.istft(masked, n_fft, hop, window=window, length=frames)
    return out.reshape(count - 1, channels, frames).numpy()


def irm_baseline(tracks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Global SDR per source of the ideal ratio mask (magnitude ratio, 4096-point STFT)."""
    return [global_sdr(np.asarray(t[1:]), irm_estimates(np.asarray(t))) for t in tracks]
