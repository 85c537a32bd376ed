"""Push and pull of artifacts: gitprov against dvc, to a directory and to S3 (issue 4).

Run from the repository root with the interpreter gitprov is installed in (it needs
moto[server] and boto3 there, as the test suite does)::

    .venv/bin/python bench/push_pull.py [--quick] [--gitprov-rev HEAD] [--json FILE]

It installs DVC with its S3 plugin (``pip install 'dvc[s3]'``) into a venv of its own
under ``bench/results/tools/dvc-venv`` (reused when present; git-ignored), starts moto's
S3 API server (``ThreadedMotoServer``) on 127.0.0.1 at a free port, and stops it at the
end. Scenarios, each against a local-directory remote and the S3 server:

1. 20,000 files of 4 KiB (20 x 10 x 100 folders) and 2. one 1 GiB file of random bytes:

   - push into an empty store: ``git push`` with gitprov's pre-push hook doing the upload
     (timed end to end, as the user sees it), ``gitprov push`` alone, and ``dvc push``;
   - pull into a fresh clone with an empty cache: ``gitprov pull`` and ``dvc pull``.

   Target (issue 4): gitprov at least 2x faster than dvc on the 20k-file push;
3. pre-push with nothing to send: ``git push`` of a code-only commit to a local bare
   repository, in a repository with gitprov set up and an artifact remote configured,
   against a plain ``git push`` in a repository without hooks. Target: under 100 ms more.

Every variant is a whole command in a child process, timed with the wall clock around
it. Variants are interleaved round by round with the order rotating; each push round
starts from empty stores (a new directory; for S3, moto reset and the buckets created
again) and new bare git remotes; each pull is into a new clone. ``os.sync()`` runs before
each timed command so that none pays for another's writeback. Medians over the rounds,
min and max beside them; ratios are quotients of medians. ``--gitprov-rev REV`` measures
gitprov as committed at REV (extracted with ``git archive`` and put first on
PYTHONPATH) rather than the working tree. Data lives in a temp directory (under
``--workdir`` if given) that is removed at the end. bench/README.md explains the output.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_TOOLS,
    GIB,
    MB,
    MIB,
    REPO_ROOT,
    VERDICTS,
    BenchError,
    Stats,
    Target,
    bench_env,
    call,
    ensure_dvc,
    git_version,
    gitprov_command,
    gitprov_version,
    human,
    log,
    machine,
    output_of,
    read_tree,
    rotated,
    write_json,
    write_random_file,
    write_tree,
)

# Issue 4's targets.
PUSH_VS_DVC = 2.0
NOOP_LIMIT_MS = 100.0

BACKENDS = ("dir", "s3")
DATA = "data"  # the tracked artifact's name in every repository
REGION = "us-east-1"
SOURCE_PARTS = ("gitprov", "hooks", "templates", "pyproject.toml")  # for --gitprov-rev


@dataclass(frozen=True)
class Sizes:
    """How big and how many: full run or ``--quick``."""

    tree: tuple[int, int, int]  # top folders, sub-folders each, files each
    file_size: int
    big: int
    runs: int  # push/pull rounds
    s3_runs: int  # push/pull rounds against S3
    noop_runs: int
    noop_warmup: int

    @property
    def tree_files(self) -> int:
        top, sub, files = self.tree
        return top * sub * files


FULL = Sizes(
    tree=(20, 10, 100), file_size=4096, big=GIB, runs=3, s3_runs=3, noop_runs=30, noop_warmup=3
)
QUICK = Sizes(
    tree=(4, 5, 100), file_size=4096, big=64 * MIB, runs=2, s3_runs=2, noop_runs=10, noop_warmup=2
)


# -- running commands -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    seconds: float
    stdout: str
    stderr: str


def run_timed(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Outcome:
    """Run one command; wall time around it (process start included). Output goes to
    temp files opened beforehand and read after the clock stops."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        code = subprocess.call(
            list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if code != 0:
        raise BenchError(f"'{' '.join(argv)}' failed in {cwd} (exit {code}):\n{stdout}{stderr}")
    return Outcome(elapsed, stdout, stderr)


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():
        raise BenchError(f"could not remove {path}")


# -- the S3 server ----------------------------------------------------------------------


