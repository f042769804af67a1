"""``aggregator review``: serve the review page, or add an editor account with ``--add-editor NAME``.

Kept as plain typer-annotated functions so the main CLI mounts them (``app.command("review")``)
without this module owning a Typer app of its own.
"""

from __future__ import annotations

import os

import typer


def add_editor_command(
    name: str = typer.Argument(..., help="editor name: letters, digits, '.', '_' or '-'"),
) -> None:
    """Add an editor (or change their password): prompts twice, stores only the bcrypt hash."""
    from aggregator.review import auth

    password = typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    try:
        path = auth.add_editor(name, password)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"editor {name} saved in {path}")


def review_command(
    host: str = typer.Option("127.0.0.1", help="address to listen on (keep 127.0.0.1 behind a proxy)"),
    port: int = typer.Option(8088, help="port to listen on"),
    public: bool | None = typer.Option(
        None, "--public/--private",
        help="read-only pages without signing in (default: AGGREGATOR_REVIEW_PUBLIC, else private)"),
    add_editor: str | None = typer.Option(
        None, "--add-editor", metavar="NAME", help="add an editor account (prompts for the password) and exit"),
    log_level: str = typer.Option("info", help="uvicorn log level"),
) -> None:
    """Serve the editors' review page: browse stories, confirm, split, merge, mark not-duplicates."""
    if add_editor:
        add_editor_command(add_editor)
        return
    import uvicorn

    from aggregator.review import auth
    from aggregator.review.app import Settings, create_app

    if public is not None:
        os.environ["AGGREGATOR_REVIEW_PUBLIC"] = "true" if public else "false"
    settings = Settings.from_env()
    if not auth.load_editors():
        typer.echo(f"note: no editors configured yet; add one with `aggregator review --add-editor NAME` "
                   f"(file: {auth.editors_file()})", err=True)
    typer.echo(f"review page on http://{host}:{port}/ ({'public' if settings.public else 'sign-in required'})")
    uvicorn.run(create_app(settings=settings), host=host, port=port, log_level=log_level,
                proxy_headers=False, server_header=False)
