"""The sandbox's trust boundary: whom the grader talks to, what it reads, what it hands over."""

import os
import socket
import sys
from pathlib import Path

import pytest

from course.grading.remote import check_peer, listening
from course.grading.sandbox import grant, is_root, run_and_exit
from course.grading.zygote import log_tail

OTHER_UID = 61999


def test_a_socket_served_by_another_uid_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        assert not listening(path), "a bound socket that does not listen yet is not ready"
        server.listen(1)
        assert listening(path)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(path))
            check_peer(client, os.geteuid())  # its own sandbox: accepted
            with pytest.raises(PermissionError, match="not the sandbox's uid"):
                check_peer(client, OTHER_UID)


def test_a_log_swapped_for_a_link_or_a_fifo_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("the hidden checks")
    (tmp_path / "linked.log").symlink_to(secret)
    os.mkfifo(tmp_path / "fifo.log")  # opening it for reading would block forever
    (tmp_path / "plain.log").write_text("Traceback ...\nValueError: boom\n")
    assert log_tail(tmp_path / "linked.log") == ""
    assert log_tail(tmp_path / "fifo.log") == ""
    assert log_tail(tmp_path / "plain.log").endswith("ValueError: boom\n")


@pytest.mark.skipif(not is_root(), reason="changing owners needs root")
def test_granting_a_directory_never_follows_a_planted_link(tmp_path: Path) -> None:
    database = tmp_path / "database"
    database.mkdir()
    (database / "db.sqlite").write_text("")
    outside = tmp_path / "outside"
    outside.write_text("not the sandbox's")
    (database / "planted").symlink_to(outside)
    grant([database], OTHER_UID)
    assert (database / "db.sqlite").stat().st_uid == OTHER_UID
    assert outside.stat().st_uid == os.geteuid(), "a link in a granted directory handed its target over"


class Exited(Exception):
    """Stands in for os._exit, which would end the test process."""


@pytest.mark.parametrize(
    ("work", "code"),
    [
        (lambda: None, 0),
        (lambda: sys.exit(3), 3),
        (lambda: sys.exit("a message"), 1),
        (lambda: 1 / 0, 1),
    ],
)
def test_a_forked_child_ends_with_its_works_exit_code(monkeypatch: pytest.MonkeyPatch, work, code: int) -> None:
    codes: list[int] = []

    def fake_exit(status: int) -> None:
        codes.append(status)
        raise Exited

    monkeypatch.setattr(os, "_exit", fake_exit)
    with pytest.raises(Exited):
        run_and_exit(work)
    assert codes == [code]
