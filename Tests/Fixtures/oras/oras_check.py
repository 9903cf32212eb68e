#!/usr/bin/env python3
"""An independent registry client for the tests, on oras-py (PyPI `oras`): reads manifests, pulls and
checks blobs, pushes a referrer artifact. Prints one JSON object on stdout; errors go to stderr, exit 1.

  oras_check.py manifest REF                  the manifest as served: digest of the bytes, media type, body
  oras_check.py pull REF OUTDIR               every blob of an image manifest into OUTDIR/<hex>, each checked
  oras_check.py push-referrer REF FILE FILE_MEDIA_TYPE ARTIFACT_TYPE SUBJECT_DIGEST SUBJECT_SIZE SUBJECT_MEDIA_TYPE
                                              an OCI 1.1 artifact (config media type = ARTIFACT_TYPE, one layer,
                                              `subject`) tagged REF

REF is HOST:PORT/NAME:TAG or HOST:PORT/NAME@DIGEST; the registry is spoken to over plain HTTP.
"""
import hashlib
import json
import os
import sys

import oras.client
import oras.container
import oras.oci

ACCEPT = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
]


def client(ref):
    return oras.client.OrasClient(hostname=ref.split("/", 1)[0], insecure=True)


def raw_manifest(ref):
    """The manifest bytes exactly as the registry sends them, and their content type."""
    registry = client(ref)
    container = registry.get_container(ref)
    response = registry.do_request(f"{registry.prefix}://{container.manifest_url()}", "GET",
                                   headers={"Accept": ", ".join(ACCEPT)})
    if response.status_code != 200:
        raise SystemExit(f"oras_check.py: GET manifest {ref} answered {response.status_code}: {response.text.strip()}")
    return response.content, response.headers.get("Content-Type", "")


def manifest(ref):
    body, media_type = raw_manifest(ref)
    return {"digest": "sha256:" + hashlib.sha256(body).hexdigest(), "mediaType": media_type,
            "manifest": json.loads(body)}


def pull(ref, outdir):
    body, media_type = raw_manifest(ref)
    parsed = json.loads(body)
    if "layers" not in parsed:
        raise SystemExit(f"oras_check.py: {ref} is not an image manifest ({media_type}): pull a platform by digest")
    registry = client(ref)
    container = registry.get_container(ref)
    blobs = []
    for descriptor in [parsed["config"]] + parsed["layers"]:
        digest = descriptor["digest"]
        path = os.path.join(outdir, digest.split(":", 1)[1])
        registry.download_blob(container, digest, path)
        sha, size = hashlib.sha256(), 0
        with open(path, "rb") as blob:
            for chunk in iter(lambda: blob.read(1 << 20), b""):
                sha.update(chunk)
                size += len(chunk)
        blobs.append({"digest": digest, "size": size, "matches": "sha256:" + sha.hexdigest() == digest
                      and size == descriptor["size"]})
    return {"digest": "sha256:" + hashlib.sha256(body).hexdigest(), "blobs": blobs}


def push_referrer(ref, path, file_media_type, artifact_type, subject_digest, subject_size, subject_media_type):
    config = os.path.join(os.path.dirname(os.path.abspath(path)), ".oras-check-config.json")
    with open(config, "w") as handle:
        handle.write("{}")
    subject = oras.oci.Subject(mediaType=subject_media_type, digest=subject_digest, size=int(subject_size))
    response = client(ref).push(target=ref, files=[f"{path}:{file_media_type}"], disable_path_validation=True,
                                manifest_config=f"{config}:{artifact_type}", subject=subject, quiet=True)
    os.remove(config)
    return {"status": response.status_code, "digest": response.headers.get("Docker-Content-Digest", "")}


def main(argv):
    commands = {"manifest": (manifest, 1), "pull": (pull, 2), "push-referrer": (push_referrer, 7)}
    if len(argv) < 2 or argv[1] not in commands or len(argv) - 2 != commands[argv[1]][1]:
        sys.stderr.write(__doc__)
        return 2
    function, _ = commands[argv[1]]
    try:
        print(json.dumps(function(*argv[2:]), sort_keys=True))
    except SystemExit as failure:
        sys.stderr.write(f"{failure}\n")
        return 1
    except Exception as failure:  # oras-py raises plain ValueErrors and requests errors
        sys.stderr.write(f"oras_check.py {argv[1]}: {type(failure).__name__}: {failure}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
