"""`--db postgresql://user[:password]@host[:port]/dbname[?param=value]`: checking the URL
before any connection is tried, so a typo is named rather than guessed at."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from domain.errors import InvalidInput

SCHEMES = ("postgresql://", "postgres://")

ALLOWED_PARAMETERS = frozenset(
    {
        "application_name",
        "connect_timeout",
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "sslpassword",
        "target_session_attrs",
        "host",
        "port",
        "user",
        "password",
        "passfile",
        "service",
    }
)
"""libpq's connection parameters that make sense for eventscope; any other is refused
(`options` too: the store sets the session settings it needs itself)."""


def is_postgres_url(value: str) -> bool:
    """True when `value` names a PostgreSQL database (`postgresql://` or `postgres://`)."""
    return value.startswith(SCHEMES)


SECRET_PARAMETERS = frozenset({"password", "sslpassword"})
"""URL parameters whose values messages never show."""


def redacted(url: str) -> str:
    """`url` without its passwords (`:secret@`, `?password=`, `?sslpassword=`), to name
    the database in messages."""
    parts = urlsplit(url)
    if parts.password is not None:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1))
    if parts.query:
        pairs = [pair.partition("=") for pair in parts.query.split("&")]
        query = "&".join(
            f"{name}=***" if name in SECRET_PARAMETERS else f"{name}{eq}{value}"
            for name, eq, value in pairs
        )
        parts = parts._replace(query=query)
    return parts.geturl()


def check_url(url: str) -> str:
    """`url` if it is a PostgreSQL URL eventscope can use, else InvalidInput naming why."""
    shown = redacted(url)
    if not is_postgres_url(url):
        raise InvalidInput(f"--db {shown}: a PostgreSQL URL starts with postgresql://")
    try:
        parts = urlsplit(url)
        port = parts.port
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise InvalidInput(f"--db {shown}: not a valid URL ({exc})") from None
    if parts.fragment:
        raise InvalidInput(f"--db {shown}: a PostgreSQL URL has no #fragment")
    database = parts.path.lstrip("/")
    if not database or "/" in database:
        raise InvalidInput(
            f"--db {shown}: name the database, as in postgresql://user@host:5432/dbname"
        )
    if port is not None and not 0 < port < 65536:
        raise InvalidInput(f"--db {shown}: port {port} is out of range")
    unknown = sorted({name for name, _ in pairs} - ALLOWED_PARAMETERS)
    if unknown:
        raise InvalidInput(
            f"--db {shown}: unknown URL parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)}; known: {', '.join(sorted(ALLOWED_PARAMETERS))}"
        )
    return url


def database_name(url: str) -> str:
    """The database `url` names (`bank` in `postgresql://u@host/bank?sslmode=require`)."""
    return urlsplit(url).path.lstrip("/") or "postgres"
