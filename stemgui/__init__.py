"""stemgui: split songs into stems with our own Demucs networks, play them in sync, export them."""

__version__ = "0.1.0"
