"""Bookmarks on PostgreSQL: named positions, written under the append lock like any write."""

from __future__ import annotations

from typing import cast

import psycopg

from domain.envelope import Bookmark
from store import bookmarks as bookmark_rules
from store.postgres.loads import Loads


class BookmarkWrites(Loads):
    """Setting and deleting bookmarks (the rules are `store.bookmarks`')."""

    def set_bookmark(self, name: str, position: int, *, actor: str) -> Bookmark:
        """Keep `position` (0..head) under `name`; re-using a name moves that bookmark."""
        bookmark = Bookmark(bookmark_rules.check_name(name), position, actor, bookmark_rules.now())

        def keep(conn: psycopg.Connection) -> Bookmark:
            head, _ = self._head_row(conn)
            bookmark_rules.check_position(position, head.position)
            conn.execute(
                "INSERT INTO bookmarks (name, position, actor, created_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET "
                "position = excluded.position, actor = excluded.actor, "
                "created_at = excluded.created_at",
                (bookmark.name, bookmark.position, bookmark.actor, bookmark.created_at),
            )
            return bookmark

        return cast(Bookmark, self._locked_write("set a bookmark", keep))

    def delete_bookmark(self, name: str) -> bool:
        """Delete the bookmark called `name`; False when there was none."""

        def drop(conn: psycopg.Connection) -> bool:
            cur = conn.execute("DELETE FROM bookmarks WHERE name = %s", (name,))
            return cur.rowcount > 0

        return bool(self._locked_write("delete a bookmark", drop))
