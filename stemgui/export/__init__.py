"""Export room: what to write (``ExportRequest``), how it is named (templates), what each file
holds (``sources``), atomic writes."""

from stemgui.export.exporter import ExportRequest, export
from stemgui.export.naming import DEFAULT_TEMPLATE, TEMPLATE_KEYS, render, safe_name
from stemgui.export.planning import plan, stem_names

__all__ = [
    "DEFAULT_TEMPLATE",
    "TEMPLATE_KEYS",
    "ExportRequest",
    "export",
    "plan",
    "render",
    "safe_name",
    "stem_names",
]
