"""`main.py chat --model FILE.gguf`: the first run converts (and says so), the next loads the copy."""

from desktop.cli import dispatch
from desktop.core.gguf_files import cached_folder


def test_chat_with_a_gguf_file(atelier_home, tiny_gguf, capsys):
    code = dispatch(["chat", "--model", str(tiny_gguf), "--max-new-tokens", "4", "hi"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Converting tiny-chat.Q8_0.gguf once" in err
    folder = cached_folder(tiny_gguf)
    assert folder is not None and str(atelier_home) in str(folder)  # beside Atelier's data
    code = dispatch(["chat", "--model", str(tiny_gguf), "--max-new-tokens", "4", "--conversation", "1", "again"])
    err = capsys.readouterr().err
    assert code == 0 and "Converting" not in err
