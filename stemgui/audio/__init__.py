"""Audio in and out: decode any song to float32 (channels, frames), write stems atomically.

numpy at the boundary; torch (for resampling) and PyAV are imported only when needed.
"""

from stemgui.audio.atomic import atomic_path, clean_stale_parts
from stemgui.audio.decode import AudioInfo, DecodedAudio, decode, probe
from stemgui.audio.encode import AudioFormat, apply_clip, write_audio
from stemgui.audio.files import SUPPORTED_EXTENSIONS, find_audio_files

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "AudioFormat",
    "AudioInfo",
    "DecodedAudio",
    "apply_clip",
    "atomic_path",
    "clean_stale_parts",
    "decode",
    "find_audio_files",
    "probe",
    "write_audio",
]
