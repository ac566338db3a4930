"""A real ComfyUI for tests: the peer in shared/peers/comfyui, a random-weight SD 1.5 checkpoint it accepts.

ComfyUI recognises a checkpoint by its keys and tensor shapes, so a tiny model will not do: the one
built here has SD 1.5's published shapes (UNet, VAE, CLIP ViT-L text encoder) in the original LDM key
layout, fp16, random weights (~2 GB). It is built once and cached outside the repository, keyed by
CHECKPOINT_VERSION, so later test sessions start at once. Weights are drawn with variance 1/fan-in so
that activations stay finite through every block.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHECKPOINT_VERSION = 1
CHECKPOINT_NAME = "atelier-random-sd15.safetensors"
CONTROLNET_VERSION = 1
CONTROLNET_NAME = "atelier-random-control-sd15.safetensors"


def peer_folder() -> Path | None:
    """shared/peers/comfyui beside the repository (../shared in a clone; higher up from a worktree)."""
    override = os.environ.get("ATELIER_COMFYUI_PEER")
    if override:
        return Path(override) if (Path(override) / "start.sh").exists() else None
    for parent in REPO.parents:
        candidate = parent / "shared" / "peers" / "comfyui"
        if (candidate / "start.sh").exists():
            return candidate
    return None


def asset_cache() -> Path:
    root = os.environ.get("ATELIER_TEST_ASSETS") or Path.home() / ".cache" / "atelier-test-assets"
    return Path(root)


def _random_state(config_cls, config_path: Path, generator) -> dict:
    """(state dict, config) of `config_cls` built on the meta device (no memory), filled with fp16 random values."""
    import torch
    from accelerate import init_empty_weights

    config = json.loads(config_path.read_text())
    with init_empty_weights():
        if hasattr(config_cls, "from_config"):
            model = config_cls.from_config(config)
        else:  # transformers
            model = config_cls(config_cls.config_class(**config))
    state = {}
    for name, meta in model.state_dict().items():
        shape = tuple(meta.shape)
        if name.endswith("bias") or "position_ids" in name:
            value = torch.zeros(shape, dtype=torch.float16)
        elif len(shape) == 1:  # norm scales
            value = torch.ones(shape, dtype=torch.float16)
        else:
            fan_in = math.prod(shape[1:]) if len(shape) > 1 else shape[0]
            value = (torch.randn(shape, generator=generator) / math.sqrt(fan_in)).to(torch.float16)
        state[name] = value
    return state, model.config


def build_sd15_checkpoint(path: Path) -> Path:
    """Write a random-weight SD 1.5 checkpoint (LDM layout, fp16) to `path`, atomically."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPTextModel

    from desktop.engine.ldm_layout import clip_to_ldm, unet_to_ldm, vae_to_ldm

    configs = REPO / "resources" / "model_configs" / "sd15"
    generator = torch.Generator().manual_seed(1234)
    unet, unet_config = _random_state(UNet2DConditionModel, configs / "unet" / "config.json", generator)
    state = unet_to_ldm(unet, unet_config)
    del unet
    vae, vae_config = _random_state(AutoencoderKL, configs / "vae" / "config.json", generator)
    state.update(vae_to_ldm(vae, vae_config))
    clip, _ = _random_state(CLIPTextModel, configs / "text_encoder" / "config.json", generator)
    state.update(clip_to_ldm({k: v for k, v in clip.items() if "position_ids" not in k},
                             "cond_stage_model.transformer."))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")  # two test sessions may build at once
    save_file({k: v.contiguous() for k, v in state.items()}, str(partial), metadata={"format": "pt"})
    os.replace(partial, path)
    return path


def cached_checkpoint() -> Path:
    """The cached random SD 1.5 checkpoint, built on first use (~2 GB, about a minute)."""
    path = asset_cache() / f"sd15-random-v{CHECKPOINT_VERSION}" / CHECKPOINT_NAME
    if not path.exists():
        build_sd15_checkpoint(path)
    return path


