"""Human-entered text: the one rule for every line a person types (names, addresses, reasons, notes).

A line is NFC-normalised, every run of white space (ideographic space, tabs, new lines) becomes one ASCII
space, and it holds no character of Unicode category C — controls, and the invisible format characters
(Cf) that include the bidirectional overrides (U+202A-U+202E, U+2066-U+2069) with which a name can be
made to read backwards on screen — nor the line and paragraph separators U+2028/U+2029.
"""

from __future__ import annotations

import unicodedata


def one_line(value: str, *, limit: int, fold: bool = True) -> str | None:
    """``value`` as one clean line (possibly empty), or None when it is longer than ``limit`` characters or
    holds a control or format character. Callers raise their own error, with their own field name.

    ``fold``: white space runs (a pasted address's tab or line break) become one space. Without it, only
    leading and trailing spaces go and a line break refuses the text: a note that spans lines is two notes.
    """
    if len(value) > 4 * limit:  # bound the work before normalising
        return None
    normal = unicodedata.normalize("NFC", value)
    text = " ".join(normal.split()) if fold else normal.strip(" ")
    if len(text) > limit:
        return None
    # isprintable() is False for every category C character and for U+2028/U+2029 (it is Python's
    # "Other or Separator, except the ASCII space"), so only text that fails it needs the exact test.
    if not text.isprintable() and any(unicodedata.category(c)[0] == "C" or c in "\u2028\u2029" for c in text):
        return None
    return text
