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
    # several spellings of the parent that find the same words give one credit, not three
    text = "According to Reuters, the plant was evacuated."
    credits = find_credits(text, parent_source="Reuters", parent_aliases=["reuters", "REUTERS"])
    named = [(c.begin, c.end) for c in credits if c.kind == "names-source"]
    assert named == [(13, 20)] and text[13:20] == "Reuters"
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


# Rules added for METER court reports (issue 5): each with a near miss that must not count.


def _texts(credits):
    return [c.text for c in credits]


def test_told_credits_only_a_news_outlet():
    text = "Mr Jones told the Daily Mail he would appeal."
    credits = find_credits(text, parent_source="PA")
    told = next(c for c in credits if c.kind == "phrase")
    assert text[told.begin : told.end] == "told the Daily Mail" and told.credited == "Daily Mail"
    # every court report "told the jury": no source of the story
    assert find_credits("Mr Jones told the jury he was frightened.", parent_source="PA") == []
    assert find_credits("She told Newcastle Crown Court: 'No.'", parent_source="PA") == []


def test_said_on_needs_a_broadcaster_not_a_day():
    assert _texts(find_credits("He said on BBC Radio 4's Today programme that he was sorry.")) == [
        "said on BBC Radio"
    ]
    assert find_credits("He said on Tuesday that he was sorry.") == []


def test_a_spokesperson_or_organisation_statement_is_a_credit():
    text = "A Metropolitan Police spokesman said a complaint had been referred."
    credits = find_credits(text, parent_source="PA")
    assert _texts(credits) == ["A Metropolitan Police spokesman said"]
    assert not is_attributed(credits)  # it credits the police, not the agency
    assert _texts(find_credits("the Royal College of Nursing claimed the ruling was wrong.")) == [
        "the Royal College of Nursing claimed"
    ]
    assert _texts(find_credits("Police believe he tortured the victim.")) == ["Police believe"]
    # a named officer speaking for himself is the paper's own reporting, and "spokesman"
    # without a statement is a title
    assert find_credits("Det Supt Trevor Davies said the scene was appalling.") == []
    assert find_credits("He would be serving as a front bench spokesman now.") == []


def test_statement_verb_first_only_at_the_end_of_the_clause():
    assert _texts(find_credits("It is well established, said the Commission.")) == [
        "said the Commission"
    ]
    assert _texts(find_credits("It was over, said a spokeswoman for the trust.")) == [
        "said a spokeswoman"
    ]
    # here the police are what was said about, not who said it
    assert find_credits("Mr Sloan said the police had found glass.") == []


def test_initials_speaking_are_an_organisation_not_a_barrister():
    assert _texts(find_credits("But BA said it would appeal.")) == ["BA said"]
    assert _texts(find_credits("The CPS confirmed a retrial.")) == ["CPS confirmed"]
    assert find_credits("Richard Rampton QC said he was a liar.") == []


def test_statement_phrases_issued_not_read_in_court():
    assert _texts(find_credits("His parents added in a statement: 'We are relieved.'")) == [
        "added in a statement"
    ]
    # a witness statement read at the trial is evidence, not a credit
    assert find_credits("She told them in a statement: 'I am fearful.'") == []


def test_byline_is_a_short_name_line_not_a_sentence():
    text = "Homes lost water.\nBy Elena Marsh, Northern Wire Service\nMore follows."
    credits = find_credits(text, parent_source="Northern Wire Service")
    byline = next(c for c in credits if c.kind == "byline")
    assert byline.text == "By Elena Marsh, Northern Wire Service" and byline.names_parent
    assert [c.kind for c in find_credits("Text.\nBy PA reporter\n")] == ["agency", "byline"]
    paragraph = (
        "Text.\nBy halting extradition proceedings the home secretary was in danger of it.\n"
    )
    assert find_credits(paragraph) == []
    assert find_credits("Text.\nBy Monday the jury had retired.\n") == []


