"""Turning untrusted bytes into clean text.

Old newsroom archives mix UTF-8, Windows-1252 and Latin-1 in one folder; a wrong guess
silently breaks every later match (``£`` becomes ``Â£``), so the choice is explicit:
BOMs first, then strict UTF-8, then a detector for non-Western single-byte encodings,
and Windows-1252 as the fallback that is right for Western news copy.
"""

from __future__ import annotations

import re

# C0/C1 control characters except tab and newline: wire services use them as markers
# (METER's PA copy ends every paragraph with ``<`` + LF + 0x19).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_WESTERN = {"cp1252", "windows-1252", "latin_1", "iso8859_1", "iso8859_15", "ascii", "utf_8"}

_MAGIC = {
    b"%PDF": "PDF document",
    b"PK\x03\x04": "ZIP archive (e.g. DOCX/XLSX)",
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"\x7fELF": "ELF executable",
    b"MZ": "Windows executable",
    b"\x1f\x8b": "gzip data",
    b"BZh": "bzip2 data",
    b"\xfd7zXZ": "xz data",
    b"SQLite format 3": "SQLite database",
}


class DecodeError(ValueError):
    """Bytes that are not text in any encoding we accept."""


def binary_kind(data: bytes, *, stray_nuls: bool = False) -> str | None:
    """Name the kind of binary data, or None if it looks like text.

    With ``stray_nuls``, a few NUL bytes (under 1% of the head) are taken for damage in a
    text file, not proof of binary data: record readers drop them row by row, so one bad
    byte costs one row, not the file.
    """
    head = data[:8192]
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return None
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    nuls = head.count(0)
    if nuls and not (stray_nuls and nuls * 100 <= len(head)):
        return "binary data (NUL bytes)"
    if head:
        ctrl = sum(1 for b in head if b < 9 or (13 < b < 32 and b not in (25, 27))) - nuls
        if ctrl / len(head) > 0.10:
            return "binary data (control bytes)"
    return None


def utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' for BOM-less UTF-16 text (mostly ASCII, so every other
    byte is NUL), else None. Such files would otherwise be refused as binary."""
    head = data[:8192]
    if len(head) < 16:
        return None
    half = len(head) // 2
    even = head[0 : 2 * half : 2].count(0)
    odd = head[1 : 2 * half : 2].count(0)
    if odd >= 0.6 * half and even <= 0.05 * half:
        return "utf-16-le"
    if even >= 0.6 * half and odd <= 0.05 * half:
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode ``data``; return (text, encoding used). Raises DecodeError on binary data."""
    wide = utf16_without_bom(data)
    if wide:
        return data.decode(wide, errors="replace"), wide
    kind = binary_kind(data)
    if kind:
        raise DecodeError(f"not text: {kind}")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    if declared:
        try:
            return data.decode(declared), declared.lower()
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    japanese = _japanese(data)
    if japanese:
        return japanese
    # Western text has isolated non-ASCII bytes (an accent, a pound sign, curly quotes);
    # Cyrillic, Greek or Arabic single-byte text has whole words of them. Detectors misread
    # the former (0xA3 "£" as "Ł" in cp1250), so they are asked only about the latter.
    guess = _detect(data) if _mostly_high_runs(data[:65536]) else None
    if guess and guess not in _WESTERN:
        try:
            return data.decode(guess), guess
        except (LookupError, UnicodeDecodeError):
            pass
    return _decode_cp1252(data), "cp1252"


_KANA = re.compile(r"[\u3041-\u30ff]")


def _japanese(data: bytes) -> tuple[str, str] | None:
    """Shift-JIS or EUC-JP text, told by its kana; else None.

    Detectors read short Japanese text as Korean cp949 (both are double-byte, and a few
    lines give them little to go on), and Shift-JIS trail bytes are often ASCII, so such
    text does not even look like runs of high bytes. Kana settle it: Japanese prose is
    largely hiragana and katakana, which Korean, Chinese or Western bytes decoded as
    Shift-JIS or EUC-JP almost never produce.
    """
    best: tuple[int, str, str] | None = None
    for encoding in ("cp932", "euc_jp"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        kana = len(_KANA.findall(text))
        wide = sum(1 for ch in text if ord(ch) > 0x7F)
        if kana and kana * 8 >= wide and (best is None or kana > best[0]):
            best = (kana, text, encoding)
    return (best[1], best[2]) if best else None


def _mostly_high_runs(data: bytes) -> bool:
    high = adjacent = 0
    prev_high = False
    for b in data:
        is_high = b >= 0x80
        if is_high:
            high += 1
            if prev_high:
                adjacent += 1
        prev_high = is_high
    return high >= 8 and adjacent / high > 0.5


def _detect(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - dependency is declared
        return None
    best = from_bytes(data[:65536]).best()
    if best is None:
        return None
    return best.encoding.lower().replace("-", "_")


_CP1252_HIGH = {}
for _b in range(0x80, 0xA0):
    try:
        _CP1252_HIGH[_b] = bytes([_b]).decode("cp1252")
    except UnicodeDecodeError:
        pass


def _decode_cp1252(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; read those as Latin-1 (controls, cleaned later).
        return data.decode("latin-1").translate(_CP1252_HIGH)


def clean_text(text: str) -> str:
    """Normalise line ends and drop control characters; nothing else is changed.

    Later stages report character offsets into this text, so it must stay the text a
    reader would see: no case folding, no Unicode normalisation here.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    return text.strip()
