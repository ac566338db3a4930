"""A server's URL and token are checked before anything is sent; the token never shows."""

import pytest

from desktop.core.server_address import AddressError, ServerAddress, check_token, check_url


@pytest.mark.parametrize("text, expected", [
    ("http://192.168.1.20:8188", "http://192.168.1.20:8188"),
    ("  https://gpu.example.org/comfy/  ", "https://gpu.example.org/comfy"),
    ("HTTP://[::1]:8188", "http://[::1]:8188"),
])
def test_good_urls_are_normalised(text, expected):
    assert check_url(text) == expected


@pytest.mark.parametrize("text, says", [
    ("", "enter the server's address"),
    ("192.168.1.20:8188", "no http:// or https://"),
    ("ftp://host:21", "must start with http:// or https://"),
    ("file:///etc/passwd", "must start with http"),
    ("http://", "names no host"),
    ("http://user:secret@host:8188", "leave the user name and password out"),
    ("http://host:8188/?next=evil", "must not have a ?query"),
    ("http://host:99999", "not a valid address"),
    ("http://host:0", "port 0"),
    ("http://ho st:8188", "spaces or control characters"),
    ("http://host:8188\r\nX-Evil: 1", "spaces or control characters"),
])
def test_bad_urls_say_what_to_write(text, says):
    with pytest.raises(AddressError, match=says.replace("?", r"\?")):
        check_url(text)


@pytest.mark.parametrize("text, says", [
    ("abc def", "visible ASCII"),
    ("abc\r\nX-Evil: 1", "visible ASCII"),
    ("tökén", "visible ASCII"),
    ("x" * 5000, "longer than"),
])
def test_bad_tokens_are_refused(text, says):
    with pytest.raises(AddressError, match=says):
        check_token(text)


def test_the_token_never_shows_in_repr_or_messages():
    address = ServerAddress.checked("http://host:8188", " s3cr3t-T0ken ")
    assert address.token == "s3cr3t-T0ken"
    assert "s3cr3t" not in repr(address)
    assert address.redact("header was Bearer s3cr3t-T0ken") == "header was Bearer [token]"
    assert check_token("") == ""