def test_pa_as_a_personal_assistant_is_not_the_agency():
    for text in (
        "Paterson had worked as a PA to a wealthy Lebanese businessman.",
        "She told friends she worked as PA to a millionaire.",
        "Her PA booked the flights.",
    ):
        assert find_credits(text, parent_source="PA") == [], text
    credits = find_credits("The court was adjourned (PA).", parent_source="PA")
    assert is_attributed(credits) and {c.kind for c in credits} == {"names-source", "agency"}


# Second round of METER rules (issue 5), each with its near miss.


def test_a_paper_citing_itself_is_not_another_source():
    text = "Her sister told The Sun last night: 'He has ruined us.'"
    assert find_credits(text, own_source="sun") == []
    assert _texts(find_credits(text, own_source="mirror")) == ["told The Sun"]
    # the masthead's first word does not hide the paper: the Mail citing the Daily Mail
    assert find_credits("He told the Daily Mail he was innocent.", own_source="mail") == []
    # a longer title that contains the paper's name is another paper
    assert _texts(find_credits("He told the New York Times he was sorry.", own_source="times")) == [
        "told the New York Times"
    ]


def test_according_to_a_channel_not_a_person_or_the_proceedings():
    assert _texts(find_credits("The car was stolen, according to police.")) == ["according to"]
    assert _texts(find_credits("According to Scotland Yard, two men fled.")) == ["According to"]
    assert _texts(
        find_credits("According to Jo Bell, a spokeswoman for the trust, beds were closed.")
    ) == ["According to"]
    # a person's own account, and the case being reported (N1)
    assert find_credits("According to Dawkins, Matthews punched him.") == []
    assert find_credits("He lied for years, according to Don Tait, prosecuting.") == []
    assert find_credits("Mr Dodd, defending, said the police spokesman said so.") == []
    # "defending" outside a courtroom role is not the proceedings
    assert _texts(
        find_credits("The club, defending its decision, said in a statement it would not appeal.")
    ) == ["said in a statement"]
    assert find_credits("According to the prosecution, he punched the man.") == []


def test_a_credit_inside_the_hearings_account_is_not_a_source():
    assert _texts(find_credits("Police believe the gun was thrown in the river.")) == [
        "Police believe"
    ]
    assert find_credits("Police believe the gun was thrown in the river, the court heard.") == []
    assert (
        find_credits("He carried a bag which detectives believe held papers, Mr Temple said.") == []
    )


def test_organisation_statements_with_clauses_between_subject_and_verb():
    for text, span in [
        (
            "Police in Leeds last night said the man was known to them.",
            "Police in Leeds last night said",
        ),
        (
            "The RSPCA, which brought the case, said it was delighted.",
            "RSPCA, which brought the case, said",
        ),
        (
            "The Department for Education and Employment said the rules were clear.",
            "The Department for Education and Employment said",
        ),
        (
            "Mencap, the charity for the disabled, condemned the ruling.",
            "Mencap, the charity for the disabled, condemned",
        ),
        ("Norfolk Police defended their decision.", "Norfolk Police defended"),
        ("BA yesterday said it would appeal.", "BA yesterday said"),
    ]:
        assert _texts(find_credits(text)) == [span], text
    # persons speaking for an organisation, in their own name (N2), and headline capitals
    assert find_credits("Dr Jones, the hospital consultant, said the boy was stable.") == []
    assert (
        find_credits(
            "Lloyd Clarke, Assistant Chief Constable of West Yorkshire Police, which led the "
            "inquiry, said he was pleased."
        )
        == []
    )
    assert find_credits("A JUDGE yesterday described the case as a tragedy.") == []
    # a verb with an object: the department is criticised, not speaking
    assert find_credits("The inquiry chairman criticised the department for failing her.") == []


def test_issued_statements_and_via_an_outlet():
    assert _texts(find_credits("The club and the council issued a joint statement.")) == [
        "joint statement"
    ]
    assert _texts(find_credits("The footage was shown via the BBC website.")) == ["via the BBC"]
    assert find_credits("They were due to return home via New Zealand.") == []
    # reporters at the scene are the paper's own newsgathering (N2)
    assert find_credits("Ms Casey told reporters she was relieved.") == []


