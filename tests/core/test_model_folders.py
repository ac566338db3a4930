"""Other apps' model folders: detected where those apps keep them, scanned with their layouts, in place."""

from pathlib import Path

import pytest

from desktop.core import model_folders
from desktop.core.model_folders import (A1111, COMFYUI, GGUF_TREE, GPT4ALL, INVOKEAI, JAN, LM_STUDIO, OLLAMA,
                                        LinkedFolder, detect_folders, identify,
                                        read_extra_model_paths, scan_linked)
from desktop.core.models import CHAT, CONTROLNET, LORA, SD1, SINGLE_FILE, UPSCALER, VAE, discover_models
from desktop.core.ollama_store import ollama_name

import model_trees


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def _by_name(entries):
    return {e.name: e for e in entries}


def test_a1111_folder_lists_every_kind_in_place(home):
    root = model_trees.a1111(home / "stable-diffusion-webui")
    entries = _by_name(scan_linked(identify(root)))
    assert entries["dreamy-v1"].kind == SINGLE_FILE and entries["dreamy-v1"].family == SD1
    assert entries["dreamy-v1"].usable and entries["dreamy-v1"].source == A1111
    assert entries["sorted-away"].kind == SINGLE_FILE  # found in a sub-folder the user made
    assert entries["ink-style"].kind == LORA and entries["ink-style"].family == SD1
    assert entries["vae-ft-mse"].kind == VAE
    assert entries["control_v11p_sd15_canny"].kind == CONTROLNET and entries["control_v11p_sd15_canny"].usable
    upscaler = entries["4x-UltraSharp"]  # listed as the models folder lists upscalers; loading applies the pickle rules
    assert upscaler.kind == UPSCALER and upscaler.family == "upscaler"
    assert all(str(root) in e.path for e in entries.values())  # used where they lie: no copies anywhere


def test_the_models_folder_itself_is_recognised_too(home):
    root = model_trees.a1111(home / "forge")
    linked = identify(root / "models")
    assert linked.app == A1111
    assert {"dreamy-v1", "ink-style"} <= set(_by_name(scan_linked(linked)))


def test_comfyui_and_its_extra_model_paths_yaml(home):
    a1111 = model_trees.a1111(home / "stable-diffusion-webui")
    yaml_text = (
        "a111:\n"
        f"    base_path: {a1111}\n"
        "    checkpoints: models/Stable-diffusion\n"
        "    vae: models/VAE\n"
        "    loras: |\n"
        "         models/Lora\n"
        "         models/LyCORIS\n"
        "    upscale_models: |\n"
        "         models/ESRGAN\n"
        "    embeddings: embeddings\n"
        "    controlnet: models/ControlNet\n"
        "relative:\n"
        "    base_path: ../shared\n"
        "    loras: loras\n"
    )
    root = model_trees.comfyui(home / "ComfyUI", yaml_text)
    model_trees.sd15_lora(home / "shared" / "loras" / "shared-lora.safetensors")
    linked = identify(root)
    assert linked.app == COMFYUI and "extra_model_paths.yaml adds" in linked.note
    entries = _by_name(scan_linked(linked))
    assert entries["comfy-base"].kind == SINGLE_FILE and entries["comfy-lora"].kind == LORA
    assert entries["comfy-canny"].kind == CONTROLNET and entries["RealESRGAN_x4plus"].kind == UPSCALER
    assert entries["dreamy-v1"].source == COMFYUI  # through the YAML: A1111's checkpoints, in place
    assert entries["ink-style"].kind == LORA and entries["shared-lora"].kind == LORA  # relative base_path
    assert set(linked.kinds()) >= {SINGLE_FILE, LORA, VAE, CONTROLNET, UPSCALER}


@pytest.mark.parametrize("text, message", [
    ("a: [unclosed\n", "could not read"),
    ("!!python/object/apply:os.system ['echo hacked']\n", "could not read"),  # safe_load refuses tags
    ("- just\n- a list\n", "does not hold sections"),
])
def test_a_broken_or_hostile_yaml_is_a_note_not_a_crash(home, text, message):
    root = model_trees.comfyui(home / "ComfyUI", text)
    linked = identify(root)
    assert message in linked.note
    assert "comfy-base" in _by_name(scan_linked(linked))  # ComfyUI's own folders still scanned
    with pytest.raises(ValueError):
        read_extra_model_paths(root / "extra_model_paths.yaml")


