"""PyAV (bundled FFmpeg) back end of :mod:`stemgui.audio.decode`.

Reads the first audio stream of any container FFmpeg knows. Failures are reported as
:class:`Failure` with a user-facing reason; the caller turns them into DecodeError (after
checking whether the file is audio at all).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stemgui.audio._gather import Gathered, Scratch

logger = logging.getLogger(__name__)

CORRUPT = (
    "could not be decoded: it is truncated or corrupt, or not in an audio format this app reads;"
    " try re-downloading or re-exporting it"
)
NO_AUDIO = "has no audio stream (a video or image without sound); choose a file with sound"
ZERO_FRAMES = "contains no audio (zero frames); the file is empty or damaged"


class Failure(Exception):
    """PyAV could not give audio; ``reason`` says why in words for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Decoded:
    gathered: Gathered  # the frames; NaN and infinite samples were made 0
    frames: int  # of them, the song's
    samplerate: int
    roles: tuple[str, ...] | None
    warnings: tuple[str, ...]


def decode(path: Path, scratch: Scratch | None = None) -> Decoded:
    """Decode the first audio stream of ``path`` to float32 (channels, frames) at its own rate,
    a long song into a temporary file in the folder ``scratch()`` makes, if given (see
    :mod:`._gather`; the caller closes ``Decoded.gathered``)."""
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as error:
        logger.debug("%s: PyAV cannot open it: %s", path, error)
        raise Failure(CORRUPT) from error
    with container:
        stream = _audio_stream(container)
        blocks = Gathered(scratch)
        try:
            timeline, roles, damaged = _demux(path, container, stream, blocks)
            if timeline is None or not blocks.frames:
                raise Failure(CORRUPT if damaged else ZERO_FRAMES)
        except BaseException:
            blocks.close()  # its file, if a long song was spilled
            raise
        samplerate = timeline.samplerate
        length = _stated_length(container, stream, samplerate)
    frames = blocks.frames
    if length is not None and 0 < frames - length <= _MAX_PADDING:
        frames = length  # the encoder's padding at the end, not the song's
    warnings: tuple[str, ...] = ()
    if timeline.gaps:
        message = (
            f"{timeline.gaps} damaged spot(s) replaced by silence"
            f" ({timeline.filled / samplerate:.2f} s in all), so that the audio after them stays"
            " in time; the file is truncated or corrupt"
        )
    elif damaged:
        message = f"{damaged} damaged packet(s) skipped; the file may be truncated or corrupt"
    if timeline.gaps or damaged:
        logger.warning("%s: %s", path, message)
        warnings = (message,)
    return Decoded(blocks, frames, samplerate, roles, warnings)


def _demux(path: Path, container, stream, blocks: Gathered):
    """Decode ``stream`` into ``blocks``; return its timeline (None: no frame), the channel
    roles and how many packets were damaged."""
    import av

    resampler = resampler_kind = None
    roles = None
    damaged = 0
    timeline = None
    trail = _PacketTrail(path) if container.format.name == "mp3" else None
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError as error:
                damaged += 1
                logger.debug("%s: damaged packet skipped: %s", path, error)
                continue
            lost = trail.lost_before(packet) if trail is not None and frames else 0
            for frame in frames:
                if timeline is None:
                    layout, rate = frame.layout, frame.sample_rate
                    roles = _roles(frame.layout)
                    timeline = _Timeline(rate, frame.layout.nb_channels)
                # Everything is converted to planar float at the first frame's rate and
                # layout. A resampler is set up for one input format and passes later
                # frames through unchanged even when theirs differs (joined files, a TV
                # recording switching between stereo and 5.1): each format gets its own.
                kind = (frame.format.name, frame.layout.name, frame.sample_rate)
                if kind != resampler_kind:
                    if resampler is not None:
                        _convert(resampler, None, blocks, timeline)  # its last samples
                        timeline.trusted = False
                    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
                    resampler_kind = kind
                if trail is None:
                    silence = timeline.gap_before(frame, stream.time_base)
                else:  # a raw mp3's timestamps count packets, not time: its bytes tell
                    silence, lost = timeline.fill(lost * frame.samples), 0
                if silence is not None:
                    blocks.append(silence)
                _convert(resampler, frame, blocks, timeline)
        if resampler is not None:
            _convert(resampler, None, blocks, timeline)
    except av.FFmpegError as error:
        # The container itself is damaged past this point: keep what was read.
        damaged += 1
        logger.debug("%s: demuxing stopped: %s", path, error)
    return timeline, roles, damaged


def _convert(resampler, frame, blocks: Gathered, timeline: _Timeline) -> None:
    """Append ``frame`` converted by ``resampler`` to ``blocks`` (None: what it still holds)."""
    for out in resampler.resample(frame):
        blocks.append(out.to_ndarray())
        timeline.written += out.samples


