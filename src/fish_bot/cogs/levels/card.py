"""The rank card: a PNG made with Pillow (avatar, name, level, rank, XP bar, XP to go).

:func:`render_card` is plain, blocking Pillow code; the cog runs it in a worker thread
(``asyncio.to_thread``), never on the event loop. Pillow is imported on the first card, so a
bot that never draws one does not load it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image, ImageFont

from fish_bot.cogs.levels.constants import CARD_SIZE

_BACKGROUND = (35, 39, 42)
_PANEL = (47, 49, 54)
_TEXT = (255, 255, 255)
_MUTED = (185, 187, 190)
_BAR_BACK = (72, 75, 78)
_BAR = (241, 196, 15)


@dataclass(frozen=True)
class CardData:
    """What the card shows."""

    name: str
    level: int
    rank: int | None
    xp_into_level: int
    xp_for_level: int
    total_xp: int


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _avatar(data: bytes | None, size: int) -> Image.Image:
    """The avatar cut to a circle (a plain disc when there is none or it does not decode)."""
    from PIL import Image, ImageDraw

    picture: Image.Image
    try:
        if not data:
            raise ValueError("no avatar")
        with Image.open(io.BytesIO(data)) as opened:
            picture = opened.convert("RGBA").resize((size, size))
    except (OSError, ValueError, Image.DecompressionBombError):
        picture = Image.new("RGBA", (size, size), _BAR_BACK)
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, size - 1, size - 1), fill=255)
    picture.putalpha(mask)
    return picture


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_card(data: CardData, avatar: bytes | None) -> bytes:
    """The card as PNG bytes, :data:`CARD_SIZE` pixels."""
    from PIL import Image, ImageDraw

    width, height = CARD_SIZE
    image = Image.new("RGBA", CARD_SIZE, _BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((16, 16, width - 16, height - 16), radius=24, fill=_PANEL)

    size = 180
    image.alpha_composite(_avatar(avatar, size), (40, (height - size) // 2))

    left = 250
    draw.text((left, 48), _short(data.name), font=_font(40), fill=_TEXT)
    rank_text = f"RANK #{data.rank}" if data.rank is not None else "UNRANKED"
    draw.text((left, 104), rank_text, font=_font(30), fill=_MUTED)
    draw.text((width - 250, 104), f"LEVEL {data.level}", font=_font(30), fill=_BAR)

    bar_top, bar_bottom, right = 170, 206, width - 48
    draw.rounded_rectangle((left, bar_top, right, bar_bottom), radius=18, fill=_BAR_BACK)
    share = data.xp_into_level / data.xp_for_level if data.xp_for_level > 0 else 0.0
    filled = left + int((right - left) * max(0.0, min(1.0, share)))
    if filled > left + 36:
        draw.rounded_rectangle((left, bar_top, filled, bar_bottom), radius=18, fill=_BAR)
    to_go = data.xp_for_level - data.xp_into_level
    draw.text(
        (left, 216),
        f"{data.xp_into_level:,} / {data.xp_for_level:,} XP · {to_go:,} to level "
        f"{data.level + 1} · {data.total_xp:,} XP in all",
        font=_font(22),
        fill=_MUTED,
    )

    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=False)
    return out.getvalue()
