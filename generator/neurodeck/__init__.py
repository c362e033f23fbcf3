"""neurodeck: compile YAML flashcards into Anki packages that update in place.

The library (build.compile_deck, build.build) works without Click; cli.py is a thin layer.
"""
