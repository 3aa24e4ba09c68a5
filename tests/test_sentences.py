"""Sentence segmentation: realistic news, posts, Persian and CJK text, and hostile input.

Every test goes through ``split``, which also checks the offset invariant: each sentence is
the exact slice ``text[start:end]``, non-empty, trimmed, and sentences are in order.
"""

from __future__ import annotations

import pytest

from echoscope.detect.claims.sentences import Sentence, split_sentences


def split(text: str, **kwargs: int) -> list[str]:
    sentences = split_sentences(text, **kwargs)
    prev_end = 0
    for s in sentences:
        assert isinstance(s, Sentence)
        assert text[s.start : s.end] == s.text
        assert s.text and s.text == s.text.strip()
        assert prev_end <= s.start < s.end
        prev_end = s.end
    return [s.text for s in sentences]


def test_news_paragraph_with_titles_acronyms_and_quote():
    text = (
        "Mr. Smith, a former U.S. ambassador to the U.N., told reporters on Tuesday that the "
        'deal was "dead." The White House declined to comment. Dr. Jones of Acme Inc. said '
        "talks would resume at 3 p.m. on Friday."
    )
    assert split(text) == [
        "Mr. Smith, a former U.S. ambassador to the U.N., told reporters on Tuesday that the "
        'deal was "dead."',
        "The White House declined to comment.",
        "Dr. Jones of Acme Inc. said talks would resume at 3 p.m. on Friday.",
    ]


def test_offsets_are_exact_with_leading_and_inner_whitespace():
    text = "  \n First one.   Second one.\t\n"
    sentences = split_sentences(text)
    assert [(s.start, s.end) for s in sentences] == [(4, 14), (17, 28)]
    split(text)


def test_acronym_or_company_at_sentence_end_before_a_common_opener():
    text = "The plant moved to the U.S. The jobs went with it. Apple Inc. and Google were fined."
    assert split(text) == [
        "The plant moved to the U.S.",
        "The jobs went with it.",
        "Apple Inc. and Google were fined.",
    ]


def test_closing_quotes_and_brackets_stay_with_the_sentence():
    text = (
        'He said "no." Then he left. She said \u2018fine.\u2019 They agreed. '
        "\u201cWe will win.\u201d Few believed it. (It rained.) \u00abNon.\u00bb Oui. [Sic.] End."
    )
    assert split(text) == [
        'He said "no."',
        "Then he left.",
        "She said \u2018fine.\u2019",
        "They agreed.",
        "\u201cWe will win.\u201d",
        "Few believed it.",
        "(It rained.)",
        "\u00abNon.\u00bb",
        "Oui.",
        "[Sic.]",
        "End.",
    ]


def test_initials_are_not_sentence_ends():
    text = "J. K. Rowling met George W. Bush in 2004. Roe v. Wade was decided in 1973."
    assert split(text) == [
        "J. K. Rowling met George W. Bush in 2004.",
        "Roe v. Wade was decided in 1973.",
    ]


def test_numbers_and_dated_abbreviations():
    text = (
        "Inflation rose 3.5 percent, the fastest since v2.0 of the index. "
        "He lives at No. 10 and moves on Jan. 5. Prices fell 1.2 pct. 2021 was worse."
    )
    assert split(text) == [
        "Inflation rose 3.5 percent, the fastest since v2.0 of the index.",
        "He lives at No. 10 and moves on Jan. 5.",
        "Prices fell 1.2 pct.",
        "2021 was worse.",
    ]


def test_ellipsis_and_punctuation_runs():
    text = "Wait... What?! No way!! I thought\u2026 maybe not. Really?"
    assert split(text) == ["Wait...", "What?!", "No way!!", "I thought\u2026 maybe not.", "Really?"]


def test_lowercase_after_period_does_not_split():
    assert split("Call me at 5 p.m. tomorrow. ok. see you then.") == [
        "Call me at 5 p.m. tomorrow. ok. see you then."
    ]


