"""The snippets cog's pure helpers: splitting content for Discord, and planning an import."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fish_bot.cogs.snippets.utils import plan_import, split_content

LINES = st.lists(st.text(alphabet="ab \u00e9😀", max_size=2500), min_size=1, max_size=12)


def squeeze(text: str) -> str:
    return "".join(text.split())


@given(LINES)
def test_every_part_fits_and_nothing_is_lost(lines: list[str]) -> None:
    text = "\n".join(lines)
    parts = split_content(text)
    assert all(0 < len(part) <= 2000 and part.strip() for part in parts) or not text.strip()
    assert squeeze("".join(parts)) == squeeze(text)


@given(st.lists(st.text(alphabet="xyz ", min_size=1, max_size=300), min_size=1, max_size=40))
def test_short_lines_are_never_cut(lines: list[str]) -> None:
    lines = [line for line in lines if line.strip()] or ["x"]
    parts = split_content("\n".join(lines))
    assert [line for part in parts for line in part.split("\n")] == lines


def test_text_within_the_limit_is_one_message() -> None:
    assert split_content("a\n\nb") == ["a\n\nb"]


def test_a_line_over_the_limit_is_cut_where_it_must() -> None:
    parts = split_content("start\n" + "x" * 4500 + "\nend")
    assert parts == ["start", "x" * 2000, "x" * 2000, "x" * 500 + "\nend"]


def test_plan_accepts_a_mapping_and_the_export_format() -> None:
    plan = plan_import({"Rules": "Be nice.", "faq": "Docs."}, [], {"list"})
    assert plan.snippets == [("rules", "Be nice."), ("faq", "Docs.")] and not plan.problems
    plan = plan_import({"snippets": [{"name": "a", "content": "x", "aliases": ["b"]}]}, [], set())
    assert plan.snippets == [("a", "x")] and plan.aliases == [("b", "a")]


def test_plan_refuses_alias_names_that_clash() -> None:
    plan = plan_import([{"name": "a", "content": "x", "aliases": ["a", "list", 3]}], [], {"list"})
    assert plan.problems == [
        "entry 1 (`a`), alias: `a` already exists here (or earlier in the file)",
        "entry 1 (`a`), alias: `list` is the name of a `snippet` subcommand",
        "entry 1 (`a`), alias: it has no `name` text",
    ]


def test_plan_bounds_the_aliases_too() -> None:
    entry = {"name": "a", "content": "x", "aliases": [f"b{i}" for i in range(501)]}
    plan = plan_import([entry], [], set())
    assert plan.problems == ["entry 1 (`a`): over 500 aliases"]
