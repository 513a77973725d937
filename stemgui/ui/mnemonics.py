"""Keyboard mnemonics (Alt+letter, the letter underlined) for menu items named at run time:
model names, devices, output devices, quality presets, themes. Each menu's letters are its own;
our fixed items carry theirs in their text ("&Get models…")."""

from __future__ import annotations


def with_mnemonic(label: str, taken: set[str]) -> str:
    """``label`` as a menu item's text: any ``&`` in it doubled (shown, not a mnemonic), and a
    ``&`` before its first letter or digit not in ``taken`` that starts a word, else any other;
    that letter (in lower case) joins ``taken``. With none free, no mnemonic."""
    letters = [i for i, c in enumerate(label) if c.isalnum()]
    starts = [i for i in letters if i == 0 or not label[i - 1].isalnum()]
    for i in starts + letters:
        if label[i].lower() not in taken:
            taken.add(label[i].lower())
            return label[:i].replace("&", "&&") + "&" + label[i:].replace("&", "&&")
    return label.replace("&", "&&")
