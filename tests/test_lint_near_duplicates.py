"""lint ND113 (checks/near_duplicates.py): a card that asks what another card already teaches.

The rule is tested on the class, not on the examples: generated restatements of a card (another type,
word order, citation, inflections) are found, generated cards on other facts of the same paper are not,
and a pair's verdict does not move when unrelated cards join the deck. The pairs issue 17's review named
are fixed examples, on the cards as the review saw them.
"""
from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from neurodeck.checks.lint import RULES, Setting, lint_cards
from neurodeck.checks.near_duplicates import fact, near_duplicates, repeats, weight
from neurodeck.model import Card, Location, Text
from neurodeck.source.cards import load_card_file

THRESHOLD = RULES["ND113"].default
assert THRESHOLD is not None

# The cards issue 17's review named as near-duplicates, with extras, as they stood when it read them
# (commit 4b527dc), and, last, cards on distinct facts of one paper that must stay apart.
OLD_VERSIONS = """\
- id: vta-rpe-schultz
  question: According to Schultz, Dayan & Montague 1997, what do phasic firing changes of midbrain dopamine neurons
    in monkeys signal?
  answer: 'A reward prediction error: the difference between received and predicted reward.'
  extra: 'Based on single-neuron recordings in monkeys: unexpected reward causes a burst, a fully predicted reward
    causes no change, and omission of a predicted reward causes a pause. This matches the error term of temporal-difference
    learning models.'
  source: Schultz W, Dayan P, Montague PR 1997, Science 275:1593-1599
- id: vta-rpe-pattern
  type: cloze
  text: 'Monkey midbrain dopamine neurons: an unexpected reward causes a {{c1::burst of firing}}; a fully predicted
    reward causes {{c2::no change}}; omission of a predicted reward causes a {{c3::pause (depression) in firing}}.'
  extra: After learning, the burst moves from the reward to the earliest cue that predicts it.
  source: Schultz W, Dayan P, Montague PR 1997, Science 275:1593-1599
- id: vta-wanting-liking
  question: According to Berridge & Robinson's incentive salience hypothesis, which component of reward does mesolimbic
    dopamine mediate?
  answer: '''Wanting'' (incentive salience), not ''liking'' (hedonic impact).'
  extra: 'Key evidence in rats: after up to 99% dopamine depletion of nucleus accumbens and neostriatum with 6-hydroxydopamine,
    taste-reactivity (''liking'') responses to sucrose stayed normal. Debate with reward-learning accounts continues.'
  source: Berridge KC, Robinson TE 1998, Brain Research Reviews 28:309-369
- id: vta-incentive-salience-reversed
  type: reversed
  question: Incentive salience ('wanting')
  answer: Motivational pull attributed to rewards and their cues, mediated by mesolimbic dopamine and separable
    from hedonic 'liking'.
  extra: Berridge & Robinson's hypothesis. Drugs of abuse are proposed to sensitize this system, producing excessive
    'wanting' without more 'liking'.
  source: Berridge KC, Robinson TE 1998, Brain Research Reviews 28:309-369
- id: vta-6ohda-liking-intact
  type: cloze
  text: Rats with up to 99% dopamine depletion of the nucleus accumbens and neostriatum (by {{c1::6-hydroxydopamine}})
    still showed normal hedonic {{c2::taste-reactivity}} responses to sucrose.
  extra: Used by Berridge & Robinson to argue that dopamine is not needed for 'liking'.
  source: Berridge KC, Robinson TE 1998, Brain Research Reviews 28:309-369
- id: hypothalamus-son-type-in
  type: type-in
  question: Besides the paraventricular nucleus, which hypothalamic nucleus, lying over the lateral optic chiasm
    and the start of the optic tract, contains magnocellular oxytocin and vasopressin neurons?
  answer: Supraoptic nucleus
  source: Kandel ER, Schwartz JH, Jessell TM, Siegelbaum SA, Hudspeth AJ 2013, *Principles of Neural Science*, 5th
    edition, McGraw-Hill
- id: hypothalamus-pvn-reversed
  type: reversed
  question: Paraventricular nucleus (PVN) of the hypothalamus
  answer: Nucleus beside the third ventricle with magnocellular (posterior pituitary) and parvocellular (median
    eminence) neurosecretory neurons.
  extra: Magnocellular PVN neurons make oxytocin or vasopressin; parvocellular neurons include those releasing corticotropin-releasing
    hormone to control the anterior pituitary, and some project within the brain.
  source: Kandel ER, Schwartz JH, Jessell TM, Siegelbaum SA, Hudspeth AJ 2013, *Principles of Neural Science*, 5th
    edition, McGraw-Hill
- id: oxytocin-synthesis-nuclei-cloze
  type: cloze
  text: Oxytocin and vasopressin released into the blood are made by magnocellular neurons of the hypothalamic {{c1::paraventricular}}
    and {{c2::supraoptic}} nuclei, whose axons end in the posterior pituitary.
  extra: The peptides are made as precursors with a carrier protein (neurophysin), packaged into vesicles, transported
    down the axons through the pituitary stalk and secreted into the circulation when the neurons fire.
  source: Gimpl G, Fahrenholz F 2001, Physiological Reviews 81:629-683
- id: oxytocin-magnocellular-reversed
  type: reversed
  question: Magnocellular neurosecretory neurons
  answer: Large paraventricular and supraoptic hypothalamic neurons that secrete oxytocin or vasopressin into blood
    at the posterior pituitary.
  extra: Smaller parvocellular neurons of the paraventricular nucleus project instead within the brain and to the
    median eminence. Individual magnocellular neurons usually make either oxytocin or vasopressin, and their dendrites
    also release peptide locally.
  source: Gimpl G, Fahrenholz F 2001, Physiological Reviews 81:629-683
- id: oxytocin-posterior-pituitary-typein
  type: type-in
  question: From which gland are oxytocin and vasopressin secreted into the systemic circulation?
  answer: Posterior pituitary
  extra: 'Also called the neurohypophysis. It is not a gland that makes the hormones: it holds the axon terminals
    of hypothalamic magnocellular neurons, which release stored peptide into capillaries.'
  source: Gimpl G, Fahrenholz F 2001, Physiological Reviews 81:629-683
- id: oxytocin-mccullough-measurement
  question: According to McCullough, Churchland and Mendez (2013), what assay practice makes many reported human
    plasma oxytocin levels untrustworthy?
  answer: Measuring oxytocin with immunoassays on unextracted samples, which gives inflated, non-specific values.
  extra: Without a prior extraction step, other molecules in plasma cross-react with the antibodies. Values from
    unextracted samples are far higher than, and correlate poorly with, values from extracted samples of the same
    blood.
  source: McCullough ME, Churchland PS, Mendez AJ 2013, Neuroscience and Biobehavioral Reviews 37:1485-1492
- id: oxytocin-szeto-unextracted-plasma
  question: In Szeto et al. (2011), how did enzyme-immunoassay oxytocin values from unextracted human plasma compare
    with values from extracted plasma?
  answer: They were over 100-fold higher and essentially uncorrelated with the extracted values.
  extra: 39 plasma samples; Spearman rho about -0.10. Chromatography showed several immunoreactive products besides
    oxytocin, so unextracted assays likely measure degradation products and other molecules. The authors concluded
    that extraction is needed for valid results.
  source: Szeto A et al. 2011, Psychosomatic Medicine 73:393-400
- id: mirror-neurons-fadiga-tms
  question: What did Fadiga et al. (1995) find when they applied TMS to the motor cortex of healthy humans watching
    an experimenter grasp objects?
  answer: Motor-evoked potentials in hand muscles increased, matching the muscles used to perform the observed action.
  extra: 'Control conditions (looking at the objects alone, or detecting a dimming light) did not produce this facilitation.
    The authors concluded that humans have an observation-execution matching system resembling the macaque mirror
    system. This is indirect evidence: it shows motor excitability changes, not mirror neurons as such.'
  source: Fadiga L, Fogassi L, Pavesi G, Rizzolatti G 1995, Journal of Neurophysiology 73:2608-2611
- id: mirror-neurons-mep-type-in
  type: type-in
  question: In human TMS studies of action observation, which muscle response is measured as the index of motor-system
    'mirroring'?
  answer: Motor-evoked potentials
  extra: A single TMS pulse over primary motor cortex evokes a twitch recorded by electromyography; its amplitude
    (the motor-evoked potential, MEP) indexes corticospinal excitability. Fadiga et al. (1995) showed MEPs grow
    in the muscles that the observed action would use.
  source: Fadiga L, Fogassi L, Pavesi G, Rizzolatti G 1995, Journal of Neurophysiology 73:2608-2611
- id: mirror-neurons-associative-sequence-learning
  type: type-in
  question: What is the name of Cecilia Heyes' model in which mirror properties arise from correlated experience
    of doing and seeing the same action?
  answer: Associative sequence learning
  extra: On this account mirror neurons are a byproduct of ordinary sensorimotor associative learning (often during
    social interaction, e.g. being imitated, watching one's own hands) rather than a genetic adaptation for action
    understanding.
  source: Heyes C 2010, Neuroscience and Biobehavioral Reviews
- id: mirror-neurons-heyes-adaptation-cloze
  type: cloze
  text: Heyes (2010) contrasted the {{c1::adaptation}} hypothesis, that mirror neurons evolved for action understanding,
    with the {{c2::associative}} hypothesis, that they are a byproduct of sensorimotor learning.
  extra: She favoured the associative hypothesis because it explains monkey-human differences, fits evidence that
    mirror neurons contribute to many social functions without a dominant role in action understanding, and is supported
    by sensorimotor training studies in adults.
  source: Heyes C 2010, Neuroscience and Biobehavioral Reviews
- id: mirror-neurons-cook-bbs
  question: What is the central claim of Cook, Bird, Catmur, Press and Heyes (2014) about where mirror neurons come
    from?
  answer: They originate in sensorimotor associative learning, not as a genetic adaptation for action understanding.
  extra: Target article with open peer commentary. The authors argue that because mirror neurons are built by experience,
    their function must be tested directly rather than assumed from their matching properties; they stress contingency,
    not mere contiguity, in the learning.
  source: Cook R, Bird G, Catmur C, Press C, Heyes C 2014, Behavioral and Brain Sciences
- id: mirror-neurons-hamilton-review
  question: What did Hamilton's (2013) systematic review of 25 neuroscience studies conclude about the mirror system
    in autism?
  answer: There is little evidence for a global dysfunction of the mirror system in autism.
  extra: Studies used EEG, MEG (magnetoencephalography), TMS, eye-tracking, EMG (electromyography) and fMRI; data
    were very mixed, and weakly localised measures such as mu suppression were hard to interpret. Hamilton concluded
    it is time to move on from the broken mirror theory.
  source: Hamilton AF de C 2013, Developmental Cognitive Neuroscience 3:91-105
- id: mirror-neurons-hamilton-stimuli-cloze
  type: cloze
  text: In Hamilton's (2013) review of autism, fMRI studies using {{c1::emotional}} stimuli reported group differences
    in the mirror system, whereas studies using {{c2::non-emotional hand action}} stimuli did not.
  extra: Hamilton proposed that the data fit better with abnormal social top-down modulation of mirror responses
    than with a broken mirror system.
  source: Hamilton AF de C 2013, Developmental Cognitive Neuroscience 3:91-105
- id: mirror-neurons-hamilton-alternative
  question: What alternative to the broken mirror theory did Hamilton (2013) propose to explain mirror-system findings
    in autism?
  answer: Abnormal social top-down modulation of otherwise intact mirror responses.
  extra: On this view the basic mapping between seen and performed actions works in autism, but social context fails
    to modulate it in the typical way. Hamilton offered this as a better fit to mixed data, not as an established
    mechanism.
  source: Hamilton AF de C 2013, Developmental Cognitive Neuroscience 3:91-105
- id: mirror-neurons-simulation-theory
  type: reversed
  question: Simulation theory of mind-reading (Gallese and Goldman 1998)
  answer: The idea that we grasp others' mental states by internally replicating them, for which mirror neurons
    could be a precursor.
  extra: A philosophical-neuroscience proposal, not an experimental result. It was extended by others to emotions
    and empathy; direct evidence that mirror neurons cause mental-state understanding is lacking.
  source: Gallese V, Goldman A 1998, Trends in Cognitive Sciences 2:493-501
- id: mirror-neurons-gallese-goldman-cloze
  type: cloze
  text: Gallese and Goldman (1998) argued that mirror-neuron findings fit the {{c1::simulation}} theory of mind-reading
    better than the rival {{c2::theory-theory}}, which holds that we infer others' states from a folk-psychological
    theory.
  extra: Their argument relied on macaque F5 single-unit data and human TMS findings of muscle-specific motor facilitation
    during action observation (Fadiga et al. 1995).
  source: Gallese V, Goldman A 1998, Trends in Cognitive Sciences 2:493-501
- id: mirror-neurons-empathy-claim
  question: Does current evidence show that mirror neurons explain human empathy?
  answer: No; human data show moderate, inconsistent correlations with indirect mirror measures, not a causal explanation.
  extra: 'Bekkali et al. (2021) meta-analysed 52 studies (1,044 healthy participants): emotional and cognitive empathy
    correlated moderately with putative mirror activity, but results varied across TMS, EEG and fMRI; the few motor
    empathy studies showed no significant relation. All data are correlational, so no causal link has been shown.'
  source: Bekkali S, Youssef GJ, Donaldson PH, Albein-Urios N, Hyde C, Enticott PG 2021, Neuropsychology Review
    31:14-57
- id: mirror-neurons-bekkali-motor-empathy
  type: cloze
  text: In the Bekkali et al. (2021) meta-analysis, putative mirror-system activity correlated moderately with {{c1::emotional}}
    and {{c2::cognitive}} empathy, but showed no significant relation with {{c3::motor}} empathy.
  extra: The authors called the evidence preliminary and stressed methodological variability across TMS, EEG and
    fMRI studies; all data were correlational in healthy humans.
  source: Bekkali S, Youssef GJ, Donaldson PH, Albein-Urios N, Hyde C, Enticott PG 2021, Neuropsychology Review
    31:14-57
- id: insula-disgust-wicker
  question: In Wicker et al.'s 2003 fMRI study, which region was activated both by smelling disgusting odours and
    by watching others' disgusted faces?
  answer: The anterior insula.
  extra: The anterior cingulate cortex showed the same overlap to a lesser extent. The authors framed this as a
    mirror-like mechanism for emotion; shared activation alone does not show that the insula is needed to recognise
    disgust.
  source: Wicker B, Keysers C, Plailly J, Royet JP, Gallese V, Rizzolatti G 2003, Neuron 40:655-664
- id: loneliness-steptoe-2013
  question: In Steptoe et al.'s (2013) English Longitudinal Study of Ageing analysis, which predicted mortality
    after adjustment for demographics and baseline health?
  answer: Social isolation (hazard ratio 1.26 for the most isolated fifth), but not loneliness.
  extra: 6,500 adults aged 52 and over, mean follow-up 7.25 years. Both isolation and loneliness were linked to
    mortality before adjustment. Adding loneliness did not change the isolation effect, so loneliness did not appear
    to be the pathway.
  source: Steptoe A, Shankar A, Demakakos P, Wardle J 2013, PNAS 110:5797-5801
- id: mirror-neurons-mukamel-human-single-cells
  question: Which 2010 study gave the first single-neuron recordings of mirror-like responses in humans?
  answer: Mukamel et al. (2010), in patients with intractable epilepsy implanted with depth electrodes.
  extra: Extracellular activity of 1177 cells was recorded in medial frontal and temporal cortex while patients
    executed or observed hand grasping and facial emotional expressions. Electrode sites were chosen for clinical
    reasons, so the classic mirror areas (inferior frontal gyrus, inferior parietal lobule) were not sampled.
  source: Mukamel R, Ekstrom AD, Kaplan J, Iacoboni M, Fried I 2010, Current Biology 20:750-756
- id: mirror-neurons-mukamel-regions-cloze
  type: cloze
  text: In Mukamel et al. (2010), human neurons responding to both execution and observation of actions were found
    in the {{c1::supplementary motor area}} and in the {{c2::hippocampus}} and nearby medial temporal cortex.
  extra: Recordings were made with depth electrodes implanted in epilepsy patients for seizure localization. These
    regions are not the classic macaque mirror areas (ventral premotor area F5 and inferior parietal lobule), which
    were not sampled.
  source: Mukamel R, Ekstrom AD, Kaplan J, Iacoboni M, Fried I 2010, Current Biology 20:750-756
- id: mirror-neurons-mukamel-anti-mirror
  question: In the human single-neuron study of Mukamel et al. (2010), how did a subset of mirror-like neurons respond
    to observing versus executing an action?
  answer: They were excited during execution but inhibited during observation.
  extra: The authors suggested that such opposite responses could help the brain keep one's own actions apart from
    those of others. Recordings were from medial frontal and temporal cortex of epilepsy patients.
  source: Mukamel R, Ekstrom AD, Kaplan J, Iacoboni M, Fried I 2010, Current Biology 20:750-756
- id: attachment-avoidant-reunion
  question: In Ainsworth's Strange Situation, how does an insecure-avoidant infant typically behave when the caregiver
    returns?
  answer: It ignores or turns away from the caregiver, showing little overt distress.
  extra: Avoidant infants tend to keep exploring and show little visible upset at separation. Ainsworth linked this
    pattern to caregivers who were relatively rejecting of the infant's bids for contact.
  source: 'Ainsworth MDS, Blehar MC, Waters E, Wall S 1978, *Patterns of Attachment: A Psychological Study of the
    Strange Situation*, Lawrence Erlbaum'
- id: attachment-resistant-reunion
  question: In Ainsworth's Strange Situation, how does an insecure-resistant (ambivalent) infant typically behave
    at reunion with the caregiver?
  answer: It seeks contact but also angrily resists it, and is hard to soothe.
  extra: These infants are often highly distressed by separation and explore little even when the caregiver is present.
  source: 'Ainsworth MDS, Blehar MC, Waters E, Wall S 1978, *Patterns of Attachment: A Psychological Study of the
    Strange Situation*, Lawrence Erlbaum'
"""

