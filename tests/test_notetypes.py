"""The note types' schemas are frozen: these values must never change (see notetypes.py)."""
from __future__ import annotations

from neurodeck.apkg.notetypes import CSS, note_types


def test_note_type_ids_are_pinned():
    types = note_types("neurodeck-intimacy")
    assert {k: t.id for k, t in types.items()} == {
        "basic": 2857127989260368, "reversed": 3177801214706906,
        "type-in": 1991428813570629, "cloze": 291159958924184,
    }
    assert note_types("other")["basic"].id != types["basic"].id


def test_schemas_are_pinned():
    schemas = {k: t.schema() for k, t in note_types("neurodeck-intimacy").items()}
    assert schemas == EXPECTED_SCHEMAS


def test_fields_and_templates_show_extra_and_source_on_the_back():
    for nt in note_types("x").values():
        anki = nt.to_anki(1, 1)
        assert [f["name"] for f in anki["flds"]][-3:] == ["Extra", "Source", "Id"]
        for template in anki["tmpls"]:
            assert "{{Extra}}" in template["afmt"] and "{{Source}}" in template["afmt"]
            assert "{{Extra}}" not in template["qfmt"]
    assert ".nightMode" in CSS and "@media (max-width" in CSS


# Frozen at the first release: field and template names with their ids.
EXPECTED_SCHEMAS = {'basic': {'cloze': False,
           'fields': [['Question', 1993765086275715],
                      ['Answer', 3629865569203954],
                      ['Extra', 4107280553482485],
                      ['Source', 1514654929397301],
                      ['Id', 1947159333254506]],
           'templates': [['Card 1', 3258561633028834]]},
 'cloze': {'cloze': True,
           'fields': [['Text', 1027909526723372],
                      ['Extra', 779679544038237],
                      ['Source', 1959754862103937],
                      ['Id', 464923411613461]],
           'templates': [['Cloze', 1722154230499925]]},
 'reversed': {'cloze': False,
              'fields': [['Question', 3533509414473601],
                         ['Answer', 1591387644672846],
                         ['Extra', 1061334907114862],
                         ['Source', 344021585006610],
                         ['Id', 2267784386271909]],
              'templates': [['Card 1', 2482462377272412], ['Card 2', 2244869371917904]]},
 'type-in': {'cloze': False,
             'fields': [['Question', 2300492209256938],
                        ['Answer', 3271725322360449],
                        ['Extra', 3972945380001641],
                        ['Source', 929539221601353],
                        ['Id', 348667021361674]],
             'templates': [['Card 1', 4347367121235921]]}}
