"""Tokens: type a sentence, see the pieces a language model reads."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTextBrowser, QVBoxLayout

from lab.core.labs.tokens import MODEL_MAX_TOKENS, summary, tokenize, vocabulary_size
from lab.ui.appearance import appearance
from lab.ui.labs.common import LabPanel
from lab.ui.theme import OKABE_ITO
from lab.ui.widgets.help import explain


class TokensPanel(LabPanel):
    key = "tokens"
    title = "Tokens: how a language model reads"
    idea = (
        "A language model does not read letters or whole words: a tokenizer cuts text into "
        "tokens from a fixed vocabulary and gives each a number (its id). Common words are one "
        "token; rarer ones are split into pieces (marked ##). The model pays per token, so "
        "long or unusual words cost more."
    )

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.editor = QPlainTextEdit(
            "The raccoon washed its food in the river, unbelievably carefully!"
        )
        self.editor.setMaximumHeight(110)
        self.editor.setToolTip("Type any text")
        self.editor.setAccessibleName("Text to cut into tokens")
        self.view = QTextBrowser()
        self.view.setToolTip("Each box is one token; the small number is its id in the vocabulary")
        self.counts = QLabel()
        self.counts.setObjectName("result")
        self.counts.setWordWrap(True)
        explain(
            self.editor,
            "Text to cut into tokens",
            "Type any text to see how it is cut into tokens.",
        )
        explain(self.view, "Tokens")
        layout = QVBoxLayout(self)
        for w in self.heading():
            layout.addWidget(w)
        layout.addWidget(self.editor)
        layout.addWidget(self.counts)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.notice)
        self.editor.textChanged.connect(self.update_tokens)
        self.update_tokens()
        appearance().changed.connect(self.update_tokens)

    def update_tokens(self) -> None:
        text = self.editor.toPlainText()
        try:
            tokens = tokenize(text)
        except Exception as exc:  # the tokenizer files missing or damaged
            self.notice.show_message(f"The tokenizer could not be loaded: {exc}", "error")
            return
        self.tokens = tokens
        chips = []
        for t in tokens:
            if t.special:
                color, note = "#DDDDDD", "marker"
            elif t.is_piece:
                color, note = OKABE_ITO[1], "piece"
            else:
                color, note = OKABE_ITO[5], "word"
            chips.append(
                f'<span style="background:{color}; color:#000000; padding:2px;" title="{note}">'
                f"&nbsp;{html.escape(t.text)}&nbsp;<sub>{t.id}</sub></span>&nbsp; "
            )
        size = appearance().pt(16)  # follows presentation mode
        self.view.setHtml(
            f'<p style="font-size:{size:.1f}pt; line-height:190%;">{"".join(chips)}</p>'
        )
        s = summary(tokens)
        extra = (
            f" This model reads only the first {MODEL_MAX_TOKENS}; the rest would be cut off."
            if s["tokens"] > MODEL_MAX_TOKENS
            else ""
        )
        self.counts.setText(
            f"<b>{s['tokens']}</b> tokens: {s['text_tokens']} for the text ({s['split_pieces']} of "
            f"them pieces of longer words) and {s['special']} start/end markers. "
            f"{len(text.split())} words. The vocabulary has {vocabulary_size():,} tokens.{extra}"
        )