class _Timeline:
    """Where each decoded frame belongs, so that lost audio leaves a hole instead of a shift.

    A damaged packet that fails to decode, or one the demuxer drops (FFmpeg's FLAC parser drops
    a frame whose checksum fails, without a word), would otherwise pull everything after it
    earlier: stems out of sync with the original. The frames' timestamps say where they start;
    a jump between the audio written so far and the next frame is filled with silence.
    """

    def __init__(self, samplerate: int, channels: int) -> None:
        self.samplerate = samplerate
        self.channels = channels
        self.origin: int | None = None  # the first frame's start, in frames
        self.written = 0  # frames output so far, silence included
        self.gaps = 0
        self.filled = 0
        # Once the rate or layout changes (joined files), the timestamps are no longer to be
        # trusted: a raw stream's demuxer counts every packet at the first part's rate.
        self.trusted = True

    def gap_before(self, frame, time_base) -> np.ndarray | None:
        """The silence (channels, frames) that belongs before ``frame``, or None."""
        time_base = frame.time_base or time_base
        if frame.pts is None or time_base is None or not self.trusted:
            return None
        start = round(frame.pts * time_base * self.samplerate)
        if self.origin is None:
            self.origin = start
        gap = start - self.origin - self.written
        # Below the smallest real frame, a jump is timestamp rounding or a resampler's delay;
        # beyond _MAX_GAP_SECONDS, a broken timestamp rather than lost audio.
        if not _MIN_GAP_SECONDS * self.samplerate <= gap <= _MAX_GAP_SECONDS * self.samplerate:
            return None
        return self.fill(gap)

    def fill(self, frames: int) -> np.ndarray | None:
        """The silence (channels, ``frames``) of audio lost here; None for none (or after
        the rate or layout changed: see ``trusted``)."""
        if frames <= 0 or not self.trusted:
            return None
        self.gaps += 1
        self.filled += frames
        self.written += frames
        return np.zeros((self.channels, frames), dtype=np.float32)


class _PacketTrail:
    """Where a raw mp3's packets lie in the file, to tell how much audio damage lost.

    FFmpeg stamps each mp3 packet one packet after the one before, whatever bytes it skipped
    to find it: 8 KB of damage lost 18 packets (0.47 s) and the audio after it came early,
    with a 0.03 s gap said. The bytes skipped between two packets that decode, counted in
    packets of the average size so far, say how many were lost (exactly at a constant bit
    rate). Bytes that are a tag (ID3, APE, Lyrics3: mp3s joined with ``cat``) lose nothing.
    """

    _TAGS = (b"ID3", b"TAG", b"APETAGEX", b"LYRICSBEGIN")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.end: int | None = None  # where the last packet that decoded ends, in bytes
        self.bytes = self.packets = 0  # of the packets that decoded

    def lost_before(self, packet) -> int:
        """How many packets were lost before ``packet``, one that decoded."""
        if packet.pos is None or packet.pos < 0:
            return 0
        lost = 0
        if self.end is not None and packet.pos > self.end and not self._tag_at(self.end):
            lost = round((packet.pos - self.end) * self.packets / self.bytes)
        self.end = packet.pos + packet.size
        self.bytes += packet.size
        self.packets += 1
        return lost

    def _tag_at(self, offset: int) -> bool:
        with open(self.path, "rb") as file:
            file.seek(offset)
            return file.read(11).startswith(self._TAGS)


_MIN_GAP_SECONDS = 0.002  # an Opus frame, the shortest there is, lasts 2.5 ms
_MAX_GAP_SECONDS = 30.0

_MAX_PADDING = 4096  # frames: AAC pads its last 1024-frame block, plus the encoder's delay


def _stated_length(container, stream, samplerate: int) -> int | None:
    """The song's length in frames as an mp4/m4a states it (its edit list), or None.

    AAC ends on a whole 1024-frame block: decoded, an m4a is up to a block longer than the
    song, which every stem then was too. Other containers only estimate their duration (ADTS
    .aac from the bit rate), and are not cut.
    """
    if "mp4" not in container.format.name or not stream.duration or stream.time_base is None:
        return None
    return round(stream.duration * stream.time_base * samplerate)


def probe(path: Path) -> dict:
    """Header facts of the first audio stream: duration, samplerate, channels, codec, container."""
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as error:
        raise Failure(CORRUPT) from error
    with container:
        stream = _audio_stream(container)
        context = stream.codec_context
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        samplerate = int(context.sample_rate or 0)
        channels = int(context.layout.nb_channels if context.layout else 0)
        if samplerate <= 0 or channels <= 0:
            raise Failure(CORRUPT)
        return {
            "duration": duration,
            "samplerate": samplerate,
            "channels": channels,
            "codec": context.name,
            "container": container.format.name,
        }


def _audio_stream(container):
    if not container.streams.audio:
        raise Failure(NO_AUDIO)
    stream = container.streams.audio[0]
    if stream.codec_context is None:
        raise Failure(
            "uses an audio codec this app cannot decode; convert it to wav, flac or mp3 first"
        )
    return stream


def _roles(layout) -> tuple[str, ...] | None:
    """Channel names of ``layout`` ("FL", "FC", ...), or None when the file leaves them unsaid."""
    try:
        names = tuple(channel.name for channel in layout.channels)
    except (AttributeError, ValueError):
        return None
    if not names or any(name in ("", "NONE", "UNKNOWN", "UNUSED") for name in names):
        return None  # unspecified order: the default order for the count applies
    return names
