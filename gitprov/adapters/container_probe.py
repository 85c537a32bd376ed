"""Probing the container a run is in: runtime, image, image ID and registry digest.

From the runtime's marker file (docker's ``/.dockerenv``, podman's
``/run/.containerenv``) or the ``GITPROV_CONTAINER_IMAGE`` override that CI can set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from gitprov.adapters.host_probe import parse_key_values, read_small
from gitprov.model import digest as digests
from gitprov.model import environment as env_model

CONTAINER_IMAGE_VAR = "GITPROV_CONTAINER_IMAGE"
DOCKERENV = Path("/.dockerenv")
CONTAINERENV = Path("/run/.containerenv")


def probe_container(
    environ: Mapping[str, str],
    *,
    dockerenv: Path = DOCKERENV,
    containerenv: Path = CONTAINERENV,
) -> env_model.ContainerInfo | None:
    """The container the run is in, from its runtime's marker file or an explicit override.

    Docker's ``/.dockerenv`` says "in a container" but nothing about the image, and the
    image digest is not visible from inside it; podman's ``/run/.containerenv`` names
    the image and its ID. CI, which knows the digest it pulled, can set
    ``GITPROV_CONTAINER_IMAGE=repo@sha256:...``, which wins for the image and digest.
    """
    runtime = image = image_id = digest = None
    if containerenv.exists():
        runtime = "podman"
        fields = parse_key_values(read_small(containerenv) or "")
        image = fields.get("image") or None
        raw_id = fields.get("imageid", "").removeprefix(digests.PREFIX)
        image_id = digests.from_hex(raw_id) if re.fullmatch(r"[0-9a-f]{64}", raw_id) else None
    elif dockerenv.exists():
        runtime = "docker"
    override = environ.get(CONTAINER_IMAGE_VAR, "").strip()
    if override:
        image, digest = split_image_reference(override)
    if runtime is None and image is None:
        return None
    return env_model.ContainerInfo(runtime=runtime, image=image, image_id=image_id, digest=digest)


def split_image_reference(reference: str) -> tuple[str | None, str | None]:
    """``("repo:tag", "sha256:...")`` from ``repo:tag@sha256:...``; no digest when absent."""
    name, sep, tail = reference.rpartition("@")
    if sep and digests.is_digest(tail):
        return name or None, tail
    return reference, None