# Each named group, and the pairs that must connect it (a group is found when its cards are linked).
NAMED = {
    "reward prediction error": [("vta-rpe-schultz", "vta-rpe-pattern")],
    "wanting and liking": [("vta-wanting-liking", "vta-incentive-salience-reversed"),
                           ("vta-wanting-liking", "vta-6ohda-liking-intact")],
    "PVN and SON": [("hypothalamus-son-type-in", "oxytocin-magnocellular-reversed"),
                    ("oxytocin-synthesis-nuclei-cloze", "oxytocin-magnocellular-reversed"),
                    ("oxytocin-magnocellular-reversed", "hypothalamus-pvn-reversed"),
                    ("oxytocin-posterior-pituitary-typein", "oxytocin-synthesis-nuclei-cloze")],
    "unextracted assays": [("oxytocin-mccullough-measurement", "oxytocin-szeto-unextracted-plasma")],
    "motor-evoked potentials": [("mirror-neurons-fadiga-tms", "mirror-neurons-mep-type-in")],
    "Heyes": [("mirror-neurons-associative-sequence-learning", "mirror-neurons-heyes-adaptation-cloze"),
              ("mirror-neurons-heyes-adaptation-cloze", "mirror-neurons-cook-bbs")],
    "Hamilton": [("mirror-neurons-hamilton-stimuli-cloze", "mirror-neurons-hamilton-alternative")],
    "Gallese and Goldman": [("mirror-neurons-simulation-theory", "mirror-neurons-gallese-goldman-cloze")],
    "Bekkali": [("mirror-neurons-empathy-claim", "mirror-neurons-bekkali-motor-empathy")],
}
# Distinct facts of one paper, and unrelated cards: never a pair.
DISTINCT = [("mirror-neurons-mukamel-regions-cloze", "mirror-neurons-mukamel-anti-mirror"),
            ("mirror-neurons-mukamel-human-single-cells", "mirror-neurons-mukamel-anti-mirror"),
            ("attachment-avoidant-reunion", "attachment-resistant-reunion"),
            ("mirror-neurons-hamilton-review", "mirror-neurons-hamilton-alternative")]
