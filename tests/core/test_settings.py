from desktop.core.settings import Settings


def test_settings_round_trip(tmp_path):
    path = tmp_path / "settings.json"
    settings = Settings(width=768, scheduler="DDIM", extra_model_dirs=["/models"])
    settings.save(path)
    assert Settings.load(path) == settings


def test_broken_file_gives_defaults_and_is_kept_aside(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    assert Settings.load(path) == Settings()
    assert (tmp_path / "settings.json.broken").read_text() == "{not json"


def test_wrongly_typed_values_fall_back_to_defaults(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"width": "wide", "steps": 30, "seed_locked": 1, "unknown": 5}')
    settings = Settings.load(path)
    assert settings.width == 512 and settings.steps == 30 and settings.seed_locked is False
