"""The loopback harness: a fake Discord (REST v10, zlib-stream gateway) for the real bot process.

Import it with ``bench/`` on ``sys.path`` (``from loopback.fake_discord import FakeDiscord``).
"""
