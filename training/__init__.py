"""Training of the network that stemgui ships: data, augmentation, fitting, evaluation, export.

A client of the engine: it imports ``stemgui.separation`` and ``stemgui.audio``; nothing in
``stemgui`` imports it. Run it as ``python -m training <command>``.
"""
