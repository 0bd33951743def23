"""Plain functions on text: sentences, BM25 terms, and tiktoken's BPE read from disk.
Must not import textual, click or torch.
"""
