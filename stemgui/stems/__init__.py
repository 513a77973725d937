"""Stems of a separated song (``StemSet``), the mixer maths and the waveform peak envelopes.

Pure numpy: no torch, no Qt.
"""
