"""Every menu command and every shortcut listed in Help, done as a person does it, with what they see.

HOW TO ADD A ROW. Added a menu command (or a key to Help > Keyboard Shortcuts)? Then
`test_every_menu_command_has_a_row` (or `..._help_shortcut_...`) fails and names it. Add a row:

    COMMANDS["Image > Upscale…"] = Row(canvas_checks.upscale)         # the menu path as the menu shows it
    GESTURES["Alt+drag"] = Row(canvas_checks.alt_drag)                # a Help entry that is not a menu item

and write the check next to its neighbours (command_checks.py or canvas_checks.py): it gets a
Person with a freshly started Atelier, sets up what the user would have, calls `p.run()` (the
command's key with the canvas focused, else its menu item), fills in any real dialog with
`answer_dialog`/`answer_file_dialog` armed before `p.run()`, and asserts what the user sees change.
`Row(check, needs=("tiny_sd15",))` starts the app with that model installed, or hands the check
another fixture it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from tests.ui import canvas_checks as canvas
from tests.ui import command_checks as commands
from tests.ui import steer_checks as steer
from tests.ui.user_actions import Person, clean, menu_actions

MODELS = ("tiny_sd15",)  # fixtures that are models: the app starts with them installed


@dataclass(frozen=True)
class Row:
    check: Callable[..., None]
    needs: tuple[str, ...] = ()  # fixture names: models are installed, anything else is passed to the check


COMMANDS: dict[str, Row] = {
    "File > New…": Row(commands.new_canvas),
    "File > Open…": Row(commands.open_file),
    "File > Open Recent": Row(commands.open_recent),
    "File > Save": Row(commands.save),
    "File > Save As…": Row(commands.save_as),
    "File > Export Image…": Row(commands.export_image),
    "File > Models…": Row(commands.models_window),
    "File > Open Outputs Folder": Row(commands.open_outputs_folder),
    "File > Open Models Folder": Row(commands.open_models_folder),
    "File > Rescan Models": Row(commands.rescan_models, needs=("tiny_sd15_folder",)),
    "File > Quit": Row(commands.quit_app),
    "Edit > Undo": Row(commands.undo),
    "Edit > Redo": Row(commands.redo),
    "Edit > Paste Image": Row(commands.paste_image),
    "Edit > Select All": Row(commands.select_all),
    "Edit > Deselect": Row(commands.deselect),
    "Edit > Quick Mask": Row(commands.quick_mask),
    "Edit > Invert Mask": Row(commands.invert_mask),
    "Edit > Clear Mask": Row(commands.clear_mask),
    "View > Fit to Window": Row(commands.fit_to_window),
    "View > Actual Size": Row(commands.actual_size),
    "View > Panels": Row(commands.panels_menu),
    "View > Panels > Prompt": Row(commands.toggles_panel("Prompt")),
    "View > Panels > Layers": Row(commands.toggles_panel("Layers")),
    "View > Panels > History": Row(commands.toggles_panel("History")),
    "View > Panels > Gallery": Row(commands.toggles_panel("Gallery")),
    "View > Panels > Chat": Row(commands.toggles_panel("Chat")),
    "View > Panels > Tools": Row(commands.toggles_panel("Tools")),
    "View > Panels > Tool options": Row(commands.toggles_panel("Tool options")),
    "View > Show Mask": Row(commands.show_mask),
    "View > Focus Chat Input": Row(commands.focus_chat_input),
    "View > Theme": Row(commands.theme_menu),
    "View > Theme > Follow the System": Row(commands.theme("system")),
    "View > Theme > Dark": Row(commands.theme("dark")),
    "View > Theme > Light": Row(commands.theme("light")),
    "Image > Expand Canvas on All Sides": Row(canvas.expand_all_sides),
    "Image > Crop Canvas to Selection": Row(canvas.crop_to_selection),
    "Image > Upscale…": Row(canvas.upscale, needs=("home_upscalers",)),
    "Image > Finish with Full VAE": Row(canvas.finish_with_full_vae, needs=("tiny_sd15", "tiny_taesd")),
    "Layer > New Layer": Row(canvas.new_layer),
    "Layer > Duplicate Layer": Row(canvas.duplicate_layer),
    "Layer > Delete Layer": Row(canvas.delete_layer),
    "Layer > Rename Layer": Row(canvas.rename_layer),
    "Layer > Show/Hide Layer": Row(canvas.show_hide_layer),
    "Layer > Raise Layer": Row(canvas.raise_layer),
    "Layer > Lower Layer": Row(canvas.lower_layer),
    "Layer > Merge Down": Row(canvas.merge_down),
    "Layer > Steer": Row(steer.steer_menu),
    "Layer > Steer > Use as Control Layer…": Row(steer.use_as_control),
    "Layer > Steer > Use Visible Canvas as Control…": Row(steer.canvas_as_control),
    "Layer > Steer > Use as Region (own prompt)…": Row(steer.use_as_region),
    "Layer > Steer > New Region from Selection or Mask…": Row(steer.region_from_selection),
    "Layer > Steer > Use as Reference Image…": Row(steer.use_as_reference),
    "Layer > Steer > Add Reference Image from File…": Row(steer.reference_from_file),
    "Layer > Steer > Steering Settings…": Row(steer.steering_settings),
    "Layer > Steer > Switch Steering On/Off": Row(steer.switch_steering),
    "Layer > Steer > Make Picture Layer Again": Row(steer.make_picture_again),
    "Tools > Brush": Row(canvas.brush),
    "Tools > Eraser": Row(canvas.eraser),
    "Tools > Rectangle select": Row(canvas.rectangle_select),
    "Tools > Move layer": Row(canvas.move_layer),
    "Tools > Pan": Row(canvas.pan_tool),
    "Tools > Bigger Brush": Row(canvas.bigger_brush),
    "Tools > Smaller Brush": Row(canvas.smaller_brush),
    "Tools > Harder Brush": Row(canvas.harder_brush),
    "Tools > Softer Brush": Row(canvas.softer_brush),
    "Settings > Fast Decode with TAESD": Row(commands.setting("fast_decode")),
    "Settings > Channels-Last Convolutions on CPU (after restart)": Row(commands.setting("cpu_channels_last")),
    "Settings > Sign Images with C2PA": Row(commands.setting("write_c2pa")),
    "Settings > Image Engine…": Row(commands.image_engine),
    "Settings > Model Folders…": Row(commands.model_folders),
    "Settings > Chat Engine…": Row(commands.chat_engine),
    "Help > Keyboard Shortcuts": Row(commands.keyboard_shortcuts),
    "Help > About Atelier": Row(commands.about),
}

# Help > Keyboard Shortcuts entries that are not menu commands (a menu command's key is tested by its row)
GESTURES: dict[str, Row] = {
    "Ctrl+Enter": Row(canvas.generate, needs=MODELS),
    "Esc": Row(canvas.cancel_generation, needs=MODELS),
    "Wheel": Row(canvas.wheel_zoom),
    "Space+drag / middle button": Row(canvas.middle_button_pan),
    "Right-drag (brush)": Row(canvas.right_drag_erases),
    "Shift+drag (select)": Row(canvas.shift_drag_square),
    "Drag just outside an edge": Row(canvas.drag_outside_an_edge),
    "Esc while dragging": Row(canvas.escape_while_dragging),
}


@pytest.fixture
def tiny_sd15_folder(tiny_sd15):
    """The tiny model's folder, for a check that installs it itself (not installed at start)."""
    return tiny_sd15


