"""``journeylens serve`` and the accounts it needs (``users``, ``tokens``).

There is no default account and no default password: the first admin is created here, with a
password typed at a prompt (or read from standard input for scripts), never on the command
line where the shell history would keep it.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click

from journeylens.web.accounts import MAX_TOKEN_DAYS, ROLES, TOKEN_DAYS, AccountError, Role
from journeylens.web.app import create_app, open_accounts

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _root(ctx: click.Context) -> Path:
    root: Path = ctx.obj["workspace"]
    return root


@click.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--secure-cookies",
    is_flag=True,
    help="Mark session cookies Secure (set this when a TLS proxy serves the app).",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, secure_cookies: bool) -> None:
    """Serve the web application: live maps, the map editor and analytics in the browser.

    Create the first admin with 'journeylens users add NAME --role admin' before signing in.
    The JSON API is under /api and described at /openapi.json.

    \b
    Example:
      journeylens -w shoes users add ana --role admin
      journeylens -w shoes serve --port 8000
    """
    import uvicorn

    app = create_app(_root(ctx), secure_cookies=secure_cookies)
    if not app.state.accounts.has_users():
        click.echo(
            "no users yet: create an admin with 'journeylens users add NAME --role admin'",
            err=True,
        )
    click.echo(f"journeylens on http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def demo_admin(root: Path) -> str:
    """The demo workspace's admin 'demo', with a fresh random password on every run."""
    accounts = open_accounts(root)
    password = secrets.token_urlsafe(12)
    while "demo" in password.lower() or len(set(password)) < 5:
        password = secrets.token_urlsafe(12)
    if any(user.name == "demo" for user in accounts.users()):
        accounts.set_password("demo", password)
        accounts.set_role("demo", "admin")
    else:
        accounts.add_user("demo", password, "admin")
    accounts.audit(None, "demo-admin", "demo", "random password for the demo")
    return password


@click.group(context_settings=CONTEXT)
def users() -> None:
    """Web application accounts: add users, list them, change roles and passwords.

    Roles: viewer (reads maps and analyses), editor (also edits maps, comments, sees the
    quarantine), admin (also manages users and reads the audit log).
    """


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@users.command("add", context_settings=CONTEXT)
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: Role, password_stdin: bool) -> None:
    """Add a user (the password is prompted for, at least 12 characters).

    \b
    Example:
      journeylens -w shoes users add ana --role admin
      printf '%s\\n' "$PASSWORD" | journeylens -w shoes users add bot --password-stdin
    """
    accounts = open_accounts(_root(ctx))
    try:
        user = accounts.add_user(name, _password(password_stdin), role)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    accounts.audit(None, "add-user", user.name, f"{user.role} (from the CLI)")
    click.echo(f"added {user.name} ({user.role})")


@users.command("list", context_settings=CONTEXT)
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List users and their roles."""
    for user in open_accounts(_root(ctx)).users():
        click.echo(f"{user.name}\t{user.role}")


@users.command("role", context_settings=CONTEXT)
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_context
def users_role(ctx: click.Context, name: str, role: Role) -> None:
    """Change a user's role (their sessions end)."""
    accounts = open_accounts(_root(ctx))
    try:
        accounts.set_role(name, role)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    accounts.audit(None, "set-role", name, f"{role} (from the CLI)")
    click.echo(f"{name} is now {role}")


@users.command("password", context_settings=CONTEXT)
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def users_password(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set a user's password (their sessions end)."""
    accounts = open_accounts(_root(ctx))
    try:
        accounts.set_password(name, _password(password_stdin))
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    accounts.audit(None, "set-password", name, "from the CLI")
    click.echo(f"password of {name} changed")


@users.command("token", context_settings=CONTEXT)
@click.argument("name")
@click.option("--label", required=True, help="What the token is for.")
@click.option(
    "--days",
    type=click.IntRange(1, MAX_TOKEN_DAYS),
    default=TOKEN_DAYS,
    show_default=True,
    help="How long the token works.",
)
@click.pass_context
def users_token(ctx: click.Context, name: str, label: str, days: int) -> None:
    """Create an API token acting as NAME (printed once; send it as 'Authorization: Bearer')."""
    accounts = open_accounts(_root(ctx))
    try:
        token = accounts.create_token(name, label, days=days)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    accounts.audit(None, "create-token", name, f"{label}, {days} d (from the CLI)")
    click.echo(token)


@users.command("tokens", context_settings=CONTEXT)
@click.argument("name", required=False)
@click.pass_context
def users_tokens(ctx: click.Context, name: str | None) -> None:
    """List API tokens (of NAME, or everyone's) with the id to revoke them by."""
    from datetime import UTC, datetime

    def day(at: float | None) -> str:
        return "never" if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")

    for token in open_accounts(_root(ctx)).tokens(name):
        state = "expired" if token.expired else f"until {day(token.expires)}"
        click.echo(f"  {token.id}  {token.user:<16} {token.label}  ({state})")


@users.command("revoke", context_settings=CONTEXT)
@click.argument("token_id")
@click.pass_context
def users_revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke an API token by its id (from 'users tokens'); it stops working at once."""
    accounts = open_accounts(_root(ctx))
    try:
        revoked = accounts.revoke_token(token_id)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    accounts.audit(None, "revoke-token", revoked.user, f"{revoked.label} (from the CLI)")
    click.echo(f"revoked {revoked.id} ({revoked.user}: {revoked.label})")
