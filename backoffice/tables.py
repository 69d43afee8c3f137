"""The back office's one base table: columns declared once, with their headers and sort links.

Every table that is a class (the explorers' ``LeanTable``, the monitoring reports) derives from
``BaseTable``: its columns are django-tables2 columns, a column's ``verbose_name`` is its header,
a ``NumberColumn`` is right-aligned, and a sortable table's header row is
``templates/backoffice/_table_head.html`` over ``sort_headers``. The rows stay the selectors' data
(sorted in SQL by a whitelisted key): a table decides how a column is headed and sorted, never
what the rows are.

Sorting follows one rule: a column's first click sorts names A to Z and numbers largest first; a
second click on the sorted column reverses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import django_tables2 as tables
from django.utils.http import urlencode


class NumberColumn(tables.Column):  # type: ignore[misc]  # django-tables2 ships no types
    """A number: right-aligned, and sorted largest first on the first click."""

    descending_first = True

    def __init__(self, verbose_name: str, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", {"th": {"class": "num"}, "td": {"class": "num"}})
        super().__init__(verbose_name=verbose_name, **kwargs)


@dataclass(frozen=True)
class SortHeader:
    """One column's header cell: its label and, where it sorts, the link and current state."""

    key: str
    label: str
    numeric: bool
    url: str = ""  # empty: the column does not sort
    sorted: str = ""  # "ascending", "descending" or ""

    @property
    def arrow(self) -> str:
        return {"descending": " ▼", "ascending": " ▲"}.get(self.sorted, "")


class BaseTable(tables.Table):  # type: ignore[misc]  # django-tables2 ships no types
    """The base of every table class; ``sortable`` names the columns a page may sort by."""

    sortable: ClassVar[tuple[str, ...]] = ()

    def __init__(self, data: Any = (), **kwargs: Any) -> None:
        kwargs.setdefault("orderable", False)  # rows come sorted from the selector's SQL
        super().__init__(data, **kwargs)

    @classmethod
    def sort_headers(cls, sort: str, keep: Mapping[str, str] | None = None) -> list[SortHeader]:
        """Every column's header for a page sorted by ``sort`` (``-`` first: descending).

        ``keep`` holds the page's other query parameters (the window, a filter), carried by
        every sort link in its order; a ``"sort"`` key in it places the sort among them.
        """
        current, descending = sort.removeprefix("-"), sort.startswith("-")
        headers = []
        for key, column in cls.base_columns.items():
            numeric = isinstance(column, NumberColumn)
            label = str(column.verbose_name)
            if key not in cls.sortable:
                headers.append(SortHeader(key, label, numeric))
                continue
            if key == current:
                target = key if descending else f"-{key}"
                state = "descending" if descending else "ascending"
            else:
                target = f"-{key}" if numeric else key
                state = ""
            params = dict(keep or {})
            params["sort"] = target
            query = urlencode(params)
            headers.append(SortHeader(key, label, numeric, f"?{query}", state))
        return headers
