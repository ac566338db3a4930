"""The Settings menu: the speed and provenance choices, each a checkable action saved at once."""

from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QAction

from desktop.core.metadata.provenance import unavailable_reason as c2pa_unavailable

# (settings field, label, what it does); the chat's auto-approve lives in the chat dock's own settings
CHOICES = (
    ("fast_decode", "Fast Decode with TAESD",
     "Decode the final image with TAESD (about 14x faster than the full VAE on a CPU, slightly softer). "
     "Needs a TAESD folder in models/taesd/."),
    ("cpu_channels_last", "Channels-Last Convolutions on CPU (after restart)",
     "About 22% faster UNet steps on a CPU, at the cost of a slower load and more memory while loading."),
    ("write_c2pa", "Sign Images with C2PA",
     "Add a C2PA manifest, signed with a key made on this machine, to every saved and exported image."),
)
# field -> () -> why the choice cannot work on this machine (a sentence with the fix), or None
UNAVAILABLE: dict[str, Callable[[], str | None]] = {"write_c2pa": lambda: c2pa_unavailable()}


def install_settings_menu(window, settings, save: Callable[[], None], changed: Callable[[str], None]) -> dict:
    """Add the menu; `save` writes the settings, `changed(field)` lets features react. Returns the actions."""
    menu = window.add_menu("&Settings")
    actions: dict[str, QAction] = {}
    for field, label, tip in CHOICES:
        action = QAction(label, window, checkable=True)
        action.setChecked(bool(getattr(settings, field)))
        action.setToolTip(tip)
        action.setStatusTip(tip)
        reason = UNAVAILABLE[field]() if field in UNAVAILABLE else None
        if reason:  # shown where the choice is, not only in a terminal: greyed out, the reason as its tip
            action.setChecked(False)
            action.setEnabled(False)
            action.setText(f"{label} (not installed)")
            action.setToolTip(reason)
            action.setStatusTip(reason)

        def on_toggled(checked: bool, field=field) -> None:
            setattr(settings, field, checked)
            save()
            changed(field)

        action.toggled.connect(on_toggled)
        menu.addAction(action)
        actions[field] = action
    menu.setToolTipsVisible(True)
    return actions
