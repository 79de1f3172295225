"""The snippet commands through the real bot (SimCord): prefix and slash, success and every
refusal (bad name, not the owner, locked, snippet-banned, alias loop, too long)."""

from __future__ import annotations

from typing import Any

import pytest
import simcord

from .conftest import World, say
from .snippet_helpers import assert_refused, cog, fish, post, set_up, slash_text

NAME_RULE = "lower-case letters, digits, `-` and `_`"


@pytest.fixture
async def sw(env: simcord.Env, world: World) -> World:
    return await set_up(env, world)


async def create(actor: Any, channel: Any, name: str, content: str = "text") -> None:
    reply = await say(actor, channel, f"!snippet create {name} {content}")
    assert reply.content == f"✅ Created the snippet `{name.lower()}`.", reply.content


# --- create and post ---------------------------------------------------------------------


async def test_create_and_post_by_prefix_and_slash(env: simcord.Env, sw: World) -> None:
    await create(sw.member, sw.general, "rules", "Be nice.\nNo spam.")
    assert (await say(sw.member2, sw.general, "!snippet rules")).content == "Be nice.\nNo spam."
    assert (await say(sw.member2, sw.general, "!s RULES")).content == "Be nice.\nNo spam."
    result = await sw.member2.slash(sw.general, "snippet show", name="rules")
    assert slash_text(result) == "Be nice.\nNo spam."

    result = await sw.member.slash(
        sw.general, "snippet create", name="FAQ-Install", content="pip install fish-bot"
    )
    assert slash_text(result) == "✅ Created the snippet `faq-install`."
    assert (await say(sw.member, sw.general, "!s faq-install")).content == "pip install fish-bot"


async def test_snippet_without_a_name_shows_the_help(env: simcord.Env, sw: World) -> None:
    reply = await say(sw.member, sw.general, "!snippet")
    [page] = reply.embeds  # the help page of the group
    shown = f"{page.title} {page.description} " + " ".join(f.value for f in page.fields)
    assert "!snippet" in shown and "Post a saved snippet" in shown
    result = await sw.member.slash(sw.general, "snippet show")
    assert_refused(env, slash_text(result), "Give the name of a snippet: `/snippet show rules`")


async def test_an_unknown_snippet_suggests_close_names(env: simcord.Env, sw: World) -> None:
    await create(sw.member, sw.general, "rules")
    reply = await say(sw.member, sw.general, "!s rulez")
    assert_refused(
        env, reply.content, "There is no snippet named `rulez` here. Did you mean `rules`?"
    )


async def test_content_never_pings_and_keeps_attachment_links(env: simcord.Env, sw: World) -> None:
    await create(
        sw.member, sw.general, "ping", f"@everyone @here <@&{sw.mod_role.id}> {sw.owner.mention}"
    )
    env.http_requests.clear()
    await say(sw.member2, sw.general, "!s ping")
    posts = [r for r in env.http_requests if r.method == "POST" and r.path.endswith("/messages")]
    assert posts and all(r.json.get("allowed_mentions") == {"parse": []} for r in posts)

    await sw.member.send(
        sw.general, "!s create logo Our logo:", attachments=[("logo.png", b"\x89PNG...")]
    )
    shown = (await say(sw.member2, sw.general, "!s logo")).content
    assert shown.startswith("Our logo:\nhttps://") and shown.endswith("logo.png")


async def test_long_content_is_split_on_line_boundaries(env: simcord.Env, sw: World) -> None:
    lines = [f"line {i:03d} " + "x" * 40 for i in range(80)]  # 80 lines of 49 characters
    text = "\n".join(lines)
    assert 2000 < len(text) <= 4000
    result = await sw.member.slash(sw.general, "snippet create", name="long", content=text)
    assert slash_text(result) == "✅ Created the snippet `long`."
    parts = [m.content for m in await post(sw.member2, sw.general, "!s long")]
    assert len(parts) == 2 and all(len(p) <= 2000 for p in parts)
    assert "\n".join(parts) == text  # nothing lost, every cut at a line end


async def test_bad_names_are_refused_with_the_rule_and_an_example(
    env: simcord.Env, sw: World
) -> None:
    reply = await say(sw.member, sw.general, "!s create Bad!Name text")
    assert_refused(env, reply.content, NAME_RULE)
    assert "e.g. `faq-install`" in reply.content
    result = await sw.member.slash(sw.general, "snippet create", name="-dash", content="x")
    assert_refused(env, slash_text(result), NAME_RULE)
    reply = await say(sw.member, sw.general, "!s create list text")
    assert_refused(env, reply.content, "`list` is the name of a `snippet` subcommand")
    assert await fish(env).db.snippet.get_all_snippets_by_guild_id(sw.guild.id) == []


