"""The separation engine: networks, checkpoints, chunked inference, the model store."""

# Chunk lengths in seconds a separation may ask for (the Separator, the CLI, training, a restored
# session). Shorter than 0.1 s runs for hours to days (a chunk of a few samples, 8000 forwards a
# second of song) for nothing of use; longer than 60 s pads a song to it (1e9 s asked 160 TiB).
# Here, not in ``chunking``: training's options read them before numpy may load.
MIN_SEGMENT, MAX_SEGMENT = 0.1, 60.0
# Random shifts a separation may average (the app's Best preset: 2), each a full pass over the
# song: 1e9 drew a billion delays (gigabytes) before the first chunk, then ran for ever.
MAX_SHIFTS = 20
# Overlap between chunks, a fraction of one: more runs for hours to days (0.99999 steps one
# sample at a time: 530,000 chunks for 12 s) for nothing of use.
MAX_OVERLAP = 0.9
# Sample rates a model may run at (training's data.samplerate; a model file's, checked on load):
# every song is resampled to the model's rate before it is separated.
MIN_SAMPLERATE, MAX_SAMPLERATE = 8000, 384_000
