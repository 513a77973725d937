"""Real-time playback: the transport (play, pause, seek, loop) and the audio outputs.

Pure numpy and sounddevice (imported only when a device is opened): no torch, no Qt.
"""