LONERS = ["insula-disgust-wicker", "loneliness-steptoe-2013", "attachment-avoidant-reunion"]


@pytest.fixture(scope="module")
def old_cards(tmp_path_factory) -> dict[str, Card]:
    path = tmp_path_factory.mktemp("old") / "old.yaml"
    path.write_text("subtopic: Old\ncards:\n" + "\n".join("  " + line for line in OLD_VERSIONS.splitlines()) + "\n",
                    encoding="utf-8")
    loaded, problems = load_card_file(path)
    assert loaded is not None and problems == []
    return {c.id.value: c for c in loaded.cards}


def score(a: Card, b: Card) -> float:
    """The pair's verdict: how fully one card teaches an item of the other (0: not a pair)."""
    x, y = fact(a), fact(b)
    assert x is not None and y is not None
    return max(repeats(x, y, THRESHOLD), repeats(y, x, THRESHOLD))


def test_the_pairs_the_review_named_are_found_on_the_old_cards(old_cards):
    for group, pairs in NAMED.items():
        for a, b in pairs:
            assert score(old_cards[a], old_cards[b]) >= THRESHOLD, (group, a, b)


def test_distinct_facts_of_one_paper_are_not_a_pair(old_cards):
    for a, b in DISTINCT:
        assert score(old_cards[a], old_cards[b]) == 0, (a, b)
    for loner, other in itertools.product(LONERS, old_cards):
        if other != loner:
            assert score(old_cards[loner], old_cards[other]) == 0, (loner, other)