class S3Server:
    """moto's S3 API server in this process (its own threads), on 127.0.0.1."""

    def __init__(self, env: Mapping[str, str]) -> None:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - only this script needs it

        # werkzeug logs every request to stderr; that would cost the server time.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        import boto3  # noqa: PLC0415

        self._client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

    def reset(self, buckets: Sequence[str]) -> None:
        """Forget every bucket and object (moto's reset API), then create ``buckets``."""
        url = f"{self.endpoint}/moto-api/reset"
        request = urllib.request.Request(url, method="POST")  # noqa: S310 - http, local
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()
        for bucket in buckets:
            self._client.create_bucket(Bucket=bucket)

    def count(self, bucket: str) -> tuple[int, int]:
        """Objects in ``bucket`` and their total size."""
        objects = size = 0
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                objects += 1
                size += item["Size"]
        return objects, size

    def stop(self) -> None:
        self._server.stop()


def aws_env(work: Path) -> dict[str, str]:
    """Credentials moto accepts; no real AWS profile or config can leak in."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(work / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(work / "no-aws-credentials"),
    }


def count_dir(root: Path) -> tuple[int, int]:
    """Files under ``root`` and their total size."""
    objects = size = 0
    for folder, _, names in os.walk(root):
        for name in names:
            objects += 1
            size += os.stat(Path(folder, name)).st_size
    return objects, size


# -- context ----------------------------------------------------------------------------


@dataclass
class Ctx:
    work: Path
    env: dict[str, str]
    gitprov: list[str]
    dvc: list[str] | None
    sizes: Sizes
    s3: S3Server | None
    notes: list[str] = field(default_factory=list)

    def gp(self, *args: str) -> list[str]:
        return [*self.gitprov, *args]

    def dv(self, *args: str) -> list[str]:
        return [*(self.dvc or []), *args]


def fingerprint(root: Path) -> str:
    """sha256 over every file's relative path and bytes, in sorted order."""
    sha = hashlib.sha256()
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for path in paths:
        sha.update(str(path.relative_to(root.parent)).encode() + b"\0")
        with open(path, "rb") as handle:
            while chunk := handle.read(MIB):
                sha.update(chunk)
    return sha.hexdigest()


# -- results ----------------------------------------------------------------------------


@dataclass
class Series:
    key: str
    label: str
    reference: str | None  # key of the row its ratio is taken against
    seconds: list[float] = field(default_factory=list)

    @property
    def stats(self) -> Stats:
        return Stats.of(self.seconds)


@dataclass
class Scenario:
    key: str
    title: str
    notes: list[str]
    series: list[Series]
    targets: list[Target] = field(default_factory=list)
    throughput_bytes: int | None = None
    unit: str = "s"  # "s" or "ms"
    extra: list[str] = field(default_factory=list)

    def get(self, key: str | None) -> Series | None:
        return next((s for s in self.series if s.key == key and s.seconds), None)

    def speed_target(self, key: str, reference: str, text: str, *, at_least: float) -> None:
        row, ref = self.get(key), self.get(reference)
        if row is None:
            return
        if ref is None:
            self.targets.append(Target(text, "n/a (reference tool missing)", None))
            return
        speedup = ref.stats.median / row.stats.median
        measured = f"speed-up {speedup:.2f}x (median of {reference} / median of {key})"
        self.targets.append(Target(text, measured, speedup >= at_least))


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    reference: str | None = None
    needs_dvc: bool = False


def interleave(
    ctx: Ctx,
    tag: str,
    groups: Sequence[Sequence[Variant]],
    runs: int,
    run: Callable[[Variant, int], float],
    *,
    warmup: int = 0,
    before_round: Callable[[int], None] | None = None,
    after_round: Callable[[int], None] | None = None,
) -> list[Series]:
    """``warmup`` untimed rounds, then ``runs`` timed ones. In each round the groups run
    one after the other (pushes, then the pulls that need them), each group's variants
    in an order rotated by one place every round."""
    chosen = [[v for v in group if ctx.dvc is not None or not v.needs_dvc] for group in groups]
    series = {v.key: Series(v.key, v.label, v.reference) for group in chosen for v in group}
    for round_no in range(-warmup, runs):
        if before_round:
            before_round(round_no)
        for group in chosen:
            for variant in rotated(group, round_no % max(len(group), 1)):
                seconds = run(variant, round_no)
                label = "warm-up" if round_no < 0 else f"run {round_no + 1}/{runs}"
                log(f"[{tag}] {label:<9} {variant.key:<22} {seconds:9.3f} s")
                if round_no >= 0:
                    series[variant.key].seconds.append(seconds)
        if after_round:
            after_round(round_no)
    return list(series.values())