def build_sd15_controlnet(path: Path) -> Path:
    """Write a random-weight SD 1.5 ControlNet (diffusers layout, which ComfyUI converts; fp16, ~700 MB).

    Its zero convolutions get random values too (a trained one's are far from zero), so it changes the image.
    """
    import torch
    from diffusers import ControlNetModel
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(4321)
    state, _ = _random_state(ControlNetModel, REPO / "resources" / "model_configs" / "controlnet_sd15" / "config.json",
                             generator)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    save_file({k: v.contiguous() for k, v in state.items()}, str(partial), metadata={"format": "pt"})
    os.replace(partial, path)
    return path


def cached_controlnet() -> Path:
    """The cached random SD 1.5 ControlNet, built on first use (about 20 s)."""
    path = asset_cache() / f"controlnet-sd15-random-v{CONTROLNET_VERSION}" / CONTROLNET_NAME
    if not path.exists():
        build_sd15_controlnet(path)
    return path


def add_controlnet(base: Path) -> Path:
    """The cached ControlNet in the server's models/controlnet (a link: used in place, like a user's folder)."""
    source = cached_controlnet()
    link = base / "models" / "controlnet" / source.name
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(source)
    return link


def free_port() -> int:
    with socket.socket() as sock:  # (a race with another process taking it is possible, and rare)
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ComfyUIPeer:
    """One running ComfyUI (started by the peer's start.sh) with a base folder of its own."""

    def __init__(self, base: Path, port: int, pid: int) -> None:
        self.base, self.port, self.pid = base, port, pid
        self.url = f"http://127.0.0.1:{port}"

    @classmethod
    def start(cls, base: Path, checkpoint: Path, *extra_args: str) -> "ComfyUIPeer":
        folder = peer_folder()
        if folder is None:
            raise RuntimeError("no ComfyUI peer (shared/peers/comfyui) beside the repository")
        models = base / "models" / "checkpoints"
        models.mkdir(parents=True, exist_ok=True)
        link = models / checkpoint.name
        if not link.exists():
            link.symlink_to(checkpoint)  # used in place, like a user's model folder
        port = free_port()
        # start.sh makes the peer's venv on first use: one session at a time, or two would build it together
        lock_path = Path.home() / ".cache" / "atelier-peers" / "start.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            result = subprocess.run(["bash", str(folder / "start.sh"), str(base), str(port), "--preview-method",
                                     "latent2rgb", *extra_args], capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            raise RuntimeError(f"ComfyUI did not start: {result.stderr.strip()[-2000:]}")
        pid = int(result.stdout.strip().splitlines()[-1])
        return cls(base, port, pid)

    @property
    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def log_tail(self, lines: int = 30) -> str:
        log = self.base / "comfyui.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): it accepts connections but answers nothing, like a hung machine."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        if self.alive:
            os.kill(self.pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while self.alive and time.monotonic() < deadline:
                try:
                    os.waitpid(self.pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                time.sleep(0.05)

    def stop(self) -> None:
        if self.alive:
            self.resume()
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while self.alive and time.monotonic() < deadline:
                time.sleep(0.1)
        self.kill()


def add_lora(base: Path, name: str, seed: int = 7) -> Path:
    """A random LoRA (kohya layout, rank 4) for SD 1.5's cross-attention, in the server's loras folder."""
    import torch
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(seed)
    state = {}
    # the attention layers of the first down block of the real SD 1.5 UNet (320 wide, context 768)
    for block in (1, 2):
        stem = f"lora_unet_input_blocks_{block}_1_transformer_blocks_0_attn2"
        for proj, inner in (("to_q", 320), ("to_k", 768), ("to_v", 768), ("to_out_0", 320)):
            state[f"{stem}_{proj}.lora_down.weight"] = torch.randn(4, inner, generator=generator).half()
            state[f"{stem}_{proj}.lora_up.weight"] = torch.randn(320, 4, generator=generator).half()
            state[f"{stem}_{proj}.alpha"] = torch.tensor(4.0).half()
    path = base / "models" / "loras" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))
    return path


def copy_into(base: Path, folder: str, source: Path) -> Path:
    target = base / "models" / folder / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    return target