def test_lint_reports_each_named_pair_once_on_its_later_card(old_cards):
    cards = list(old_cards.values())
    settings = {c: Setting("off", r.default) for c, r in RULES.items()}
    settings["ND113"] = Setting("warning", THRESHOLD)
    problems = lint_cards(cards, settings)
    assert all(p.message.startswith("ND113 card teaches nearly the same fact as card '") for p in problems)
    line_to_id = {c.location.line: c.id.value for c in cards}
    reported = {(line_to_id[max(n for n in line_to_id if n <= p.location.line)], p.message.split("'")[1])
                for p in problems}
    # One warning per card, against the earlier card it most repeats.
    assert reported == {
        ("vta-rpe-pattern", "vta-rpe-schultz"),
        ("vta-incentive-salience-reversed", "vta-wanting-liking"),
        ("vta-6ohda-liking-intact", "vta-wanting-liking"),
        ("oxytocin-magnocellular-reversed", "oxytocin-synthesis-nuclei-cloze"),
        ("oxytocin-posterior-pituitary-typein", "oxytocin-synthesis-nuclei-cloze"),
        ("oxytocin-szeto-unextracted-plasma", "oxytocin-mccullough-measurement"),
        ("mirror-neurons-mep-type-in", "mirror-neurons-fadiga-tms"),
        ("mirror-neurons-heyes-adaptation-cloze", "mirror-neurons-associative-sequence-learning"),
        ("mirror-neurons-cook-bbs", "mirror-neurons-heyes-adaptation-cloze"),
        ("mirror-neurons-hamilton-alternative", "mirror-neurons-hamilton-stimuli-cloze"),
        ("mirror-neurons-gallese-goldman-cloze", "mirror-neurons-simulation-theory"),
        ("mirror-neurons-bekkali-motor-empathy", "mirror-neurons-empathy-claim"),
        # The old regions card's extra restated the single-cells card's answer (epilepsy patients
        # with depth electrodes): a real overlap the review did not list.
        ("mirror-neurons-mukamel-regions-cloze", "mirror-neurons-mukamel-human-single-cells"),
    }


