"""Derive CLIP's tokenizer files (vocab.json, merges.txt) from OpenAI's BPE merge list.

Why: Stable Diffusion's text encoders use CLIP's 49,408-token BPE vocabulary, and a single-file
checkpoint does not carry it. No hub is reachable here, so Atelier ships the files, derived the way
CLIP's own `simple_tokenizer.py` builds its vocabulary:

  1. the 256 byte symbols, in GPT-2's bytes_to_unicode order;
  2. the same 256 symbols with the end-of-word marker `</w>` appended;
  3. one token per merge, for the first 49152 - 256 - 2 = 48,894 merges of the list;
  4. `<|startoftext|>` (49406) and `<|endoftext|>` (49407).

Source of the merge list: `bpe_simple_vocab_16e6.txt.gz` as shipped inside the `open_clip_torch`
wheel on PyPI (MIT licence, the same file OpenAI's CLIP repository ships, also MIT). It is a build
input only; open_clip is not a dependency of Atelier. To regenerate:

    pip download --no-deps -d /tmp/oc open-clip-torch
    unzip -o /tmp/oc/open_clip_torch-*.whl 'open_clip/bpe_simple_vocab_16e6.txt.gz' -d /tmp/oc
    python resources/model_configs/make_tokenizer.py /tmp/oc/open_clip/bpe_simple_vocab_16e6.txt.gz
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

VOCAB_SIZE = 49408
OUT = Path(__file__).resolve().parent / "clip_tokenizer"


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible map from bytes to printable unicode symbols (order matters: it sets ids)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in codes)))


def build(bpe_gz: Path) -> tuple[dict[str, int], list[str]]:
    lines = gzip.open(bpe_gz).read().decode("utf-8").split("\n")
    merges = lines[1:49152 - 256 - 2 + 1]  # line 0 is a version comment; CLIP keeps 48,894 merges
    symbols = list(bytes_to_unicode().values())
    tokens = symbols + [s + "</w>" for s in symbols] + ["".join(m.split()) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    assert len(tokens) == VOCAB_SIZE, len(tokens)
    return {token: index for index, token in enumerate(tokens)}, merges


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    vocab, merges = build(Path(argv[0]))
    OUT.mkdir(exist_ok=True)
    (OUT / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    (OUT / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    print(f"wrote {len(vocab)} tokens and {len(merges)} merges to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