# -- scenarios 1 and 2: push and pull ---------------------------------------------------

PUSH_GROUP = (
    Variant("gitprov-git-push", "gitprov: git push (pre-push hook uploads)", "dvc-push"),
    Variant("gitprov-push", "gitprov push", "dvc-push"),
    Variant("dvc-push", "dvc push", needs_dvc=True),
)
PULL_GROUP = (
    Variant("gitprov-pull", "gitprov pull (fresh clone, empty cache)", "dvc-pull"),
    Variant("dvc-pull", "dvc pull (fresh clone, empty cache)", needs_dvc=True),
)
# Where each push variant stores: (artifact remote name in gitprov's config, store name).
STORE_OF = {"gitprov-git-push": "gp-git", "gitprov-push": "gp-push", "dvc-push": "dvc"}


@dataclass
class Dataset:
    key: str  # "tree" | "big"
    title: str
    source: Path  # the data, written once
    fingerprint: str
    objects_gitprov: int  # what a complete push leaves in the store
    objects_dvc: int
    nbytes: int
    root: Path  # where this dataset's repositories, stores and clones live


def store_url(ctx: Ctx, ds: Dataset, backend: str, store: str) -> str:
    if backend == "dir":
        return str(ds.root / "stores" / store)
    return f"s3://{ds.key}-{store}/store"


def store_count(ctx: Ctx, ds: Dataset, backend: str, store: str) -> tuple[int, int]:
    if backend == "dir":
        return count_dir(Path(store_url(ctx, ds, backend, store)))
    assert ctx.s3 is not None
    return ctx.s3.count(f"{ds.key}-{store}")


def empty_stores(ctx: Ctx, ds: Dataset, backend: str) -> None:
    """Every store of this dataset and backend empty (S3: moto reset, buckets again)."""
    if backend == "dir":
        for store in STORE_OF.values():
            remove(Path(store_url(ctx, ds, backend, store)))
    else:
        assert ctx.s3 is not None
        ctx.s3.reset([f"{ds.key}-{store}" for store in STORE_OF.values()])
    os.sync()


def setup_repos(ctx: Ctx, ds: Dataset) -> None:
    """The source repositories, tracked and committed once (untimed).

    gitprov: git remotes ``dir`` and ``s3`` (bare repositories, re-created before each
    push), artifact remotes ``dir``/``s3`` (uploaded to by ``git push dir|s3``) and
    ``dir-push``/``s3-push`` (for ``gitprov push``; bound to no git remote). DVC: DVC
    remotes ``dir`` and ``s3``, and one bare repository to clone from.
    """
    gp = ds.root / "gp-src"
    gp.mkdir(parents=True)
    call(["git", "init", "-q"], gp, ctx.env)
    call(ctx.gp("init"), gp, ctx.env)
    for backend in BACKENDS if ctx.s3 else ("dir",):
        options = ["-o", f"endpoint_url={ctx.s3.endpoint}"] if backend == "s3" and ctx.s3 else []
        call(["git", "remote", "add", backend, str(ds.root / f"{backend}.git")], gp, ctx.env)
        url = store_url(ctx, ds, backend, "gp-git")
        call(ctx.gp("remote", "add", backend, url, *options), gp, ctx.env)
        url = store_url(ctx, ds, backend, "gp-push")
        push_remote = ["--git-remote", "none"]
        call(ctx.gp("remote", "add", f"{backend}-push", url, *push_remote, *options), gp, ctx.env)
    copy_data(ds.source, gp / DATA)
    log(f"[{ds.key}] gitprov track {DATA} (untimed)...")
    call(ctx.gp("track", DATA), gp, ctx.env)
    call(["git", "add", "-A"], gp, ctx.env)
    call(["git", "commit", "-q", "-m", "data"], gp, ctx.env)
    if ctx.dvc is None:
        return
    dv = ds.root / "dvc-src"
    dv.mkdir()
    call(["git", "init", "-q"], dv, ctx.env)
    call(ctx.dv("init", "-q"), dv, ctx.env)
    call(ctx.dv("remote", "add", "dir", store_url(ctx, ds, "dir", "dvc")), dv, ctx.env)
    if ctx.s3:
        call(ctx.dv("remote", "add", "s3", store_url(ctx, ds, "s3", "dvc")), dv, ctx.env)
        call(ctx.dv("remote", "modify", "s3", "endpointurl", ctx.s3.endpoint), dv, ctx.env)
    copy_data(ds.source, dv / DATA)
    log(f"[{ds.key}] dvc add {DATA} (untimed)...")
    call(ctx.dv("add", "-q", DATA), dv, ctx.env)
    call(["git", "add", "-A"], dv, ctx.env)
    call(["git", "commit", "-q", "-m", "data"], dv, ctx.env)
    call(["git", "init", "-q", "--bare", str(ds.root / "dvc.git")], ds.root, ctx.env)
    call(["git", "push", "-q", str(ds.root / "dvc.git"), "main"], dv, ctx.env)