# ---- generated restatements and distinct facts --------------------------------------------------

# Made-up words: none is in the reference corpus, so each weighs like a rare term.
_VOCABULARY = [f"{a}{b}{c}" for a in "bdfgklmnprstvz" for b in "aeiou" for c in ("lin", "rax", "mon", "tep")]
# Words of the field, common in the reference corpus: the topic every card on a paper shares.
_FIELD = ["oxytocin", "region", "cortex", "neuron", "brain", "vole", "receptor", "partner", "mirror", "human"]
_PAPER = "Smith J, Jones K 2001, Journal of Things 12:34-56"
_FILLERS = ["what", "did", "the", "authors", "find", "about", "in", "their", "study", "of"]


def _card(i: int, kind: str, source: str = _PAPER, extra: str | None = None, **fields: str) -> Card:
    loc = Location("x.yaml", 10 * i + 1, 1)
    return Card(id=Text(f"c{i}", loc), type=kind, location=loc, subtopic="T", file_path=Path("x.yaml"),
                source=Text(source, loc), extra=Text(extra, loc) if extra else None,
                **{k: Text(v, loc) for k, v in fields.items()})


def _restate(rng: random.Random, kind: str, cue: list[str], answer: list[str], i: int, source: str) -> Card:
    """The same item (cue words -> answer words) as a card of the given type, in another order, with
    function words and inflections around it."""
    cue, answer = rng.sample(cue, len(cue)), rng.sample(answer, len(answer))
    inflect = lambda w: w + rng.choice(["", "s", "ed", "ing", "ation"])  # noqa: E731
    said = [inflect(w) for w in cue]
    if kind == "cloze":
        cut = rng.randint(0, len(said))
        deleted = "{{c1::" + " ".join(answer) + "}}"
        return _card(i, "cloze", source, text=" ".join(said[:cut] + ["the", deleted] + said[cut:]) + ".")
    question = "What " + " ".join(said) + "?"
    reply = "The " + " ".join(inflect(w) for w in answer) + "."
    if kind == "reversed":
        return _card(i, "reversed", source, question=" ".join(answer), answer=" ".join(said))
    return _card(i, kind, source, question=question, answer=reply)


