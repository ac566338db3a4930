"""What a hires fix image records about its upscaler: the name (A1111's `Hires upscaler:`) and the file's hash.

A1111 writes `Hires upscaler: NAME` only; Atelier adds `Hires upscaler hash: <10 hex>` beside it (the short
form A1111 uses for model hashes, and our `Postprocess upscaler hash`), and Atelier's JSON holds the name
and the full SHA-256 of the weights, as the upscale record does. Latent and the plain resamplers have no
file, so they record the name only.
"""

from __future__ import annotations

from desktop.core.params import GenerationParams

HASH_FIELD = "Hires upscaler hash"


def with_upscaler(params: GenerationParams, name: str, sha256: str) -> tuple[GenerationParams, dict]:
    """(params whose A1111 text carries the short hash, Atelier record fields with name and full hash)."""
    if not sha256:
        return params, {}
    extra = tuple((k, v) for k, v in params.extra if k != HASH_FIELD) + ((HASH_FIELD, sha256[:10]),)
    return params.replace(extra=extra), {"hires_upscaler": name, "hires_upscaler_hash": sha256}