def copy_data(source: Path, dest: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, dest)
    else:
        shutil.copy2(source, dest)


def fresh_git_remote(ctx: Ctx, ds: Dataset, backend: str) -> None:
    """A new, empty bare repository for ``git push <backend>``, and no trace of the old
    one in the source repository (its remote-tracking and notes-tracking refs)."""
    bare = ds.root / f"{backend}.git"
    remove(bare)
    call(["git", "init", "-q", "--bare", str(bare)], ds.root, ctx.env)
    gp = ds.root / "gp-src"
    refs = call(["git", "for-each-ref", "--format=%(refname)"], gp, ctx.env).split()
    for ref in refs:
        if ref.startswith((f"refs/remotes/{backend}/", f"refs/notes/remotes/{backend}/")):
            call(["git", "update-ref", "-d", ref], gp, ctx.env)


def transfer_scenario(ctx: Ctx, ds: Dataset, backend: str) -> Scenario:
    tag = f"{ds.key}/{backend}"
    gp, dv = ds.root / "gp-src", ds.root / "dvc-src"
    clones = ds.root / "clones"
    runs = ctx.sizes.runs if backend == "dir" else ctx.sizes.s3_runs

    def check_store(variant: Variant) -> None:
        expected = ds.objects_dvc if variant.key == "dvc-push" else ds.objects_gitprov
        objects, _ = store_count(ctx, ds, backend, STORE_OF[variant.key])
        if objects != expected:
            raise BenchError(f"[{tag}] {variant.key}: {objects} objects stored, want {expected}")

    def run(variant: Variant, round_no: int) -> float:
        if variant.key == "gitprov-git-push":
            fresh_git_remote(ctx, ds, backend)
            argv, cwd = ["git", "push", "-q", backend, "main"], gp
        elif variant.key == "gitprov-push":
            argv, cwd = ctx.gp("push", f"{backend}-push"), gp
        elif variant.key == "dvc-push":
            argv, cwd = ctx.dv("push", "-q", "-r", backend), dv
        else:
            clone = clones / f"r{round_no}-{variant.key}"
            if variant.key == "gitprov-pull":
                bare = ds.root / f"{backend}.git"
                call(["git", "clone", "-q", "-o", backend, str(bare), str(clone)], ds.root, ctx.env)
                call(ctx.gp("init"), clone, ctx.env)
                argv = ctx.gp("pull", backend)
            else:
                bare = ds.root / "dvc.git"
                call(["git", "clone", "-q", str(bare), str(clone)], ds.root, ctx.env)
                argv = ctx.dv("pull", "-q", "-r", backend)
            cwd = clone
        os.sync()
        outcome = run_timed(argv, cwd, ctx.env)
        if variant.key in STORE_OF:
            check_store(variant)
        else:
            got = fingerprint(cwd / DATA)
            if got != ds.fingerprint:
                raise BenchError(
                    f"[{tag}] {variant.key}: the pulled {DATA} differs from the source"
                )
        return outcome.seconds

    def before(round_no: int) -> None:
        empty_stores(ctx, ds, backend)

    def after(round_no: int) -> None:
        remove(clones)  # the pulls' clones (the stores go at the start of the next round)
        os.sync()

    series = interleave(
        ctx,
        tag,
        [PUSH_GROUP, PULL_GROUP],
        runs,
        run,
        before_round=before,
        after_round=after,
    )
    where = (
        "a local directory (same file system)"
        if backend == "dir"
        else "moto's S3 server on 127.0.0.1 (in the benchmark's process)"
    )
    scenario = Scenario(
        f"{ds.key}-{backend}",
        f"{ds.title} to/from {where}",
        [
            f"{runs} round(s), variants interleaved (order rotating), no warm-up "
            "round (each tool ran its own setup commands first)",
            "each round: every store emptied, new bare git remote; pushes, then pulls "
            "from what that round pushed, each into a new clone (clone and init untimed)",
            f"a complete push stores {ds.objects_gitprov:,} object(s) for gitprov (files "
            f"and tree nodes), {ds.objects_dvc:,} for DVC; checked after every push; every pull "
            "checked byte for byte",
        ],
        series,
        throughput_bytes=ds.nbytes,
    )
    if ds.key == "tree":
        for key, what in (("gitprov-git-push", "git push"), ("gitprov-push", "gitprov push")):
            scenario.speed_target(
                key,
                "dvc-push",
                f"{ds.key}/{backend}: gitprov ({what}) at least {PUSH_VS_DVC:g}x faster "
                "than dvc push",
                at_least=PUSH_VS_DVC,
            )
    return scenario