async def test_too_long_and_duplicate_content_are_refused(env: simcord.Env, sw: World) -> None:
    reply = await say(sw.member, sw.general, "!s create big " + "x" * 1980)
    assert reply.content.startswith("✅")
    result = await sw.member.slash(sw.general, "snippet create", name="huge", content="y" * 4001)
    assert_refused(env, slash_text(result), "4,001 characters; at most 4,000")
    result = await sw.member.slash(sw.general, "snippet edit", name="big", content="y" * 4001)
    assert_refused(env, slash_text(result), "4,001 characters; at most 4,000")
    reply = await say(sw.member2, sw.general, "!s create BIG other")
    assert_refused(env, reply.content, "A snippet named `big` already exists here.")


# --- edit, delete, rename: author, moderator, locks --------------------------------------


async def test_only_the_author_or_a_moderator_may_edit_or_delete(
    env: simcord.Env, sw: World
) -> None:
    await create(sw.member, sw.general, "rules", "old")
    reply = await say(sw.member2, sw.general, "!s edit rules hijacked")
    assert_refused(env, reply.content, "Only the author")
    result = await sw.member2.slash(sw.general, "snippet delete", name="rules")
    assert_refused(env, slash_text(result), "or a moderator can delete `rules`")
    reply = await say(sw.member2, sw.general, "!s rename rules mine")
    assert_refused(env, reply.content, "or a moderator can rename `rules`")

    assert (await say(sw.member, sw.general, "!s edit rules new")).content == (
        "✏️ Edited the snippet `rules`."
    )
    result = await sw.moderator.slash(sw.general, "snippet edit", name="rules", content="mod")
    assert slash_text(result) == "✏️ Edited the snippet `rules`."
    assert (await say(sw.member2, sw.general, "!s rules")).content == "mod"


async def test_editing_content_to_another_name_is_an_edit_not_an_alias(
    env: simcord.Env, sw: World
) -> None:
    await create(sw.member, sw.general, "rules", "Be nice.")
    await create(sw.member, sw.general, "faq", "Read the docs.")
    await say(sw.member, sw.general, "!s edit faq rules")
    assert (await say(sw.member2, sw.general, "!s faq")).content == "rules"
    info = await say(sw.member, sw.general, "!s info faq")
    assert "alias" not in (info.embeds[0].description or "")


async def test_locked_snippets_change_only_by_moderators(env: simcord.Env, sw: World) -> None:
    await create(sw.member, sw.general, "rules", "old")
    reply = await say(sw.member, sw.general, "!s lock rules")
    assert_refused(env, reply.content, "`snippet lock` needs permission rank 2")
    result = await sw.moderator.slash(sw.general, "snippet lock", name="rules")
    assert slash_text(result) == "🔒 Locked `rules`: only moderators can change it."
    reply = await say(sw.moderator, sw.general, "!s lock rules")
    assert_refused(env, reply.content, "`rules` is already locked")

    for command in ("edit rules mine", "delete rules", "rename rules laws"):
        reply = await say(sw.member, sw.general, f"!s {command}")
        assert_refused(env, reply.content, "🔒 `rules` is locked: only moderators can")
    assert (await say(sw.moderator, sw.general, "!s edit rules by mod")).content.startswith("✏️")

    assert (
        await say(sw.moderator, sw.general, "!s unlock rules")
    ).content == "🔓 Unlocked `rules`."
    result = await sw.member.slash(sw.general, "snippet edit", name="rules", content="mine again")
    assert slash_text(result) == "✏️ Edited the snippet `rules`."


async def test_rename_keeps_the_aliases(env: simcord.Env, sw: World) -> None:
    await create(sw.member, sw.general, "rules", "Be nice.")
    await say(sw.member, sw.general, "!s alias r rules")
    reply = await say(sw.member, sw.general, "!s rename rules laws")
    assert reply.content == "✏️ Renamed `rules` to `laws`."
    assert (await say(sw.member2, sw.general, "!s r")).content == "Be nice."
    result = await sw.member.slash(sw.general, "snippet rename", old="laws", new="r")
    assert_refused(env, slash_text(result), "A snippet named `r` already exists here.")


