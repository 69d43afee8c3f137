"""``{% options %}`` writes the same ``<option>`` list the template loops it replaced wrote."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from django.template import Context, Template

LOOPS = {
    "tenants": '{% for t in items %}<option value="{{ t.pk }}"{% if picked == t.pk %} selected'
    "{% endif %}>{{ t.name }}</option>{% endfor %}",
    "servers": '{% for s, label in items %}<option value="{{ s.pk }}"{% if picked == s.pk %} '
    "selected{% endif %}>{{ label }}</option>{% endfor %}",
    "tools": '{% for t in items %}<option value="{{ t.value }}"{% if t.value == picked %} '
    "selected{% endif %}>{{ t.label }}</option>{% endfor %}",
}
TAGS = {
    "tenants": '{% load monitoring_pages %}{% options items "pk" "name" picked %}',
    "servers": '{% load monitoring_pages %}{% options items "0.pk" "1" picked %}',
    "tools": '{% load monitoring_pages %}{% options items "value" "label" picked %}',
}


def _both(kind: str, items: list, picked) -> tuple[str, str]:
    context = {"items": items, "picked": picked}
    return (
        Template(LOOPS[kind]).render(Context(context)),
        Template(TAGS[kind]).render(Context(context)),
    )


def test_options_match_the_template_loops_they_replaced():
    ids = [uuid.uuid4() for _ in range(3)]
    tenants = [
        SimpleNamespace(pk=i, name=n)
        for i, n in zip(ids, ["Acme", "<b>&Co</b>", 'Q"t'], strict=True)
    ]
    servers = [
        (SimpleNamespace(pk=i), f"files ({t.name})") for i, t in zip(ids, tenants, strict=True)
    ]
    tools = [SimpleNamespace(value=f"{i}:read<x>", label="read's") for i in ids]
    for kind, items in (("tenants", tenants), ("servers", servers), ("tools", tools)):
        for picked in (None, "", ids[1], f"{ids[1]}:read<x>", "unknown"):
            loop, tag = _both(kind, items, picked)
            assert tag == loop, (kind, picked)
    loop, tag = _both("tenants", tenants, ids[2])
    assert tag.count(" selected") == 1 and "&lt;b&gt;&amp;Co&lt;/b&gt;" in tag