def test_invokeai_tree(home):
    root = model_trees.invokeai(home / "invokeai")
    linked = identify(root)
    assert linked.app == INVOKEAI
    entries = _by_name(scan_linked(linked))
    assert entries["invoke-main"].kind == SINGLE_FILE and entries["invoke-lora"].kind == LORA
    assert entries["invoke-vae"].kind == VAE
    assert set(linked.kinds()) == {SINGLE_FILE, LORA, VAE}


def test_lm_studio_gguf_tree_with_quantisation_and_no_projectors(home):
    models = model_trees.lm_studio(home / ".lmstudio" / "models")
    linked = identify(models)
    assert linked.app == LM_STUDIO
    entries = scan_linked(linked)
    assert [e.name for e in entries] == ["Qwen2.5-7B-Instruct-Q4_K_M"]  # mmproj-*.gguf is not a chat model
    entry = entries[0]
    assert entry.kind == CHAT and entry.family == "qwen2" and entry.quantization == "GGUF Q4_K_M"
    assert entry.usable and entry.cache_path == ""  # not converted yet


def test_ollama_manifests_lead_to_gguf_blobs(home):
    made = model_trees.ollama(home / ".ollama" / "models")
    linked = identify(home / ".ollama" / "models")
    assert linked.app == OLLAMA
    entries = _by_name(scan_linked(linked))
    assert entries["llama3.2:3b"].path == str(made["llama3.2:3b"])  # the blob itself, used in place
    assert entries["llama3.2:3b"].kind == CHAT and entries["llama3.2:3b"].usable
    assert entries["llama3.2:3b"].family == "llama" and entries["llama3.2:3b"].quantization == "GGUF Q4_K_M"
    assert entries["someone/tiny-helper:latest"].quantization == "GGUF Q8_0"
    assert "pull it again" in entries["half-pulled:latest"].problem


def test_ollama_name_forms():
    manifests = Path("/m/manifests")
    assert ollama_name(manifests / "registry.ollama.ai/library/qwen3/8b", manifests) == "qwen3:8b"
    assert ollama_name(manifests / "registry.ollama.ai/me/mine/latest", manifests) == "me/mine:latest"
    assert ollama_name(manifests / "hf.co/bartowski/Qwen-GGUF/Q4_K_M", manifests) == "hf.co/bartowski/Qwen-GGUF:Q4_K_M"


def test_detects_the_usual_places_and_ollama_models_env(home, tmp_path):
    model_trees.a1111(home / "stable-diffusion-webui")
    model_trees.comfyui(home / "AI" / "ComfyUI")
    model_trees.invokeai(home / "invokeai")
    model_trees.lm_studio(home / ".lmstudio" / "models")
    elsewhere = tmp_path / "big-drive" / "ollama"
    model_trees.ollama(elsewhere)
    gpt4all = home / ".local" / "share" / "nomic.ai" / "GPT4All"
    model_trees.write_metadata_only_gguf(gpt4all / "Meta-Llama-3-8B-Instruct.Q4_0.gguf", "llama", "Llama 3", 2)
    jan = home / "jan" / "models"
    model_trees.write_metadata_only_gguf(jan / "tinyllama" / "model.gguf", "llama", "TinyLlama", 15)
    (home / "ComfyUI").mkdir()  # an empty folder of that name is not ComfyUI
    detected = detect_folders(home, {"OLLAMA_MODELS": str(elsewhere)}, "Linux", include_system=False)
    found = {(d.app, Path(d.path)) for d in detected}
    assert found == {
        (A1111, home / "stable-diffusion-webui"), (COMFYUI, home / "AI" / "ComfyUI"),
        (INVOKEAI, home / "invokeai"), (LM_STUDIO, home / ".lmstudio" / "models"), (OLLAMA, elsewhere),
        (GPT4ALL, gpt4all), (JAN, jan),
    }
    jan_entries = scan_linked(next(d for d in detected if d.app == JAN))
    assert [e.family for e in jan_entries] == ["llama"]