async def test_deleting_a_snippet_deletes_its_aliases_and_says_so(
    env: simcord.Env, sw: World
) -> None:
    await create(sw.member, sw.general, "rules", "Be nice.")
    await say(sw.member, sw.general, "!s alias r rules")
    await say(sw.member2, sw.general, "!s alias rule r")
    reply = await say(sw.member2, sw.general, "!s delete rule")
    assert reply.content == "🗑️ Deleted the alias `rule` (of `rules`)."
    await say(sw.member2, sw.general, "!s alias rule rules")
    result = await sw.member.slash(sw.general, "snippet delete", name="rules")
    assert slash_text(result) == (
        "🗑️ Deleted the snippet `rules`. Its aliases `r`, `rule` went with it (an alias never "
        "outlives its snippet)."
    )
    reply = await say(sw.member, sw.general, "!s r")
    assert_refused(env, reply.content, "There is no snippet named `r` here.")


# --- aliases -------------------------------------------------------------------------------


async def test_aliases_resolve_to_the_final_snippet_and_loops_are_refused(
    env: simcord.Env, sw: World
) -> None:
    await create(sw.member, sw.general, "rules", "Be nice.")
    assert (await say(sw.member, sw.general, "!s alias r rules")).content == (
        "🔗 `r` is now an alias of `rules`."
    )
    result = await sw.member.slash(sw.general, "snippet alias", alias="r2", target="r")
    assert slash_text(result) == "🔗 `r2` is now an alias of `rules`."
    assert (await say(sw.member2, sw.general, "!s r2")).content == "Be nice."

    reply = await say(sw.member, sw.general, "!s alias rules r")
    assert_refused(env, reply.content, "`r` already leads to `rules`: that alias would be a loop.")
    result = await sw.member.slash(sw.general, "snippet alias", alias="x", target="x")
    assert_refused(env, slash_text(result), "`x` cannot be an alias of itself.")
    reply = await say(sw.member, sw.general, "!s alias y nothing")
    assert_refused(env, reply.content, "There is no snippet named `nothing` here.")
    reply = await say(sw.member, sw.general, "!s edit r text")
    assert_refused(env, reply.content, "`r` is an alias of `rules`: edit that snippet instead.")


# --- the snippet ban ----------------------------------------------------------------------


async def test_a_snippet_banned_member_cannot_change_snippets_and_is_told_until_when(
    env: simcord.Env, sw: World
) -> None:
    await create(sw.member, sw.general, "rules", "Be nice.")
    reply = await say(sw.moderator, sw.general, f"!snippetban {sw.member.mention} 2h spam")
    assert reply.content.startswith("✂️ Banned")
    for command in ("create new text", "edit rules x", "alias r rules", "delete rules"):
        reply = await say(sw.member, sw.general, f"!s {command}")
        assert_refused(env, reply.content, "⛔ You are banned from changing snippets until <t:")
        assert "(case #1)" in reply.content and "Reason: spam" in reply.content
    result = await sw.member.slash(sw.general, "snippet create", name="new", content="x")
    assert_refused(env, slash_text(result), "cannot create, edit, alias or delete snippets")
    # Posting is still allowed; the ban is about changing snippets.
    assert (await say(sw.member, sw.general, "!s rules")).content == "Be nice."

    await say(sw.moderator, sw.general, f"!snippetunban {sw.member.mention}")
    assert (await say(sw.member, sw.general, "!s create new text")).content.startswith("✅")


async def test_a_permanent_snippet_ban_says_permanently(env: simcord.Env, sw: World) -> None:
    await say(sw.moderator, sw.general, f"!snippetban {sw.member.mention}")
    reply = await say(sw.member, sw.general, "!s create new text")
    assert_refused(env, reply.content, "⛔ You are banned from changing snippets permanently")


# --- info, list, from, autocomplete ---------------------------------------------------------


async def test_info_shows_author_uses_dates_and_aliases(env: simcord.Env, sw: World) -> None:
    await create(sw.member, sw.general, "rules", "Be nice.")
    await say(sw.member2, sw.general, "!s alias r rules")
    for _ in range(3):
        await say(sw.member2, sw.general, "!s r")
    await say(sw.moderator, sw.general, "!s edit rules Be kind.")
    result = await sw.member.slash(sw.general, "snippet info", name="rules")
    assert result.response is not None
    embed = result.response.embeds[0]
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Author"] == sw.member.mention
    assert fields["Uses"] == "3"
    assert fields["Created"].startswith("<t:")
    assert fields["Edited"].endswith(f"by {sw.moderator.mention}")
    assert fields["Aliases"] == "`r`"
    alias_info = (await say(sw.member, sw.general, "!s info r")).embeds[0]
    assert alias_info.description == "An alias of `rules`."