def test_third_round_rules_and_their_near_misses():
    assert _texts(find_credits("Cops believe he wore a wig.")) == ["Cops believe"]
    assert _texts(
        find_credits("Detectives who investigated the case said the money had gone.")
    ) == ["Detectives who investigated the case said"]
    assert _texts(find_credits("She later appeared anonymously on BBC1's Crimewatch.")) == [
        "appeared anonymously on BBC1"
    ]
    # a possessive: the speaker is the government's barrister, a person in court
    assert find_credits("The charges, said the Spanish Government's barrister, were grave.") == []
    assert find_credits("According to further evidence he gave, Tauber helped.") == []
    assert find_credits("She told police that she had not said it.") == []


def test_fourth_round_rules_and_their_near_misses():
    assert _texts(find_credits("Detectives suspect he killed them.")) == ["Detectives suspect"]
    assert _texts(
        find_credits(
            "Pressure group Inquest, which examines deaths in custody, said it was concerned."
        )
    ) == ["group Inquest, which examines deaths in custody, said"]
    mencap = find_credits("It was attacked by the charity Mencap, which condemned the operation.")
    assert any("Mencap" in t for t in _texts(mencap))
    assert _texts(find_credits("Roberts, described by police as cold, was jailed.")) == [
        "described by police"
    ]
    assert _texts(find_credits("The Department of Health has said it will appeal.")) == [
        "The Department of Health has said"
    ]
    assert _texts(find_credits("Cambridgeshire police admit mistakes were made.")) == [
        "Cambridgeshire police admit"
    ]
    # a named spokesman speaks in his own name (N2); an admission of liability is made in
    # the proceedings (N1); "had confirmed" narrates the background of the case
    assert find_credits("Sinn Fein spokesman Gerry Kelly said it was a disgrace.") == []
    assert find_credits("The Bromley Hospital NHS Trust admits liability.") == []
    assert find_credits("Years earlier the Parole Board had confirmed her release date.") == []


def test_fifth_round_rules_and_their_near_misses():
    # a statement on someone's behalf; the people of a speaker; a term the police give
    assert _texts(find_credits("Paul Paterson said through his solicitor: 'We are relieved.'")) == [
        "through his solicitor"
    ]
    assert _texts(find_credits("Police chiefs fear that he attacked other women.")) == [
        "Police chiefs fear"
    ]
    assert _texts(find_credits("They formed what police call an army council.")) == [
        "what police call"
    ]
    # an unnamed group names no channel; a term a person gives is not the police's
    assert find_credits("Officials said the scheme would close.") == []
    assert find_credits("They formed what he called an army council.") == []
    # "according to" a rule is conformity, not a source; the judge is the proceedings
    assert find_credits("It was not registrable according to the rules as they stood.") == []
    assert find_credits("According to the 1984 convention against torture, it is a crime.") == []
    assert find_credits("According to the judge, the delay was inexcusable.") == []
    assert _texts(find_credits("According to a Home Office report, crime fell.")) == [
        "According to"
    ]
    # a sentence that opens with a named person's account is theirs ...
    assert (
        find_credits("Mr Fitzgerald said she had a case, which was confirmed by the Parole Board.")
        == []
    )
    # ... and the hearing's narration carries on to the end of its paragraph, but not past
    # it, and a quote from counsel does not make the next sentence the hearing's
    narrated = (
        "The court was told that he has maintained he was not responsible. According to a "
        "police statement, he told his arresting officer he denied the charges."
    )
    assert find_credits(narrated) == []
    # a new paragraph after background is the paper's own reporting again (round 7: right
    # after the narration it still carries on)
    moved_on = narrated.replace(" According", " He is 84.\n\nAccording")
    assert _texts(find_credits(moved_on)) == ["According to"]
    quoted = (
        "Andrew Easteal, prosecuting, said: 'His pockets were bulging with cash.' "
        "A Nottinghamshire Police source said: 'He had been a thorn in our side.'"
    )
    assert _texts(find_credits(quoted)) == ["A Nottinghamshire Police source said"]


