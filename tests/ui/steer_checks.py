"""Acceptance checks for Layer > Steer: each command done as a person does it (the menu opened, its item
chosen, the steering dialog filled in and OK pressed) and what they then see: the layer's tooltip in the
Layers panel naming its role, a new layer listed, the status bar.

No ControlNet or adapter is installed here: the dialog accepts a role without a model (the job refuses it
later with the reason), which keeps these checks fast; tests/ui/test_steering.py generates with real ones.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.core.steering import ControlSpec, ReferenceSpec, RegionSpec
from tests.ui.user_actions import Person, answer_file_dialog, send_keys


def _choose(p: Person) -> None:
    """Open Layer > Steer (its items are enabled for what is selected now) and choose the command."""
    p.app.workspace.layers.steer_menu.aboutToShow.emit()
    assert p.action.isEnabled(), f"{p.command} is greyed out"
    p.run()


def _ok(p: Person, fill=lambda dialog: None):
    dialog = p.app.steering.dialog
    assert dialog is not None and dialog.isVisible(), "the steering dialog did not open"
    fill(dialog)
    QTest.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert not dialog.isVisible(), dialog.note.text()
    return dialog


def _tooltip(p: Person) -> str:
    return p.layers.list.currentItem().toolTip()


def _region_prompt(text: str):
    def fill(dialog) -> None:
        QTest.keyClicks(dialog.prompt, text)

    return fill


def _marked(p: Person, kind: str):
    """A picture with one painted-over layer, already marked with a role (the state the later commands need)."""
    p.open_picture()
    p.layers.add_layer()
    p.app.steering.actions[kind].trigger()
    _ok(p, _region_prompt("a cat") if kind == "region" else (lambda dialog: None))
    return p.document.active_layer


def steer_menu(p: Person) -> None:
    """Layer > Steer lists the roles; with no picture open only what needs none is offered (nothing)."""
    menu = p.action.menu()
    menu.aboutToShow.emit()
    texts = [action.text().replace("&", "") for action in menu.actions() if not action.isSeparator()]
    assert "Use as Control Layer…" in texts and "Make Picture Layer Again" in texts
    assert not any(action.isEnabled() for action in menu.actions() if not action.isSeparator())
    p.open_picture()
    menu.aboutToShow.emit()
    assert p.app.steering.actions["control"].isEnabled() and not p.app.steering.actions["clear"].isEnabled()


def use_as_control(p: Person) -> None:
    p.open_picture()
    p.layers.add_layer()
    layer = p.document.active_layer
    _choose(p)
    _ok(p)
    assert isinstance(layer.steering, ControlSpec) and "Control:" in _tooltip(p)
    assert p.status().startswith("Control:")


def canvas_as_control(p: Person) -> None:
    p.open_picture()
    _choose(p)
    _ok(p)
    assert p.layer_names()[0] == "Control: visible canvas"
    assert p.document.active_layer.steering.source == "canvas" and "Control:" in _tooltip(p)


def use_as_region(p: Person) -> None:
    p.open_picture()
    p.layers.add_layer()
    _choose(p)
    _ok(p, _region_prompt("a sleeping cat"))
    assert p.document.active_layer.steering == RegionSpec("a sleeping cat")
    assert "Region: a sleeping cat" in _tooltip(p)


def region_from_selection(p: Person) -> None:
    p.open_picture()
    send_keys(p.window, "Ctrl+A")  # Edit > Select All: the region is where the selection is
    _choose(p)
    _ok(p, _region_prompt("a red ball"))
    assert p.layer_names()[0] == "Region" and "Region: a red ball" in _tooltip(p)
    assert p.document.active_layer.pixels[..., 3].all()  # the whole selection is the region


def use_as_reference(p: Person) -> None:
    p.open_picture()
    _choose(p)
    _ok(p)
    assert isinstance(p.document.active_layer.steering, ReferenceSpec) and "Reference" in _tooltip(p)


def reference_from_file(p: Person) -> None:
    p.open_picture()
    style = p.open_picture(24, 24, name="style")  # a picture file on disk, chosen in the real file dialog
    p.documents.open_path(p.folder / "picture.png")
    answer = answer_file_dialog(style)
    _choose(p)
    answer.check()
    _ok(p)
    assert p.layer_names()[0] == "style" and "Reference" in _tooltip(p)


def steering_settings(p: Person) -> None:
    layer = _marked(p, "control")
    _choose(p)
    _ok(p, lambda dialog: dialog.weight.setValue(0.4))
    assert layer.steering.weight == 0.4 and "weight 0.4" in _tooltip(p)


def switch_steering(p: Person) -> None:
    layer = _marked(p, "control")
    _choose(p)
    assert not layer.steering.enabled and _tooltip(p).endswith(", off")
    assert p.document.history.undo_label == "Control layer off"
    _choose(p)
    assert layer.steering.enabled


def make_picture_again(p: Person) -> None:
    layer = _marked(p, "region")
    _choose(p)
    assert layer.steering is None and "Region" not in _tooltip(p)