def _person(request, start_atelier, tmp_path, row: Row, name: str, action=None) -> tuple[Person, list]:
    models = {name.replace("_", "-"): request.getfixturevalue(name) for name in row.needs if name in MODELS}
    extras = [request.getfixturevalue(name) for name in row.needs if name not in MODELS]
    app = start_atelier(models, steps=2)
    if action is None and name in COMMANDS:
        action = menu_actions(app.window)[name]
    return Person(app, request.getfixturevalue("qtbot"), tmp_path, name, action), extras


# ---------------------------------------------------------------------- the table is complete
def test_every_menu_command_has_a_row(start_atelier):
    app = start_atelier({})
    found = set(menu_actions(app.window))
    missing, stale = sorted(found - set(COMMANDS)), sorted(set(COMMANDS) - found)
    assert not missing, (f"menu commands without an acceptance test: {missing}. Add a row to COMMANDS in "
                         f"tests/ui/test_commands.py (see its docstring)")
    assert not stale, f"rows for menu commands that no longer exist: {stale}: remove them"


def test_every_help_shortcut_has_a_test_and_every_key_is_in_help(start_atelier):
    app = start_atelier({})
    actions = menu_actions(app.window)
    keyed = {action.shortcut().toString(): name for name, action in actions.items() if not action.shortcut().isEmpty()}
    listed = {keys for keys, _what in app.window.shortcuts}
    untested = sorted(keys for keys in listed if keys not in keyed and keys not in GESTURES)
    assert not untested, (f"Help lists {untested} but no row tests them: add rows to GESTURES in "
                          f"tests/ui/test_commands.py")
    unlisted = sorted(f"{name} ({keys})" for keys, name in keyed.items() if keys not in listed)
    assert not unlisted, f"menu commands whose key Help does not list: {unlisted}"
    assert not set(GESTURES) - listed, f"GESTURES rows for keys Help no longer lists: {set(GESTURES) - listed}"


# ---------------------------------------------------------------------- one test per row
@pytest.mark.parametrize("name", list(COMMANDS))
def test_menu_command(name, request, start_atelier, tmp_path):
    row = COMMANDS[name]
    person, extras = _person(request, start_atelier, tmp_path, row, name)
    row.check(person, *extras)


@pytest.mark.parametrize("keys", list(GESTURES))
def test_help_shortcut(keys, request, start_atelier, tmp_path):
    row = GESTURES[keys]
    person, extras = _person(request, start_atelier, tmp_path, row, keys)
    row.check(person, *extras)


__all__ = ["COMMANDS", "GESTURES", "Row", "clean"]
