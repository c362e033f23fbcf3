"""`neurodeck preview`: one self-contained HTML page showing every card of a deck as Anki will.

template.py renders a card's sides with Anki's template language (the cloze filter is render/cloze.py's);
page.py builds and writes the page, whose stylesheet and script are files in assets/.
"""
from neurodeck.commands.preview.page import (
    PreviewCard,
    mathjax_script,
    preview_cards,
    preview_html,
    preview_path,
    write_preview,
)
from neurodeck.commands.preview.template import (
    field_is_empty,
    fill_type_answers,
    render_card,
    render_template,
    typed_answer,
)
from neurodeck.render.cloze import reveal as reveal_clozes  # the build's reading of deletions

__all__ = [
    "PreviewCard", "field_is_empty", "fill_type_answers", "mathjax_script", "preview_cards", "preview_html",
    "preview_path", "render_card", "render_template", "reveal_clozes", "typed_answer", "write_preview",
]
