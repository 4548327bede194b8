"""``on_rollback``: undo what the database can't (a file written for a row) when the
outermost ``atomic()`` rolls back or its commit fails; never after a commit. And
``store_document``, which relies on it, with a transaction that is run again."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.datastructures import FileStorage

from offload.accounts.models import User
from offload.core.db import atomic, db, on_commit, on_rollback, transactional
from offload.core.errors import InvalidField
from offload.core.uploads import check_upload, store_document, stored_path

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Boom(Exception):
    pass


def users() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(User.username).order_by(User.id)))


def new_user(username: str) -> User:
    return User(username=username, email=f"{username}@example.com", password_hash="x",
                display_name=username.title())


def upload(data: bytes = PDF, name: str = "report.pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def stored_files(app) -> set[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_a_callback_runs_once_when_the_block_rolls_back(app):
    calls = []
    with pytest.raises(Boom), atomic():
        db.session.add(new_user("ghost"))
        db.session.flush()
        on_rollback(lambda: calls.append("first"))
        on_rollback(lambda: calls.append("second"))
        raise Boom
    assert calls == ["first", "second"]
    assert users() == []
    with atomic():  # a later transaction doesn't run them again
        db.session.add(new_user("later"))
    with pytest.raises(Boom), atomic():
        raise Boom
    assert calls == ["first", "second"]


def test_a_callback_never_runs_after_a_commit(app):
    calls = []
    with atomic():
        db.session.add(new_user("kept"))
        on_rollback(lambda: calls.append("undo"))
    assert calls == []
    assert users() == ["kept"]
    # the committed block's callback is gone: a later rollback must not undo its work
    with pytest.raises(Boom), atomic():
        db.session.add(new_user("ghost"))
        raise Boom
    assert calls == []
    assert users() == ["kept"]


def test_nested_blocks_join_the_outer_one(app):
    calls = []
    with pytest.raises(Boom), atomic():
        on_rollback(lambda: calls.append("outer"))
        with atomic():
            db.session.add(new_user("inner"))
            on_rollback(lambda: calls.append("inner"))
        assert calls == []  # the inner block's end is not the transaction's
        raise Boom
    assert calls == ["outer", "inner"]
    assert users() == []


def test_an_inner_failure_the_outer_block_recovers_from_is_committed_and_not_undone(app):
    calls = []
    with atomic():
        db.session.add(new_user("kept"))
        try:
            with atomic():
                on_rollback(lambda: calls.append("inner"))
                raise Boom
        except Boom:
            pass
    assert calls == []
    assert users() == ["kept"]


def test_a_failed_commit_runs_the_callbacks_and_not_the_on_commit_ones(app, make_member):
    make_member("alice")
    undone, committed = [], []
    with pytest.raises(IntegrityError), atomic():
        # not flushed: the duplicate is only found when the commit flushes it
        db.session.add(new_user("alice"))
        on_rollback(lambda: undone.append(1))
        on_commit(lambda: committed.append(1))
    assert undone == [1] and committed == []
    assert users() == ["alice"]


def test_a_failing_before_commit_hook_runs_the_callbacks(app, monkeypatch):
    from sqlalchemy import event

    undone = []

    def refuse(session):
        raise Boom("commit refused")

    session = db.session()
    event.listen(session, "before_commit", refuse)
    try:
        with pytest.raises(Boom, match="commit refused"), atomic():
            db.session.add(new_user("ghost"))
            on_rollback(lambda: undone.append(1))
    finally:
        event.remove(session, "before_commit", refuse)
    assert undone == [1]
    assert users() == []


def test_registering_outside_a_transaction_is_an_error(app):
    with pytest.raises(RuntimeError, match="outside atomic"):
        on_rollback(lambda: None)


# --- store_document ---------------------------------------------------------------------------

def test_a_stored_document_is_removed_when_its_transaction_rolls_back(app):
    before = stored_files(app)
    with pytest.raises(Boom), atomic():
        stored = store_document(upload())
        assert stored_path(stored.stored_name).read_bytes() == PDF
        raise Boom
    assert not stored_path(stored.stored_name).exists()
    assert stored_files(app) == before
    with atomic():
        kept = store_document(upload())
    assert stored_path(kept.stored_name).read_bytes() == PDF
    assert stored_files(app) - before == {kept.stored_name}


def test_a_bad_document_is_an_error_on_the_named_field_and_leaves_no_file(app):
    before = stored_files(app)
    with pytest.raises(InvalidField, match="not a PDF") as refused, atomic():
        store_document(upload(PDF), field="files")
        store_document(upload(b"plain text", "fake.pdf"), field="files")
    assert refused.value.field == "files"
    assert stored_files(app) == before


def test_an_upload_can_be_checked_again(app):
    storage = upload()
    assert check_upload(storage, ["pdf"], 1024) == (PDF, "application/pdf")
    assert check_upload(storage, ["pdf"], 1024) == (PDF, "application/pdf")


class _Retryable(Exception):
    sqlstate = "40001"  # serialization failure: transactional() runs the call again


def test_a_re_run_transaction_stores_the_upload_once_and_whole(app):
    before = stored_files(app)
    attempts = []

    @transactional
    def attach(storage):
        stored = store_document(storage)
        db.session.add(new_user(f"try{len(attempts)}"))
        db.session.flush()
        attempts.append(stored.stored_name)
        if len(attempts) == 1:
            raise OperationalError("INSERT ...", {}, _Retryable("could not serialize"))
        return stored

    stored = attach(upload())
    assert len(attempts) == 2
    assert not stored_path(attempts[0]).exists()  # the first attempt's file went with it
    assert stored_path(stored.stored_name).read_bytes() == PDF
    assert stored.size_bytes == len(PDF)
    assert stored_files(app) - before == {stored.stored_name}
    assert users() == ["try1"]
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
