"""Reading and writing the program's own files without trusting what is on disk.

Every file the program reads (warm start, limiter, recordings, settings) may be
damaged or planted, and every file it writes lives in a directory someone else
might have prepared. So:

- reads take a regular file only, opened without blocking (a FIFO planted at a
  path must not hang the start) and, for state files, without following a
  symbolic link; they are bounded in size, checked before anything is read;
- state and cache directories are created 0700 whatever the umask, and refused
  when they belong to another user or other users may write to them;
- state files are opened with ``O_NOFOLLOW`` (a symbolic link planted in their
  place is refused, never written through), created 0600, and replaced
  atomically (a temporary file in the same directory, flushed to disk, then
  renamed) so a full disk leaves the previous file whole.

Every refusal is an :class:`UnsafeFile`, an ``OSError`` whose ``strerror``
says in a few words what is wrong, so callers that already report ``OSError``
report these too.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile

#: What a file that is not a regular file is called in messages.
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISLNK, "a symbolic link"),
)


class UnsafeFile(OSError):
    """A file or directory the program refuses to use; ``strerror`` says why."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(errno.EPERM, reason, os.fspath(path))

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def describe_size(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB" if size >= 1024 * 1024 else f"{size} bytes"


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _refuse_non_regular(fd: int, path: str | os.PathLike[str]) -> os.stat_result:
    """The file's status; closes ``fd`` and raises UnsafeFile when it is not a regular file."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UnsafeFile(path, f"{_kind(info.st_mode)}, not a regular file")
    return info


def _open(path: str | os.PathLike[str], flags: int, mode: int = 0o600, *, follow_symlinks: bool = False) -> int:
    """``os.open`` that never blocks on a FIFO and, unless asked, never follows a symbolic link."""
    flags |= os.O_CLOEXEC | os.O_NONBLOCK
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise UnsafeFile(path, "a symbolic link (not followed)") from None
        if exc.errno == errno.ENXIO:  # a FIFO opened for writing with no reader
            raise UnsafeFile(path, "a FIFO, not a regular file") from None
        raise
    _refuse_non_regular(fd, path)
    os.set_blocking(fd, True)
    return fd


def read_regular(
    path: str | os.PathLike[str], *, max_bytes: int, follow_symlinks: bool = False, private: bool = False
) -> bytes:
    """The content of a regular file of at most ``max_bytes``.

    FileNotFoundError when there is none; UnsafeFile when it is something else
    (a FIFO, a device, a directory, a symbolic link unless ``follow_symlinks``)
    or larger than ``max_bytes`` (checked before reading), or when ``private``
    and its directory fails :func:`check_dir`; OSError otherwise.
    """
    if private:
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", os.fspath(path))
        check_dir(directory)
    fd = _open(path, os.O_RDONLY, follow_symlinks=follow_symlinks)
    with os.fdopen(fd, "rb") as fh:
        if os.fstat(fd).st_size > max_bytes:
            raise UnsafeFile(path, f"larger than {describe_size(max_bytes)}")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew while we read it
        raise UnsafeFile(path, f"larger than {describe_size(max_bytes)}")
    return data


def private_dir(path: str | os.PathLike[str]) -> str:
    """Make sure ``path`` is a directory only we can use; returns it.

    Missing directories are created 0700 (set after creation: ``makedirs``
    modes pass through the umask). An existing one must be ours and not
    writable by other users, or UnsafeFile says what is wrong and what to do.
    """
    path = os.fspath(path)
    missing = []
    head = os.path.abspath(path)
    while not os.path.lexists(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue  # another process made it at the same moment; checked below
        os.chmod(directory, 0o700)
    return check_dir(path)


def check_dir(path: str | os.PathLike[str]) -> str:
    """``path`` if it is a directory of ours that other users cannot write to, else UnsafeFile."""
    path = os.fspath(path)
    info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeFile(path, f"{_kind(info.st_mode)}, not a directory")
    if info.st_uid != os.geteuid():
        raise UnsafeFile(
            path,
            f"directory owned by another user (uid {info.st_uid}); set paths.state_dir / paths.cache_dir to one of yours",
        )
    if info.st_mode & stat.S_IWOTH:
        raise UnsafeFile(
            path, f"directory writable by other users (mode {stat.S_IMODE(info.st_mode):o}); run: chmod o-w {path}"
        )
    return path


def open_private(path: str | os.PathLike[str], flags: int) -> int:
    """A descriptor of the state file ``path`` (created 0600 in a private directory).

    A symbolic link, FIFO or anything else but a regular file at ``path`` is
    refused (UnsafeFile); the file's mode is set to 0600 in case it was created
    looser.
    """
    private_dir(os.path.dirname(os.path.abspath(path)))
    fd = _open(path, flags | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    except OSError:
        os.close(fd)
        raise
    return fd


def open_append(path: str | os.PathLike[str]) -> int:
    """A state file opened for appending (see :func:`open_private`)."""
    return open_private(path, os.O_WRONLY | os.O_APPEND)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace the state file ``path`` with ``data`` (0600): readers see the old file or the new one.

    On any failure (a full disk) the previous file stays as it was and the
    temporary file is removed; the OSError is raised.
    """
    path = os.fspath(path)
    directory = private_dir(os.path.dirname(os.path.abspath(path)))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # rename replaces whatever entry is at ``path`` (a planted link included), never its target.
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


__all__ = [
    "UnsafeFile",
    "check_dir",
    "describe_size",
    "open_append",
    "open_private",
    "private_dir",
    "read_regular",
    "write_atomic",
]