@hsettings(max_examples=120, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), kinds=st.tuples(*[st.sampled_from(["basic", "cloze", "reversed"])] * 2),
       sizes=st.tuples(st.integers(3, 8), st.integers(1, 4)), other_paper=st.booleans())
def test_a_restated_fact_is_a_pair_and_another_fact_of_the_paper_is_not(seed, kinds, sizes, other_paper):
    rng = random.Random(seed)
    words = rng.sample(_VOCABULARY, 40)
    topic = rng.sample(_FIELD, 2)  # words every card on the paper uses, like "prairie vole"
    cue, answer = topic + words[2:2 + sizes[0]], words[10:10 + sizes[1]]
    original = _restate(rng, kinds[0], cue, answer, 0, _PAPER)
    again = _restate(rng, kinds[1], cue, answer, 1, "Brown A 2010, Other Journal 2:3-4" if other_paper else _PAPER)
    assert score(original, again) >= THRESHOLD
    # Another fact of the same paper: same topic words and question form, its own cue and answer.
    other_cue, other_answer = topic + words[20:20 + sizes[0]], words[30:30 + sizes[1]]
    sibling = _restate(rng, kinds[1], other_cue, other_answer, 2, _PAPER)
    assert score(original, sibling) == 0
    # ...even when the sibling's extra mentions the topic and a word or two of the first card.
    aside = _card(3, "basic", question="What " + " ".join(other_cue) + "?", answer=" ".join(other_answer) + ".",
                  extra=" ".join(topic + cue[2:3] + answer[:1]) + " was studied too.")
    if len(answer) > 2:  # an answer of one or two words is half given by one word
        assert score(original, aside) == 0