def make_dataset(ctx: Ctx, key: str) -> Dataset:
    sizes = ctx.sizes
    root = ctx.work / key
    source_dir = ctx.work / f"{key}-source"
    source_dir.mkdir()
    if key == "tree":
        top, sub, files = sizes.tree
        log(f"[tree] writing {sizes.tree_files:,} files of {sizes.file_size} bytes...")
        source = source_dir / DATA
        write_tree(source, sizes.tree, sizes.file_size)
        read_tree(source)
        title = (
            f"{sizes.tree_files:,} files of {sizes.file_size // 1024} KiB "
            f"({top} x {sub} folders x {files} files)"
        )
        objects_gitprov = sizes.tree_files + top * sub + top + 1
        objects_dvc = sizes.tree_files + 1  # and the .dir listing
        nbytes = sizes.tree_files * sizes.file_size
    else:
        log(f"[big] writing {human(sizes.big)} of random bytes...")
        source = source_dir / DATA
        write_random_file(source, sizes.big)
        title = f"one {human(sizes.big)} file of random bytes"
        objects_gitprov = objects_dvc = 1
        nbytes = sizes.big
    os.sync()
    root.mkdir()
    return Dataset(
        key, title, source, fingerprint(source), objects_gitprov, objects_dvc, nbytes, root
    )


# -- scenario 3: pre-push with nothing to send -------------------------------------------


