"""Documents: finding them in the corpus (scan), reading each format (loaders/), and
cutting them into chunks (chunking). Must not import textual, click or torch.
"""
