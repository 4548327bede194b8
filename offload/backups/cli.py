"""``flask backup create PATH`` and ``flask backup restore PATH [--force]``.

Exit status 0 when done, 1 when refused or failed (the message says why and what to
do); a restore that needs ``flask db upgrade`` says so and still exits 0: the data
is back, and the upgrade is the next command.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from .archive import BackupError
from .services import Revision, create_backup, restore_backup

backup_cli = AppGroup("backup", help="Back up the database and uploaded files, or restore them.")


def _fail(error: BackupError, doing: str) -> None:
    click.echo(f"{doing} FAILED: {error}", err=True)
    sys.exit(1)


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


@backup_cli.command("create")
@click.argument("path", type=click.Path(path_type=Path))
def create_command(path: Path) -> None:
    """Write the database and the uploaded files to one archive at PATH (a new file, or
    an existing directory to put a time-stamped one in). Safe while the site runs."""
    try:
        made = create_backup(path)
    except BackupError as e:
        _fail(e, "backup")
    except OSError as e:  # the file system refused: permissions, a full disk
        _fail(BackupError(str(e)), "backup")
    manifest = made.manifest
    click.echo(f"backup written: {made.path} ({_size(made.size_bytes)}; {manifest.dialect} "
               f"database at revision {manifest.alembic_revision or 'none'}; "
               f"{manifest.file_count} uploaded file(s))")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace what the database and the upload folder hold now.")
def restore_command(path: Path, force: bool) -> None:
    """Restore the database and the uploaded files from the archive at PATH, into an
    empty database and upload folder (unless --force). Stop the site and workers first."""
    try:
        restored = restore_backup(path, force=force)
    except BackupError as e:
        _fail(e, "restore")
    except OSError as e:  # the file system refused a step the checks could not foresee
        _fail(BackupError(str(e)), "restore")
    manifest = restored.manifest
    click.echo(f"restored: the {manifest.dialect} database and {manifest.file_count} "
               f"uploaded file(s) from the backup of {manifest.created_at}")
    if restored.leftover:
        click.echo(f"The replaced files could not all be removed: {restored.leftover}. "
                   "Remove that folder by hand.", err=True)
    if restored.revision is Revision.BEHIND:
        click.echo(f"The database is at migration {manifest.alembic_revision}, behind this "
                   f"code's {restored.head}: run `flask db upgrade` before starting the site.",
                   err=True)
    elif restored.revision is Revision.UNSTAMPED:
        click.echo("The restored database records no migration: if its schema is this "
                   "code's, run `flask db stamp head`; else restore a backup made by "
                   "`flask backup create`.", err=True)
    else:
        click.echo(f"The database is at this code's migration head ({restored.head}).")
