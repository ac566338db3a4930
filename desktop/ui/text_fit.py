"""Text that wraps to the width a narrow panel has, instead of widening the panel.

Qt wraps label text only between words: one long path or URL makes a label as wide as itself, and a
dock holding it grows while the canvas shrinks. Zero-width spaces after path separators and inside
long runs let it wrap, and labels are told not to ask for their text's width.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

ZERO_WIDTH_SPACE = "\u200b"
LONG_RUN = 24  # characters without a break before one is offered
_RUN = re.compile(r"\S{%d,}" % LONG_RUN)


def breakable(text: str) -> str:
    """`text` with invisible break chances in runs of LONG_RUN or more characters (paths, URLs, hashes)."""

    def offer(match: re.Match) -> str:
        run = re.sub(r"([/\\_\-.,:;=&?])", r"\1" + ZERO_WIDTH_SPACE, match.group(0))
        pieces = [run[i:i + LONG_RUN] for i in range(0, len(run), LONG_RUN)]
        return ZERO_WIDTH_SPACE.join(pieces)

    return _RUN.sub(offer, text)


def fit_to_width(label: QLabel) -> QLabel:
    """A word-wrapped label that takes the width it is given (its text never sets the panel's width)."""
    label.setWordWrap(True)
    policy = label.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    label.setSizePolicy(policy)
    return label


class ElidedLabel(QLabel):
    """One line of plain text that ends in "…" when it does not fit (the full text is its tooltip)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setMinimumWidth(1)  # never a reason for its panel to grow
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), shown)
