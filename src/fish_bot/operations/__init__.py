"""Operator tools behind the command line (``docs/operations.md``).

* :mod:`fish_bot.operations.doctor`: ``fish-bot doctor``;
  :mod:`fish_bot.operations.db_errors` turns database errors into one line (every command).
* :mod:`fish_bot.operations.settings_io`: ``fish-bot settings export|import``.
  :mod:`fish_bot.operations.settings_check` checks a file before anything is written,
  :mod:`fish_bot.operations.settings_file` reads and writes the file within fixed limits,
  :mod:`fish_bot.operations.settings_catalog` finds the settings each loadable cog declares.
* :mod:`fish_bot.operations.backup`: ``fish-bot db backup|restore``.
  :mod:`fish_bot.operations.archive` holds the archive format and the checks a restore runs,
  :mod:`fish_bot.operations.dumps` the database copy (SQLite backup API, pg_dump/pg_restore).
* :mod:`fish_bot.operations.db_copy`: ``fish-bot db copy --to URL`` (every table, any two
  databases).
* :mod:`fish_bot.operations.lock`: the run lock ``<data_dir>/fish_bot.pid``.
"""
