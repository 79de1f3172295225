"""SnippetController on both databases: names, aliases, deletes, use counts, the import, the
change notifications and twenty concurrent creators of one name."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import discord
import pytest
import sqlalchemy as sa

from fish_bot.database.controllers.snippets import SnippetError
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.exceptions import IntegrityViolation

Stored = Callable[..., Awaitable[list[dict[str, Any]]]]

GUILD = 1_300_000_000_000_000_001
OTHER = 1_300_000_000_000_000_002
ALICE = 1_300_000_000_000_000_101
BOB = 1_300_000_000_000_000_102


class Boom(Exception):
    """Raised by a test to abort a transaction."""


async def make(db: DatabaseCoordinator, name: str, content: str = "text", **kw: Any) -> Any:
    return await db.snippet.create_snippet(
        snippet_name=name,
        snippet_content=content,
        snippet_created_at=discord.utils.utcnow(),
        snippet_user_id=kw.get("author", ALICE),
        guild_id=kw.get("guild", GUILD),
    )


async def alias(db: DatabaseCoordinator, name: str, target: str, guild: int = GUILD) -> Any:
    return await db.snippet.create_snippet_alias(
        snippet_name=name,
        snippet_alias=target,
        snippet_created_at=discord.utils.utcnow(),
        snippet_user_id=BOB,
        guild_id=guild,
    )


async def test_create_and_read_back_without_regard_to_case(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    created = await make(db, "FAQ-Install", "Run `pip install fish-bot`.")
    assert created.name == "faq-install"
    found = await db.snippet.get_snippet_by_name_and_guild_id("Faq-INSTALL", GUILD)
    assert found is not None and found.id == created.id
    assert found.content == "Run `pip install fish-bot`."
    assert found.author_id == ALICE and found.uses == 0 and not found.locked
    assert await db.snippet.get_snippet_by_name_and_guild_id("faq-install", OTHER) is None
    rows = await stored("snippet")
    assert [(r["guild_id"], r["name"]) for r in rows] == [(GUILD, "faq-install")]


async def test_the_same_name_in_another_case_is_refused_but_other_guilds_may_use_it(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    await make(db, "rules")
    with pytest.raises(SnippetError, match="already exists"):
        await make(db, "RULES")
    await make(db, "rules", guild=OTHER)
    assert len(await stored("snippet")) == 2


async def test_the_database_itself_refuses_an_upper_case_or_duplicate_name(
    db: DatabaseCoordinator,
) -> None:
    await db.guild.ensure(GUILD)
    now = discord.utils.utcnow()
    with pytest.raises(IntegrityViolation):
        await db.snippet.create(
            guild_id=GUILD, name="Rules", content="x", author_id=1, created_at=now
        )
    await db.snippet.create(guild_id=GUILD, name="rules", content="x", author_id=1, created_at=now)
    with pytest.raises(Exception, match="already exists"):
        await db.snippet.create(
            guild_id=GUILD, name="rules", content="y", author_id=1, created_at=now
        )


@pytest.mark.parametrize("name", ["", "-rules", "a" * 33, "with space", "émoji", "a:b"])
async def test_bad_names_are_refused_with_the_rule(db: DatabaseCoordinator, name: str) -> None:
    with pytest.raises(SnippetError, match="lower-case letters, digits") as caught:
        await make(db, name)
    assert "e.g. `faq-install`" in str(caught.value)


async def test_content_must_exist_and_stay_within_4000_characters(db: DatabaseCoordinator) -> None:
    with pytest.raises(SnippetError, match="needs some content"):
        await make(db, "empty", "   ")
    with pytest.raises(SnippetError, match="4,001 characters; at most 4,000"):
        await make(db, "long", "x" * 4001)
    kept = await make(db, "longest", "x" * 4000)
    assert len(kept.content) == 4000


async def test_an_alias_of_an_alias_points_at_the_final_snippet(db: DatabaseCoordinator) -> None:
    rules = await make(db, "rules")
    first = await alias(db, "r", "rules")
    second = await alias(db, "R2", "r")
    assert first.alias_of_id == rules.id and second.alias_of_id == rules.id
    assert second.name == "r2" and second.content is None
    resolved = await db.snippet.resolve(second)
    assert resolved.id == rules.id
    assert [a.name for a in await db.snippet.get_aliases(rules.id)] == ["r", "r2"]


async def test_alias_loops_and_missing_targets_are_refused(db: DatabaseCoordinator) -> None:
    await make(db, "rules")
    await alias(db, "r", "rules")
    with pytest.raises(SnippetError, match="alias of itself"):
        await alias(db, "rules", "rules")
    with pytest.raises(SnippetError, match="would be a loop"):
        await alias(db, "rules", "r")
    with pytest.raises(SnippetError, match="no snippet named `nope`"):
        await alias(db, "x", "nope")


async def test_deleting_a_snippet_deletes_its_aliases_and_says_which(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    rules = await make(db, "rules")
    await make(db, "other")
    await alias(db, "r", "rules")
    await alias(db, "rule", "r")
    removed = await db.snippet.delete_snippet(rules.id, GUILD)
    assert removed == ["r", "rule"]
    assert [r["name"] for r in await stored("snippet")] == ["other"]


async def test_deleting_an_alias_keeps_its_snippet(db: DatabaseCoordinator, stored: Stored) -> None:
    await make(db, "rules")
    r = await alias(db, "r", "rules")
    assert await db.snippet.delete_snippet(r.id, GUILD) == []
    assert [row["name"] for row in await stored("snippet")] == ["rules"]


async def test_edit_rename_and_lock(db: DatabaseCoordinator) -> None:
    rules = await make(db, "rules", "old")
    await alias(db, "r", "rules")
    edited = await db.snippet.edit_snippet(rules.id, "other", BOB)
    assert edited.content == "other" and edited.edited_by == BOB and edited.edited_at
    renamed = await db.snippet.rename_snippet(rules.id, "Laws", BOB)
    assert renamed.name == "laws"
    r = await db.snippet.get_snippet_by_name_and_guild_id("r", GUILD)
    assert r is not None and (await db.snippet.resolve(r)).name == "laws"
    await make(db, "taken")
    with pytest.raises(SnippetError, match="`taken` already exists"):
        await db.snippet.rename_snippet(rules.id, "TAKEN", BOB)
    locked = await db.snippet.set_locked(rules.id, True)
    assert locked.locked
    with pytest.raises(SnippetError, match="is an alias"):
        await db.snippet.edit_snippet(r.id, "text", BOB)


async def test_buffered_uses_are_added_in_one_statement(db: DatabaseCoordinator) -> None:
    names = [f"s{i}" for i in range(5)]
    rows = [await make(db, name) for name in names]
    stats = db.service.stats.by_statement
    before = dict(stats)
    updated = await db.snippet.add_uses({row.id: i + 1 for i, row in enumerate(rows)} | {999999: 4})
    assert updated == 5
    assert stats.get("UPDATE", 0) - before.get("UPDATE", 0) == 1
    again = await db.snippet.add_uses({rows[0].id: 2})
    assert again == 1
    uses = {s.name: s.uses for s in await db.snippet.get_all_snippets_by_guild_id(GUILD)}
    assert uses == {"s0": 3, "s1": 2, "s2": 3, "s3": 4, "s4": 5}
    assert await db.snippet.add_uses({}) == 0


async def test_import_is_all_or_nothing(db: DatabaseCoordinator, stored: Stored) -> None:
    await make(db, "taken")
    with pytest.raises(SnippetError, match="`taken` already exists"):
        await db.snippet.import_snippets(GUILD, [("one", "1"), ("two", "2"), ("taken", "3")], ALICE)
    assert [r["name"] for r in await stored("snippet")] == ["taken"]
    count = await db.snippet.import_snippets(
        GUILD, [("one", "1"), ("two", "2")], ALICE, aliases=[("uno", "one")]
    )
    assert count == 3
    names = [r.name for r in await db.snippet.get_all_snippets_by_guild_id(GUILD)]
    assert names == ["one", "taken", "two", "uno"]


async def test_every_write_tells_the_listeners_and_again_after_commit(
    db: DatabaseCoordinator,
) -> None:
    heard: list[int | None] = []
    db.snippet.add_change_listener(heard.append)
    rules = await make(db, "rules")
    assert heard == [GUILD]
    heard.clear()
    async with db.transaction():
        await db.snippet.edit_snippet(rules.id, "new", ALICE)
        assert heard == [GUILD]
    assert heard == [GUILD, GUILD]
    heard.clear()
    with pytest.raises(Boom):
        async with db.transaction():
            await db.snippet.set_locked(rules.id, True)
            raise Boom
    assert heard == [GUILD]  # at once; nothing after the rolled-back transaction
    found = await db.snippet.get_snippet_by_name_and_guild_id("rules", GUILD)
    assert found is not None and not found.locked
    db.snippet.remove_change_listener(heard.append)


async def test_twenty_concurrent_creates_of_one_name_give_one_snippet(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    await db.guild.ensure(GUILD)
    results = await asyncio.gather(
        *(make(db, "race", f"content {i}", author=ALICE + i) for i in range(20)),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(created) == 1
    assert len(refused) == 19
    assert all(isinstance(r, SnippetError) for r in refused), refused
    assert all("`race` already exists" in str(r) for r in refused)
    rows = await stored("snippet", sa.column("name") == "race")
    assert len(rows) == 1 and rows[0]["content"] == created[0].content
