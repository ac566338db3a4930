"""Every control type of the table, preprocessed: model-free ones, the depth model ones, and the refusals."""

import numpy as np
import pytest

from desktop.core.control_types import CONTROL_TYPES, control_type, type_from_a1111
from desktop.core.models import identify_folder
from desktop.core.steering import ControlSpec
from desktop.engine.control import SteeringModelError
from desktop.engine.control_images import DepthEstimators, control_picture

ROWS = [row.name for row in CONTROL_TYPES]


def layer() -> np.ndarray:
    """A 64 x 64 RGBA layer: a dark stroke and a bright disc on a light, partly transparent ground."""
    ys, xs = np.mgrid[0:64, 0:64]
    rgba = np.full((64, 64, 4), 230, np.uint8)
    rgba[..., 3] = 255
    rgba[(xs - 40) ** 2 + (ys - 24) ** 2 < 100, :3] = 255
    rgba[30:34, 6:58, :3] = 10
    rgba[:, :8, 3] = 0  # a transparent strip on the left
    return rgba


@pytest.fixture(scope="module")
def preprocessing_models(tiny_depth, tiny_pose):
    """The preprocessing models a user may have: a depth estimator and a pose estimator."""
    return [identify_folder(tiny_depth, "tiny-depth", "models folder"), identify_folder(tiny_pose, "tiny-pose", "x")]


@pytest.mark.parametrize("name", ROWS)
def test_every_type_preprocesses_or_says_what_it_needs(name, preprocessing_models):
    row = control_type(name)
    spec = ControlSpec(name, "any")
    mask = np.zeros((64, 64), np.uint8)
    mask[40:, :] = 255
    if row.unsupported:
        with pytest.raises(SteeringModelError, match="Preprocess off"):
            control_picture(spec, layer(), mask, preprocessing_models, DepthEstimators())
    elif row.needs_model:
        with pytest.raises(SteeringModelError, match="models/preprocessors"):
            control_picture(spec, layer(), mask, [], DepthEstimators())
    if not row.unsupported:
        picture = control_picture(spec, layer(), mask, preprocessing_models, DepthEstimators())
        assert picture.rgb.shape == (64, 64, 3) and picture.rgb.dtype == np.uint8
        assert picture.rgb.std() > 1  # a picture, not a flat field
        assert (picture.holes is not None) == (row.preprocessor == "inpaint")
    as_is = control_picture(ControlSpec(name, "any", preprocess=False), layer(), mask, [], DepthEstimators())
    assert np.array_equal(as_is.rgb[:, 8:], layer()[:, 8:, :3]) and (as_is.rgb[:, :8] == 0).all()


def test_what_the_model_free_preprocessors_make():
    def made(name):
        return control_picture(ControlSpec(name, "m"), layer(), mask, [], DepthEstimators())

    mask = np.zeros((64, 64), np.uint8)
    mask[40:, :] = 255
    canny = made("canny").rgb[..., 0]
    assert set(np.unique(canny)) <= {0, 255} and canny[29:36, 20].max() == 255 and canny[50, 30] == 0
    scribble = made("scribble").rgb[..., 0]  # a layer with transparency: what is painted is the stroke
    assert (scribble[:, 8:] == 255).all() and (scribble[:, :8] == 0).all()
    lines = made("lineart").rgb[..., 0]
    assert lines[31, 30] == 245 and lines[5, 30] == 25 and lines[5, 2] == 0  # transparent reads as white paper
    tile = made("tile").rgb.astype(int)
    assert np.abs(np.diff(tile, axis=0)).max() < np.abs(np.diff(layer()[..., :3].astype(int), axis=0)).max()
    inpaint = made("inpaint")
    assert inpaint.holes[50].all() and inpaint.holes[5, :8].all() and not inpaint.holes[5, 8:].any()
    assert (inpaint.preview()[50] == 128).all()


def test_pose_draws_an_openpose_skeleton_from_keypoints():
    from desktop.engine.pose import COLORS, openpose_picture

    points = np.zeros((17, 3), np.float32)
    points[:, 2] = 1.0
    points[5, :2], points[6, :2] = (40, 20), (20, 20)  # left and right shoulder: the neck lies between
    points[7, :2], points[8, :2] = (44, 36), (16, 36)
    points[0, :2] = (30, 10)
    picture = openpose_picture(points, 64, 64)
    assert tuple(picture[20, 30]) != (0, 0, 0) and tuple(picture[10, 30]) == COLORS[0]  # the neck; the nose dot
    assert tuple(picture[60, 2]) == (0, 0, 0)
    points[:, 2] = 0.1  # nothing seen: nothing drawn
    assert not openpose_picture(points, 64, 64).any()


def test_normals_face_the_viewer_on_flat_depth_and_tilt_with_slopes():
    from desktop.engine.control_images import normal_picture

    flat = normal_picture(np.ones((16, 16), np.float32))
    assert (flat[..., 2] == 255).all() and (np.abs(flat[..., :2].astype(int) - 127) <= 1).all()
    ramp = normal_picture(np.tile(np.linspace(0.5, 1.0, 16, dtype=np.float32), (16, 1)))
    assert ramp[8, 8, 0] > 140  # depth rising to the right: the normal leans along x


@pytest.mark.parametrize("name", ROWS)
def test_a1111_module_and_model_names_read_back_as_the_type(name):
    row = control_type(name)
    assert type_from_a1111(row.a1111_module, "") is row
    assert type_from_a1111("none", f"control_v11p_sd15_{row.model_words[0]} [abc123]") is row
