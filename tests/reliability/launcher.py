"""Runs `scholarhouse` commands in fresh processes forked from one that imported them already.

Importing Prefect costs seconds per process; a crash test that kills a dozen runs would spend
most of its time importing. This launcher pays the import once, then forks one process per
command: each runs `flows.cli.main(argv)` exactly as `python -m flows.cli` does, in its own
session (so the caller can SIGKILL its whole process group), with stdout and stderr in files.

Protocol, one JSON object per line on stdin, one answer per line on stdout:
`{"op": "run", "argv": [...], "stdout": FILE, "stderr": FILE}` → `{"pid": N}`;
`{"op": "poll", "pid": N}` → `{"returncode": R or null}` (null: still running);
`{"op": "wait", "pid": N}` → `{"returncode": R}` (negative: killed by signal -R).
"""

from __future__ import annotations

import json
import os
import sys

# Imported here, once, so that every forked run starts warm.
import flows.cli
import flows.ingest
import flows.runner


def _run_child(argv: list[str], stdout: str, stderr: str) -> None:
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, stdout), (2, stderr)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(handle, fd)
        os.close(handle)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    code = flows.cli.main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    raise SystemExit(code)


def main() -> None:
    answer = sys.stdout
    print(json.dumps({"ready": os.getpid()}), file=answer, flush=True)
    finished: dict[int, int] = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "run":
            answer.flush()
            pid = os.fork()
            if pid == 0:
                _run_child(request["argv"], request["stdout"], request["stderr"])
            print(json.dumps({"pid": pid}), file=answer, flush=True)
        elif request["op"] in ("poll", "wait"):
            pid = request["pid"]
            if pid not in finished:
                flags = os.WNOHANG if request["op"] == "poll" else 0
                reaped, status = os.waitpid(pid, flags)
                if reaped:
                    finished[pid] = os.waitstatus_to_exitcode(status)
            print(json.dumps({"returncode": finished.get(pid)}), file=answer, flush=True)


if __name__ == "__main__":
    main()
