"""The trust boundary's parts, each on its own: whom the grader talks to, what it reads, what it removes."""

import json
import os
import socket
import sys
from pathlib import Path

import pytest

from course.config import SandboxLimits
from course.protocol import ProtocolError, answer, check_peer, listening, request
from course.safe_fs import UnsafeFile, make_directory, read_bounded, read_tail, remove_tree, replace_file
from course.sandboxed.cgroups import OwnerCgroup
from course.sandboxed.jail import Isolation, JailSpec, jail_env, run_and_exit
from course.sandboxed.zygote import Zygote, mounts_under

OTHER_UID = 61999


def test_a_socket_served_by_another_uid_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        assert not listening(path), "a bound socket that does not listen yet is not ready"
        server.listen(4)
        assert listening(path)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(path))
            check_peer(client, os.geteuid())  # its own sandbox: accepted
            with pytest.raises(PermissionError, match="not the sandbox's uid"):
                check_peer(client, OTHER_UID)
        with pytest.raises(ProtocolError, match="not the sandbox's uid"):
            request(path, "status", timeout=1, uid=OTHER_UID)


class Echo:
    def op_echo(self, text: str) -> dict[str, str]:
        return {"text": text}


def test_the_protocol_answers_bad_requests_with_errors_not_crashes() -> None:
    assert json.loads(answer(b'{"op": "echo", "text": "hi"}\n', Echo())[1]) == {"text": "hi"}
    for bad in (
        b"not json\n",
        b'["a list"]\n',
        b'{"op": "__class__"}\n',
        b'{"op": "echo"}\n',
        b"x" * (2 << 20) + b"\n",
    ):
        assert "error" in json.loads(answer(bad, Echo())[1]), bad[:40]


def test_logs_swapped_for_links_or_fifos_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("the hidden checks")
    (tmp_path / "linked.log").symlink_to(secret)
    os.mkfifo(tmp_path / "fifo.log")  # opening it for reading would block forever
    (tmp_path / "plain.log").write_text("Traceback ...\nValueError: boom\n")
    assert read_tail(tmp_path / "linked.log", 100) == ""
    assert read_tail(tmp_path / "fifo.log", 100) == ""
    assert read_tail(tmp_path / "plain.log", 100).endswith("ValueError: boom\n")
    with pytest.raises(OSError):
        read_bounded(tmp_path / "linked.log", 100)
    with pytest.raises(UnsafeFile):
        read_bounded(tmp_path / "fifo.log", 100)
    with pytest.raises(UnsafeFile, match="larger than"):
        read_bounded(tmp_path / "plain.log", 5)


def test_a_tree_of_any_depth_or_width_is_removed_without_following_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("not the learner's")
    tree = tmp_path / "tree"
    tree.mkdir()
    descriptor = os.open(tree, os.O_RDONLY)
    for _ in range(1500):  # deeper than Python's recursion limit, and than PATH_MAX allows to name
        os.mkdir("d", dir_fd=descriptor)
        inner = os.open("d", os.O_RDONLY, dir_fd=descriptor)
        os.close(descriptor)
        descriptor = inner
    os.symlink(outside, "link", dir_fd=descriptor)
    os.close(descriptor)
    for index in range(300):
        (tree / f"wide-{index}").mkdir()
    remove_tree(tree)
    assert not tree.exists()
    assert (outside / "keep").read_text() == "not the learner's"


def test_new_directories_are_given_away_before_use_and_files_replaced_whole(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    make_directory(fresh, owner=os.geteuid() if os.geteuid() == 0 else None)
    with pytest.raises(FileExistsError):
        make_directory(fresh)  # never one that exists: someone may have planted it
    replace_file(fresh, "db.sqlite", b"one")
    replace_file(fresh, "db.sqlite", b"two")
    assert (fresh / "db.sqlite").read_bytes() == b"two" and sorted(os.listdir(fresh)) == ["db.sqlite"]


def test_a_jail_inherits_no_environment_but_what_it_is_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INSTRUCTOR_SECRET", "s3cret")
    monkeypatch.setenv("TZ", "Asia/Kathmandu")
    spec = JailSpec(tmp_path, tmp_path / "tree", tmp_path / "labs", (), None, SandboxLimits(), {"BOOKLY_X": "1"})
    env = jail_env(spec)
    assert "INSTRUCTOR_SECRET" not in env and env["TZ"] == "Asia/Kathmandu" and env["BOOKLY_X"] == "1"
    assert env["HOME"] == str(tmp_path) and env["COURSE_ROOT"] == str(tmp_path / "tree")


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


@pytest.mark.skipif(os.geteuid() != 0, reason="an owner's tmpfs and uid need root")
def test_an_owner_is_let_go_whole_even_when_opening_or_killing_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure part way leaves no owner's tmpfs mounted and no sandbox uid claimed."""
    zygote = Zygote(tmp_path / "zygote.sock", tmp_path, SandboxLimits())
    zygote.isolation = Isolation(own_uid=True, namespaces=True, cgroups=True)
    (tmp_path / "owners").mkdir()

    def refused(*args: object) -> None:
        raise OSError("no cgroup here")

    zygote.cgroups = object()  # type: ignore[assignment]  # any layout: creating the owner's cgroup fails
    monkeypatch.setattr(OwnerCgroup, "create", refused)
    with pytest.raises(OSError, match="no cgroup"):
        zygote.op_open_owner("0000-01")
    assert (zygote.owners, zygote.uid_locks, mounts_under(tmp_path)) == ({}, {}, [])

    zygote.cgroups = None
    directory = Path(zygote.op_open_owner("0000-01")["directory"])
    (directory / "written").write_text("by the learner")
    assert mounts_under(tmp_path) == [str(directory)]
    monkeypatch.setattr(Zygote, "_kill_owner", refused)
    with pytest.raises(OSError, match="no cgroup"):
        zygote.op_close_owner("0000-01")
    assert (zygote.owners, zygote.uid_locks, mounts_under(tmp_path), directory.exists()) == ({}, {}, [], False)
