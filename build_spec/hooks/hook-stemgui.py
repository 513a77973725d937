"""PyInstaller hook of stemgui: every module of the package, since networks are imported by name.

``stemgui.separation.registry`` imports ``stemgui.separation.nets.<module>`` with ``importlib``
when a checkpoint names its architecture, which the import analysis cannot see.
"""

from PyInstaller.utils.hooks import collect_submodules

hiddenimports = collect_submodules("stemgui")
