"""API keys: in the platform keyring through `keyring` when there is one; this session only when not."""

import keyring.backend
import keyring.errors
from keyring.backends import fail

from desktop.core.api_key import NO_KEYRING, SERVICE, KeyStore


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend (the interface the platform ones implement) that keeps passwords in a dict."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.saved.get((service, username))

    def set_password(self, service, username, password):
        self.saved[(service, username)] = password

    def delete_password(self, service, username):
        if (service, username) not in self.saved:
            raise keyring.errors.PasswordDeleteError("nothing saved")
        del self.saved[(service, username)]


class LockedKeyring(MemoryKeyring):
    def set_password(self, service, username, password):
        raise keyring.errors.PasswordSetError("the keyring is locked")


def test_keys_live_in_the_keyring_and_survive_a_restart():
    backend = MemoryKeyring()
    store = KeyStore(backend)
    assert store.persistent and store.notice == ""
    assert store.set("http://gpu-box:8000/v1", "sk-abc") == ""
    assert backend.saved == {(SERVICE, "http://gpu-box:8000/v1"): "sk-abc"}
    assert KeyStore(backend).get("http://gpu-box:8000/v1") == "sk-abc"  # a new session reads it back
    store.set("http://gpu-box:8000/v1", "")  # an empty key forgets it
    assert backend.saved == {} and store.get("http://gpu-box:8000/v1") == ""
    store.delete("http://never-saved/v1")  # nothing to forget: no error


def test_without_a_keyring_the_key_lasts_this_session_and_says_so():
    store = KeyStore(fail.Keyring())
    assert not store.persistent and store.notice == NO_KEYRING
    assert store.set("http://host/v1", "sk-abc") == NO_KEYRING
    assert store.get("http://host/v1") == "sk-abc"
    assert KeyStore(fail.Keyring()).get("http://host/v1") == ""  # gone after a restart, as said


def test_a_locked_keyring_keeps_the_key_for_the_session_with_a_reason():
    store = KeyStore(LockedKeyring())
    notice = store.set("http://host/v1", "sk-abc")
    assert "refused to store the key" in notice and store.get("http://host/v1") == "sk-abc"
