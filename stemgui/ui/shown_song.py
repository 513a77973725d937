"""What the window shows of the song on screen, apart from its widgets: the words beside its
title (its tempo and key as heard, its model), its beat grid, and its mixer state, made when its
stems are first shown and carried over when two-stem mode sums stems into ``no_<stem>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stemgui.ui.queue import Job


def title_model(job: Job) -> str:
    """ " — model", what the title says last (and leaves out first), or ""."""
    return f" — {job.model_name}" if job.model_name else ""


def title_found(job: Job, speed: float, semitones: int) -> str:
    """ " — 119 → 107.1 BPM, A major → G major (9B)": the tempo and key found in the song, as
    heard at ``speed`` and ``semitones`` (what the song was, then what is heard, when they
    differ); "" when neither was found."""
    from stemgui.stems.tempo import round_bpm

    analysis = job.analysis
    tempo, key = (analysis.tempo, analysis.key) if analysis is not None else (None, None)
    found = [] if tempo is None else [f"{tempo.bpm:g} BPM"]
    if tempo is not None and speed != 1.0:  # as heard: "119 → 89.3 BPM"
        found = [f"{tempo.bpm:g} → {round_bpm(tempo.bpm * speed):g} BPM"]
    if key is not None:
        heard = key.transposed(semitones)
        said = f"{key.name} → " if semitones else ""
        found += [f"{said}{heard.name} ({heard.camelot})"]
    return f" — {', '.join(found)}" if found else ""


def beat_grid(job: Job) -> tuple[float, float] | None:
    """(first beat, beat length) in frames of the song's stems, where it keeps a steady grid."""
    analysis = job.analysis
    tempo = analysis.tempo if analysis is not None else None
    if tempo is None or tempo.beat is None:
        return None
    rate = job.stemset.samplerate
    return tempo.first_beat * rate, tempo.beat * rate


def cue_frames(job: Job) -> dict[int, int]:
    """The frame of each cue of the song's (``stemgui.stems.cues``) set, by number."""
    cues, rate = getattr(job.waveforms, "cues", None), job.stemset.samplerate
    if cues is None:
        return {}
    return {number: round(cues.at(number) * rate) for number in cues.numbers()}


def mixer_of(job: Job, say: Callable[[str], None]) -> Any:
    """The song's ``MixerState``, made when its stems are first shown (or exported); ``say``
    tells the user what could not be carried over."""
    from stemgui.stems.mixer import MixerState

    if job.mixer is None or job.mixer.stems != job.stemset.names:
        previous = job.mixer
        job.mixer = MixerState(job.stemset.names, original=job.stemset.mix is not None)
        # the song's mix as the last session left it: also no_vocals, first shown after
        # four stems when a two-stem song is separated or read from the cache again
        job.mixer.take_controls(job.strips)
        if previous is not None:  # two-stem mode: vocals keep their strip as it is now
            job.mixer.take_controls(previous.strips())
            _fold_strips(job, previous, say)
    return job.mixer


def _fold_strips(job: Job, previous: Any, say: Callable[[str], None]) -> None:
    """no_vocals, new after the four stems it sums, takes their controls when they agree
    (drums, bass and other all muted: no_vocals muted), else starts fresh, saying so."""
    from stemgui.stems.mixer import folded

    strips = previous.strips()
    for name in job.mixer.stems:
        kept = name.removeprefix("no_")
        if name == kept or name in strips or name in job.strips or kept not in strips:
            continue
        parts = [stem for stem in previous.stems if stem != kept]
        control = folded(strips, parts)
        if control is not None:
            job.mixer.take_controls({name: control})
        else:
            say(
                f"{', '.join(parts)} had different solo, mute or gain: {name}, their sum, "
                "starts unmuted at 0 dB."
            )