def test_sixth_round_rules_and_their_near_misses():
    # an organisation's pledge is its statement
    assert _texts(find_credits("BA vowed to fight the decision by appealing.")) == ["BA vowed"]
    # a party's case in a dispute, a statement that gives nothing, a person's employer
    assert find_credits("The company argued that the accident was his fault.") == []
    assert find_credits("A Rockwater spokesman said that the company had no comment to make.") == []
    assert _texts(find_credits("A Rockwater spokesman said that the company would appeal.")) == [
        "A Rockwater spokesman said"
    ]
    assert find_credits("Mr Jones, who works for the JCB machinery company said he was sad.") == []
    assert _texts(find_credits("The JCB machinery company said it was sad.")) == ["company said"]
    # ... but an organisation's own name may hold a preposition before its spokesman
    assert _texts(
        find_credits("A Department for Education and Employment spokesman said it would appeal.")
    ) == ["A Department for Education and Employment spokesman said"]


def test_seventh_round_rules_and_their_near_misses():
    # a side's case runs on into the next paragraph: a source cited there is its account
    case = "A babysitter killed a child in her care, a court was told yesterday.\n\n"
    assert find_credits(case + "According to doctors the child was struck forcibly.") == []
    person = "He feared he would lose his job, said Mr Sloan.\n\n"
    assert find_credits(person + "He was reported by fellow workers to be angry.") == []
    # ... but not once the paragraph before has moved on to background
    background = "The court heard that he often went to Prague. He has been to prison twice.\n\n"
    assert _texts(
        find_credits(background + "According to officers in the case, he lured children.")
    ) == ["According to"]
    # criticism made in the hearing is the proceedings; made elsewhere it is a statement
    assert (
        find_credits("Belgium was criticised by the Home Office in the High Court yesterday.") == []
    )
    assert _texts(find_credits("Belgium was criticised by the Home Office yesterday.")) == [
        "criticised by the Home Office"
    ]
    # a state speaks through its name; a first name that is also a country does not
    assert _texts(find_credits("Chile announced it would appeal against the ruling.")) == [
        "Chile announced"
    ]
    assert _texts(find_credits("Spain, Switzerland and France said they would appeal.")) == [
        "France said"
    ]
    assert find_credits("Georgia said she had been frightened of him.") == []
    # the police's present belief is theirs; a past belief is the evidence of the case
    assert _texts(find_credits("But officers fear some may have been forced to have sex.")) == [
        "officers fear"
    ]
    assert _texts(find_credits("Investigating officers still fear he attacked others.")) == [
        "Investigating officers still fear"
    ]
    assert find_credits("He carried a bag which officers believed held documents.") == []
    assert find_credits("She gave enough information for officers to believe her.") == []


def test_agency_copy_naming_its_own_agency_is_not_a_credit():
    text = "The officer told the Press Association the inquiry would go on."
    assert find_credits(text, own_source="PA") == []
    assert find_credits(text, own_source="Reuters") != []
    # its own reporter's byline too; in another outlet the byline is an agency credit
    byline = "By Pat Clarke, PA News\nA man was jailed."
    assert find_credits(byline, own_source="PA") == []
    assert {c.kind for c in find_credits(byline, own_source="Sun")} == {"agency", "byline"}


def test_wire_closing_quote_ends_a_sentence():
    # wire copy closes quotes with two apostrophes: the next sentence is not Mr Smith's
    text = "Mr Smith said: ``He was there.'' A police spokesman said the inquiry goes on."
    assert _texts(find_credits(text)) == ["A police spokesman said"]


