"""Chat-server API keys: kept in the platform's keyring (Keychain, Windows Credential Locker, Secret
Service / KWallet) through the `keyring` package, one per server address, and never anywhere else.

Where no keyring works (a headless Linux box without a secret service), the key is kept in memory
for this session only and `KeyStore.notice` says so; it is never written to settings.json or a log.
"""

from __future__ import annotations

import logging

SERVICE = "Atelier chat server"
NO_KEYRING = ("This computer has no working keyring (password store): the key is kept only until Atelier "
              "closes and must be typed again next time.")

log = logging.getLogger(__name__)


class KeyStore:
    """API keys by server URL: the platform keyring when there is one, else this session's memory."""

    def __init__(self, backend=None) -> None:
        self._backend = backend  # a keyring backend; None: keyring's choice for this platform
        self._session: dict[str, str] = {}
        self.persistent = self._check()
        self.notice = "" if self.persistent else NO_KEYRING

    def _keyring(self):
        import keyring

        return self._backend or keyring.get_keyring()

    def _check(self) -> bool:
        try:
            from keyring.backends import fail

            backend = self._keyring()
            return not isinstance(backend, fail.Keyring) and getattr(backend, "priority", 1) > 0
        except Exception:  # an import or D-Bus failure is "no keyring", never a crash
            return False

    def get(self, url: str) -> str:
        if url in self._session:
            return self._session[url]
        if not self.persistent:
            return ""
        try:
            return self._keyring().get_password(SERVICE, url) or ""
        except Exception as error:
            log.warning("could not read the API key for %s from the keyring: %s", url, type(error).__name__)
            return ""

    def set(self, url: str, key: str) -> str:
        """Remember the key (empty: forget it); returns what the user should be told, or ""."""
        if not key:
            self.delete(url)
            return ""
        if self.persistent:
            try:
                self._keyring().set_password(SERVICE, url, key)
                self._session.pop(url, None)
                return ""
            except Exception as error:  # a locked or refusing keyring
                log.warning("could not save the API key for %s in the keyring: %s", url, type(error).__name__)
                self._session[url] = key
                return ("The keyring refused to store the key: it is kept only until Atelier closes "
                        f"({type(error).__name__}).")
        self._session[url] = key
        return NO_KEYRING

    def delete(self, url: str) -> None:
        self._session.pop(url, None)
        if self.persistent:
            try:
                self._keyring().delete_password(SERVICE, url)
            except Exception:  # nothing stored, or the keyring is locked: nothing to forget
                pass
