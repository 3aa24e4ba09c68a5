"""Does a copy say where it came from? Credits found in a document's text and links.

A copy can credit its source by linking to it (the page or its site), by naming the
outlet or one of its aliases, by an agency byline or credit ("PA", "(AFP)", "Reuters"),
by an attribution phrase ("according to ...", "به گزارش ..."), by citing a news outlet
("told the Daily Mail"), by citing an organisation's statement ("a police spokesman
said"), or by quoting the copied text. Each credit found is reported with its kind and the
exact span of text, so an editor can check it; whether the credit names the parent is
decided separately.

What is not a credit matters as much, because court and crime reports are full of
speech: "told the jury", "said on Tuesday", a paragraph that opens "By halting the
inquiry...", "a PA to a businessman" (a personal assistant) name no source of the story.

Phrase lists and agency names are data files (``trace/data/*.tsv``) that users extend
with their own files of the same format.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from echoscope.detect.text import _TABLE

DATA = Path(__file__).parent / "data"
QUOTES_OPEN = "\"“«‘'„"
QUOTES_CLOSE = "\"”»’'“"


@dataclass(frozen=True)
class Credit:
    kind: str  # link | link-domain | names-source | agency | phrase | byline | quote | learned
    begin: int | None  # span in the document's text (None for a link)
    end: int | None
    text: str  # the exact span, or the URL
    credited: str | None  # whom it credits, when it names someone
    names_parent: bool  # it credits the parent specifically
    # the credit scorer's probability for the sentence holding it (trace.credit_model),
    # when the scorer read it
    score: float | None = None


@dataclass(frozen=True)
class Phrase:
    kind: str
    text: str
    lang: str


def _read_tsv(path: Path) -> list[list[str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rows.append(line.split("\t"))
    return rows


class _Phrases(tuple):
    """The phrase list, hashed once: it keys the caches of compiled patterns, looked up on
    every call, and a tuple of hundreds of phrases hashed each time cost more than the
    matching on a short post."""

    def __hash__(self) -> int:
        cached = self.__dict__.get("hash")
        if cached is None:
            cached = self.__dict__["hash"] = tuple.__hash__(self)
        return cached


@functools.lru_cache(maxsize=8)
def load_phrases(extra: tuple[str, ...] = ()) -> tuple[Phrase, ...]:
    out: list[Phrase] = []
    files = [(DATA / "attribution_en.tsv", "en"), (DATA / "attribution_fa.tsv", "fa")]
    files += [(Path(p), Path(p).stem.rsplit("_", 1)[-1]) for p in extra]
    for path, lang in files:
        for row in _read_tsv(path):
            if len(row) >= 2 and row[1].strip():
                out.append(Phrase(row[0].strip(), row[1].strip(), lang))
    return _Phrases(out)


@functools.lru_cache(maxsize=8)
def load_agencies(extra: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """Canonical agency name -> aliases (a leading '=' marks a case-sensitive alias)."""
    out: dict[str, tuple[str, ...]] = {}
    for path in [DATA / "agencies.tsv", *map(Path, extra)]:
        for row in _read_tsv(path):
            if len(row) >= 2:
                out[row[0].strip()] = tuple(a.strip() for a in row[1].split("|") if a.strip())
    return out


@functools.lru_cache(maxsize=4096)
def agency_of(source: str | None, extra_agencies: tuple[str, ...] = ()) -> str | None:
    """The canonical news agency a source name stands for ("PA" -> "PA Media"), by any
    of its names in any case; None for a source that is not an agency."""
    if not isinstance(source, str) or not source:
        return None
    name = source.lower()
    for canonical, aliases in load_agencies(extra_agencies).items():
        if name == canonical.lower() or name in {a.lstrip("=").lower() for a in aliases}:
            return canonical
    return None


def load_aliases(path: str | Path | None) -> dict[str, tuple[str, ...]]:
    """A user's file of source<TAB>alias|alias: how outlets are named in text."""
    if path is None:
        return {}
    return {
        row[0].strip(): tuple(a.strip() for a in row[1].split("|") if a.strip())
        for row in _read_tsv(Path(path))
        if len(row) >= 2
    }


class _Folded:
    """The text with Arabic-script variants unified and case folded, and a map from each
    folded character back to its offset in the original."""

    def __init__(self, text: str) -> None:
        chars: list[str] = []
        index: list[int] = []
        for i, ch in enumerate(text):
            folded = ch.translate(_TABLE).lower()
            for f in folded:
                chars.append(f)
                index.append(i)
        self.text = "".join(chars)
        self.index = index
        self.original = text

    def span(self, start: int, end: int) -> tuple[int, int]:
        if start >= len(self.index):
            return len(self.original), len(self.original)
        return self.index[start], self.index[end - 1] + 1


def _word_pattern(phrase: str) -> re.Pattern[str]:
    body = re.escape(phrase.translate(_TABLE).lower()).replace(r"\ ", r"\s+")
    left = r"(?<!\w)" if phrase[:1].isalnum() else ""
    right = r"(?!\w)" if phrase[-1:].isalnum() else ""
    return re.compile(left + body + right)


