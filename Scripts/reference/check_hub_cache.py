"""Check that Fledge and huggingface_hub share one Hugging Face cache, with no network.

A small Hub stand-in (Python's http.server on 127.0.0.1) serves one model repository with the
endpoints and headers huggingface_hub uses: `GET /api/models/{repo}/revision/{rev}`, `HEAD|GET
/{repo}/resolve/{rev}/{file}` (quoted `ETag` and `X-Repo-Commit`; for LFS-like `*.safetensors` a
302 to another host, `localhost`, with `X-Linked-Etag` and `X-Linked-Size`), and the CDN URL.

1. huggingface_hub's `snapshot_download` fills cache A; `fledge download` fills cache B. The two
   trees must be identical: the same refs, blob names and bytes, and relative snapshot symlinks
   (lock files aside, and `trees/COMMIT.json`, the file listing newer huggingface_hub keeps from
   `/api/models/{repo}/tree/{commit}`; Fledge lists files with the revision endpoint's `siblings`).
2. huggingface_hub reads cache B offline: `try_to_load_from_cache`, `snapshot_download(
   local_files_only=True)` and `scan_cache_dir` (which rejects a malformed layout).
3. Fledge reads cache A offline: `HF_HUB_OFFLINE=1 fledge download` prints A's snapshot folder.

Run from the repository root after `swift build --product fledge`:

    /tmp/refvenv/bin/python Scripts/reference/check_hub_cache.py [--fledge .build/debug/fledge]
"""

import argparse
import hashlib
import http.server
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading

parser = argparse.ArgumentParser()
parser.add_argument("--fledge", default=".build/debug/fledge")
args = parser.parse_args()

REPO = "org/tiny"
COMMIT = hashlib.sha1(b"commit").hexdigest()
FILES = {
    "config.json": b'{"model_type": "llama"}',
    "tokenizer.json": b'{"model": {}}',
    "model.safetensors": bytes(range(256)) * 40,
    "README.md": b"# tiny",
}
PATTERNS = ["*.json", "*.safetensors"]


