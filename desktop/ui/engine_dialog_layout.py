"""The layout both engine dialogs share (Settings > Image Engine and Chat Engine): this computer or a
server; the server's address, its secret (token or key) with a note, Connect beside the list it fills,
a status line, and Save / Cancel. Each dialog makes its own fields and questions; this places them.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout,
                               QWidget)

NOTHING_SENT = "Nothing is sent anywhere until you press Connect or Save with a server chosen."


def lay_out_engine_dialog(dialog: QDialog, secret_label: str, secret: QLineEdit, secret_note: QLabel,
                          listed: QComboBox, status_name: str, server_chosen: bool) -> None:
    """Give `dialog` (with .local/.server radio buttons, .url, .connect_button, .save and ._check(quiet))
    its status line, server fields and buttons; the address and secret are checked as they are typed."""
    dialog.status = QLabel(NOTHING_SENT, dialog)
    dialog.status.setObjectName(status_name)
    dialog.status.setWordWrap(True)
    form = QFormLayout()
    form.addRow("Address", dialog.url)
    form.addRow(secret_label, secret)
    form.addRow("", secret_note)
    form.addRow(dialog.connect_button, listed)
    dialog.server_fields = QWidget(dialog)
    dialog.server_fields.setLayout(form)
    dialog.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                      dialog)
    dialog.buttons.accepted.connect(dialog.save)
    dialog.buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    for widget in (dialog.local, dialog.server, dialog.server_fields, dialog.status, dialog.buttons):
        layout.addWidget(widget)
    dialog.server.toggled.connect(dialog.server_fields.setEnabled)
    (dialog.server if server_chosen else dialog.local).setChecked(True)
    dialog.server_fields.setEnabled(server_chosen)
    dialog.url.textEdited.connect(lambda _text: dialog._check(quiet=True))
    secret.textEdited.connect(lambda _text: dialog._check(quiet=True))


def say_problem(status: QLabel, error: Exception) -> None:
    """A check's complaint as a status sentence: capitalised, with a full stop."""
    text = str(error)
    status.setText(f"⚠ {text[0].upper()}{text[1:]}.")