def test_tweet_with_handle_url_hashtags_and_emoji():
    text = (
        "@CityNews Water supply cut again in Karaj! Officials say it's a pipe burst. "
        "Details: https://example.com/news/2021/a.b?id=7 and www.example.org/x.y. "
        "Mail tips to desk@example.co.uk. #Karaj #water \U0001f62d\U0001f62d"
    )
    assert split(text) == [
        "@CityNews Water supply cut again in Karaj!",
        "Officials say it's a pipe burst.",
        "Details: https://example.com/news/2021/a.b?id=7 and www.example.org/x.y.",
        "Mail tips to desk@example.co.uk. #Karaj #water \U0001f62d\U0001f62d",
    ]


def test_tweet_without_punctuation_and_signature_stay_whole():
    assert split("no water in our street since monday #Karaj") == [
        "no water in our street since monday #Karaj"
    ]
    text = (
        "The harbour plan is back on pic.twitter.com/AbC123xyz\n"
        "\u2014 Jane Doe (@janedoe) January 28, 2021"
    )
    assert split(text) == [text]


def test_emoji_after_punctuation_stays_with_the_sentence_before():
    text = "Great game! \U0001f525\U0001f525 Next week we play again. Go team \U0001f3c6"
    assert split(text) == [
        "Great game! \U0001f525\U0001f525",
        "Next week we play again.",
        "Go team \U0001f3c6",
    ]


def test_persian_question_mark_urdu_full_stop_and_semicolon():
    text = (
        "\u0686\u0631\u0627 \u0622\u0628 \u0642\u0637\u0639 \u0634\u062f\u061f "
        "\u0647\u06cc\u0686\u200c\u06a9\u0633 \u0646\u0645\u06cc\u200c\u062f\u0627\u0646\u062f\u06d4 "
        "\u062f\u0648\u0644\u062a \u0628\u06cc\u0627\u0646\u06cc\u0647 \u062f\u0627\u062f\u061b "
        "\u0627\u0645\u0627 \u0645\u0631\u062f\u0645 \u0645\u0646\u062a\u0638\u0631\u0646\u062f. "
        "\u0641\u0631\u062f\u0627 \u0686\u0647 \u0645\u06cc\u200c\u0634\u0648\u062f!"
    )
    # "Why was the water cut? Nobody knows. The government issued a statement; but people are
    # waiting. What happens tomorrow!"
    assert split(text) == [
        "\u0686\u0631\u0627 \u0622\u0628 \u0642\u0637\u0639 \u0634\u062f\u061f",
        "\u0647\u06cc\u0686\u200c\u06a9\u0633 \u0646\u0645\u06cc\u200c\u062f\u0627\u0646\u062f\u06d4",
        "\u062f\u0648\u0644\u062a \u0628\u06cc\u0627\u0646\u06cc\u0647 \u062f\u0627\u062f\u061b "
        "\u0627\u0645\u0627 \u0645\u0631\u062f\u0645 \u0645\u0646\u062a\u0638\u0631\u0646\u062f.",
        "\u0641\u0631\u062f\u0627 \u0686\u0647 \u0645\u06cc\u200c\u0634\u0648\u062f!",
    ]


def test_bidi_marks_at_sentence_edges_are_trimmed():
    text = "\u200f\u0633\u0644\u0627\u0645.\u200f \u062e\u062f\u0627\u062d\u0627\u0641\u0638.\u200f"
    assert split(text) == [
        "\u0633\u0644\u0627\u0645.",
        "\u062e\u062f\u0627\u062d\u0627\u0641\u0638.",
    ]


def test_cjk_splits_without_whitespace():
    text = "\u4eca\u5929\u5929\u6c14\u5f88\u597d\u3002\u6211\u4eec\u53bb\u516c\u56ed\u5427\uff01\u300c\u4f60\u53bb\u5417\uff1f\u300d\u597d\u7684\u3002"
    assert split(text) == [
        "\u4eca\u5929\u5929\u6c14\u5f88\u597d\u3002",
        "\u6211\u4eec\u53bb\u516c\u56ed\u5427\uff01",
        "\u300c\u4f60\u53bb\u5417\uff1f\u300d",
        "\u597d\u7684\u3002",
    ]


