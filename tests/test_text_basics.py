"""Decoding, cleaning, dates and path templates: the small pieces every reader relies on."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from echoscope.ingest.dates import DateError, get_zone, parse_date
from echoscope.ingest.encoding import DecodeError, clean_text, decode_bytes
from echoscope.ingest.language import detect_language, normalize_language
from echoscope.ingest.pathtemplate import PathTemplate, TemplateError
from echoscope.ingest.wire import parse_wire
from echoscope.model import TimePrecision


def test_latin1_pound_sign_decodes_right():
    text, enc = decode_bytes("fined \xa3250,000 at Caf\xe9 Royal".encode("latin-1"))
    assert text == "fined £250,000 at Café Royal"
    assert enc == "cp1252"


def test_cp1252_curly_quotes():
    text, _ = decode_bytes("he said \u201cno\u201d".encode("cp1252"))
    assert text == "he said \u201cno\u201d"


def test_utf8_and_boms():
    assert decode_bytes("Москва".encode())[0] == "Москва"
    assert decode_bytes(b"\xef\xbb\xbfhello")[0] == "hello"
    assert decode_bytes("hé".encode("utf-16"))[0] == "hé"


def test_cyrillic_single_byte_is_not_read_as_western():
    raw = (
        "Суд признал компанию виновной в утечке химического вещества в водохранилище. " * 3
    ).encode("cp1251")
    text, enc = decode_bytes(raw)
    assert "Суд признал компанию" in text
    assert enc != "cp1252"


def test_binary_refused():
    with pytest.raises(DecodeError):
        decode_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary")
    with pytest.raises(DecodeError):
        decode_bytes(b"abc\x00\x00\x00def")


def test_clean_text_drops_controls_keeps_content():
    assert clean_text("a\r\nb\x19c\x00d\u2028e  ") == "a\nbcd\ne"


def test_dates_and_precision():
    assert parse_date("2012-02-02 00:35:00") == (datetime(2012, 2, 2, 0, 35), TimePrecision.SECOND)
    assert parse_date("2025-03-14") == (datetime(2025, 3, 14), TimePrecision.DAY)
    assert parse_date("2025-03-14T09:15:00+01:00")[0] == datetime(2025, 3, 14, 8, 15)
    assert parse_date("Fri, 14 Mar 2025 10:02:00 GMT")[0] == datetime(2025, 3, 14, 10, 2)
    assert parse_date("1741946520")[0] == datetime(2025, 3, 14, 10, 2)
    assert parse_date("2025-03-14 10:02", get_zone("Europe/London"))[1] == TimePrecision.MINUTE


def test_naive_dates_read_in_the_given_zone():
    summer = parse_date("2024-07-01 12:00:00", ZoneInfo("Europe/London"))[0]
    assert summer == datetime(2024, 7, 1, 11, 0)  # BST is UTC+1


@pytest.mark.parametrize(
    "bad", ["2019-02-30", "99999-01-01", "not a date", "2999-01-01", "1200-01-01", ""]
)
def test_impossible_dates_raise(bad):
    with pytest.raises(DateError):
        parse_date(bad)


def test_unknown_zone_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown time zone"):
        get_zone("Mars/Olympus")


def test_path_template_meter_layout():
    t = PathTemplate("{date:%d.%m.%y}/{story}/{name}_{source}.txt")
    m = t.match("27.01.00/pinochet/pinochet719_telegraph.txt")
    assert m is not None
    assert m.published_at == datetime(2000, 1, 27)
    assert m.precision == TimePrecision.DAY
    assert m.fields == {"story": "pinochet", "name": "pinochet719", "source": "telegraph"}
    assert t.match("27.01.00/pinochet/notes.md") is None
    assert t.match("32.01.00/pinochet/a_b.txt") is None  # impossible date: no match


def test_path_template_errors():
    with pytest.raises(TemplateError):
        PathTemplate("{date}/{story}.txt")
    with pytest.raises(TemplateError):
        PathTemplate("plain/path.txt")
    with pytest.raises(TemplateError):
        PathTemplate("{a}/{a}.txt")


def test_wire_header_parsed_and_paragraphs_unwrapped():
    raw = (
        "  ----------------\n\n   16:54 01/03/00: Page 1 (ZSM) COURTS Burstein\n  ----------------\n"
        "COMPOSER IN COURT<\n\x19By A Reporter, PA News<\n\x19First line of a\nwrapped paragraph.<\n\x19mf<\n"
    )
    wire = parse_wire(clean_text(raw))
    assert wire is not None
    assert wire.filed_at == datetime(2000, 3, 1, 16, 54)
    assert wire.headline == "COMPOSER IN COURT"
    assert wire.text.split("\n\n") == [
        "COMPOSER IN COURT",
        "By A Reporter, PA News",
        "First line of a wrapped paragraph.",
        "mf",
    ]
    assert parse_wire("An ordinary article with 12:30 01/02/03 in it.") is None


def test_language_names_and_detection():
    assert normalize_language("English") == "en"
    assert normalize_language("pt-BR") == "pt"
    assert normalize_language("und") is None
    assert (
        detect_language(
            "The court heard that the company ignored repeated warnings about the tank."
        )
        == "en"
    )
    assert detect_language("دادگاه اعلام کرد که شرکت هشدارهای مکرر را نادیده گرفته است") == "fa"
    assert detect_language("ok") is None
