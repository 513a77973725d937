"""The desktop window: the only package that imports PySide6. It drives the engine, owns no DSP.

- ``app``: ``main()`` for ``python -m stemgui`` (QApplication, logging, command-line songs).
- ``window``: the main window, assembling the parts below.
- ``queue``, ``queue_view``, ``controller``, ``worker``: the song queue, one song at a time on a
  QThread worker that talks to widgets only through signals.
- ``stemview``, ``waveview``, ``time_ruler``, ``timeline``: a row per stem (solo, mute, gain,
  waveform), the ruler of seconds, and the playhead, loop region, zoom and beats they share.
- ``player``, ``transport_bar``: transport commands and the position poll; the transport bar.
- ``output_menu``: Playback ▸ Output device, the sound device chosen and kept by name.
- ``export_dialog``, ``exporting``: what to export, and writing it on a thread.
- ``settings``, ``separation_menus``, ``models``, ``get_models``: settings declared once, the
  Model/Device/Quality menus, loading models on the worker, downloading official ones.
- ``banner``: errors in plain words above the stems.

torch is never imported at module level here: the window appears before the engine loads.
"""
