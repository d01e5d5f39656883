from supportai.quoted import Quoted


def test_a_short_value_is_quoted_whole():
    assert f"{Quoted('de;DROP')!r} / {Quoted(11)!r}" == "'de;DROP' / 11"


def test_a_long_text_is_cut_before_it_is_quoted():
    assert repr(Quoted("x" * 100, 10)) == "'xxxxxxxxx…'"


def test_a_long_number_is_cut_after_its_repr():
    assert repr(Quoted(10**50, 10)) == "100000000…"
