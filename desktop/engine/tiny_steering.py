"""Tiny random-weight steering models with the real architectures: ControlNets, an IP-Adapter with its CLIP
image encoder, and a DPT depth estimator. Saved the way users' files are and loaded by the app's loaders.
"""

from __future__ import annotations

from pathlib import Path

import torch


def build_controlnet(folder: str | Path, pipeline_folder: str | Path, seed: int = 0) -> Path:
    """`ControlNetModel.from_unet` of a tiny pipeline's UNet, its zero convolutions made random.

    from_unet starts the output convolutions at zero (as training does), so the copy would change nothing;
    random ones make the control visible in the pixels, as a trained model's are.
    """
    from diffusers import ControlNetModel, UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(pipeline_folder, subfolder="unet", local_files_only=True)
    torch.manual_seed(seed)
    controlnet = ControlNetModel.from_unet(unet)
    with torch.no_grad():
        for conv in [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block]:
            conv.weight.normal_(0.0, 0.3)
            conv.bias.normal_(0.0, 0.1)
    folder = Path(folder)
    controlnet.eval().save_pretrained(folder, safe_serialization=True)
    return folder


def build_image_encoder(folder: str | Path, seed: int = 0, projection_dim: int = 32) -> Path:
    """A tiny CLIPVisionModelWithProjection (32 px images), the kind IP-Adapters read references with."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    config = CLIPVisionConfig(hidden_size=32, intermediate_size=37, projection_dim=projection_dim, num_hidden_layers=2,
                              num_attention_heads=4, image_size=32, patch_size=8)
    folder = Path(folder)
    CLIPVisionModelWithProjection(config).eval().save_pretrained(folder, safe_serialization=True)
    return folder


def _attention_widths(unet) -> list[int]:
    """The width of every cross-attention layer, in the order diffusers numbers IP-Adapter weights (1, 3, 5, ...)."""
    channels = list(unet.config.block_out_channels)
    widths = []
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        if name.startswith("mid_block"):
            widths.append(channels[-1])
        elif name.startswith("up_blocks"):
            widths.append(list(reversed(channels))[int(name.split(".")[1])])
        else:
            widths.append(channels[int(name.split(".")[1])])
    return widths


def build_ip_adapter(path: str | Path, pipeline_folder: str | Path, image_embed_dim: int = 32, seed: int = 0,
                     full_face: bool = False, encoder_hidden: int = 32) -> Path:
    """A tiny IP-Adapter .safetensors for a tiny pipeline: image projection + to_k_ip/to_v_ip per cross-attention.

    full_face: the MLP projection of ip-adapter-full-face (reads the encoder's hidden states).
    """
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file

    unet = UNet2DConditionModel.from_pretrained(pipeline_folder, subfolder="unet", local_files_only=True)
    context = unet.config.cross_attention_dim
    generator = torch.Generator().manual_seed(seed)

    def random(*shape):
        return torch.randn(*shape, generator=generator) * 0.2

    if full_face:
        tensors = {"image_proj.proj.0.weight": random(encoder_hidden, encoder_hidden),
                   "image_proj.proj.0.bias": random(encoder_hidden),
                   "image_proj.proj.2.weight": random(context, encoder_hidden), "image_proj.proj.2.bias": random(context),
                   "image_proj.proj.3.weight": torch.ones(context), "image_proj.proj.3.bias": torch.zeros(context)}
    else:
        tensors = {"image_proj.proj.weight": random(context * 4, image_embed_dim),
                   "image_proj.proj.bias": random(context * 4),
                   "image_proj.norm.weight": torch.ones(context), "image_proj.norm.bias": torch.zeros(context)}
    for index, width in enumerate(_attention_widths(unet)):
        key = 2 * index + 1
        tensors[f"ip_adapter.{key}.to_k_ip.weight"] = random(width, context)
        tensors[f"ip_adapter.{key}.to_v_ip.weight"] = random(width, context)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path))
    return path


def build_depth_estimator(folder: str | Path, seed: int = 0) -> Path:
    """A tiny DPT depth estimator (AutoModelForDepthEstimation) with its image processor."""
    from transformers import DPTConfig, DPTForDepthEstimation, DPTImageProcessor

    torch.manual_seed(seed)
    config = DPTConfig(hidden_size=32, num_hidden_layers=4, num_attention_heads=4, intermediate_size=37,
                       image_size=32, patch_size=8, backbone_out_indices=[0, 1, 2, 3],
                       neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16, head_in_index=-1)
    folder = Path(folder)
    DPTForDepthEstimation(config).eval().save_pretrained(folder, safe_serialization=True)
    DPTImageProcessor(size={"height": 32, "width": 32}, keep_aspect_ratio=False).save_pretrained(folder)
    return folder


def build_pose_estimator(folder: str | Path, seed: int = 0) -> Path:
    """A tiny ViTPose (VitPoseForPoseEstimation, 64 x 48 input) with its preprocessor config."""
    from transformers import VitPoseBackboneConfig, VitPoseConfig, VitPoseForPoseEstimation

    torch.manual_seed(seed)
    backbone = VitPoseBackboneConfig(image_size=[64, 48], patch_size=[16, 16], hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=4, intermediate_size=37, out_indices=[2])
    model = VitPoseForPoseEstimation(VitPoseConfig(backbone_config=backbone, num_labels=17)).eval()
    with torch.no_grad():  # confident peaks, as a trained model's are: every keypoint is drawn
        model.head.conv.bias.fill_(1.0)
    folder = Path(folder)
    model.save_pretrained(folder, safe_serialization=True)
    (folder / "preprocessor_config.json").write_text(
        '{"image_processor_type": "VitPoseImageProcessor", "size": {"height": 64, "width": 48}, '
        '"image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}\n')
    return folder