@hsettings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), added=st.integers(1, 60))
def test_adding_other_cards_never_changes_a_pairs_verdict(seed, added):
    """The old rule weighed words by the deck (tf-idf), so new cards moved pairs across the threshold.
    Now the verdict on a pair and the score lint reports for it depend on the two cards alone."""
    rng = random.Random(seed)
    words = rng.sample(_VOCABULARY, 60)
    cue, answer = words[:6], words[6:6 + rng.randint(1, 4)]
    x = _restate(rng, "basic", cue, answer, 0, _PAPER)
    # A partial restatement, near the threshold either side.
    keep = rng.randint(2, len(cue))
    y = _restate(rng, rng.choice(["basic", "cloze"]), cue[:keep] + words[20:20 + rng.randint(0, 4)], answer, 1, _PAPER)
    settings = {c: Setting("off", r.default) for c, r in RULES.items()}
    settings["ND113"] = Setting("warning", THRESHOLD)
    alone = [(p.location.line, p.message) for p in lint_cards([x, y], settings)]
    # Other cards using the same words heavily (they would have shifted a deck-wide idf), on other facts.
    crowd = [_restate(rng, "basic", rng.sample(cue, 3) + rng.sample(words[30:], 3), rng.sample(words[45:], 2), 2 + k,
                      f"Other P 20{k % 90:02d}, Journal 9:{k}-{k + 1}") for k in range(added)]
    together = [(p.location.line, p.message) for p in lint_cards([x, y] + crowd, settings) if p.location.line == 11]
    assert together == [m for m in alone if m[0] == 11]