def test_windows_and_mac_places(home):
    local = home / "AppData" / "Local"
    model_trees.write_metadata_only_gguf(local / "nomic.ai" / "GPT4All" / "x.gguf")
    detected = detect_folders(home, {"LOCALAPPDATA": str(local)}, "Windows", include_system=False)
    assert [(d.app, Path(d.path)) for d in detected] == [(GPT4ALL, local / "nomic.ai" / "GPT4All")]
    mac_jan = home / "Library" / "Application Support" / "Jan" / "data" / "llamacpp" / "models"
    model_trees.write_metadata_only_gguf(mac_jan / "qwen" / "model.gguf")
    assert (JAN, mac_jan) in {(d.app, Path(d.path)) for d in detect_folders(home, {}, "Darwin", False)}


def test_a_folder_named_jan_for_its_owner_is_not_jan(tmp_path):
    folder = tmp_path / "home" / "jan" / "pictures"
    folder.mkdir(parents=True)
    assert identify(folder) is None


def test_a_folder_of_sorted_ggufs_is_a_gguf_tree(tmp_path):
    model_trees.write_metadata_only_gguf(tmp_path / "llms" / "qwen" / "q.gguf", "qwen2")
    linked = identify(tmp_path / "llms")
    assert linked.app == GGUF_TREE and [e.family for e in scan_linked(linked)] == ["qwen2"]


def test_discovery_uses_linked_folders_and_an_unplugged_one_is_simply_offline(home, tmp_path):
    atelier_models = tmp_path / "atelier-models"
    atelier_models.mkdir()
    comfy = model_trees.comfyui(home / "ComfyUI")
    ollama = home / ".ollama" / "models"
    model_trees.ollama(ollama)
    unplugged = tmp_path / "media" / "usb-drive" / "stable-diffusion-webui"
    entries = discover_models([atelier_models, comfy, ollama, unplugged])
    names = {e.name for e in entries}
    assert {"comfy-base", "comfy-lora", "llama3.2:3b"} <= names
    assert not any(str(unplugged) in e.path for e in entries)  # no entry, no error for the missing drive
    assert not LinkedFolder(A1111, str(unplugged)).online and identify(unplugged) is None


def test_discovery_reads_but_never_writes(home, tmp_path):
    roots = [model_trees.a1111(home / "stable-diffusion-webui"), model_trees.comfyui(home / "ComfyUI"),
             model_trees.invokeai(home / "invokeai"), model_trees.lm_studio(home / ".lmstudio" / "models")]
    model_trees.ollama(home / ".ollama" / "models")
    roots.append(home / ".ollama" / "models")
    before = model_trees.file_states(home)
    listing_before = sorted(str(p) for p in home.rglob("*"))
    for linked in detect_folders(home, {}, "Linux", include_system=False):
        scan_linked(linked)
    discover_models([tmp_path / "atelier"] + roots)
    assert model_trees.file_states(home) == before  # same bytes, same mtimes
    assert sorted(str(p) for p in home.rglob("*")) == listing_before  # nothing added (no cache, no sidecar)


def test_table_rows_name_known_kinds():
    kinds = {SINGLE_FILE, LORA, VAE, CONTROLNET, UPSCALER, "checkpoint"}
    for name, kind in model_folders.A1111_FOLDERS + model_folders.COMFYUI_FOLDERS:
        assert kind in kinds, name


def test_a_linked_controlnet_file_says_its_family_as_in_the_models_folder(home):
    """The steering dialog and the lane check a ControlNet's family against the image model's (SD 1.x vs SDXL)."""
    root = model_trees.a1111(home / "webui")
    model_trees._save(root / "models" / "ControlNet" / "sd15-depth.safetensors", {
        "control_model.input_hint_block.0.weight": (16, 3, 3, 3),
        "control_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (8, 768)})
    model_trees._save(root / "models" / "ControlNet" / "xl-depth.safetensors", {
        "control_model.input_hint_block.0.weight": (16, 3, 3, 3),
        "control_model.label_emb.0.0.weight": (8, 2816)})
    entries = _by_name(discover_models([home / "nowhere", root]))
    assert (entries["sd15-depth"].kind, entries["sd15-depth"].family) == (CONTROLNET, SD1)
    assert (entries["xl-depth"].kind, entries["xl-depth"].family) == (CONTROLNET, "SDXL")
    assert entries["sd15-depth"].path.startswith(str(root))  # used where it lies