class Hub(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, headers, body=b"", head=False):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        port = self.server.server_address[1]
        if self.path == f"/api/models/{REPO}/revision/main":
            body = json.dumps({"id": REPO, "sha": COMMIT, "siblings": [{"rfilename": f} for f in FILES]}).encode()
            return self.send(200, {"Content-Type": "application/json"}, body, head)
        if self.path.startswith(f"/api/models/{REPO}/tree/{COMMIT}"):  # huggingface_hub >= 1.x lists files here
            entries = []
            for name, data in FILES.items():
                entry = {"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                if name.endswith(".safetensors"):
                    entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
                entries.append(entry)
            return self.send(200, {"Content-Type": "application/json"}, json.dumps(entries).encode(), head)
        if self.path.startswith("/cdn/"):
            sha = self.path[5:]
            data = next(b for b in FILES.values() if hashlib.sha256(b).hexdigest() == sha)
            return self.send(200, {"ETag": f'"{sha}"'}, data, head)
        prefix = f"/{REPO}/resolve/"
        if self.path.startswith(prefix):
            revision, _, name = self.path[len(prefix):].partition("/")
            if revision not in ("main", COMMIT) or name not in FILES:
                return self.send(404, {"X-Error-Code": "EntryNotFound"}, b"", head)
            data = FILES[name]
            if name.endswith(".safetensors"):
                sha = hashlib.sha256(data).hexdigest()
                return self.send(302, {
                    "Location": f"http://localhost:{port}/cdn/{sha}", "ETag": f'"{hashlib.sha1(sha.encode()).hexdigest()}"',
                    "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(len(data)), "X-Repo-Commit": COMMIT,
                }, b"", head)
            return self.send(200, {"ETag": f'"{hashlib.sha1(data).hexdigest()}"', "X-Repo-Commit": COMMIT}, data, head)
        self.send(404, {"X-Error-Code": "RepoNotFound"}, b"", head)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
threading.Thread(target=server.serve_forever, daemon=True).start()
endpoint = f"http://127.0.0.1:{server.server_address[1]}"
work = pathlib.Path(tempfile.mkdtemp(prefix="hub-cache-check-"))
cache_a, cache_b = work / "python", work / "fledge"
os.environ["HF_ENDPOINT"] = endpoint  # read when huggingface_hub is imported
os.environ.pop("HF_TOKEN", None)

import huggingface_hub  # noqa: E402
from huggingface_hub import scan_cache_dir, snapshot_download, try_to_load_from_cache  # noqa: E402


def tree(root):
    """Every path under root: symlinks by target, files by content, folders by name."""
    out = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        if path.is_symlink():
            out[relative] = "-> " + os.readlink(path)
        elif path.name == "CACHEDIR.TAG":
            out[relative] = path.read_bytes().splitlines()[0]  # the signature; the comment names the writer
        elif path.is_file() and ".locks" not in path.parts and "trees" not in path.parts:
            out[relative] = path.read_bytes()
    return out


failures = []
python_snapshot = snapshot_download(REPO, cache_dir=cache_a, allow_patterns=PATTERNS)
env = dict(os.environ, HF_HUB_CACHE=str(cache_b), HF_ENDPOINT=endpoint)
fledge = subprocess.run([args.fledge, "download", REPO, "--include", *PATTERNS], env=env,
                        capture_output=True, text=True, check=True)
fledge_snapshot = fledge.stdout.strip()
print(f"huggingface_hub {huggingface_hub.__version__} snapshot: {python_snapshot}")
print(f"fledge snapshot:                 {fledge_snapshot}")

a, b = tree(cache_a), tree(cache_b)
if a != b:
    failures.append(f"cache trees differ:\n  only python: {sorted(set(a) - set(b))}\n  only fledge: {sorted(set(b) - set(a))}\n"
                    f"  different: {[k for k in set(a) & set(b) if a[k] != b[k]]}")
else:
    print(f"1. identical cache trees ({len(a)} entries: refs, blobs, relative snapshot symlinks)")

for name in ["config.json", "model.safetensors"]:
    found = try_to_load_from_cache(REPO, name, cache_dir=cache_b)
    if not isinstance(found, str) or pathlib.Path(found).read_bytes() != FILES[name]:
        failures.append(f"try_to_load_from_cache({name}) in fledge's cache gave {found!r}")
offline = snapshot_download(REPO, cache_dir=cache_b, local_files_only=True)
if offline != fledge_snapshot:
    failures.append(f"snapshot_download(local_files_only=True) gave {offline}, fledge printed {fledge_snapshot}")
report = scan_cache_dir(cache_b)
repos = {r.repo_id: r for r in report.repos}
if report.warnings or REPO not in repos or {f.file_name for r in repos[REPO].revisions for f in r.files} != {"config.json", "tokenizer.json", "model.safetensors"}:
    failures.append(f"scan_cache_dir of fledge's cache: {report}")
else:
    print(f"2. huggingface_hub reads fledge's cache offline: try_to_load_from_cache, snapshot_download(local_files_only=True), "
          f"scan_cache_dir ({repos[REPO].size_on_disk} bytes, refs {sorted(next(iter(repos[REPO].revisions)).refs)})")

server.shutdown()
offline_env = dict(os.environ, HF_HUB_CACHE=str(cache_a), HF_HUB_OFFLINE="1")
read = subprocess.run([args.fledge, "download", REPO], env=offline_env, capture_output=True, text=True)
if read.returncode != 0 or read.stdout.strip() != python_snapshot:
    failures.append(f"fledge offline on huggingface_hub's cache: rc {read.returncode}, {read.stdout!r} {read.stderr!r}")
else:
    print("3. fledge reads huggingface_hub's cache offline (HF_HUB_OFFLINE=1, server stopped): same snapshot folder")

missing = subprocess.run([args.fledge, "download", "org/absent"], env=offline_env, capture_output=True, text=True)
print(f"   offline miss: {missing.stderr.strip()}")
locks_a, locks_b = (sorted(p.name for p in (c / ".locks" / "models--org--tiny").iterdir()) for c in (cache_a, cache_b))
if locks_a != locks_b:
    failures.append(f"lock files differ: python {locks_a}, fledge {locks_b}")
shutil.rmtree(work)
if failures:
    print("FAILED:\n" + "\n".join(failures))
    sys.exit(1)
print("OK")