async def test_list_pages_ten_at_a_time_and_sorts(env: simcord.Env, sw: World) -> None:
    names = [f"s{i:02d}" for i in range(23)]
    await fish(env).db.snippet.import_snippets(
        sw.guild.id, [(name, f"text {name}") for name in names], sw.member.id
    )
    await say(sw.member, sw.general, "!s s22")
    await say(sw.member, sw.general, "!s s22")
    await say(sw.member, sw.general, "!s s05")
    listing = await say(sw.member, sw.general, "!s list")
    embed = listing.embeds[0]
    lines = (embed.description or "").splitlines()
    assert len(lines) == 10
    assert lines[0] == "`s22` · 2 uses" and lines[1] == "`s05` · 1 use"
    assert embed.footer.text == "Page 1/3 · 23 snippets · sorted by uses"

    turned = await sw.member.click(listing, label="Next")
    assert turned.response is not None
    page = turned.response.embeds[0]
    assert page.footer.text == "Page 2/3 · 23 snippets · sorted by uses"
    resorted = await sw.member.click(turned.response, label="Sort by name")
    assert resorted.response is not None
    by_name = resorted.response.embeds[0]
    assert (by_name.description or "").splitlines()[0] == "`s00` · 0 uses"
    assert by_name.footer.text == "Page 1/3 · 23 snippets · sorted by name"

    # Someone else's click: that page for them alone; the list stays as it was.
    other = await sw.member2.click(resorted.response, label="Next")
    assert other.ephemeral and other.response is not None
    assert other.response.embeds[0].footer.text.startswith("Page 2/3")

    result = await sw.member.slash(sw.general, "snippet list", search="s1", sort="name")
    assert result.response is not None
    found = result.response.embeds[0]
    assert found.footer.text == "Page 1/1 · 10 snippets · sorted by name"


async def test_list_search_refuses_text_no_name_has(env: simcord.Env, sw: World) -> None:
    reply = await say(sw.member, sw.general, "!s list what?")
    assert_refused(env, reply.content, "cannot be in a snippet name")


async def test_from_lists_a_members_snippets(env: simcord.Env, sw: World) -> None:
    await create(sw.member, sw.general, "mine", "x")
    await create(sw.member2, sw.general, "theirs", "y")
    reply = await say(sw.member, sw.general, f"!s from {sw.member2.mention}")
    assert (reply.embeds[0].description or "").endswith("`theirs` · 0 uses")
    assert "mine" not in (reply.embeds[0].description or "")
    result = await sw.member2.slash(sw.general, "snippet from", member=sw.member)
    assert result.response is not None
    assert "`mine`" in (result.response.embeds[0].description or "")


async def test_slash_autocompletes_names(env: simcord.Env, sw: World) -> None:
    for name in ("rules", "rust", "faq-rules"):
        await create(sw.member, sw.general, name)
    choices = await sw.member.autocomplete(sw.general, "snippet show", "name", "ru")
    assert [c["value"] for c in choices] == ["rules", "rust", "faq-rules"]
    choices = await sw.member.autocomplete(sw.general, "snippet edit", "name", "faq")
    assert [c["value"] for c in choices] == ["faq-rules"]
    assert cog(env).cache.is_loaded(sw.guild.id)


async def test_rename_unlock_and_export_by_slash(env: simcord.Env, sw: World) -> None:
    await create(sw.member, sw.general, "rules", "Be nice.")
    result = await sw.member.slash(sw.general, "snippet rename", old="rules", new="laws")
    assert slash_text(result) == "✏️ Renamed `rules` to `laws`."
    await say(sw.moderator, sw.general, "!s lock laws")
    result = await sw.moderator.slash(sw.general, "snippet unlock", name="laws")
    assert slash_text(result) == "🔓 Unlocked `laws`."
    result = await sw.member2.slash(sw.general, "snippet unlock", name="laws")
    assert_refused(env, slash_text(result), "`snippet unlock` needs permission rank 2")
    result = await sw.member.slash(sw.general, "snippet export", kind="yaml")
    assert result.response is not None
    assert result.response.content == "📤 1 snippet of this server."
    (attachment,) = result.response.attachments
    raw = env.backend.cdn.get(attachment.url)
    assert raw is not None and b"name: laws" in raw and b"content: Be nice." in raw