@functools.lru_cache(maxsize=4096)
def _compiled(phrase: str, case_sensitive: bool) -> re.Pattern[str]:
    if case_sensitive:
        return re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)")
    return _word_pattern(phrase)


# words before an all-capitals acronym that make it a common noun, not an agency or outlet:
# "a PA to the chairman", "her PA" (a personal assistant); and before "to": "as PA to"
_ACRONYM_AS_NOUN_BEFORE = {"a", "an", "his", "her", "my", "our", "their", "your", "its"}
_PRONOUNS = {"HE", "SHE", "WE", "THEY", "IT", "YOU", "I", "THE", "A", "AN"}
_BYLINE_MAX_WORDS = 10


def _acronym_is_noun(text: str, begin: int, end: int) -> bool:
    """An all-capitals name used as a common noun ("a PA to the chairman"), so not a credit."""
    name = text[begin:end]
    if not (name.isupper() and len(name) <= 4):
        return False
    before = re.findall(r"[\w']+", text[max(0, begin - 20) : begin])
    after = re.match(r"\s+(\w+)", text[end : end + 20])
    return bool(
        (before and before[-1].lower() in _ACRONYM_AS_NOUN_BEFORE)
        or (after and after.group(1) == "to")
    )


def _looks_like_byline(rest: str) -> bool:
    """A byline line after "By": a name or desk, short, and not a sentence ("By Elena Marsh,
    Northern Wire Service", "By PA reporter"; not "By halting the inquiry, he..." nor "By
    Monday the jury had retired.")."""
    rest = rest.strip()
    return (
        bool(rest)
        and rest[0].isupper()
        and len(rest.split()) <= _BYLINE_MAX_WORDS
        and rest[-1] not in ".?!:;"
    )


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation of phrases, longest first, spaces as any whitespace."""
    return "|".join(
        re.escape(w).replace(r"\ ", r"\s+") for w in sorted(set(words), key=len, reverse=True)
    )


@functools.lru_cache(maxsize=8)
def _statement_patterns(phrases: tuple[Phrase, ...]) -> tuple[re.Pattern[str], ...]:
    """Patterns for an organisation's statement: speaker then verb ("A Metropolitan Police
    spokesman said", "the Royal College of Nursing claimed", "police in Sydney last night
    said", "The RSPCA, which brought the case, said"), verb then speaker at the end of the
    clause ("said the Commission."), initials then verb ("BA said", "the CPS confirmed"),
    and a name with an organisation in apposition ("Mencap, the charity for the
    handicapped, condemned"), and a term it gives ("what police call an army council")."""
    speakers = [p.text for p in phrases if p.kind == "speaker"]
    verbs = [p.text for p in phrases if p.kind == "statement-verb"]
    inverted = [p.text for p in phrases if p.kind == "inverted-verb"] or verbs
    roles = [p.text for p in phrases if p.kind == "speaker-role"]
    if not speakers or not verbs:
        return ()
    spk = f"(?i:{_alternation(speakers)})"
    role = rf"(?:\s+(?i:{_alternation(roles)}))?" if roles else ""
    verb = f"(?i:{_alternation(verbs)})"
    det = r"(?i:an?|the|his|her|its|their)\s+"
    cap = r"[A-Z][\w'&-]*"
    # "also", "last night", "yesterday" between the speaker and the verb
    adverbs = r"(?:\s+(?:[a-z]+ly|also|yesterday|today|tonight|last\s+night|later|earlier))"
    # a relative clause: "The RSPCA, which brought the case, said", "Detectives who
    # investigated the case said", "the Society of Black Lawyers who said" (not "police who
    # believed": the police's belief at the time is part of the story)
    # (or with its closing comma left out: "A spokeswoman for the RSPCA, who brought the
    # case said")
    # or a description between dashes: "The Bristol Surgeons Support Group - made up of
    # parents, patients and friends - said"
    relative = (
        r"(?:,\s+(?:which|who)\s+[^,.;:!?\n]{1,60},|,?\s+(?:who|which)\s+[a-z][^,.;:!?\n]{1,50}?"
        r"|\s+-\s+[a-z][^-.;:!?\n]{1,80}?\s+-|,?\s+(?:who|which)(?=\s+(?:said|says|say|added|stated|warned|insisted|confirmed|announced)\b))"
    )
    org_tail = (
        rf"(?:\s+(?i:of|for|at|in|from)\s+(?:(?i:the)\s+)?{cap}"
        rf"(?:\s+(?:(?:and|of|for|the)\s+)?{cap}){{0,4}})"
    )
    # "has said", "have confirmed" (not "had": the background of the case)
    aux = r"(?:\s+(?:have|has))?"
    subject_first = re.compile(
        rf"(?<!\w)(?:{det})?(?:{cap}\s+){{0,3}}{spk}(?:\s+{spk})?{role}{org_tail}?(?:\s+{spk})?"
        rf"{relative}?{adverbs}{{0,2}}{aux}\s+{verb}(?!\w)"
    )
    # a lower-case description before the name: "pressure group Inquest said", "the charity
    # Mencap condemned" (not "Police Constable Smith said": the description is lower case)
    # persons' roles are left out: "spokesman Gerry Kelly said" is a named person (N2)
    lower_spk = _alternation(w.lower() for w in speakers if not _PERSON_ROLE.match(w))
    described = re.compile(
        rf"(?<![\w-])(?:{lower_spk})\s+{cap}(?:\s+{cap}){{0,3}}{relative}?{adverbs}{{0,2}}{aux}"
        rf"\s+{verb}(?!\w)"
    )
    # a named body, then "which" and its statement: "Mencap, which condemned the operation",
    # "the Royal Commission on Long-term Care, which said"
    which_said = re.compile(rf"(?<!\w){cap},\s+which{adverbs}{{0,2}}{aux}\s+{verb}(?!\w)")
    # the passive: "described by police as", "said by the RSPCA to be"
    passive = re.compile(
        rf"(?<!\w)(?:{verb})\s+by\s+(?:(?i:the)\s+)?(?:(?:{cap}\s+){{0,3}}{spk}|[A-Z]{{2,6}})(?!\w)"
    )
    verb_first = re.compile(
        rf"(?<!\w)(?i:{_alternation(inverted)})\s+(?i:an?|the)\s+(?:[\w'&-]+\s+){{0,3}}?{spk}(?!\w)"
        # "said a spokeswoman for the trust", not "said the group of four men"
        r"(?=\s*(?:[.,;:!?\"”]|['’](?!s\b)|$|\s+(?:for|of|at)\s+(?:the\b|[A-Z])))"
    )
    lower_verbs = _alternation(v.lower() for v in verbs)
    initials = re.compile(
        rf"(?<![\w.'’])([A-Z]{{2,6}}){relative}?{adverbs}{{0,2}}\s+(?:{lower_verbs})(?!\w)"
    )
    # the speaker word must end the apposition (or lead an "of/for" phrase), so "Dr Jones,
    # the hospital consultant, said" (a person) is not an organisation speaking
    appositive = re.compile(
        rf"(?<!\w){cap}(?:\s+{cap}){{0,3}},\s+(?i:the|an?)\s+(?:[a-z-]+\s+){{0,2}}{spk}"
        rf"(?:\s+(?:for|of)\s+[^,.;:!?\n]{{1,40}})?,{adverbs}{{0,2}}\s+{verb}(?!\w)"
    )
    naming_verbs = [p.text for p in phrases if p.kind == "naming-verb"]
    naming = (
        re.compile(
            rf"(?<!\w)(?i:what)\s+(?:(?i:the)\s+)?(?:{cap}\s+){{0,3}}{spk}{role}\s+"
            rf"(?i:{_alternation(naming_verbs)})(?!\w)"
        )
        if naming_verbs
        else None
    )
    found = (subject_first, verb_first, initials, appositive, described, which_said, passive)
    extra = [naming] if naming else []
    bodies = [p.text for p in phrases if p.kind == "organisation"]
    if bodies:
        # "Mencap condemned", "The Age Concern charity" is a speaker already
        body = rf"(?:(?i:the)\s+)?(?:{_alternation(bodies)})"
        extra += [
            re.compile(rf"(?<![\w-]){body}{relative}?{adverbs}{{0,2}}{aux}\s+{verb}(?!\w)"),
            # "said Age Concern.", "condemned by Sinn Fein"
            re.compile(
                rf"(?<!\w)(?i:{_alternation(inverted)})\s+{body}(?=\s*(?:[.,;:!?\"”]|['’](?!s\b)|$))"
            ),
            re.compile(rf"(?<!\w)(?:{verb})\s+by\s+{body}(?!\w)"),
        ]
    states = [p.text for p in phrases if p.kind == "state"]
    if states:
        # "Chile announced", "Spain, Switzerland and France said"
        extra.append(
            re.compile(rf"(?<![\w-])(?:{_alternation(states)}){adverbs}{{0,2}}{aux}\s+{verb}(?!\w)")
        )
    documents = [p.text for p in phrases if p.kind == "document"]
    doc_verbs = [p.text for p in phrases if p.kind == "document-verb"]
    if documents and doc_verbs:
        # "a Home Office study stating": a body named in capitals, its document, a verb
        extra.append(
            re.compile(
                rf"(?<!\w)(?i:an?|the)\s+(?:{cap}\s+){{1,4}}(?i:{_alternation(documents)})"
                rf"{adverbs}{{0,2}}{aux}\s+(?i:{_alternation(doc_verbs)})(?!\w)"
            )
        )
    believers = [p.text for p in phrases if p.kind == "belief-speaker"]
    beliefs = [p.text for p in phrases if p.kind == "belief-verb"]
    if believers and beliefs:
        # "officers fear", "investigating officers still fear", "Senior officers said"; not
        # "the officers said" (those of the case)
        extra.append(
            re.compile(
                rf"(?<![\w-])(?<!the )(?<!The )(?:(?i:[a-z]+ing|senior)\s+)?(?i:{_alternation(believers)})"
                rf"(?:\s+who)?(?:\s+(?:still|now|also))?\s+(?:{_alternation(beliefs)})(?!\w)"
            )
        )
    return (*found, *extra)


# "according to Dawkins," / "according to Don Tait, prosecuting": a person's own account;
# "courtesy of Mr Carman" (a tag given by counsel)
_PERSON_IS_NOT_A_CHANNEL = frozenset({"according to", "courtesy of"})
_TITLES = r"(?:Mr|Mrs|Ms|Miss|Dr|Sir|Lord|Lady|Judge|Professor|Prof|Det|Insp|Sgt)\.?\s+"
_PERSON_NEXT = re.compile(
    rf"\s+(?:{_TITLES})?([A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){{0,2}})(?=\s*(?:[,.;:!?)]|$))"
)
# "In a statement, Mr Amor said": the statement names the channel whoever speaks
_STATEMENT_OPENS = re.compile(r"(?i)in\s+an?\s+(?:\w+\s+)?statement")
# "..., Mr Temple said." at the end of the sentence: a named person's account
_PERSON_SAID = re.compile(
    rf",\s+{_TITLES}[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?,?\s+(?:said|added|told|claimed|alleged)\b"
)
# "Mr Fitzgerald said Hindley had a case, which was confirmed by the Parole Board": the
# sentence is a named person's account from its first words
_PERSON_OPENS = re.compile(
    rf"\s*{_TITLES}[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?\s+(?:said|told|claimed|alleged|argued)\b"
)
# "..., said Mr Sloan." / "Mr Grace added:": a named person's account anywhere in a paragraph
_QUOTE_PARAGRAPH = re.compile(r"[ \t]*(?:``|[\"“‘'])")
_PERSON_ACCOUNT = re.compile(
    rf"(?:,\s+(?:he|she)\s+(?:said|added)\b"
    rf"|(?<!\w)(?:said|added|told|claimed|alleged)\s+{_TITLES}[A-Z][\w'’-]+"
    rf"|(?<!\w){_TITLES}[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?,?\s+(?:said|added|told|claimed|alleged)\b)"
)
# the place is the hearing: "criticised by the Home Office in the High Court yesterday"
_AT_COURT = re.compile(
    r"\s+(?:in|at|before)\s+(?:(?:the|an?)\s+)?(?:[A-Z][\w'’-]*\s+){0,3}?"
    r"(?:[Cc]ourt|Bailey|[Tt]ribunal|inquest|hearing)\b"
)
# a belief verb that ends its clause is a noun: "colluded to murder IRA suspects."
_CLAUSE_ENDS = re.compile(r"\s*(?:[.,;:!?)]|$)")
_NOUN_TOO = frozenset({"suspect", "suspects", "fear", "fears"})
_PERSON_ROLE = re.compile(r"(?i)spokes|sources?$|insiders?$|aides?$")
_CAPS_ARTICLE = re.compile(r"(?<![\w])(?:A|AN|THE)\s+$")
# an organisation named as part of a person's title is that person speaking, as is the
# object of a preposition: "Lloyd Clarke, Assistant Chief Constable of
# West Yorkshire Police, said", "Mr Jones, who works for the JCB machinery company said"
_OF_BEFORE = re.compile(
    r"(?<!\w)(?:of|for|at|from|with)\s+(?:(?:the|an?|his|her|its|their)\s+)?(?:(?!(?:who|which|that|what)\b)[\w'&-]+\s+){0,3}$"
)
_CLAUSE_START = re.compile(r"[,.;:!?\n(]")
# a paper that is a party to the case ("is suing the newspaper for libel"): "the
# newspaper" elsewhere in the report is that party, not a channel (N5)
_PAPER_AS_PARTY = re.compile(
    r"(?i)(?<!\w)(?:su(?:ing|ed|es?)|libel\s+(?:action|case|claim)\s+against)\s+(?:the\s+)?"
    r"(?:newspaper|paper|magazine)(?!\w)"
    r"|(?<!\w)the\s+(?:newspaper|paper|magazine)\s+(?:denies|denied|is\s+defending)(?!\w)"
)
# "... cash.' A police source said"; wire copy closes a quote with two apostrophes
_SENTENCE_END = re.compile(r"[.!?](?:''|[\"'’”])?(?=\s|$)|\n")


_QUOTE_MARK = re.compile(
    r"(?P<open>``|[“‘]|(?:^|(?<=[\s:(]))[\"'](?=[\w.]))"
    r"|(?P<close>''|[”’](?![\w])|(?<=[\w.,!?;:])[\"'](?=[\s.,;:!?)]|$))",
    re.MULTILINE,
)


def _sentence(text: str, begin: int, end: int) -> tuple[int, int]:
    """The sentence (or paragraph line) around a span, roughly: enough to tell whose
    account it is."""
    start = 0
    for m in _SENTENCE_END.finditer(text, max(0, begin - 400), begin):
        start = m.end()
    m = _SENTENCE_END.search(text, end)
    return start, (m.end() if m else len(text))


def _inside_quote(text: str, pos: int) -> bool:
    """``pos`` is inside words quoted in its paragraph: a quote opened before it (at the
    start of a line or after a space, colon or bracket) and not closed since. Apostrophes
    inside words ("Mencap's") are neither; a plural possessive ("the boys' bikes") reads
    as a close, which errs towards treating the words as the paper's own."""
    inside = False
    para = text.rfind("\n", 0, pos) + 1
    for m in _QUOTE_MARK.finditer(text, para, min(len(text), pos + 1)):
        inside = m.group("open") is not None
    return inside


def _of_before(text: str, begin: int) -> bool:
    """A preposition (and up to three words) before ``begin`` in the same clause."""
    clause = begin
    while clause > max(0, begin - 60) and not _CLAUSE_START.match(text, clause - 1):
        clause -= 1
    return bool(_OF_BEFORE.search(text[clause:begin]))


def _person_not_channel(after: str, speakers: re.Pattern[str] | None) -> bool:
    """ "according to" followed by a person's name, not an organisation ("according to the
    RCN", "according to Scotland Yard") nor a spokesman ("according to Jo Bell, a spokeswoman
    for the trust")."""
    m = _PERSON_NEXT.match(after)
    if not m:
        return False
    name = m.group(1)
    if name.isupper() or (speakers is not None and speakers.search(name)):
        return False
    role = re.match(r",\s+(?:an?|the)\s+([^,.;:!?\n]{1,60})", after[m.end() :])
    return not (role and speakers is not None and speakers.search(role.group(1)))


@functools.lru_cache(maxsize=8)
def _outlet_patterns(phrases: tuple[Phrase, ...]) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """(phrase that needs an outlet, outlet within the next few words)."""
    needs = [p.text for p in phrases if p.kind == "to-outlet"]
    outlets = [p.text for p in phrases if p.kind == "outlet"]
    if not needs or not outlets:
        return None
    plain = [o for o in outlets if not o.startswith("=")]
    exact = [o[1:] for o in outlets if o.startswith("=")]
    parts = []
    if plain:
        parts.append(f"(?i:{_alternation(plain)})")
    if exact:
        parts.append(_alternation(exact))
    # an adverb may split a phrase: "appeared anonymously on BBC1's Crimewatch"
    alternation = _alternation(needs).replace(r"\s+", r"\s+(?:[a-z]+ly\s+)?")
    phrase = re.compile(rf"(?<!\w)(?i:{alternation})(?!\w)")
    # the outlet, at most two words on, with the capitalised words of its title: "told the
    # Daily Mail", "told BBC Radio 4's Today", "told the New York Times"
    # within its paragraph: a headline's last word is not told the byline under it
    ws = r"(?:[ \t]*\n[ \t]*|[ \t]+)"
    outlet = re.compile(
        rf"{ws}(?:[a-z][\w'’-]*{ws}){{0,2}}?(?<!\w)((?:[A-Z][\w'’-]*{ws}){{0,2}}?"
        rf"(?:{'|'.join(parts)})(?:{ws}[A-Z][\w'’-]*){{0,3}})(?!\w)"
    )
    return phrase, outlet


def _norm_url(url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.")
    return host + parts.path.rstrip("/") + (("?" + parts.query) if parts.query else "")


def _domain(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.") or None


def _names(source: str | None, aliases: Iterable[str]) -> list[tuple[str, bool]]:
    """(name, case_sensitive) pairs a text may use for a source."""
    names: list[tuple[str, bool]] = []
    for name in [source, *aliases]:
        if not name:
            continue
        if name.startswith("="):
            names.append((name[1:], True))
        elif len(name) <= 3 and name.isupper():
            names.append((name, True))  # short acronyms only in capitals
        elif " " not in name.strip() and name.isascii():
            # one-word names are often common words ("sun", "times", "mirror"): only the
            # capitalised name counts, as a masthead is written ("the Sun", "The Times")
            word = name.strip()
            names.append((word if word[:1].isupper() else word[:1].upper() + word[1:], True))
        else:
            names.append((name, False))
    return names


def _mentions(window: str, names: Iterable[tuple[str, bool]]) -> bool:
    """Some (name, case_sensitive) pair from ``_names`` occurs in ``window``."""
    folded = None
    for n, cs in names:
        if not cs and folded is None:
            folded = window.translate(_TABLE).lower()
        if _compiled(n, cs).search(window if cs else folded):
            return True
    return False


def names_source(
    text: str,
    source: str | None,
    aliases: Iterable[str] = (),
    extra_agencies: tuple[str, ...] = (),
) -> bool:
    """``text`` names ``source`` (or an alias, or its agency's names if it is an agency)."""
    names = _source_names(source, aliases, extra_agencies)
    return bool(names) and _mentions(text, names)


def _source_names(
    source: str | None, aliases: Iterable[str], extra_agencies: tuple[str, ...]
) -> list[tuple[str, bool]]:
    """The names a text may use for a source: its own and aliases, and, when it is an
    agency under another name, the agency's canonical names."""
    names = _names(source, aliases)
    agency = agency_of(source, extra_agencies)
    if agency:
        names += _names(agency, load_agencies(extra_agencies)[agency])
    return names


def find_credits(
    text: str,
    links: Iterable[str] = (),
    *,
    parent_source: str | None = None,
    parent_url: str | None = None,
    parent_aliases: Iterable[str] = (),
    quoted_spans: Iterable[tuple[int, int]] = (),
    extra_phrases: tuple[str, ...] = (),
    extra_agencies: tuple[str, ...] = (),
    own_source: str | None = None,
    own_aliases: Iterable[str] = (),
) -> list[Credit]:
    """Every credit in ``text`` and ``links``, each marked if it names the parent.

    ``own_source`` is the document's own outlet: a paper citing itself ("told The Sun" in
    the Sun) names no other source, so such credits are dropped."""
    credits: list[Credit] = []
    folded = _Folded(text)
    agencies = load_agencies(extra_agencies)
    # an agency's own copy naming the agency ("told the Press Association" in PA copy)
    own_agency = agency_of(own_source, extra_agencies)
    if own_agency:
        own_aliases = (*own_aliases, own_agency, *agencies[own_agency])
    parent_names = _source_names(parent_source, parent_aliases, extra_agencies)
    parent_agency = agency_of(parent_source, extra_agencies)
    # 1. links
    links = [link for link in links if link]
    if parent_url:
        target = _norm_url(parent_url)
        for link in links:
            if _norm_url(link) == target:
                credits.append(Credit("link", None, None, link, parent_url, True))
                break
        else:
            domain = _domain(parent_url)
            for link in links:
                if domain and _domain(link) == domain:
                    credits.append(Credit("link-domain", None, None, link, domain, True))
                    break
    # 2. the parent named in the text
    for name, case_sensitive in parent_names:
        pattern = _compiled(name, case_sensitive)
        hay = text if case_sensitive else folded.text
        for m in pattern.finditer(hay):
            b, e = (m.start(), m.end()) if case_sensitive else folded.span(m.start(), m.end())
            if case_sensitive and _acronym_is_noun(text, b, e):
                continue
            if not any(c.kind == "names-source" and (c.begin, c.end) == (b, e) for c in credits):
                # several spellings of one name ("Reuters", "reuters") find the same words
                credits.append(Credit("names-source", b, e, text[b:e], parent_source, True))
            break
    # 3. agency credits (any agency; names the parent if it is the parent's agency)
    for canonical, aliases in agencies.items():
        for name, case_sensitive in _names(None, aliases):
            pattern = _compiled(name, case_sensitive)
            hay = text if case_sensitive else folded.text
            found = None
            for m in pattern.finditer(hay):
                b, e = (m.start(), m.end()) if case_sensitive else folded.span(m.start(), m.end())
                if not (case_sensitive and _acronym_is_noun(text, b, e)):
                    found = (b, e)
                    break
            if found:
                b, e = found
                credits.append(
                    Credit("agency", b, e, text[b:e], canonical, canonical == parent_agency)
                )
                break
    # 4. phrases
    phrases = load_phrases(extra_phrases)
    person_initials = {p.text for p in phrases if p.kind == "person-initials"}
    court_source, court_speech, speaker_re, admission, norm, narration, no_comment = (
        _court_patterns(phrases)
    )

    for phrase in phrases:
        if phrase.kind == "byline":
            # a whole short line: "By Elena Marsh, Northern Wire Service", "By PA reporter"
            pattern = re.compile(
                r"(?:^|\n)[ \t]*("
                + re.escape(phrase.text)
                + r"[ \t]+([^\n]{2,80}?))[ \t\r]*(?=\n|$)",
                re.IGNORECASE,
            )
            m = next((m for m in pattern.finditer(text) if _looks_like_byline(m.group(2))), None)
            if m:
                line = m.group(1)
                credits.append(
                    Credit(
                        "byline", m.start(1), m.end(1), line, None, _mentions(line, parent_names)
                    )
                )
            continue
        if phrase.kind not in ("credit", "said"):
            continue  # the parts of the outlet and statement rules below
        for m in _compiled(phrase.text, False).finditer(folded.text):
            b, e = folded.span(m.start(), m.end())
            if (phrase.kind == "credit" or phrase.text.endswith(" to")) and (
                (court_source and court_source.match(text, e))
                or (
                    phrase.text.lower() in _PERSON_IS_NOT_A_CHANNEL
                    and (
                        _person_not_channel(text[e : e + 120], speaker_re)
                        or (norm is not None and norm.match(text, e))
                    )
                )
            ):
                continue
            if phrase.kind == "credit" and _continues_a_case(text, b, court_speech, narration):
                continue  # "a court was told yesterday. / According to doctors ..."
            if any(c.kind == "phrase" and c.begin <= b and e <= c.end for c in credits):
                continue  # "in a statement" inside "said in a statement", found already
            # what follows (credit) or precedes (said) names whom it credits
            window = text[e : e + 80] if phrase.kind == "credit" else text[max(0, b - 80) : b]
            credits.append(Credit("phrase", b, e, text[b:e], None, _mentions(window, parent_names)))
    # 4b. citing a news outlet: "told the Daily Mail", "in an interview with BBC Radio 4"
    outlet_rule = _outlet_patterns(phrases)
    if outlet_rule:
        needs, outlet = outlet_rule
        paper_is_party = bool(_PAPER_AS_PARTY.search(text))
        for m in needs.finditer(text):
            o = outlet.match(text, m.end(), min(len(text), m.end() + 60))
            if o and o.group(1).islower() and paper_is_party:
                continue  # "told the newspaper's reporters" when the paper is being sued (N5)
            if o:
                b, e = m.start(), o.end()
                credits.append(
                    Credit(
                        "phrase", b, e, text[b:e], o.group(1), _mentions(text[b:e], parent_names)
                    )
                )
    # 4c. an organisation's statement: "a police spokesman said", "BA said"
    taken: list[tuple[int, int]] = []
    patterns = _statement_patterns(phrases)
    initials = patterns[2] if patterns else None
    verb_first_ = patterns[1] if patterns else None
    passive_ = patterns[6] if patterns else None
    for pattern in patterns:
        for m in pattern.finditer(text):
            b, e = m.start(), m.end()
            if pattern is initials and (
                m.group(1) in _PRONOUNS
                or m.group(1) in person_initials
                or _CAPS_ARTICLE.search(text, max(0, b - 5), b)
            ):
                continue  # "QC said"; "A JUDGE yesterday described" is a headline in capitals
            if (
                pattern is initials
                and m.group(0).rsplit(None, 1)[-1].lower() in _NOUN_TOO
                and _CLAUSE_ENDS.match(text, e)
            ):
                continue  # "to murder IRA suspects." : a noun, not a verb
            if any(b < te and tb < e for tb, te in taken):
                continue
            if _inside_quote(text, b):
                continue  # "Mr Congdon said: 'Mencap believes ...'": his words, not a channel
            if admission is not None and admission.match(text, e):
                continue  # "the trust admits liability": an admission in the proceedings
            if no_comment is not None and no_comment.search(text, e, _sentence(text, b, e)[1]):
                continue  # "a spokesman said the company had no comment to make"
            if pattern is passive_ and (
                _continues_a_case(text, b, court_speech, narration) or _AT_COURT.match(text, e)
            ):
                continue  # "He was reported by fellow workers to be angry" in the case;
                # "criticised by the Home Office in the High Court"
            if pattern is not verb_first_ and _of_before(text, b):
                continue  # "Lloyd Clarke, Assistant Chief Constable of West Yorkshire Police, ..."
            taken.append((b, e))
            credits.append(
                Credit("phrase", b, e, text[b:e], None, _mentions(text[b:e], parent_names))
            )
    # 5. quoting the copied passage
    for begin, end in quoted_spans:
        before = text[max(0, begin - 3) : begin]
        after = text[end : end + 3]
        if any(q in before for q in QUOTES_OPEN) and any(q in after for q in QUOTES_CLOSE):
            credits.append(Credit("quote", begin, end, text[begin:end][:200], None, False))
    return [
        c
        for c in credits
        if not (c.kind == "phrase" and _inside_proceedings(text, c, court_speech, narration))
        and not _names_self(c, own_source, own_aliases)
    ]


@functools.lru_cache(maxsize=8)
def _court_patterns(
    phrases: tuple[Phrase, ...],
) -> tuple[re.Pattern[str] | None, ...]:
    """(proceedings right after "according to", proceedings in the same sentence, any
    speaker word, an admission right after a statement verb, a rule right after
    "according to", narration of the hearing, a statement that gives nothing)."""

    def words(kind: str) -> list[str]:
        return [p.text for p in phrases if p.kind == kind]

    source, speech, speakers = words("court-source"), words("court-speech"), words("speaker")
    narration, no_comment = words("court-narration"), words("no-comment")
    admitted, norms = words("admission"), words("norm")
    return (
        re.compile(rf"\s+(?:[a-z]+\s+){{0,2}}?(?i:{_alternation(source)})(?!\w)")
        if source
        else None,
        # on word boundaries only where a phrase starts or ends with a letter: ", prosecuting,"
        re.compile(
            "|".join(_word_pattern(w).pattern for w in sorted(set(speech), key=len, reverse=True)),
            re.IGNORECASE,
        )
        if speech
        else None,
        re.compile(rf"(?<!\w)(?i:{_alternation(speakers)})(?!\w)") if speakers else None,
        re.compile(rf"\s+(?i:{_alternation(admitted)})(?!\w)") if admitted else None,
        # "according to the rules as they stood": up to three words, then the rule
        re.compile(
            rf"\s+(?:(?i:the|an?|his|her|its|their)\s+)?(?:[\w'-]+\s+){{0,3}}?"
            rf"(?i:{_alternation(norms)})(?!\w)"
        )
        if norms
        else None,
        re.compile(rf"(?<!\w)(?i:{_alternation(narration)})(?!\w)") if narration else None,
        re.compile(rf"(?<!\w)(?i:{_alternation(no_comment)})(?!\w)") if no_comment else None,
    )


def _inside_proceedings(
    text: str,
    credit: Credit,
    court_speech: re.Pattern[str] | None,
    narration: re.Pattern[str] | None = None,
) -> bool:
    """A credit in a sentence that the hearing or a named person speaks ("police believe he
    fled, the court heard"; "..., Mr Temple said.") is their account, not a source's."""
    if credit.begin is None or credit.end is None:
        return False
    start, stop = _sentence(text, credit.begin, credit.end)
    sentence = text[start:stop]
    if court_speech is not None and court_speech.search(sentence):
        return True
    # earlier in the same paragraph: "The court was told that ... According to a police
    # statement, General Pinochet told his arresting officer ..."
    para = text.rfind("\n", 0, start) + 1
    if narration is not None and narration.search(text, para, start):
        return True
    if _PERSON_SAID.search(text, credit.end, stop) and not _STATEMENT_OPENS.match(credit.text):
        return True  # (but "In a statement, Mr Amor said" is his statement: a channel)
    opening = _PERSON_OPENS.match(text, start)
    return bool(opening and opening.end() <= credit.begin)


def _continues_a_case(
    text: str,
    begin: int,
    court_speech: re.Pattern[str] | None,
    narration: re.Pattern[str] | None,
) -> bool:
    """A report of one side's case runs over several paragraphs after the hearing or a
    named person is first given as its teller ("a court was told yesterday. / According to
    doctors the child was struck"; "..., said Mr Sloan. / He was reported by fellow
    workers to be angry"). A source cited inside it ("according to", "reported by",
    "criticised by") is part of that account, not the paper's own source. Only the
    paragraph so far and the last sentence before it are read: a paragraph that has
    moved on to background ("..., has already been to prison twice. / According to
    officers in the case") hands over to the paper's own reporting."""
    para = text.rfind("\n", 0, begin) + 1
    start = para
    # a paragraph that is all quotation carries on its speaker from the one before it
    for _ in range(3):
        prev_end = start
        while prev_end > 0 and text[prev_end - 1] in "\n \t":
            prev_end -= 1
        if prev_end == 0:
            break
        start = text.rfind("\n", 0, prev_end) + 1
        if not _QUOTE_PARAGRAPH.match(text, start):
            break
    if start < para:
        last = start
        for m in _SENTENCE_END.finditer(text, start, prev_end):
            if m.end() < prev_end - 2:
                last = m.end()
        start = last
    return any(
        pattern is not None and pattern.search(text, start, begin)
        for pattern in (court_speech, narration, _PERSON_ACCOUNT)
    )


def _names_self(credit: Credit, own_source: str | None, own_aliases: Iterable[str]) -> bool:
    """The credit names the document's own outlet ("told The Sun" in the Sun)."""
    if not own_source or credit.begin is None or credit.names_parent:
        return False
    if credit.kind == "byline":
        # the outlet's own staff: "By Pat Clarke, PA News" in PA copy
        return _mentions(credit.text, _names(own_source, own_aliases))
    named = credit.credited or credit.text
    core = re.sub(r"^(?:(?i:the)\s+)?(?:(?:Daily|Sunday|Evening)\s+)?", "", named.strip())
    return any(
        (core == n if cs else core.lower() == n.lower()) or core.startswith(n + "'")
        for n, cs in _names(own_source, own_aliases)
    )


def is_attributed(credits: list[Credit]) -> bool:
    """A copy credits its parent when some credit names it (a link to it counts)."""
    return any(c.names_parent for c in credits)


def best_credit(credits: list[Credit]) -> Credit | None:
    """The most specific credit to the parent, else the first credit to anyone."""
    order = {
        "link": 0,
        "names-source": 1,
        "agency": 2,
        "byline": 3,
        "phrase": 4,
        "learned": 5,
        "link-domain": 6,
        "quote": 7,
    }
    to_parent = sorted((c for c in credits if c.names_parent), key=lambda c: order.get(c.kind, 9))
    if to_parent:
        return to_parent[0]
    return credits[0] if credits else None
