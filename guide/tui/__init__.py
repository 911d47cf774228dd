"""The Textual app of `guide`; the only package that imports Textual."""
