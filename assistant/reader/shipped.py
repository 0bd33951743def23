"""The SHA-256 of each file of the reader that ships in ``model/``.

Written by ``python -m training.ship_reader`` when it copies a trained reader in; the
reader checks the packaged files against these, not only against reader.json beside
them (which whoever alters the model could alter too).
"""

SHIPPED_SHA256 = {
    "reader.int8.onnx": "fbf5ad7f9c144d093f7ff7fb2107a78242c4470994600477faf89ea92916aaaf",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
