"""A pose skeleton from a photo, drawn the way OpenPose ControlNets read it, with a ViTPose model the user has.

The model (a transformers `VitPoseForPoseEstimation` folder, e.g. usyd-community/vitpose-base-simple) finds
the 17 COCO keypoints of one figure: the whole picture is read as one person's box (Atelier has no person
detector yet; for several people, draw or paste the skeletons and turn Preprocess off). The image is padded to
the model's aspect and scaled here, so the image processor's scipy warping is not needed; each keypoint is the
peak of its heatmap. The skeleton is drawn in OpenPose's 18-point layout and colours on black, as
sd-webui-controlnet's openpose preprocessor draws it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

MIN_SCORE = 0.3  # heatmap peaks below this are left out, as OpenPose leaves out unseen points
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
# OpenPose's 18 points from COCO's 17: nose, neck (between the shoulders), right arm, left arm, right leg, left leg,
# eyes and ears
COCO_FOR_OPENPOSE = (0, None, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
         (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
COLORS = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
          (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
          (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))


def load_pose_model(folder: str):
    from transformers import VitPoseForPoseEstimation

    model = VitPoseForPoseEstimation.from_pretrained(folder, local_files_only=True).eval()
    try:
        config = json.loads((Path(folder) / "preprocessor_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    size = config.get("size") or {"height": 256, "width": 192}
    mean, std = config.get("image_mean") or IMAGENET_MEAN, config.get("image_std") or IMAGENET_STD
    return model, (int(size["height"]), int(size["width"])), mean, std


def keypoints(rgb: np.ndarray, loaded) -> np.ndarray:
    """17 COCO keypoints of the figure as (x, y, score) in the picture's pixels."""
    import torch

    model, (height, width), mean, std = loaded
    rows, cols = rgb.shape[:2]
    scale = max(rows / height, cols / width)  # pad to the model's aspect, centred, then scale
    canvas_h, canvas_w = int(round(height * scale)), int(round(width * scale))
    top, left = (canvas_h - rows) // 2, (canvas_w - cols) // 2
    padded = np.zeros((canvas_h, canvas_w, 3), np.uint8)
    padded[top:top + rows, left:left + cols] = rgb
    scaled = np.asarray(Image.fromarray(padded).resize((width, height), Image.BILINEAR), np.float32) / 255.0
    pixels = torch.from_numpy((scaled - np.asarray(mean, np.float32)) / np.asarray(std, np.float32))
    with torch.inference_mode():
        heatmaps = model(pixel_values=pixels.permute(2, 0, 1)[None]).heatmaps[0].float().numpy()  # (17, h, w)
    points = np.zeros((heatmaps.shape[0], 3), np.float32)
    map_h, map_w = heatmaps.shape[1:]
    for index, heatmap in enumerate(heatmaps):
        y, x = np.unravel_index(int(heatmap.argmax()), heatmap.shape)
        points[index] = ((x + 0.5) / map_w * canvas_w - left, (y + 0.5) / map_h * canvas_h - top, heatmap[y, x])
    return points


def openpose_picture(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """The OpenPose drawing (limbs as coloured ellipses, points as dots) of COCO keypoints, on black."""
    import cv2

    coco = points
    body: list[tuple[float, float] | None] = []
    for source in COCO_FOR_OPENPOSE:
        if source is None:  # the neck: between the shoulders, when both are seen
            seen = coco[5, 2] >= MIN_SCORE and coco[6, 2] >= MIN_SCORE
            body.append(((coco[5, 0] + coco[6, 0]) / 2, (coco[5, 1] + coco[6, 1]) / 2) if seen else None)
        else:
            body.append((coco[source, 0], coco[source, 1]) if coco[source, 2] >= MIN_SCORE else None)
    canvas = np.zeros((height, width, 3), np.uint8)
    thickness = max(1, round(min(height, width) / 128))
    for (a, b), color in zip(LIMBS, COLORS):
        if body[a] is None or body[b] is None:
            continue
        (x1, y1), (x2, y2) = body[a], body[b]
        length = float(np.hypot(x2 - x1, y2 - y1))
        angle = float(np.degrees(np.arctan2(y2 - y1, x2 - x1)))
        polygon = cv2.ellipse2Poly((int((x1 + x2) / 2), int((y1 + y2) / 2)), (int(length / 2), 2 * thickness),
                                   int(angle), 0, 360, 1)
        cv2.fillConvexPoly(canvas, polygon, tuple(int(c * 0.6) for c in color))
    for point, color in zip(body, COLORS):
        if point is not None:
            cv2.circle(canvas, (int(point[0]), int(point[1])), 2 * thickness, color, thickness=-1)
    return canvas
