"""The upscale edit: the canvas grows, the result is one new layer, Undo puts everything back."""

import numpy as np
import pytest

from desktop.core.document import Document, EditError, Layer
from desktop.core.edits import AddLayer
from desktop.core.geometry import Rect
from desktop.core.upscale_edit import UpscaleLayer, check_upscale, upscale_source, with_alpha


def test_upscale_layer_grows_the_canvas_and_undo_restores_it():
    document = Document.blank(40, 30)
    document.set_selection(Rect(4, 6, 10, 8))
    pixels, x, y = upscale_source(document, "selection")
    assert pixels.shape == (8, 10, 4) and (x, y) == (4, 6)
    document.history.do(UpscaleLayer(np.zeros((16, 20, 3), np.uint8), "big", x, y, 2))
    assert (document.width, document.height) == (80, 60)
    top = document.layers[-1]
    assert (top.name, top.x, top.y, top.width, top.height) == ("big", 8, 12, 20, 16)
    document.history.undo()
    assert (document.width, document.height) == (40, 30) and len(document.layers) == 1
    document.history.redo()
    assert (document.width, document.height) == (80, 60) and document.layers[-1].name == "big"


def test_a_cut_out_layer_keeps_its_alpha_and_missing_things_are_named():
    document = Document.blank(20, 20)
    cut = np.zeros((10, 10, 4), np.uint8)
    cut[2:8, 2:8] = (200, 10, 10, 255)
    document.history.do(AddLayer(Layer("cut", cut, 5, 5)))
    pixels, x, y = upscale_source(document, "layer")
    grown = with_alpha(np.zeros((20, 20, 3), np.uint8), pixels[..., 3])
    assert grown[0, 0, 3] == 0 and grown[10, 10, 3] == 255 and (x, y) == (5, 5)
    assert with_alpha(np.zeros((4, 4, 3), np.uint8), np.full((2, 2), 255, np.uint8))[..., 3].min() == 255
    with pytest.raises(EditError, match="no selection"):
        upscale_source(document, "selection")
    with pytest.raises(EditError, match="canvas"):
        check_upscale(Document.blank(5000, 8), 4)  # past the per-side limit
