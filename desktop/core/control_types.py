"""The one table of control layer types: what each is called, how its image is prepared, what that needs.

A row says how a layer becomes the picture a ControlNet reads ("preprocessor"), whether that needs a
model the user must have (`model_kind`, a discovered kind from desktop.core.models), or cannot be done
here yet (`unsupported`, the sentence the user sees), the AUTOMATIC1111 ControlNet module name written
in the image's metadata, and words that name the type in ControlNet model files (to read A1111 text
back and to suggest models). Adding a type is adding a row: the tests are parametrised from this table.

Every type also takes a layer that already is the map (a depth map, a pose skeleton, an edge image):
with `preprocess` off the layer goes to the model as it is (A1111's module "none").
"""

from __future__ import annotations

from dataclasses import dataclass

DEPTH_ESTIMATOR = "depth estimator"  # discovered model kinds (desktop/core/models.py)
POSE_ESTIMATOR = "pose estimator"
NO_MODULE = "none"  # A1111's module name for an image used as it is


@dataclass(frozen=True)
class ControlType:
    """One kind of control layer and how its picture is made."""

    name: str
    label: str
    preprocessor: str  # a key of desktop.core.preprocessors.PREPROCESSORS, or one the engine runs with a model
    a1111_module: str
    model_words: tuple[str, ...]
    model_kind: str = ""  # the kind of model preprocessing needs, "" when it needs none (MODEL_HELP says which)
    unsupported: str = ""  # why preprocessing a photo is not available yet (the layer must already be the map)
    hint: str = ""  # what to draw or put on the layer, for the layer dialog

    @property
    def needs_model(self) -> bool:
        return bool(self.model_kind)


CONTROL_TYPES: tuple[ControlType, ...] = (
    ControlType("scribble", "Scribble / sketch", "scribble", "invert (from white bg & black line)",
                ("scribble", "sketch"), hint="strokes on a transparent layer, or dark lines on white"),
    ControlType("lineart", "Line art", "invert", "lineart_standard (from white bg & black line)", ("lineart",),
                hint="dark line art on a light background (from a photo, use Canny: line-art annotators are not "
                     "supported yet)"),
    ControlType("softedge", "Soft edge", "softedge", "softedge_hed", ("softedge", "hed", "pidi"),
                unsupported="soft edges from a photo need the HED/PiDiNet annotators, which Atelier cannot run "
                            "yet: use a layer that already is a soft-edge map (turn Preprocess off), or Canny"),
    ControlType("canny", "Canny edges", "canny", "canny", ("canny",), hint="a photo or drawing; edges are found"),
    ControlType("depth", "Depth", "depth", "depth_midas", ("depth",), model_kind=DEPTH_ESTIMATOR,
                hint="a photo (a depth model estimates the depth), or a depth map with Preprocess off"),
    ControlType("normal", "Normal map", "normal", "normal_midas", ("normal",), model_kind=DEPTH_ESTIMATOR,
                hint="a photo (normals from estimated depth), or a normal map with Preprocess off"),
    ControlType("pose", "Pose", "pose", "openpose", ("openpose", "pose"), model_kind=POSE_ESTIMATOR,
                hint="a photo of one person (a ViTPose model finds the skeleton; the whole layer is read as one "
                     "figure), or OpenPose skeletons with Preprocess off"),
    ControlType("tile", "Tile / blur", "blur", "blur_gaussian", ("tile", "blur"),
                hint="the picture to keep while adding detail"),
    ControlType("inpaint", "Inpaint", "inpaint", "inpaint_only", ("inpaint",),
                hint="the picture; the inpaint mask (or the layer's transparent part) is filled"),
)

# what to install for each kind of preprocessing model, in the words of the refusal
MODEL_HELP = {
    DEPTH_ESTIMATOR: "a transformers depth-estimation folder such as Depth Anything or DPT",
    POSE_ESTIMATOR: "a transformers ViTPose folder (VitPoseForPoseEstimation, e.g. vitpose-base-simple)",
}

_BY_NAME = {row.name: row for row in CONTROL_TYPES}


def control_type(name: str) -> ControlType:
    """The row for a type name; ValueError naming the types when it is not one."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown control type {name!r}: use one of {', '.join(_BY_NAME)}") from None


def type_names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


def type_from_a1111(module: str, model: str) -> ControlType | None:
    """The type an A1111 `ControlNet N:` line means: from the model's name first, then the module."""
    lowered = model.lower()
    for row in CONTROL_TYPES:
        if any(word in lowered for word in row.model_words):
            return row
    module = module.strip()
    for row in CONTROL_TYPES:
        if module == row.a1111_module or module.split(" ")[0] == row.a1111_module.split(" ")[0]:
            return row
    for row in CONTROL_TYPES:  # other A1111 modules of the same family: canny_xyz, depth_leres, openpose_full
        if module.startswith(row.name) or module.startswith(row.a1111_module.split("_")[0]):
            return row
    return None