def test_eighth_round_rules_and_their_near_misses():
    # counsel's account runs on through a paragraph of quotation ("..., he said." / ``...'')
    case = (
        "The crash team did not know the code to open the door, he said.\n\n"
        "``Once they got round to it, her heart started easily.''\n\n"
    )
    assert find_credits(case + "This was 20 minutes later, according to hospital records.") == []
    # ... but not after a paragraph that names no teller
    other = "The crash team did not know the code.\n\n``It was chaos.''\n\n"
    assert _texts(
        find_credits(other + "This was 20 minutes later, according to hospital records.")
    ) == ["according to"]
    # a party's lawyers are its case, like counsel
    assert find_credits("According to their lawyers, he lives in the UK with his wife.") == []
    # the police as a body speak through unnamed senior officers; the officers of the case do not
    assert _texts(find_credits("Senior officers said there were no warning signs.")) == [
        "Senior officers said"
    ]
    assert (
        find_credits("The car, which the officers said they believed was stolen, was chased.") == []
    )


def test_after_the_second_pa_sample():
    # an organisation's name may hold "the": "Boots the Chemist"
    assert _texts(find_credits("A spokesman for Boots the Chemist said: ``We are sorry.''")) == [
        "A spokesman for Boots the Chemist said"
    ]
    # initials before a belief word that ends the clause name people, not a statement
    assert find_credits("Members colluded with terrorists to murder IRA suspects.") == []
    assert _texts(find_credits("The RUC suspects the IRA of the attack.")) == ["RUC suspects"]


def test_after_the_third_pa_sample():
    # an organisation's spokesperson "from" it, and a relative clause without its closing comma
    assert _texts(
        find_credits("A spokeswoman from the Commission for Racial Equality said it was glad.")
    ) == ["A spokeswoman from the Commission for Racial Equality said"]
    assert _texts(
        find_credits("A spokeswoman for the RSPCA, who brought the case said it was glad.")
    ) == ["A spokeswoman for the RSPCA, who brought the case said"]
    # a headline's last word is not "told" the byline below it
    text = "MAN JAILED FOR LIES HE TOLD\n\nBy PA News Reporter\n\nA man was jailed."
    assert find_credits(text, own_source="PA") == []
    assert _texts(find_credits("He told the\nDaily Mail he was innocent.")) == [
        "told the\nDaily Mail"
    ]


def test_after_the_fourth_pa_sample():
    # a verb before its speaker, then "of": only an organisation's name or "the" follows
    assert find_credits("But Mr Evans said the group of four men were standing calmly.") == []
    assert _texts(find_credits("The attack was unprovoked, said a spokeswoman for the trust.")) == [
        "said a spokeswoman"
    ]
    assert _texts(find_credits("It was wrong, said the group of Rover dealers.")) == [
        "said the group"
    ]
    # a description between dashes, between the organisation and its verb
    text = "The Support Group - made up of parents, patients and friends - said it was sad."
    assert _texts(find_credits(text)) == [
        "The Support Group - made up of parents, patients and friends - said"
    ]
    assert find_credits("The group - made up of parents - met the judge.") == []
    # a paper that is being sued is a party: "the newspaper" in its trial names no channel
    trial = "The goalkeeper is suing the newspaper over articles in 1994.\n\n"
    told = "He agreed that he originally told the newspaper's reporters he had not met him."
    assert find_credits(trial + told) == []
    assert _texts(find_credits(told)) == ["told the newspaper"]
    assert _texts(find_credits(trial + "He told the Daily Mail he was innocent.")) == [
        "told the Daily Mail"
    ]


