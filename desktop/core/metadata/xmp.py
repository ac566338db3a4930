"""XMP packets: mark images as AI-generated (IPTC DigitalSourceType) and carry Atelier's record in JPEG/WebP."""

from __future__ import annotations

import re
import time
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

from desktop import __version__
from desktop.core.metadata.coerce import MAX_TEXT

PNG_KEY = "XML:com.adobe.xmp"  # the iTXt keyword Adobe's XMP spec gives for PNG
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
NS_ATELIER = "urn:x-atelier:xmp:1.0/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_DC = "http://purl.org/dc/elements/1.1/"
# characters XML 1.0 forbids (control characters, stray surrogates): dropped from written text
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_WANTED = {
    f"{{{NS_IPTC_EXT}}}DigitalSourceType": "digital_source_type",
    f"{{{NS_ATELIER}}}Generation": "atelier",
    "{http://ns.adobe.com/xap/1.0/}CreatorTool": "creator_tool",
}


def clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def build_packet(*, description: str = "", atelier_json: str = "", created: float | None = None) -> str:
    """An XMP packet saying the image is AI-generated, by Atelier, with the prompt as its description."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(created))
    inner = ""
    if description:
        inner += (
            f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(clean(description))}</rdf:li>'
            "</rdf:Alt></dc:description>"
        )
    if atelier_json:
        inner += f"<atelier:Generation>{escape(clean(atelier_json))}</atelier:Generation>"
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="{NS_RDF}">'
        '<rdf:Description rdf:about=""'
        f' xmlns:Iptc4xmpExt="{NS_IPTC_EXT}" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        f' xmlns:dc="{NS_DC}" xmlns:atelier="{NS_ATELIER}"'
        f" Iptc4xmpExt:DigitalSourceType={quoteattr(TRAINED_ALGORITHMIC_MEDIA)}"
        f" xmp:CreatorTool={quoteattr('Atelier ' + __version__)}"
        f' xmp:CreateDate="{stamp}">'
        f"{inner}</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )


def parse_packet(text: str | bytes) -> dict[str, str]:
    """The few XMP properties Atelier reads (digital_source_type, atelier, creator_tool); {} when unreadable.

    Packets with a DOCTYPE are refused: entity expansion is how XML bombs work, and XMP never needs one.
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str) or len(text) > MAX_TEXT or "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        return {}
    start, end = text.find("<x:xmpmeta"), text.rfind("</x:xmpmeta>")
    body = text[start : end + len("</x:xmpmeta>")] if 0 <= start < end else text.strip().lstrip("\ufeff")
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, ValueError):
        return {}
    found: dict[str, str] = {}
    for element in root.iter():
        for name, value in element.attrib.items():
            if name in _WANTED:
                found.setdefault(_WANTED[name], value)
        if element.tag in _WANTED and (element.text or "").strip():
            found.setdefault(_WANTED[element.tag], element.text.strip())
    return found