@example(seed=1623134, t=0.3)  # two earlier cards scoring 2/3 as sums in different orders: 1 ulp apart
@hsettings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), t=st.sampled_from([0.3, 0.45, 0.6, 0.9]))
def test_the_indexed_search_finds_what_comparing_all_pairs_finds(seed, t):
    """The word index only skips pairs that cannot score: same result as comparing every pair."""
    rng = random.Random(seed)
    words = rng.sample(_VOCABULARY, rng.choice([8, 20, 80]))
    cards = []
    for i in range(rng.randint(2, 40)):
        cue = rng.sample(words, rng.randint(1, min(6, len(words))))
        answer = rng.sample(words, rng.randint(1, 3))
        source = rng.choice([_PAPER, "Brown A 2010, Other Journal 2:3-4"])
        card = _restate(rng, rng.choice(["basic", "cloze", "reversed"]), cue, answer, i, source)
        if rng.random() < 0.3:
            card = _card(i, card.type, source, extra=" ".join(rng.sample(words, min(5, len(words)))),
                         **{k: getattr(card, k).value for k in ("question", "answer", "text") if getattr(card, k)})
        cards.append(card)
    facts = [fact(c) for c in cards]
    expected = []
    for j in range(len(cards)):
        scores = [max(repeats(facts[i], facts[j], t), repeats(facts[j], facts[i], t)) for i in range(j)]
        # the first of the highest scores; scores equal but for rounding (2/3 reached as 2w/3w and as
        # 4v/6v) are a tie, as near_duplicates documents
        top = max(scores, default=0.0)
        best = next((i for i in range(j) if scores[i] >= top - 1e-12), None)
        if best is not None and scores[best] > 0:
            expected.append((cards[j], cards[best], scores[best]))
    assert near_duplicates(cards, t) == expected


def test_words_weigh_by_a_fixed_reference_corpus():
    """Common words of the field weigh little, rare and unknown ones much, images most."""
    assert weight("oxytocin") < weight("unextract") <= weight("zzunknownzz") < weight("image:figures/a.png")
    assert weight("vole") < weight("neurophysin")