def test_after_the_fifth_pa_sample():
    # a statement read out at the hearing is evidence, not a statement to the press
    read = "Pupil Jane Banks, 15, said in a statement read to the court: ``I saw him leave.''"
    assert find_credits(read) == []
    assert _texts(find_credits("Her parents said in a statement that they were shocked.")) == [
        "said in a statement"
    ]
    # a named body's document as the source of figures
    study = "The appeal comes a day after a Home Office study stating 300,000 women were hurt."
    assert _texts(find_credits(study)) == ["a Home Office study stating"]
    assert _texts(find_credits("The Audit Commission report found waits had doubled.")) == [
        "The Audit Commission report found"
    ]
    # a document with no body named, or one that is evidence in the case, is not a source
    assert find_credits("A psychiatric report said Smith was depressed.") == []
    assert find_credits("The report concluded: ``Any allegation must be examined.''") == []
    # more verbs an organisation speaks with
    assert _texts(find_credits("The Government highlighted the role of cameras.")) == [
        "The Government highlighted"
    ]


def test_after_the_sixth_pa_sample():
    # a statement marked as given outside the case is a statement to the press
    for text in (
        "In a statement read outside court Mr O'Neill added: ``We are relieved.''",
        "In a statement tonight Mr Amor said the family would appeal.",
    ):
        assert len(find_credits(text)) == 1, text
    # most statements in a court report are evidence
    for text in (
        "In a statement Laura said: ``She told me not to drink it.''",
        "He agreed he had told police in a statement at the time: ``He grabbed him.''",
        "In a statement read in court, Professor John Gunn said he was ill.",
    ):
        assert find_credits(text) == [], text
    # an organisation with "who said" and nothing between
    lawyers = "The pair are represented by the Society of Black Lawyers who said they are poor."
    assert _texts(find_credits(lawyers)) == ["the Society of Black Lawyers who said"]
    assert find_credits("The driver was chased by police who believed he was armed.") == []
    # the police's present belief
    assert _texts(find_credits("Police think that he was attacked in the flat.")) == [
        "Police think"
    ]
    # the prosecution's expert, a rule of procedure, a person's tag: not channels
    for text in (
        "He was not ill, according to a prosecution psychiatrist at his murder trial today.",
        "It was a legal matter which had to be weighed up according to legal processes.",
        "He must wait to rebut his tag, courtesy of Mr Carman, as the man linked with sleaze.",
    ):
        assert find_credits(text) == [], text
    assert _texts(find_credits("Pictures courtesy of the Royal Society show the damage.")) == [
        "courtesy of"
    ]


def test_named_bodies_speak_as_organisations(tmp_path):
    # a body known by its name alone, from the data file
    assert _texts(find_credits("Amnesty International said the trial was unfair.")) == [
        "Amnesty International said"
    ]
    assert _texts(find_credits("The decision was condemned by Sinn Fein.")) == [
        "condemned by Sinn Fein"
    ]
    assert _texts(find_credits("The ruling was a setback, said Age Concern.")) == [
        "said Age Concern"
    ]
    # the name in another role, or a lower-case word: no statement
    assert find_credits("He was taken to Boots where he bought aspirin.") == []
    assert find_credits("They fought for liberty said the veteran.") == []
    # a user's own bodies, in a file of the same format
    mining = "Bellwood Mining said the spill was contained."
    assert find_credits(mining) == []
    extra = tmp_path / "bodies_en.tsv"
    extra.write_text("organisation\tBellwood Mining\n", encoding="utf-8")
    assert _texts(find_credits(mining, extra_phrases=(str(extra),))) == ["Bellwood Mining said"]


def test_words_inside_a_quotation_are_the_speakers():
    quoted = "Mr Congdon, director at the charity, said: 'Mencap believes it is wrong.'"
    assert find_credits(quoted) == []
    pa_style = "He said: ``Police believe the men fled abroad.''"
    assert find_credits(pa_style) == []
    # after the quote closes the paper speaks again
    after = "He said: 'It is wrong.' Police believe the men fled abroad."
    assert _texts(find_credits(after)) == ["Police believe"]
    # an apostrophe inside a word opens nothing
    assert _texts(find_credits("Mencap's director was absent. Mencap said it was wrong.")) == [
        "Mencap said"
    ]
    # counsel's words to the judge are the proceedings
    counsel = "Mr Engelman told the judge that before the election Labour announced plans."
    assert find_credits(counsel) == []
