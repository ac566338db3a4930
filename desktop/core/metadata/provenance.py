"""Optional C2PA manifests: a signed statement, embedded in the PNG, that Atelier generated the image.

The key and certificate are made on this computer the first time they are needed (a small local CA
and a signing certificate under it, because C2PA refuses self-signed signing certificates). Verifiers
report the result as valid but "untrusted": nobody outside this computer vouches for the key.
No network is used: there is no timestamp authority.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
from pathlib import Path

from desktop import __version__
from desktop.core.atomic import write_bytes_atomic
from desktop.core.metadata.xmp import TRAINED_ALGORITHMIC_MEDIA

log = logging.getLogger(__name__)

KEY_FILE = "signing-key.pem"
CHAIN_FILE = "signing-chain.pem"
KEY_FOLDER = "c2pa"  # under the config folder
# The C2PA library embeds a thumbnail of the image in the manifest, by default 1024 px on the long edge
# in the image's own format: a lossless WebP thumbnail made a signed 180 KB WebP 2.5 MB. A 256 px
# JPEG is what viewers show anyway and costs a few tens of KB.
THUMBNAIL_LONG_EDGE = 256
THUMBNAIL_SETTINGS = {"builder": {"thumbnail": {"enabled": True, "long_edge": THUMBNAIL_LONG_EDGE,
                                                "format": "jpeg", "quality": "medium"}}}


def key_folder(config_dir: Path) -> Path:
    """Where the local signing key and certificate live."""
    return Path(config_dir) / KEY_FOLDER


def signing_folder(write_c2pa: bool, config_dir: Path) -> Path | None:
    """The key folder to sign with when the setting is on and signing can work here, else None."""
    return key_folder(config_dir) if write_c2pa and unavailable_reason() is None else None


def unavailable_reason() -> str | None:
    """None when C2PA signing can work here, else a sentence saying what is missing and how to get it.

    Looks the packages up without importing them (the native library loads only when signing), so the
    Settings menu can ask at start-up.
    """
    import importlib.util

    for module, package in (("c2pa", "c2pa-python"), ("cryptography", "cryptography")):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules (blocked)
            found = False
        if not found:
            return (f"C2PA signing needs the {package} package, which is not installed: "
                    f"run .venv/bin/pip install {package} (or pip install -e '.[c2pa]') and restart Atelier")
    return None


def _certificate(subject, issuer, public_key, signing_key, *, ca: bool):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = datetime.datetime.now(datetime.timezone.utc)
    usage = dict(digital_signature=not ca, content_commitment=False, key_encipherment=False, data_encipherment=False,
                 key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(x509.KeyUsage(**usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if not ca:  # C2PA checks the end certificate for a signing EKU and a link to its issuer
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


def signing_identity(folder: Path) -> tuple[bytes, bytes]:
    """(certificate chain PEM, private key PEM), created once in `folder` and reused after."""
    key_path, chain_path = folder / KEY_FILE, folder / CHAIN_FILE
    if key_path.is_file() and chain_path.is_file():
        return chain_path.read_bytes(), key_path.read_bytes()
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Atelier (local key)")])

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(name("Atelier local authority"), name("Atelier local authority"), ca_key.public_key(), ca_key, ca=True)
    leaf = _certificate(name("Atelier on this computer"), ca.subject, key.public_key(), ca_key, ca=False)
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    folder.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(key_path, key_pem, mode=0o600)  # private from the first byte
    write_bytes_atomic(chain_path, chain)
    return chain, key_pem


def manifest(title: str) -> dict:
    return {
        "claim_generator_info": [{"name": "Atelier", "version": __version__}],
        "title": title,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [{
            "action": "c2pa.created",
            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
            "softwareAgent": {"name": "Atelier", "version": __version__},
        }]}}],
    }


MIME_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def sign_image(data: bytes, fmt: str, key_folder: Path, title: str) -> bytes:
    """`data` (PNG, JPEG or WebP bytes) with a C2PA manifest embedded. Raises RuntimeError saying why it cannot."""
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    try:
        import c2pa
    except ImportError as error:  # installed but its native library does not load here
        raise RuntimeError(f"C2PA signing is not available: {error}") from error

    chain, key = signing_identity(key_folder)
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key, None))
        out = io.BytesIO()
        context = c2pa.Context(settings=c2pa.Settings.from_dict(THUMBNAIL_SETTINGS))
        with c2pa.Builder(json.dumps(manifest(title)), context=context) as builder:
            builder.sign(signer, MIME_TYPES[fmt], io.BytesIO(data), out)
    except Exception as error:  # noqa: BLE001 - the native library raises its own error family
        raise RuntimeError(f"C2PA signing failed: {error}") from error
    return out.getvalue()


def read_manifest(path: Path) -> dict | None:
    """The active C2PA manifest store as JSON (with validation results), or None when there is none."""
    if unavailable_reason():
        return None
    try:
        import c2pa

        mime = MIME_TYPES.get({".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}.get(Path(path).suffix.lower(), "PNG"))
        with open(path, "rb") as handle, c2pa.Reader(mime, handle) as reader:
            return json.loads(reader.json())
    except Exception:  # noqa: BLE001 - no manifest and a damaged one both mean: nothing to show
        return None