def noop_scenario(ctx: Ctx) -> Scenario:
    """``git push`` of one new code-only commit per round, with and without gitprov."""
    root = ctx.work / "noop"
    root.mkdir()
    repos = {"gitprov": root / "gitprov", "plain": root / "plain"}
    for key, repo in repos.items():
        bare = root / f"{key}.git"
        call(["git", "init", "-q", "--bare", str(bare)], root, ctx.env)
        repo.mkdir()
        call(["git", "init", "-q"], repo, ctx.env)
        call(["git", "remote", "add", "origin", str(bare)], repo, ctx.env)
        if key == "gitprov":
            call(ctx.gp("init"), repo, ctx.env)
            call(ctx.gp("remote", "add", "origin", str(root / "store")), repo, ctx.env)
            (repo / "model.bin").write_bytes(os.urandom(1 << 16))
            call(ctx.gp("track", "model.bin"), repo, ctx.env)
        (repo / "train.py").write_text("print('v0')\n", encoding="utf-8")
        call(["git", "add", "-A"], repo, ctx.env)
        call(["git", "commit", "-q", "-m", "start"], repo, ctx.env)
        call(["git", "push", "-q", "origin", "main"], repo, ctx.env)
    if count_dir(root / "store")[0] != 1:
        raise BenchError("[noop] the initial push did not upload the tracked model")
    storage_log = root / "storage.log"
    env = {**ctx.env, "GITPROV_STORAGE_LOG": str(storage_log), "GITPROV_VERBOSE": "1"}
    variants = [
        Variant("gitprov", "git push, gitprov set up (nothing to upload)", "plain"),
        Variant("plain", "git push, no hooks"),
    ]
    counter = 0

    def run(variant: Variant, round_no: int) -> float:
        nonlocal counter
        counter += 1
        repo = repos[variant.key]
        (repo / "train.py").write_text(f"print('v{counter}')\n", encoding="utf-8")
        call(["git", "commit", "-q", "-am", f"code change {counter}"], repo, ctx.env)
        os.sync()
        outcome = run_timed(["git", "push", "-q", "origin", "main"], repo, env)
        head = call(["git", "rev-parse", "HEAD"], repo, ctx.env).strip()
        remote = call(["git", "rev-parse", "main"], root / f"{variant.key}.git", ctx.env).strip()
        if head != remote:
            raise BenchError(f"[noop] {variant.key}: the push did not move the remote ref")
        if variant.key == "gitprov" and "0 storage request(s)" not in outcome.stderr:
            raise BenchError(f"[noop] the pre-push hook did not report 0 requests:\n{outcome}")
        if storage_log.exists():
            raise BenchError(f"[noop] a storage request was made:\n{storage_log.read_text()}")
        return outcome.seconds

    series = interleave(
        ctx, "noop", [variants], ctx.sizes.noop_runs, run, warmup=ctx.sizes.noop_warmup
    )
    for row in series:
        row.seconds = [s * 1000 for s in row.seconds]
    scenario = Scenario(
        "noop",
        "Pre-push with nothing to send: git push of one code-only commit to a local bare repo",
        [
            f"{ctx.sizes.noop_runs} rounds after {ctx.sizes.noop_warmup} warm-up rounds, "
            "interleaved; each round commits a one-line code change (untimed) and pushes it",
            "gitprov repository: gitprov init, a directory artifact remote, one tracked "
            "64 KiB file already pushed; GITPROV_VERBOSE=1 checked '0 storage request(s)', "
            "GITPROV_STORAGE_LOG checked empty, after every push",
        ],
        series,
        unit="ms",
    )
    gp_row, plain_row = scenario.get("gitprov"), scenario.get("plain")
    if gp_row and plain_row:
        added = gp_row.stats.median - plain_row.stats.median
        scenario.extra.append(
            f"added by gitprov's pre-push (difference of medians): {added:.1f} ms"
        )
        scenario.targets.append(
            Target(
                f"pre-push with nothing to send adds under {NOOP_LIMIT_MS:g} ms",
                f"{added:.1f} ms",
                added < NOOP_LIMIT_MS,
            )
        )
    return scenario


# -- report -----------------------------------------------------------------------------


