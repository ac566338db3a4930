"""The gallery inside the real window: new images appear, Reuse settings, Reproduce matches pixels."""


import pytest



@pytest.fixture
def atelier(start_atelier, tiny_sd15):
    return start_atelier({"tiny-sd15": tiny_sd15}, show=False, steps=2, seed=9)

def test_generated_image_lands_in_the_gallery_and_reproduces_exactly(qtbot, atelier):
    panel, dock = atelier.window.prompt_panel, atelier.gallery.dock
    qtbot.keyClicks(panel.prompt, "a paper boat")
    with qtbot.waitSignal(atelier.controller.image_ready, timeout=60000) as blocker:
        panel.generate_button.click()
    path = blocker.args[0].path
    qtbot.waitUntil(lambda: dock.select_path(path), timeout=10000)
    atelier.prompt.update(prompt="something else", steps=7)
    dock.buttons["reuse"].click()
    assert panel.prompt.toPlainText() == "a paper boat" and panel.steps.value() == 2
    shown = []
    original = dock.show_reproduction
    dock.show_reproduction = lambda match: (shown.append(match), original(match))
    qtbot.waitUntil(lambda: atelier.controller.idle, timeout=10000)
    saved = sorted(atelier.outputs_dir().rglob("*.png"))
    dock.buttons["reproduce"].click()
    qtbot.waitUntil(lambda: bool(shown), timeout=60000)
    assert shown[0].identical
    # the check is compared, not saved: no second copy in the outputs folder or the gallery
    assert sorted(atelier.outputs_dir().rglob("*.png")) == saved
    assert dock.model.rowCount() == 1 and dock.count_label.text() == "1 image"


def test_open_and_add_as_layer_reach_the_canvas(qtbot, atelier):
    panel, dock = atelier.window.prompt_panel, atelier.gallery.dock
    with qtbot.waitSignal(atelier.controller.image_ready, timeout=60000) as blocker:
        panel.generate_button.click()
    qtbot.waitUntil(lambda: atelier.controller.idle, timeout=10000)
    path = blocker.args[0].path
    documents = atelier.workspace.documents
    dock.open_on_canvas.emit(path)
    assert documents.document is not None and len(documents.document.layers) == 1
    dock.add_as_layer.emit(path)
    assert len(documents.document.layers) == 2
