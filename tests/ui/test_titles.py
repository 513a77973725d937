"""Long song names: the header leaves out the extension and gives up the model before the name;
a queue row keeps what tells it from the other rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QRect
from PySide6.QtGui import QFont, QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import QApplication, QLabel, QStyleOptionViewItem

from stemgui.ui.elided import ElidedLabel
from stemgui.ui.queue import Job, JobState


def test_the_header_gives_up_the_model_before_the_title_and_shows_no_extension(qtbot, window):
    name = "DJ Long Artist feat. Another - A Long Song Title (Extended Club Remix) [Radio Edit]"
    label = window.song_title
    job = Job(Path(f"/music/{name}.wav"), state=JobState.DONE, model_name="stemgui-htdemucs-small")
    window.screen.show_title(job)
    assert label.text() == f"{name} — stemgui-htdemucs-small"  # the whole, in the tooltip
    metrics = label.fontMetrics()
    label.resize(metrics.horizontalAdvance(name) + 10, 30)  # the title fits, not the model
    shown = QLabel.text(label)
    assert name in shown and "…" not in shown and "htdemucs" not in shown
    assert ".wav" not in shown and "htdemucs" in label.toolTip()
    label.resize(metrics.horizontalAdvance(name) // 2, 30)
    assert "…" in QLabel.text(label) and "htdemucs" not in QLabel.text(label)


def test_an_aside_goes_first_then_the_text_is_cut_with_the_tail_whole(qtbot):
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.show()
    head, aside, tail = "A fairly long song name", " — some-model", "  (separating 40 %)"
    label.setText(head, tail, aside=aside)
    metrics = label.fontMetrics()
    label.resize(metrics.horizontalAdvance(head + aside + tail) + 10, 30)
    assert QLabel.text(label).endswith(f"{head}\u2069{aside}{tail}")
    label.resize(metrics.horizontalAdvance(head + tail) + 4, 30)
    assert QLabel.text(label).endswith(f"{head}\u2069{tail}")
    label.resize(metrics.horizontalAdvance(head[:10] + tail), 30)
    shown = QLabel.text(label)
    assert "…" in shown and shown.endswith(f"\u2069{tail}") and aside not in shown
    assert label.text() == head + aside + tail


def _metrics() -> QFontMetrics:
    return QFontMetrics(QFont())


def _fits(metrics: QFontMetrics, text: str, width: int) -> bool:
    return metrics.horizontalAdvance(text) <= width


def test_queue_rows_keep_what_tells_siblings_apart(qtbot):
    from stemgui.ui.queue_view import elide_title

    metrics = _metrics()
    base = "DJ Extremely Long Artist Name feat. Another Artist - A Very Long Song Title"
    extended, radio = f"{base} (Extended Mix).wav", f"{base} (Radio Edit).wav"
    width = metrics.horizontalAdvance(base) // 2
    one = elide_title(extended, [extended, radio], metrics, width)
    other = elide_title(radio, [extended, radio], metrics, width)
    # in the middle, as Qt cuts, both read "DJ Extremely Lo…ong Song Title (…"
    assert one.startswith("DJ") and other.startswith("DJ")  # the artist stays in view
    assert one.endswith("(Extended Mix)") and other.endswith("(Radio Edit)")
    assert _fits(metrics, one, width) and _fits(metrics, other, width)

    # an album: the shared start gives way to the song's own title
    tracks = [f"{base} - Track {n:02d} - Title number {n}.flac" for n in (1, 2)]
    first = elide_title(tracks[0], tracks, metrics, width)
    assert "01 - Title" in first and first.startswith("DJ") and _fits(metrics, first, width)


def test_a_long_name_alone_keeps_its_start_without_its_extension(qtbot):
    from stemgui.ui.queue_view import elide_title

    metrics = _metrics()
    name = (
        "DJ Extremely Long Artist Name feat. Another Artist & The Orchestra - A Very Long "
        "Song Title (Extended Club Remix 2024 Remastered) [Radio Edit].wav"
    )
    width = 240
    shown = elide_title(name, [name, "demo.mp3", "broken.mp3"], metrics, width)
    # it was "DJ Extremely Long A…d) [Radio Edit].wav": the artist cut off after a word
    assert shown.endswith("…") and ".wav" not in shown and _fits(metrics, shown, width)
    assert shown.startswith("DJ Extremely Long Artist")
    assert elide_title("demo.mp3", [name, "demo.mp3"], metrics, width) == "demo.mp3"  # fits
    # the same song in two formats: the extension is what tells them apart
    pair = [f"{name[:-4]}.wav", f"{name[:-4]}.flac"]
    assert elide_title(pair[1], pair, metrics, width).endswith(".flac")


def test_a_name_that_looks_like_html_is_shown_as_it_is_named(qtbot, window, tmp_path):
    """ "<b>Live<i>.wav": the header said "Live" in bold and italics, the banner and the export
    dialog's problem took a song's name or a template typed for HTML too."""
    from PySide6.QtGui import QAccessible

    from stemgui.ui.export_dialog import ExportDialog

    def read(label: QLabel) -> str:  # what is drawn, as a screen reader is told it
        return QAccessible.queryAccessibleInterface(label).text(QAccessible.Text.Name)

    job = Job(tmp_path / "<b>Live<i>.wav", state=JobState.DONE, model_name="m")
    window.screen.show_title(job)
    assert read(window.song_title) == "\u200e\u2068<b>Live<i>\u2069 — m"
    window.show_error(f"{job.path}: is not an audio file")
    window.banner.label.setAccessibleName("")  # its text, not its name
    assert read(window.banner.label) == f"{job.path}: is not an audio file"
    dialog = ExportDialog(["drums"], window.settings, tmp_path)
    qtbot.addWidget(dialog)
    dialog.template.setText("<b>{stem}.{ext}<i>")
    assert read(dialog.problem).startswith("File name template '<b>{stem}.{ext}<i>' has no")


def test_a_name_with_a_line_break_is_shown_on_one_line(qtbot):
    """A file name may hold a line break (Linux and macOS allow one): the queue row drew its
    first line alone, in a line's height, so "Intro\nTake 1.wav" and "Intro\nTake 2.wav" read
    alike, and the header took two lines, pushing the stems down. Breaks, tabs and the other
    control characters are shown as spaces."""
    from stemgui.ui.queue_view import elide_title

    metrics = _metrics()
    names = ["Intro\nTake 1.wav", "Intro\r\nTake 2.wav"]
    assert elide_title(names[0], names, metrics, 1000) == "Intro Take 1.wav"
    assert elide_title(names[1], names, metrics, 1000) == "Intro  Take 2.wav"
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.show()
    label.resize(1000, 30)
    label.setText("Intro\tTake\n1", "  (separating 40 %)")
    shown = QLabel.text(label)
    assert "\n" not in shown and "\t" not in shown and "Intro Take 1" in shown
    assert label.sizeHint().height() == label.fontMetrics().height()  # was two lines' height


class _Recording(QPainter):
    """A painter that keeps the texts drawn with it."""

    def __init__(self, image: QImage) -> None:
        super().__init__(image)
        self.texts: list[str] = []

    def drawText(self, *args) -> None:
        self.texts.append(args[-1])
        super().drawText(*args)


def test_queue_rows_of_two_models_alike_but_at_their_end_tell_them_apart(qtbot):
    """The second line was cut at its end: both read "done (stemgui-htdemucs-sm…"."""
    from stemgui.stems.stemset import StemSet
    from stemgui.ui.queue import QueueModel
    from stemgui.ui.queue_view import QueueDelegate

    stems = StemSet(("drums", "bass", "other", "vocals"), 8000, np.zeros((4, 2, 8), np.float32))
    models = ["stemgui-htdemucs-small-119eec4f", "stemgui-htdemucs-small-2a0b91c3"]
    queue = QueueModel()
    queue.append(
        [Job(Path("song.wav"), state=JobState.DONE, stemset=stems, model_name=m) for m in models]
    )
    option = QStyleOptionViewItem()
    option.font, option.palette = QFont(), QApplication.palette()
    width = option.fontMetrics.horizontalAdvance("done (stemgui-htdemucs-sm")
    option.rect = QRect(0, 0, width + 12, 48)  # the delegate's padding: 6 px each side
    lines = []
    for row in range(2):
        image = QImage(option.rect.size(), QImage.Format.Format_RGB32)
        painter = _Recording(image)
        QueueDelegate().paint(painter, option, queue.index(row))
        painter.end()
        lines.append(painter.texts[-1])  # the title, then the state
    metrics = QFontMetrics(option.font)
    assert lines[0] != lines[1]
    for line, model in zip(lines, models, strict=True):
        assert line.startswith("done (st") and line.endswith(f"{model[-2:]})") and "…" in line
        assert metrics.horizontalAdvance(line) <= width