def render(scenario: Scenario) -> list[str]:
    lines = ["", f"{scenario.key}: {scenario.title}"]
    lines += [f"   - {note}" for note in scenario.notes]
    unit = scenario.unit
    head = f"   {'variant':<48} {'median':>10} {'min':>10} {'max':>10} {'ratio':>18}"
    if scenario.throughput_bytes:
        head += f" {'MB/s':>7}"
    lines.append(head)
    for row in scenario.series:
        if not row.seconds:
            continue
        stats = row.stats
        ref = scenario.get(row.reference)
        ratio = f"{stats.median / ref.stats.median:.2f}x {ref.key}" if ref else ""
        line = (
            f"   {row.label:<48} {stats.median:8.3f}{unit:<2} {stats.minimum:8.3f}{unit:<2} "
            f"{stats.maximum:8.3f}{unit:<2} {ratio:>18}"
        )
        if scenario.throughput_bytes:
            line += f" {scenario.throughput_bytes / MB / stats.median:7.1f}"
        lines.append(line)
    lines.append("   (ratio = this row's median / the named row's median; below 1 is faster)")
    lines += [f"   {text}" for text in scenario.extra]
    for target in scenario.targets:
        lines.append(f"   target: {target.text}: {target.measured} -> {VERDICTS[target.met]}")
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2,000 files, 64 MiB, 2 rounds, 10 no-op pushes (a smoke test, not figures)",
    )
    parser.add_argument("--runs", type=int, help="push/pull rounds (default 3; quick 2)")
    parser.add_argument(
        "--s3-runs", type=int, help="push/pull rounds against S3 (default: as --runs)"
    )
    parser.add_argument("--noop-runs", type=int, help="no-op push rounds (default 30; quick 10)")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=("tree", "big", "noop"),
        help="run only these (repeatable): the small files, the big file, the no-op push",
    )
    parser.add_argument(
        "--backend", action="append", choices=BACKENDS, help="only these remotes (repeatable)"
    )
    parser.add_argument(
        "--gitprov-rev",
        metavar="REV",
        help="measure gitprov as committed at REV (git archive + PYTHONPATH), not the "
        "working tree the interpreter imports",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    parser.add_argument(
        "--workdir", type=Path, help="where the temp directory goes (default: the system temp)"
    )
    parser.add_argument(
        "--tools-dir",
        type=Path,
        default=DEFAULT_TOOLS,
        help="where the DVC venv is created or reused (default bench/results/tools)",
    )
    parser.add_argument(
        "--dvc-spec", default="dvc[s3]", help="pip requirement for DVC (default 'dvc[s3]')"
    )
    parser.add_argument(
        "--no-install", action="store_true", help="install nothing; skip DVC if it is missing"
    )
    args = parser.parse_args(argv)
    for name in ("runs", "s3_runs", "noop_runs"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def extract_gitprov(rev: str, dest: Path) -> str:
    """gitprov as committed at ``rev``, extracted into ``dest`` as a source checkout
    (the package, the ``hooks/`` and ``templates/`` it reads, pyproject.toml); the short
    commit."""
    commit = call(["git", "rev-parse", "--short", f"{rev}^{{commit}}"], REPO_ROOT, os.environ)
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", rev, *SOURCE_PARTS],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return commit.strip()


def warm_imports(ctx: Ctx) -> None:
    """Compile (into the bytecode cache) what the timed commands import, so that no
    first round pays for it: gitprov's and DVC's transfer code and their S3 stacks."""
    gitprov_python = Path(ctx.gitprov[0]).parent / "python"
    modules = "gitprov.cli.main, gitprov.services.pull, gitprov.services.push, s3fs, botocore"
    call([str(gitprov_python), "-c", f"import {modules}"], ctx.work, ctx.env)
    if ctx.dvc:
        dvc_python = Path(ctx.dvc[0]).parent / "python"
        modules = "dvc.cli, dvc.repo, dvc_s3, s3fs, botocore, dvc_objects, dvc_data"
        call([str(dvc_python), "-c", f"import {modules}"], ctx.work, ctx.env)


def versions(ctx: Ctx) -> dict[str, str | None]:
    def python_of(command: list[str] | None) -> str:
        return str(Path(command[0]).parent / "python") if command else sys.executable

    s3fs = "import s3fs; print(s3fs.__version__)"
    return {
        "gitprov": gitprov_version(ctx.env),
        "dvc": output_of(ctx.dv("--version"), ctx.env) if ctx.dvc else None,
        "git": git_version(ctx.env),
        "moto": output_of([sys.executable, "-c", "import moto; print(moto.__version__)"]),
        "s3fs (gitprov)": output_of([python_of(ctx.gitprov), "-c", s3fs]),
        "s3fs (dvc)": output_of([python_of(ctx.dvc), "-c", s3fs]) if ctx.dvc else None,
    }


def run_scenarios(ctx: Ctx, wanted: set[str], backends: Sequence[str]) -> list[Scenario]:
    """Small files, then the big file (each removed before the next), then the no-op."""
    warm_imports(ctx)
    scenarios = []
    for key in ("tree", "big"):
        if key not in wanted:
            continue
        ds = make_dataset(ctx, key)
        setup_repos(ctx, ds)
        for backend in backends:
            if backend != "s3" or ctx.s3 is not None:
                scenarios.append(transfer_scenario(ctx, ds, backend))
        remove(ds.root)
        remove(ds.source.parent)
        os.sync()
    if "noop" in wanted:
        scenarios.append(noop_scenario(ctx))
    return scenarios


def report(scenarios: Sequence[Scenario], settings: Mapping[str, Any]) -> str:
    lines = ["  settings"] + [f"    {key:<20} {value}" for key, value in settings.items()]
    for scenario in scenarios:
        lines += render(scenario)
    lines += ["", "targets"]
    lines += [
        f"   {VERDICTS[t.met]:<6} {t.text}: {t.measured}" for s in scenarios for t in s.targets
    ]
    return "\n".join(lines)


def as_json(scenario: Scenario) -> dict[str, Any]:
    return {
        "title": scenario.title,
        "notes": scenario.notes,
        "unit": scenario.unit,
        "series": {
            row.key: {
                "label": row.label,
                "reference": row.reference,
                **vars(row.stats),
                "samples": row.seconds,
            }
            for row in scenario.series
            if row.seconds
        },
        "extra": scenario.extra,
        "targets": [vars(t) for t in scenario.targets],
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.runs is not None:
        sizes = dataclasses.replace(sizes, runs=args.runs, s3_runs=args.runs)
    if args.s3_runs is not None:
        sizes = dataclasses.replace(sizes, s3_runs=args.s3_runs)
    if args.noop_runs is not None:
        sizes = dataclasses.replace(sizes, noop_runs=args.noop_runs)
    wanted = set(args.scenario or ("tree", "big", "noop"))
    backends = tuple(args.backend or BACKENDS)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    dvc, dvc_note = ensure_dvc(
        args.tools_dir, args.dvc_spec, install=not args.no_install, modules=("dvc_s3",)
    )
    work = Path(tempfile.mkdtemp(prefix="gitprov-bench-push-", dir=args.workdir))
    started = time.perf_counter()
    ctx = Ctx(work, {}, gitprov_command(), dvc, sizes, None, [f"dvc: {dvc_note}"])
    try:
        ctx.env = bench_env(work)
        ctx.env.update(aws_env(work))
        ctx.env.pop("AWS_PROFILE", None)
        if args.gitprov_rev:
            commit = extract_gitprov(args.gitprov_rev, work / "gitprov-src")
            ctx.env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(work / "gitprov-src"), ctx.env.get("PYTHONPATH")) if p
            )
            ctx.notes.append(f"gitprov: {args.gitprov_rev} = {commit}, first on PYTHONPATH")
        if "s3" in backends and wanted & {"tree", "big"}:
            ctx.s3 = S3Server(ctx.env)
            ctx.notes.append(f"S3: moto ThreadedMotoServer at {ctx.s3.endpoint}, in-process")
        info, tool_versions = machine(work), versions(ctx)
        lines = ["gitprov push/pull benchmark", "", "  versions"]
        lines += [f"    {k:<20} {v or 'not available'}" for k, v in tool_versions.items()]
        lines += ["  machine"] + [f"    {k:<20} {v}" for k, v in info.items()]
        lines += ["  tools"] + [f"    {note}" for note in ctx.notes]
        print("\n".join(lines), flush=True)
        scenarios = run_scenarios(ctx, wanted, backends)
        elapsed = time.perf_counter() - started
    finally:
        if ctx.s3 is not None:
            ctx.s3.stop()
        log(f"removing {work}...")
        shutil.rmtree(work, ignore_errors=True)

    settings = {
        "mode": "quick" if args.quick else "full",
        "rounds": f"{sizes.runs} (directory), {sizes.s3_runs} (S3)",
        "no-op rounds": f"{sizes.noop_runs} (+{sizes.noop_warmup} warm-up)",
        "backends": ", ".join(backends),
        "workdir": str(work),
        "elapsed": f"{elapsed:.0f} s",
    }
    print(report(scenarios, settings))
    if args.json is not None:
        result = {
            "benchmark": "push_pull",
            "settings": settings,
            "sizes": dataclasses.asdict(sizes),
            "versions": tool_versions,
            "machine": info,
            "tools": ctx.notes,
            "scenarios": {s.key: as_json(s) for s in scenarios},
        }
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
