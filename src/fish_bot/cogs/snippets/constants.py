"""Constants of the snippets cog: limits, component actions, ranks and texts."""

from __future__ import annotations

from typing import Final

#: Snippets per page of `snippet list` and `snippet from`.
PER_PAGE: Final = 10
#: How often buffered use counts are written (they are also written when the cog unloads).
FLUSH_SECONDS: Final = 30
#: The rank `snippet lock`, `snippet unlock` and `snippet import` need by default. Whoever may
#: run `snippet lock` is a snippet moderator: they may also edit, rename and delete snippets of
#: others and locked snippets.
MODERATOR_RANK: Final = 2

#: The routed component that turns a list's pages: ``snippets:page:<page>:<sort>:<owner>:
#: <author>:<search>``.
PAGE_ACTION: Final = "page"
SORT_USES: Final = "u"
SORT_NAME: Final = "n"
SORTS: Final = {"uses": SORT_USES, "name": SORT_NAME}

#: `snippet import`: the largest file, and the most snippets one file may hold.
IMPORT_MAX_BYTES: Final = 2 * 1024 * 1024
IMPORT_MAX_ENTRIES: Final = 500
#: How many refused entries the answer lists (the rest are counted).
IMPORT_PROBLEMS_SHOWN: Final = 20

#: How many "did you mean" names an unknown snippet suggests.
SUGGESTIONS: Final = 3
#: How many names the slash autocomplete offers (Discord's limit is 25).
AUTOCOMPLETE_CHOICES: Final = 25

EMBED_COLOUR: Final = 0x2B8A9E
