"""Sentence segmentation for news articles and social posts.

Claims are matched sentence by sentence: a re-worded claim is usually one sentence, and
matching whole documents would drown it in everything around it. A match is reported as an
exact slice of the stored text, so every sentence carries the character offsets it came
from and ``text[start:end]`` is always the sentence itself, never a re-spaced copy.

The rules are deliberately plain (one linear regex scan, a little look-around in Python)
so that millions of posts segment quickly and hostile input cannot make them backtrack.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Sentence", "split_sentences"]


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int  # character offset in the original text
    end: int  # exclusive; text[start:end] is the sentence, stripped of surrounding whitespace
    text: str  # == original_text[start:end]


# --- characters (plain strings; the regexes use their re.escape'd forms) ------------------

# Sentence-final punctuation. Latin . ! ? and the ellipsis; Arabic-script ؟ and ۔ (Urdu full
# stop); Devanagari danda; the double marks. "؛" (Arabic semicolon) is deliberately absent.
_CJK_TERM_CHARS = "\u3002\uff01\uff1f\uff61"  # 。！？｡
_TERM_CHARS = ".!?\u2026\u061f\u06d4\u0964\u0965\u203c\u2047\u2048\u2049" + _CJK_TERM_CHARS
# Zero-width marks that sit at sentence edges (bidi marks in Persian posts, BOM, ZWSP).
_INVIS_CHARS = "\u200b\u200e\u200f\u2060\ufeff"
# What may close a sentence after its final punctuation and still belong to it.
_CLOSE_CHARS = (
    "\"'\u201d\u2019\u00bb\u203a)]}\u300d\u300f\uff09\u3011\u3015\u3009\u300b" + _INVIS_CHARS
)
# What may open a sentence (quotes, brackets, Spanish inverted marks, CJK brackets).
_OPEN_CHARS = "\"'\u201c\u2018\u201e\u201a\u00ab\u2039([{\u00bf\u00a1\u300c\u300e\uff08\u3010\u3014\u3008\u300a"
_CJK_TERM = re.escape(_CJK_TERM_CHARS)
_TERM = re.escape(_TERM_CHARS)
_INVIS = re.escape(_INVIS_CHARS)
_CLOSE = re.escape(_CLOSE_CHARS)
_OPEN = re.escape(_OPEN_CHARS)
# Emoji and pictographs (with joiners, variation selectors, keycaps): they trail a sentence.
_EMOJI = (
    "\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\u200d\u20e3\ufe0f"
    "\U0001f000-\U0001faff\U000e0020-\U000e007f"
)
_NL = r"(?:\r\n?|[\n\u2028\u2029\x85])"
_HSPACE = r"[^\S\r\n\u2028\u2029\x85]"

# One scan finds every place a sentence may end:
#  nl   - one or more line breaks (with only horizontal space between them);
#  run  - a run of final punctuation (the look-behind makes the run start only once, so a
#         megabyte of "!!!!" is one match, not a million), then closing quotes/brackets and
#         any trailing emoji or #hashtags, then whitespace and something that can open a
#         sentence (anything but a-z is let through here; Python decides the rest);
#  cjk  - a run ending in 。！？ ends a sentence even with no whitespace after it.
# Every quantifier that could backtrack is possessive, so the scan is linear.
_BOUNDARY_RE = re.compile(
    rf"(?P<nl>{_NL}(?:{_HSPACE}*+{_NL})*+)"
    rf"|(?<![{_TERM}])(?P<run>[{_TERM}]++)(?:"
    rf"(?P<tail>[{_CLOSE}]*+(?:[ \t\u00a0\u3000]*+(?:[{_EMOJI}]++|#\w++))*+)"
    rf"(?=\s[\s{_INVIS}]*+(?:[^\W_a-z]|[{_OPEN}]))"
    rf"|(?<=[{_CJK_TERM}])(?P<cjk>[{_CLOSE}]*+)"
    r")"
)
_SKIP_RE = re.compile(rf"[\s{_INVIS}]*+")
_WORD_RE = re.compile(r"[^\W\d_]++")
# Last whitespace in a window: greedy then one step back at a time, all inside the engine.
_LAST_SPACE_RE = re.compile(r"(?s:.*)\s")
# Start of a list item on a new line: a bullet glyph, "1." / "1)" / "(1)", or "a)".
_BULLET_RE = re.compile(
    r"(?:[-*+\u2022\u25e6\u25aa\u25ab\u2023\u2043\u25cf\u25cb\u25a0\u25ba\u25b6\u27a2\u27a4"
    r"\u2713\u2714\u2705\u274c\U0001f449\U0001f539\U0001f538\U0001f4cc]\ufe0f?"
    r"|\d{1,3}[.)]|\(\d{1,3}\)|[a-zA-Z]\))[ \t\u00a0]"
)
# A list enumerator such as "1." or "iv." at the start of a sentence is not a sentence.
_ENUMERATOR_RE = re.compile(r"(?:\d{1,3}|[A-Za-z]|[ivxlcIVXLC]{1,5})\.")
_ACRONYM_RE = re.compile(r"(?:[A-Za-z]\.){2,6}")
_INITIAL_RE = re.compile(r"[A-Z]\.")

# Every whitespace character Python knows, plus the invisible edge marks: what is trimmed.
_TRIM = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + _INVIS_CHARS
_NL_RE = re.compile(_NL)
_SINGLE_NL = frozenset({"\n", "\r\n", "\r", "\u2028", "\x85"})
_STARTER_CATEGORIES = frozenset({"Lu", "Lt", "Lo", "Nd"})
# After these marks any letter or digit starts the next sentence (scripts without case).
_CASELESS_TERM = frozenset("\u061f\u06d4\u0964\u0965" + _CJK_TERM_CHARS)
# A line ending in one of these continues on the next line; it is not a heading.
_CONTINUES = frozenset(_TERM_CHARS + ",;:([{/&+-\u2013\u2014\u060c\u061b")


def _words(*chunks: str) -> frozenset[str]:
    """A set of words written as space-separated text (easier to read than a long list)."""
    return frozenset(" ".join(chunks).split())


# A line break ends a sentence without final punctuation when the sentence began on that
# line, is at most this long, does not end in a word that needs a continuation ("the", "of",
# a comma), and the next line starts like a sentence: a heading, or one line of a post.
# Longer lines are more likely hard-wrapped prose, so they run on, unless the next line is
# longer than any wrap width (then the text is not hard-wrapped: "Harwick water supply cut
# to 40,000 homes after contamination found" over a one-line paragraph is a headline).
_HEADING_MAX = 64
_TITLE_MAX = 160
_UNWRAPPED = 100
_DANGLING = _words(
    "the a an of to in on at by for from with into onto over about than and or nor but that "
    "as is was are were be been his her their its our my your this these those which who "
    "whose whom said says"
)
# Only look this far back for the word before a period.
_TOKEN_WINDOW = 40

# Abbreviations. NEVER: always followed by more of the same sentence (titles before names,
# "vs.", "e.g."). MAY: usually mid-sentence but may also end one ("in the U.S. The ..."),
# so they end a sentence only when the next word is a common sentence opener.
_NEVER = _words(
    "Mr. Mrs. Ms. Messrs. Mmes. Mme. Mlle. Dr. Drs. Prof. Sen. Sens. Rep. Reps. Gov. Gen. "
    "Col. Lt. Sgt. Cpl. Pvt. Capt. Maj. Adm. Cmdr. Brig. Supt. Insp. Det. Rev. Hon. Pres. "
    "Atty. Amb. St. Ste. Mt. Ft. Rs. vs. v. e.g. i.e. cf. viz. a.k.a. approx. Approx. "
    "MR. MRS. MS. DR. PROF. SEN. REP. GOV. GEN. ST."
)
_MAY = _words(
    "Jr. Sr. Inc. Ltd. Co. Corp. Bros. LLC. PLC. Plc. Cie. GmbH. etc. Etc. "
    "No. Nos. Nr. Vol. Fig. Figs. fig. figs. p. pp. Art. Sec. Ch. Tel. ext. "
    "Jan. Feb. Mar. Apr. Jun. Jul. Aug. Sep. Sept. Oct. Nov. Dec. "
    "dept. Dept. est. Est. min. max. hr. hrs. yr. yrs. "
    "Ala. Ariz. Ark. Calif. Colo. Conn. Del. Fla. Ga. Ill. Ind. Kan. Kans. Ky. La. Md. "
    "Mass. Mich. Minn. Miss. Mo. Mont. Neb. Nev. Okla. Ore. Pa. Tenn. Va. Vt. Wash. Wis. Wyo. "
    "Ave. Blvd. Rd. Sq. Univ. Assn. Dist."
)
# Words that commonly open a sentence; after a MAY abbreviation they mean a new sentence.
_OPENERS = _words(
    "the a an he she it i we they you this that these those there here his her its their our "
    "my your but and or so yet still however meanwhile instead then now later also in on at "
    "for as if when while after before since during despite although though because what "
    "who why how where which no not some many most all both each one two three officials "
    "police"
)
_INITIAL_OPENERS = _OPENERS - {"a", "i"}  # "J. A. Smith", "Malcolm X. I ..." is rarer


def _starts_sentence(ch: str) -> bool:
    """Uppercase letter, digit, caseless-script letter (Arabic, CJK, ...) or opening mark."""
    return ch in _OPEN_CHARS or unicodedata.category(ch) in _STARTER_CATEGORIES


def _period_ends_sentence(text: str, dot: int, nxt: int, sentence_start: int) -> bool:
    """Decide a lone "." at ``dot`` whose next sentence would start at ``nxt``."""
    lo = max(0, dot - _TOKEN_WINDOW)
    window = text[lo : dot + 1]
    raw = window.rsplit(None, 1)[-1]
    if len(raw) == len(window) and lo > 0 and not text[lo - 1].isspace():
        return True  # a very long "word" (URL, path): not an abbreviation
    tok = raw.lstrip(_OPEN_CHARS)
    if tok == ".":
        return True
    if tok in _NEVER:
        return False
    # "1." or "b." alone at the start of a sentence is a list enumerator.
    tok_start = dot + 1 - len(raw)
    if (
        _ENUMERATOR_RE.fullmatch(tok)
        and _SKIP_RE.match(text, sentence_start, tok_start).end() == tok_start
    ):
        return False
    if _INITIAL_RE.fullmatch(tok):
        openers = _INITIAL_OPENERS
    elif (
        tok in _MAY
        or (tok.isupper() and tok.title() in _MAY)
        or tok.lower() in _MAY
        or _ACRONYM_RE.fullmatch(tok)
    ):
        openers = _OPENERS
    else:
        return True
    ch = text[nxt]
    if ch in _OPEN_CHARS:
        return True
    word = _WORD_RE.match(text, nxt, nxt + 16)
    return word is not None and word.group().lower() in openers


def _line_is_heading(
    text: str, sentence_start: int, line_start: int, end: int, next_start: int
) -> bool:
    """Whether the line break at ``end`` ends the current sentence although it has no final
    punctuation: see ``_HEADING_MAX``. The sentence must have begun on this line."""
    if sentence_start < line_start:
        if _SKIP_RE.match(text, sentence_start, line_start).end() < line_start:
            return False
        sentence_start = line_start
    start = sentence_start
    if end - start > 4 * _HEADING_MAX:
        return False
    line = text[start:end].strip(_TRIM)
    if not line or len(line) > _TITLE_MAX:
        return False
    if len(line) > _HEADING_MAX:
        nl = _NL_RE.search(text, next_start, next_start + _UNWRAPPED + 1)
        if nl is not None or len(text) - next_start <= _UNWRAPPED:
            return False  # the next line is short too: perhaps hard-wrapped prose
    last = line.rstrip(_CLOSE_CHARS)[-1:] or line[-1]
    if last in _CONTINUES or not _starts_sentence(text[next_start]):
        return False
    return line.rsplit(None, 1)[-1].lower() not in _DANGLING


def _find_cuts(text: str) -> list[int]:
    """Offsets at which one sentence ends and the next may begin, in increasing order."""
    n = len(text)
    cuts: list[int] = []
    sentence_start = 0
    line_start = 0
    for m in _BOUNDARY_RE.finditer(text):
        nl = m.group("nl")
        if nl is not None:
            here = m.start()
            this_line, line_start = line_start, m.end()
            if nl not in _SINGLE_NL:  # blank line or paragraph separator
                cuts.append(here)
                sentence_start = here
                continue
            nxt = _SKIP_RE.match(text, line_start).end()
            if nxt >= n:
                continue
            if _BULLET_RE.match(text, nxt) or _line_is_heading(
                text, sentence_start, this_line, here, nxt
            ):
                cuts.append(here)
                sentence_start = here
            continue
        end = m.end()
        if m.group("cjk") is not None:
            cuts.append(end)
            sentence_start = end
            continue
        run = m.group("run")
        nxt = _SKIP_RE.match(text, end).end()
        ch = text[nxt]
        if run[-1] in _CASELESS_TERM:
            ok = ch.isalnum() or ch in _OPEN_CHARS
        else:
            ok = _starts_sentence(ch)
        if ok and run == ".":
            ok = _period_ends_sentence(text, m.start(), nxt, sentence_start)
        if ok:
            cuts.append(end)
            sentence_start = end
    return cuts


def _hard_cut(text: str, start: int, limit: int) -> int:
    """End of the first piece of an over-long sentence starting at ``start``: the last
    whitespace within ``limit`` characters, else ``limit`` characters in, stepping back off
    combining marks so a letter keeps its accents."""
    window_end = start + limit + 1
    m = _LAST_SPACE_RE.match(text, start + 1, window_end)
    if m is not None:
        return m.end() - 1
    cut = start + limit
    for _ in range(32):
        if cut - 1 <= start or not unicodedata.combining(text[cut]):
            break
        cut -= 1
    return cut


def split_sentences(text: str, *, min_chars: int = 1, max_chars: int = 1000) -> list[Sentence]:
    """Split ``text`` into sentences with exact offsets: ``text[s.start:s.end] == s.text``.

    Sentences end at . ! ? … ؟ ۔ (and runs of them) followed by whitespace and something
    that opens a sentence, at 。！？ even without whitespace, at blank lines, and at single
    line breaks before a list item or after a short heading-like line. Closing quotes and
    brackets, and trailing emoji or hashtags, stay with the sentence they follow. Common
    abbreviations, initials, numbers, URLs, e-mail addresses, handles and hashtags do not
    end a sentence. Sentences longer than ``max_chars`` are cut at the last whitespace
    before the limit (or hard at the limit); those shorter than ``min_chars`` are dropped.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    out: list[Sentence] = []
    prev = 0
    for cut in [*_find_cuts(text), len(text)]:
        if cut <= prev:
            continue
        seg = text[prev:cut]
        body = seg.strip(_TRIM)
        if body:
            start = prev + len(seg) - len(seg.lstrip(_TRIM))
            end = start + len(body)
            if end - start <= max_chars:
                if end - start >= min_chars:
                    out.append(Sentence(start, end, body))
            else:
                _append_pieces(text, start, end, min_chars, max_chars, out)
        prev = cut
    return out


def _append_pieces(
    text: str, start: int, end: int, min_chars: int, max_chars: int, out: list[Sentence]
) -> None:
    """Cut the sentence ``text[start:end]`` into pieces of at most ``max_chars``."""
    while start < end:
        piece_end = end if end - start <= max_chars else _hard_cut(text, start, max_chars)
        piece = text[start:piece_end].rstrip(_TRIM)
        if piece and len(piece) >= min_chars:
            out.append(Sentence(start, start + len(piece), piece))
        start = _SKIP_RE.match(text, piece_end, end).end()
