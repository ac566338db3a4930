"""Jobs and messages that only a remote image engine (a ComfyUI server) has; immutable, like messages.py's."""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop.core.messages import next_job_id

SERVER_KEY = "server"  # GenerationParams.extra key: which server made an image (written to A1111 text and JSON)


@dataclass(frozen=True)
class ServerModelsJob:
    """Ask the server what it is and which checkpoints, LoRAs, VAEs and ControlNets it has."""

    job_id: int = field(default_factory=next_job_id)


@dataclass(frozen=True)
class ServerModels:
    """The answer to ServerModelsJob."""

    job_id: int
    url: str
    version: str
    checkpoints: tuple[str, ...] = ()
    loras: tuple[str, ...] = ()
    vaes: tuple[str, ...] = ()
    controlnets: tuple[str, ...] = ()


def with_server(params, url: str):
    """`params` recording that `url` made the image (replacing any server it named before)."""
    extra = tuple((k, v) for k, v in params.extra if k != SERVER_KEY)
    return params.replace(extra=extra + ((SERVER_KEY, url),))


def without_server(params):
    """`params` with no server named: for an image made on this computer from a remote image's settings."""
    if all(k != SERVER_KEY for k, _ in params.extra):
        return params
    return params.replace(extra=tuple((k, v) for k, v in params.extra if k != SERVER_KEY))
