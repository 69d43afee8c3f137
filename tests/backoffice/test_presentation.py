"""The one presentation layer: times with their zone, counts, people, formula-safe CSV cells."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.template import Context, Template
from django.utils import timezone

from backoffice import presentation

MOMENT = dt.datetime(2026, 12, 3, 14, 5, 9, tzinfo=dt.UTC)


def render(source: str, **context: object) -> str:
    return Template("{% load present %}" + source).render(Context(context))


def test_a_time_is_written_in_the_active_zone_with_its_abbreviation():
    with timezone.override("Asia/Tokyo"):
        assert presentation.when(MOMENT) == "2026-12-03 23:05 JST"
        assert render("{{ t|when:'seconds' }}", t=MOMENT) == "2026-12-03 23:05:09 JST"
    with timezone.override("America/New_York"):
        assert presentation.when(MOMENT) == "2026-12-03 09:05 EST"
    assert presentation.when(None) == "—"


def test_the_when_tag_keeps_the_utc_instant_and_says_how_long_ago():
    now = timezone.now()
    with timezone.override("UTC"):
        html = render("{% when t %}", t=now - dt.timedelta(minutes=3))
    assert 'datetime="' in html and "Z" in html
    assert "UTC</time>" in html
    assert "(3 min ago)" in html


def test_relative_times_take_the_largest_whole_unit():
    now = MOMENT
    assert presentation.ago(now - dt.timedelta(seconds=20), now) == "just now"
    assert presentation.ago(now - dt.timedelta(minutes=1), now) == "1 min ago"
    assert presentation.ago(now - dt.timedelta(hours=5, minutes=59), now) == "5 hours ago"
    assert presentation.ago(now - dt.timedelta(days=1), now) == "1 day ago"
    assert presentation.ago(now + dt.timedelta(days=3, hours=1), now) == "in 3 days"


def test_counts_say_their_noun_in_the_right_number():
    assert render('{{ n|count:"entry" }}', n=1) == "1 entry"
    assert render('{{ n|count:"entry" }}', n=10121) == "10,121 entries"
    assert render('{{ n|count:"server" }}', n=0) == "0 servers"
    assert presentation.count("1,000+", "person") == "1,000+ people"


def test_a_person_is_an_email_that_breaks_only_before_its_at_and_dots_and_links_when_asked():
    html = render('{% person "ann-marie@example.com" "/u/1/" %}')
    assert html == (
        '<a href="/u/1/"><span class="email" title="ann-marie@example.com">'
        '<span class="email-part">ann-marie</span><wbr><span class="email-part">@example</span>'
        '<wbr><span class="email-part">.com</span></span></a>'
    )
    assert render("{% person_id people 'u1' %}", people={"u1": "a@b.example"}) == (
        '<span class="email" title="a@b.example"><span class="email-part">a</span><wbr>'
        '<span class="email-part">@b</span><wbr><span class="email-part">.example</span></span>'
    )
    assert "&lt;b&gt;" in render('{% person "<b>@x.example" %}')
    unknown = render("{% person_id people 'u2' %}", people={})
    assert "u2" in unknown and "No user you may see has this id" in unknown


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_becomes_text(start):
    assert presentation.formula_safe(f"{start}cmd") == f"'{start}cmd"


def test_plain_cells_pass_through():
    assert presentation.formula_safe("filesystem") == "filesystem"
    assert presentation.formula_safe(42) == 42
    assert presentation.formula_safe(None) == ""


def test_the_csv_writer_escapes_header_and_cells():
    response = presentation.csv_response("x.csv", ["name"], [["=1+1"], ["ok"], ["@SUM(A1)"]])
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["name"], ["'=1+1"], ["ok"], ["'@SUM(A1)"]]
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
@pytest.mark.parametrize("plain_column", [False, True], ids=["expression", "column"])
def test_the_database_side_escape_matches_the_python_one(plain_column):
    from django.db import connection

    values = ["=HYPERLINK(1)", "+1", "-2", "@x", "\tx", "\rx", "plain", "a=b", "", " =x", None]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT "
            + presentation.formula_safe_sql("v", plain_column=plain_column)
            + " FROM unnest(%s::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
            [values],
        )
        escaped = [row[0] for row in cursor.fetchall()]
    # None stays NULL in the database (an empty cell in the CSV, as formula_safe writes it).
    expected = [None if value is None else presentation.formula_safe(value) for value in values]
    assert escaped == expected


def test_a_fixed_url_is_what_reverse_gives_under_any_script_prefix():
    from django.urls import reverse, set_script_prefix

    assert presentation.fixed_url("admin:index") == reverse("admin:index") == "/admin/"
    set_script_prefix("/backoffice/")
    try:
        assert presentation.fixed_url("admin:index") == "/backoffice/admin/"
        assert presentation.fixed_url("search") == reverse("search")
    finally:
        set_script_prefix("/")
    assert presentation.fixed_url("admin:index") == "/admin/"


def test_a_fixed_url_follows_the_urlconf_in_use(settings):
    from django.urls import NoReverseMatch

    assert presentation.fixed_url("search") == "/search/"
    settings.ROOT_URLCONF = "tests.backoffice.fixed_url_urls"
    assert presentation.fixed_url("search") == "/elsewhere/search/"
    with pytest.raises(NoReverseMatch):
        presentation.fixed_url("admin:index")
