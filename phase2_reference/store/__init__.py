"""The data store layer: SQLite with group commit, row ids, signed cursors and pages of rows."""
