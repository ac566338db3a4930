"""The samplers a user can pick, by the names AUTOMATIC1111 users know, built from the model's config."""

from __future__ import annotations

from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    LCMScheduler,
    TCDScheduler,
)

# name -> (class, config overrides)
_SCHEDULERS = {
    "Euler": (EulerDiscreteScheduler, {}),
    "Euler a": (EulerAncestralDiscreteScheduler, {}),
    "DPM++ 2M": (DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "use_karras_sigmas": False}),
    "DPM++ 2M Karras": (DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True}),
    "DDIM": (DDIMScheduler, {}),
    "LCM": (LCMScheduler, {}),
    "TCD": (TCDScheduler, {}),  # Hyper-SD's 1-step LoRA (Fast mode)
}


def make_scheduler(name: str, base_config):
    """A fresh scheduler of the named kind from the model's own scheduler config (its betas, offsets)."""
    try:
        cls, overrides = _SCHEDULERS[name]
    except KeyError:
        raise ValueError(f"unknown scheduler {name!r}: choose one of {', '.join(_SCHEDULERS)}") from None
    return cls.from_config(base_config, **overrides)
