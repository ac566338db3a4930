"""`ControlNet N:` entries of AUTOMATIC1111's parameters text (sd-webui-controlnet), written and read back.

sd-webui-controlnet writes one entry per unit on the settings line, its value JSON-quoted:
    ControlNet 0: "Module: canny, Model: control_v11p_sd15_canny [d14c016b], Weight: 1, Resize Mode: Crop and
    Resize, Processor Res: 512, Threshold A: 100, Threshold B: 200, Guidance Start: 0, Guidance End: 1,
    Pixel Perfect: False, Control Mode: Balanced"
IP-Adapter references are units too (module `ip-adapter-auto`). Atelier writes its control layers and
references that way, so A1111-aware readers see them, and reads them back into specs for Reuse settings.
Regions have no A1111 form: they live in Atelier's own record.
"""

from __future__ import annotations

import re
from typing import Any

from desktop.core.control_types import NO_MODULE, control_type, type_from_a1111
from desktop.core.metadata.coerce import as_float
from desktop.core.steering import ControlSpec, ReferenceSpec, SteeringError

REFERENCE_MODULE = "ip-adapter-auto"
_KEY = re.compile(r"ControlNet (\d{1,2})$")
MAX_UNITS = 16


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _unit(module: str, model: str, weight: float, start: float, end: float, resolution: int) -> str:
    return (f"Module: {module}, Model: {model or 'None'}, Weight: {_number(weight)}, Resize Mode: Crop and Resize, "
            f"Processor Res: {resolution}, Guidance Start: {_number(start)}, Guidance End: {_number(end)}, "
            f"Pixel Perfect: False, Control Mode: Balanced")


def unit_pairs(params) -> list[tuple[str, str]]:
    """(`ControlNet N`, value) for each control layer, then each reference, as A1111 numbers its units."""
    resolution = min(params.width, params.height)  # Atelier preprocesses at the generation's size
    units = [_unit(control_type(s.type).a1111_module if s.preprocess else NO_MODULE, s.model, s.weight, s.start, s.end,
                   resolution) for s in params.controls]
    units += [_unit(REFERENCE_MODULE, s.model, s.weight, 0.0, 1.0, resolution) for s in params.references]
    return [(f"ControlNet {index}", unit) for index, unit in enumerate(units)]


def pop_units(values: dict, split_pairs) -> list[dict]:
    """Take the `ControlNet N` entries out of a parsed settings line: [{module, model, weight, start, end}]."""
    units = []
    for key in sorted((k for k in values if _KEY.match(k)), key=lambda k: int(_KEY.match(k).group(1))):
        inner = dict(split_pairs(str(values.pop(key))))
        if len(units) >= MAX_UNITS:
            continue
        model = re.sub(r"\s*\[[0-9a-fA-F]{4,64}\]$", "", inner.get("Model", "")).strip()  # drop the hash
        units.append({"module": inner.get("Module", NO_MODULE).strip()[:100], "model": model[:200],
                      "weight": as_float(inner.get("Weight")), "start": as_float(inner.get("Guidance Start")),
                      "end": as_float(inner.get("Guidance End"))})
    return units


def specs_from_units(units: Any) -> tuple[tuple, tuple, list[str]]:
    """(controls, references, what could not be used) from `pop_units` dicts (or hostile JSON)."""
    controls, references, dropped = [], [], []
    for unit in units if isinstance(units, list) else []:
        if not isinstance(unit, dict):
            continue
        module, model = str(unit.get("module") or NO_MODULE), str(unit.get("model") or "")
        if model in ("", "None"):
            continue  # an unused unit
        weight = unit.get("weight") if isinstance(unit.get("weight"), (int, float)) else 1.0
        try:
            if module.startswith("ip-adapter") or "ip-adapter" in model.lower() or "ip_adapter" in model.lower():
                references.append(ReferenceSpec(model, weight))
                continue
            row = type_from_a1111(module, model)
            if row is None:
                dropped.append(f"ControlNet unit {model!r} (module {module!r}) is of a type Atelier does not know")
                continue
            start = unit.get("start") if isinstance(unit.get("start"), (int, float)) else 0.0
            end = unit.get("end") if isinstance(unit.get("end"), (int, float)) else 1.0
            controls.append(ControlSpec(row.name, model, weight, start, end, preprocess=module != NO_MODULE))
        except SteeringError as error:
            dropped.append(f"ControlNet unit {model!r}: {error}")
    return tuple(controls), tuple(references), dropped