def test_blank_lines_headings_and_bullets():
    text = (
        "Water cuts hit Karaj\n"
        "Residents said the supply stopped on Monday. The council blamed a pipe.\n\n"
        "What we know so far:\n"
        "- the main pipe burst\n"
        "- repairs take a week\n"
        "1. Boil water\n"
        "2) Report leaks\r\n\r\n"
        "More updates follow"
    )
    assert split(text) == [
        "Water cuts hit Karaj",
        "Residents said the supply stopped on Monday.",
        "The council blamed a pipe.",
        "What we know so far:",
        "- the main pipe burst",
        "- repairs take a week",
        "1. Boil water",
        "2) Report leaks",
        "More updates follow",
    ]


def test_wrapped_lines_run_on():
    text = "The minister said on Tuesday that the\nGovernment would consider the plan in\ndetail."
    assert split(text) == [text]
    assert split("Big news!\n#breaking #Karaj") == ["Big news!\n#breaking #Karaj"]


def test_max_chars_cuts_at_whitespace_with_exact_offsets():
    text = " ".join(f"word{i}" for i in range(60)) + "."
    sentences = split_sentences(text, max_chars=50)
    split(text, max_chars=50)
    assert len(sentences) > 1
    assert all(len(s.text) <= 50 for s in sentences)
    assert all(not s.text.endswith(" ") for s in sentences)
    assert " ".join(s.text for s in sentences) == text
    assert sentences[0].text == "word0 word1 word2 word3 word4 word5 word6 word7"


def test_max_chars_hard_cut_without_whitespace():
    text = "x" * 25
    assert split(text, max_chars=10) == ["x" * 10, "x" * 10, "x" * 5]


def test_min_chars_drops_short_sentences():
    assert split("Hi. A longer sentence here. Ok.", min_chars=5) == ["A longer sentence here."]


def test_empty_and_whitespace_only():
    assert split("") == []
    assert split(" \n\t\u3000 \n\n ") == []


def test_bad_max_chars():
    with pytest.raises(ValueError):
        split_sentences("text", max_chars=0)


@pytest.mark.parametrize(
    "text",
    [
        "a.a." * 250_000,
        "!" * 100_000,
        "A. " * 50_000,
        "a. " * 50_000,
        "?! " * 50_000,
        "\x00. \x00\n" * 20_000,
        "a" + "\u0301" * 100_000 + ". B",
        "x" + " " * 100_000 + "\n\nY",
        "\n" * 100_000,
        "\u3002" * 100_000,
        '."' * 100_000,
        "Hi! " + "#a \U0001f525 " * 30_000 + "x",
        "Mr. " * 50_000,
    ],
    ids=[
        "dots",
        "bangs",
        "initials",
        "lower",
        "runs",
        "nul",
        "combining",
        "spaces",
        "newlines",
        "cjk",
        "quotes",
        "tail",
        "titles",
    ],
)
def test_hostile_input_finishes_with_exact_offsets(text: str):
    split(text)
    split(text, max_chars=100)


def test_long_headline_over_a_one_line_paragraph_is_its_own_sentence():
    headline = "Harwick water supply cut to 40,000 homes after contamination found"
    assert len(headline) > 64
    body = (
        "About 40,000 homes in Harwick were told not to drink tap water on Friday after "
        "routine tests found high levels of a cleaning chemical."
    )
    assert [s.text for s in split_sentences(f"{headline}\n{body}")] == [headline, body]
    # the same line in hard-wrapped prose (the next line is short too) runs on
    wrapped = (
        "Officials confirmed that the water supply was cut to 40,000 homes after contamination\n"
        "Tests found a cleaning chemical in the reservoir on Friday.\n"
        "More tests follow."
    )
    assert split_sentences(wrapped)[0].text.startswith("Officials confirmed")
    assert "\nTests found" in split_sentences(wrapped)[0].text
