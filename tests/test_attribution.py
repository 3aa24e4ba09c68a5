"""Attribution: credits are found with their exact spans, and only credits that name the
parent count as crediting it."""

from echoscope.trace.attribution import best_credit, find_credits, is_attributed

WIRE_URL = "https://wire.nws.example/2025/03/14/harwick-water-supply-cut"


def kinds(credits):
    return {c.kind for c in credits if c.names_parent}


def test_link_to_the_parent_page_credits_it():
    credits = find_credits(
        "Homes lost water.",
        ["https://www.wire.nws.example/2025/03/14/harwick-water-supply-cut/"],
        parent_source="Northern Wire Service",
        parent_url=WIRE_URL,
    )
    assert "link" in kinds(credits) and is_attributed(credits)
    domain_only = find_credits(
        "Homes lost water.", ["https://wire.nws.example/about"], parent_url=WIRE_URL
    )
    assert kinds(domain_only) == {"link-domain"}


def test_naming_the_outlet_or_an_alias_with_exact_span():
    text = "Around 40,000 homes were affected, the Northern Wire Service reported on Friday."
    credits = find_credits(text, parent_source="Northern Wire Service")
    named = next(c for c in credits if c.kind == "names-source")
    assert text[named.begin : named.end] == "Northern Wire Service"
    alias = find_credits(
        "As NWS put it, the reservoir was isolated.",
        parent_source="Northern Wire Service",
        parent_aliases=["NWS"],
    )
    assert is_attributed(alias)


def test_agency_credit_and_case_sensitive_acronyms():
    text = "A composer told the High Court (PA) that he did voice disapproval. By Stephen Howard, PA News"
    credits = find_credits(text, parent_source="PA")
    assert is_attributed(credits)
    agency = next(c for c in credits if c.kind == "agency")
    assert agency.credited == "PA Media" and text[agency.begin : agency.end] == "PA"
    # "pa" in lower case is not the agency (a word like "papa" or "pa" for father)
    assert not is_attributed(find_credits("My pa said the water tasted odd.", parent_source="PA"))
    afp = find_credits("Flooding closed the roads (AFP).", parent_source="Agence France-Presse")
    assert is_attributed(afp)


def test_phrase_naming_someone_else_is_reported_but_is_not_credit_to_the_parent():
    text = "According to the council, the bridge will close in June."
    credits = find_credits(text, parent_source="Northern Wire Service")
    phrase = next(c for c in credits if c.kind == "phrase")
    assert text[phrase.begin : phrase.end] == "According to" and not phrase.names_parent
    assert not is_attributed(credits)
    named = find_credits(
        "According to the Northern Wire Service, the bridge will close.",
        parent_source="Northern Wire Service",
    )
    assert is_attributed(named) and best_credit(named).kind == "names-source"


def test_topic_only_copy_is_not_attributed():
    text = "Harwick residents queued for bottled water on Saturday as engineers flushed the pipes."
    assert not is_attributed(
        find_credits(
            text,
            ["https://coastgazette.example/x"],
            parent_source="Northern Wire Service",
            parent_url=WIRE_URL,
        )
    )


def test_persian_phrases_and_letter_variants():
    text = "به گزارش ايرنا، وزارت بهداشت اعلام کرد که آب شهر قابل استفاده نیست."
    credits = find_credits(text, parent_source="IRNA")
    assert is_attributed(credits)
    phrase = next(c for c in credits if c.kind == "phrase")
    assert text[phrase.begin : phrase.end] == "به گزارش"
    arabic_letters = text.replace("ی", "ي").replace("ک", "ك")
    assert is_attributed(find_credits(arabic_letters, parent_source="IRNA"))
    other = find_credits("به نقل از یک منبع آگاه، قیمت‌ها افزایش یافت.", parent_source="IRNA")
    assert [c.kind for c in other] == ["phrase"] and not is_attributed(other)


def test_quoted_passage():
    text = 'The authority said: "Residents should not drink tap water until we tell them it is safe." It added more.'
    begin = text.index("Residents")
    end = text.index(" It added") - 2
    credits = find_credits(text, quoted_spans=[(begin, end)])
    assert any(c.kind == "quote" for c in credits)


def test_one_word_outlet_names_need_their_capital():
    assert not is_attributed(
        find_credits("He was fined three times in a year.", parent_source="times")
    )
    assert is_attributed(find_credits("He told The Times he would appeal.", parent_source="times"))
    assert not is_attributed(find_credits("The sun shone on the court steps.", parent_source="sun"))
