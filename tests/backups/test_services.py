"""The two operations called directly, where a test must step in between their steps:
another process taking the archive's name, an upload folder that is a link or a mount
point, a files step that cannot be done."""

from __future__ import annotations

import pytest

from offload.backups import services
from offload.backups.archive import BackupError


def test_a_file_made_at_the_archive_path_meanwhile_is_never_overwritten(
        new_site, tmp_path, monkeypatch):
    """The existence check comes minutes before the archive is done: a file made at the
    path in between (another backup run, an operator) must survive."""
    source = new_site("source")
    target = tmp_path / "offload.tar.gz"
    real_write = services.write_archive

    def write_then_race(partial, manifest, members):
        real_write(partial, manifest, members)
        target.write_bytes(b"someone else's archive")

    monkeypatch.setattr(services, "write_archive", write_then_race)

    with source.app.app_context(), pytest.raises(BackupError, match="already exists"):
        services.create_backup(target)

    assert target.read_bytes() == b"someone else's archive"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["offload.tar.gz", "source"]
