"""Ship a trained reader: copy it into the package and pin its SHA-256 in code.

Training (``python -m training.train_reader``) writes to training/.work/reader/ and never
touches the shipped model; this is the explicit step that does. It checks that the
files match the SHA-256 in their reader.json and that the data reader.json names has the
SHA-256 it records (the model was trained on this data), copies reader.int8.onnx,
tokenizer.json and reader.json into assistant/reader/model/, and rewrites
assistant/reader/shipped.py with the hashes the runtime checks the packaged files
against.

    python -m training.ship_reader [--from training/.work/reader] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_MODEL = ROOT / "assistant" / "reader" / "model"
PINS = ROOT / "assistant" / "reader" / "shipped.py"
FILES = ("reader.int8.onnx", "tokenizer.json")

_PINS_TEMPLATE = '''"""The SHA-256 of each file of the reader that ships in ``model/``.

Written by ``python -m training.ship_reader`` when it copies a trained reader in; the
reader checks the packaged files against these, not only against reader.json beside
them (which whoever alters the model could alter too).
"""

SHIPPED_SHA256 = {{
{rows}}}
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--from", dest="source", type=Path, default=ROOT / "training" / ".work" / "reader"
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--to", type=Path, default=PACKAGE_MODEL)
    parser.add_argument("--pins", type=Path, default=PINS)
    args = parser.parse_args(argv)
    try:
        hashes = check(args.source, args.data)
    except ValueError as exc:
        print(f"ship_reader: {exc}", file=sys.stderr)
        return 1
    args.to.mkdir(parents=True, exist_ok=True)
    for name in (*FILES, "reader.json"):
        shutil.copy(args.source / name, args.to / name)
    rows = "".join(f'    "{name}": "{digest}",\n' for name, digest in hashes.items())
    args.pins.write_text(_PINS_TEMPLATE.format(rows=rows), encoding="utf-8")
    print(f"shipped {args.source} to {args.to}; pinned in {args.pins}")
    return 0


def check(source: Path, data: Path) -> dict[str, str]:
    """The files' SHA-256 once they match reader.json, and its data matches ``data``."""
    info = json.loads((source / "reader.json").read_text(encoding="utf-8"))
    hashes = {name: sha256(source / name) for name in FILES}
    for name, digest in hashes.items():
        if info.get("sha256", {}).get(name) != digest:
            raise ValueError(f"{source / name} does not match the SHA-256 in its reader.json")
    if "figures" not in info:
        raise ValueError(f"{source} was not measured (its training did not finish)")
    for name, record in info.get("data", {}).items():
        path = data / record["file"]
        if not path.is_file() or sha256(path) != record["sha256"]:
            raise ValueError(f"the {name} data {path} is not the file the reader was trained on")
    return hashes


def sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


if __name__ == "__main__":
    sys.exit(main())
