"""Language codes: naming them the same way whatever the input called them."""

from __future__ import annotations

import functools

# Names seen in social-media exports mapped to ISO 639-1 codes.
_NAMES = {
    "english": "en",
    "russian": "ru",
    "german": "de",
    "french": "fr",
    "spanish": "es",
    "italian": "it",
    "portuguese": "pt",
    "dutch": "nl",
    "arabic": "ar",
    "persian": "fa",
    "farsi": "fa",
    "ukrainian": "uk",
    "turkish": "tr",
    "polish": "pl",
    "chinese": "zh",
    "japanese": "ja",
    "korean": "ko",
    "hebrew": "he",
    "hindi": "hi",
    "urdu": "ur",
    "swedish": "sv",
    "norwegian": "no",
    "danish": "da",
    "finnish": "fi",
    "czech": "cs",
    "greek": "el",
    "romanian": "ro",
    "hungarian": "hu",
    "bulgarian": "bg",
    "serbian": "sr",
    "croatian": "hr",
    "indonesian": "id",
    "malay": "ms",
    "vietnamese": "vi",
    "thai": "th",
    "estonian": "et",
    "latvian": "lv",
    "lithuanian": "lt",
    "slovak": "sk",
    "slovenian": "sl",
    "catalan": "ca",
    "basque": "eu",
    "albanian": "sq",
    "macedonian": "mk",
    "uzbek": "uz",
    "kazakh": "kk",
    "azerbaijani": "az",
    "armenian": "hy",
    "georgian": "ka",
    "belarusian": "be",
    "tagalog": "tl",
    "pushto": "ps",
    "pashto": "ps",
    "bengali": "bn",
    "tamil": "ta",
    "icelandic": "is",
    "somali": "so",
    "swahili": "sw",
    "vietnam": "vi",
    "farsi (persian)": "fa",
}
_UNKNOWN = {"", "und", "unknown", "lang_undefined", "n/a", "none", "null", "zxx", "qme", "qht"}


def normalize_language(value: str | None) -> str | None:
    """ISO 639-1 code for a code or English language name; None when unknown."""
    if value is None:
        return None
    key = value.strip().lower()
    if key in _UNKNOWN:
        return None
    if key in _NAMES:
        return _NAMES[key]
    head = key.replace("_", "-").split("-")[0]
    if 2 <= len(head) <= 3 and head.isalpha():
        return head
    return key[:32]


@functools.lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, min_chars: int = 20) -> str | None:
    """Best-guess language of ``text``; None for text too short to tell."""
    sample = text[:2000]
    if sum(ch.isalpha() for ch in sample) < min_chars:
        return None
    lang, prob = _identifier().classify(sample)
    return lang if prob >= 0.5 else None
