"""Model file hashes are computed once per file version (a hires fix hashes its upscaler on every job)."""

import hashlib

from desktop.core import file_hashes


def test_a_hash_is_computed_once_and_again_when_the_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "4x-Mine.safetensors"
    path.write_bytes(b"weights one")
    reads = []
    original = file_hashes.file_sha256
    monkeypatch.setattr(file_hashes, "file_sha256", lambda p: reads.append(p) or original(p))
    assert file_hashes.cached_sha256(path) == hashlib.sha256(b"weights one").hexdigest()
    assert file_hashes.cached_sha256(str(path)) == hashlib.sha256(b"weights one").hexdigest()
    assert len(reads) == 1
    path.write_bytes(b"other weights, longer")  # replaced in place: hashed again
    assert file_hashes.cached_sha256(path) == hashlib.sha256(b"other weights, longer").hexdigest()
    assert len(reads) == 2
