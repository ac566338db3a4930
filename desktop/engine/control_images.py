"""The picture a control layer gives its ControlNet: the table's preprocessor run on the layer, on the worker.

Model-free preprocessors are in desktop/core/preprocessors.py; here are the ones that need a model the user
has: depth (a transformers depth-estimation folder: DPT, Depth Anything, ...) and normals computed from that
depth (like A1111's normal_midas). A type that needs a model the user does not have, or one Atelier cannot
run yet, is refused with a sentence saying which model is missing and what to do instead.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image

from desktop.core.control_types import DEPTH_ESTIMATOR, MODEL_HELP, POSE_ESTIMATOR, control_type
from desktop.core.models import ModelEntry
from desktop.core.preprocessors import PREPROCESSORS, ControlPicture
from desktop.core.steering import ControlSpec
from desktop.engine.control import SteeringModelError

NORMAL_BACKGROUND = 0.4  # depth below this share of the range is background: flat normals there (A1111's bg_th)


class DepthEstimators:
    """Depth and pose models loaded once and kept while the image model is loaded (small next to it)."""

    def __init__(self) -> None:
        self._models: dict[str, tuple] = {}

    def clear(self) -> None:
        self._models.clear()

    def get(self, entry: ModelEntry):
        if entry.path not in self._models:
            try:
                if entry.kind == POSE_ESTIMATOR:
                    from desktop.engine.pose import load_pose_model

                    loaded = load_pose_model(entry.path)
                else:
                    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

                    loaded = (AutoImageProcessor.from_pretrained(entry.path, local_files_only=True),
                              AutoModelForDepthEstimation.from_pretrained(entry.path, local_files_only=True).eval())
            except (OSError, ValueError) as error:
                raise SteeringModelError(f"the {entry.kind} {entry.name!r} could not be loaded: {error}") from error
            self._models = {**{k: v for k, v in self._models.items() if k != entry.path}, entry.path: loaded}
            while len(self._models) > 2:  # one depth and one pose model at most
                self._models.pop(next(iter(self._models)))
        return self._models[entry.path]


def depth_map(rgb: np.ndarray, entry: ModelEntry, estimators: DepthEstimators) -> np.ndarray:
    """Relative depth, near = 1 and far = 0, at the image's size (H x W float32)."""
    import torch

    processor, model = estimators.get(entry)
    with torch.inference_mode():
        inputs = processor(images=Image.fromarray(rgb), return_tensors="pt")
        predicted = model(**inputs).predicted_depth  # (1, h, w)
        depth = torch.nn.functional.interpolate(predicted[:, None].float(), size=rgb.shape[:2], mode="bicubic",
                                                align_corners=False)[0, 0].numpy()
    if getattr(model.config, "model_type", "") == "zoedepth":  # metric depth: larger is farther
        depth = -depth
    low, high = float(depth.min()), float(depth.max())
    return ((depth - low) / (high - low) if high > low else np.zeros_like(depth)).astype(np.float32)


def depth_picture(depth: np.ndarray) -> np.ndarray:
    gray = np.rint(depth * 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def normal_picture(depth: np.ndarray) -> np.ndarray:
    """Surface normals from the depth's slopes: x right, y up, z towards the viewer, mapped to RGB."""
    import cv2

    scaled = depth * 255.0
    dx = cv2.Sobel(scaled, cv2.CV_32F, 1, 0, ksize=3)
    dy = cv2.Sobel(scaled, cv2.CV_32F, 0, 1, ksize=3)
    background = depth < NORMAL_BACKGROUND
    dx[background] = 0.0
    dy[background] = 0.0
    normal = np.stack([dx, dy, np.full_like(dx, np.pi * 2.0)], axis=2)
    normal /= np.linalg.norm(normal, axis=2, keepdims=True)
    return np.clip(normal * 127.5 + 127.5, 0, 255).astype(np.uint8)


def needed_model(spec: ControlSpec, entries: Sequence[ModelEntry]) -> ModelEntry | None:
    """The preprocessing model a control needs (None when it needs none); refuses with what is missing."""
    row = control_type(spec.type)
    if not spec.preprocess:
        return None
    if row.unsupported:
        raise SteeringModelError(f"{row.label}: {row.unsupported}")
    if not row.needs_model:
        return None
    usable = [e for e in entries if e.kind == row.model_kind and e.usable]
    if not usable:
        raise SteeringModelError(
            f"{row.label} from a picture needs a {row.model_kind} model ({MODEL_HELP[row.model_kind]}) in "
            f"models/preprocessors, and none is installed. Install one, or turn Preprocess off if the layer already "
            f"is the {row.label.lower()} map")
    return usable[0]


def control_picture(spec: ControlSpec, rgba: np.ndarray, mask: np.ndarray | None,
                    entries: Sequence[ModelEntry], estimators: DepthEstimators) -> ControlPicture:
    """What the ControlNet of `spec` reads, from the layer's RGBA at the generation size."""
    row = control_type(spec.type)
    if not spec.preprocess:
        return PREPROCESSORS["none"](rgba, mask)
    model = needed_model(spec, entries)
    if model is None:
        return PREPROCESSORS[row.preprocessor](rgba, mask)
    from desktop.core.compositing import rgba_to_rgb

    if model.kind == DEPTH_ESTIMATOR:
        depth = depth_map(rgba_to_rgb(rgba), model, estimators)
        return ControlPicture(normal_picture(depth) if row.preprocessor == "normal" else depth_picture(depth))
    if model.kind == POSE_ESTIMATOR:
        from desktop.engine.pose import keypoints, openpose_picture

        rgb = rgba_to_rgb(rgba)
        return ControlPicture(openpose_picture(keypoints(rgb, estimators.get(model)), *rgb.shape[:2]))
    raise SteeringModelError(f"{row.label}: no preprocessor for {model.kind} models")  # a table row without code


def local_preprocessor(entries: Sequence[ModelEntry], estimators: DepthEstimators):
    """control_picture with the user's models, as a (spec, rgba, mask) callable: a ComfyUI server's control
    pictures are made here, the same way as for the local engine (desktop/remote/comfyui_steering.py)."""
    return lambda spec, rgba, mask: control_picture(spec, rgba, mask, entries, estimators)


def fit(image: Image.Image, width: int, height: int, nearest: bool = False) -> Image.Image:
    """An image at the generation size (the canvas area is in pixels; the generation in multiples of 8)."""
    if image.size == (width, height):
        return image
    return image.resize((width, height), Image.NEAREST if nearest else Image.LANCZOS)


def pipeline_image(picture: ControlPicture):
    """A PIL image for the pipeline, or for inpaint control a tensor with -1 in the holes (diffusers' convention)."""
    if picture.holes is None:
        return Image.fromarray(picture.rgb)
    import torch

    values = picture.rgb.astype(np.float32) / 255.0
    values[picture.holes] = -1.0
    return torch.from_numpy(values).permute(2, 0, 1)[None]
