"""Learned match parameters: u from frequencies and random pairs, m by EM, term frequencies, the model file,
the config naming it, and re-linking a store under a new model."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from bench.identity_data import generate
from pipelines.identity import MatchConfig, features, pairwise_prf, score
from pipelines.identity.model import MatchModel, ModelError, TermFrequencies, load_model, save_model
from pipelines.identity.training import (
    LEVELS,
    M_FLOOR,
    PRIOR_SHARE,
    blocked_pairs,
    comparison,
    estimate_u,
    expectation_maximisation,
    term_frequencies,
    train,
)
from pipelines.store.engine import Store
from pipelines.unify import steward
from pipelines.unify.config import UnifyConfig
from pipelines.unify.engine import Unifier
from tests.unify_helpers import drain, event, golden_of


def _person(given: str, family: str, dob: str = "") -> dict[str, object]:
    return {"kind": "person", "given_name": given, "family_name": family, "birth_date": dob or None}


def test_exact_u_comes_from_value_frequencies() -> None:
    names = ["smith"] * 4 + ["jones"] * 2 + ["brown", "green", "white", "black"]
    feats = [features(_person("ann", n)) for n in names]
    u = estimate_u(feats, [{"family": "disagree"}] * 10)
    n = len(names)
    assert u["family"]["exact"] == pytest.approx((4 * 3 + 2 * 1) / (n * (n - 1)))
    assert sum(u["family"].values()) == pytest.approx(1.0)


def test_em_recovers_the_m_probabilities_of_a_known_mixture() -> None:
    rng = random.Random(5)
    m_true = {"given": {"exact": 0.85, "fuzzy": 0.1, "disagree": 0.05},
              "dob": {"exact": 0.9, "typo": 0.05, "disagree": 0.05},
              "email": {"agree": 0.7, "disagree": 0.3}}
    u_true = {"given": {"exact": 0.02, "fuzzy": 0.03, "disagree": 0.95},
              "dob": {"exact": 0.01, "typo": 0.04, "disagree": 0.95},
              "email": {"agree": 0.005, "disagree": 0.995}}

    def draw(dist: dict[str, float]) -> str:
        return rng.choices(list(dist), weights=list(dist.values()))[0]

    classes = [m_true if rng.random() < 0.3 else u_true for _ in range(20_000)]
    vectors = [{f: draw(dists[f]) for f in m_true} for dists in classes]
    u = {f: {lv: u_true[f].get(lv, 1e-6) for lv in LEVELS[f]} for f in u_true}
    m0 = {f: {lv: 1 / len(LEVELS[f]) for lv in LEVELS[f]} for f in u_true}
    m, share, _rounds = expectation_maximisation(vectors, u, m0)
    assert share == pytest.approx(0.3, abs=0.02)
    for f, levels in m_true.items():
        for lv, p in levels.items():
            assert m[f][lv] == pytest.approx(p, abs=0.03), (f, lv)


def test_a_changed_family_name_is_trained_as_a_disagreement_and_keeps_its_default_weight() -> None:
    home = {"addresses": [{"line1": "Hauptstr. 12", "postal_code": "80331", "city": "München"}],
            "phones": [{"number": "089 1234567"}]}
    a = features({**_person("Susanne", "Kesseldorfer", "1989-03-08"), **home})
    b = features({**_person("Susanne", "Becker", "1989-03-08"), **home})
    assert "family.changed" in score(a, b, MatchConfig()).contributions
    assert comparison(a, b, MatchConfig())["family"] == "disagree"
    assert "changed" not in LEVELS["family"]


def test_one_user_name_at_two_domains_is_trained_as_a_disagreement_and_keeps_its_default_weight() -> None:
    a = features({**_person("Thijs", "Vanderbroek", "1980-01-02"), "emails": [{"address": "thijs.vdb@ziggo.nl"}]})
    b = features({**_person("Thijs", "Vanderbroek"), "emails": [{"address": "thijs.vdb@kpnmail.nl"}]})
    assert "email.user" in score(a, b, MatchConfig()).contributions
    assert comparison(a, b, MatchConfig())["email"] == "disagree"  # namesakes show it as often: not learned
    assert "user" not in LEVELS["email"]


def test_term_frequency_lowers_common_names_and_raises_rare_ones() -> None:
    feats = [features(_person("ann", "smith"))] * 50 + [features(_person("ann", f"name{i}x")) for i in range(200)]
    tf = term_frequencies(feats)["family"]
    assert tf.adjustment("smith", 3.0) < 0 < tf.adjustment("name7x", 3.0)
    assert tf.adjustment("never-seen", 3.0) <= 3.0
    assert TermFrequencies(10, 0.5, {}).adjustment("x", 1.0) == 1.0  # clipped


@pytest.fixture(scope="module")
def generated() -> tuple[list[object], list[str]]:
    rows = generate(1500, 21)
    return [features(d, s, k) for s, k, d, _e in rows], [e for *_x, e in rows]  # type: ignore[arg-type]


def _resolve(feats: list[object], cfg: MatchConfig) -> dict[str, str]:
    parent = list(range(len(feats)))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i
    for i, j in blocked_pairs(feats, cfg.max_candidates):  # type: ignore[arg-type]
        if score(feats[i], feats[j], cfg).decision == "link":  # type: ignore[arg-type]
            parent[find(j)] = find(i)
    return {str(i): str(find(i)) for i in range(len(feats))}


def test_training_without_labels_gives_weights_that_resolve_well(generated: tuple[list[object], list[str]],
                                                                   tmp_path: Path) -> None:
    feats, truth = generated
    result = train(feats, MatchConfig(), sample=30_000)  # type: ignore[arg-type]
    w = result.model.weights
    assert w["dob.exact"] > 5 and w["dob.disagree"] < 0
    assert w["family.exact"] > w["family.fuzzy"] > w["family.disagree"]
    assert w["given.exact"] > 0 > w["given.disagree"]
    assert result.model.link is not None and 5 < result.model.link < 30
    assert result.model.review is not None and result.model.review < result.model.link
    path = tmp_path / "model.json"
    save_model(result.model, path)
    learned = MatchConfig(model=str(path))
    truth_map = {str(i): e for i, e in enumerate(truth)}
    prf = pairwise_prf(_resolve(feats, learned), truth_map)
    assert prf.f1 > 0.97, prf


def _model_file(tmp_path: Path, **extra: object) -> str:
    path = tmp_path / "m.json"
    save_model(MatchModel({"dob.exact": 9.0, "given.exact": 5.0}, link=12.0, review=9.0, **extra), path)  # type: ignore[arg-type]
    return str(path)


def test_a_model_sets_weights_and_thresholds_unless_the_config_does(tmp_path: Path) -> None:
    path = _model_file(tmp_path)
    cfg = MatchConfig(model=path)
    assert (cfg.link_threshold, cfg.review_threshold) == (12.0, 9.0)
    assert cfg.weight("dob.exact") == 9.0 and cfg.weight("family.exact") == MatchConfig().weight("family.exact")
    mine = MatchConfig(model=path, link=15.0, weights={"dob.exact": 3.0})
    assert (mine.link_threshold, mine.review_threshold) == (15.0, 9.0)
    assert mine.weight("dob.exact") == 3.0
    with pytest.raises(ValidationError, match=r"review threshold \(9, from the model\)"):
        MatchConfig(model=path, link=8.0)


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read match model"), ("{not json", "is not JSON"), ('{"format": "x"}', "not a crmhub match model"),
    ('{"format": "crmhub-match-model", "version": 1, "weights": {"dob.exact": "high"}}', "not a finite number"),
    ('{"format": "crmhub-match-model", "version": 1, "weights": [["dob.exact", 1]]}', "weights is not an object"),
    ('{"format": "crmhub-match-model", "version": 1, "tf": {"given": []}}', "tf.given is not an object"),
    ('{"format": "crmhub-match-model", "version": 1, "tf": {"given": {"records": 9, "counts": {"ann": "x"}}}}',
     r"tf.given.counts\['ann'\] is not a count"),
])
def test_a_bad_model_file_is_a_config_error_at_its_key(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "model.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ModelError, match=message):
        load_model(path)
    with pytest.raises(ValidationError, match=message) as err:
        MatchConfig(model=str(path))
    assert err.value.errors()[0]["loc"] == ("model",)


def test_the_model_file_round_trips(tmp_path: Path) -> None:
    model = MatchModel({"dob.exact": 9.5}, 11.0, 7.0, {"family": TermFrequencies(100, 0.01, {"smith": 9})}, 2.5,
                       {"records": 100})
    save_model(model, tmp_path / "m.json")
    assert load_model(tmp_path / "m.json") == model
    assert json.loads((tmp_path / "m.json").read_text())["format"] == "crmhub-match-model"


def _unifier(tmp_path: Path, match: dict[str, object]) -> Callable[[], Unifier]:
    def make() -> Unifier:
        cfg = UnifyConfig.model_validate({"match": match})
        return Unifier(Store(f"sqlite:///{tmp_path / 'store.db'}"), cfg, now_ms=lambda: 7_000)
    return make


def test_relink_applies_new_settings_and_keeps_unchanged_golden_ids(tmp_path: Path) -> None:
    anna = {"given_name": "Anna", "family_name": "Berg", "birth_date": "1980-02-03"}
    anna_typo = {"given_name": "Anna", "family_name": "Berg", "birth_date": "1980-02-08"}
    otto = {"given_name": "Otto", "family_name": "Lind", "birth_date": "1955-05-05"}
    first = _unifier(tmp_path, {})()
    first.apply([event("a", "1", anna, 100), event("b", "1", anna_typo, 110), event("a", "2", otto, 120),
                 event("b", "2", otto, 130)])
    drain(first)
    store = first.store
    anna_gid, otto_gid = golden_of(store, "a", "1"), golden_of(store, "a", "2")
    assert anna_gid == golden_of(store, "b", "1") and otto_gid == golden_of(store, "b", "2")
    assert steward.relink(first).golden_changed == 0  # same settings: nothing to publish
    assert drain(first) == []
    strict = _unifier(tmp_path, {"weights": {"dob.typo": -20.0}})()
    stats = steward.relink(strict, chunk=1)
    assert stats.splits == 1
    assert golden_of(store, "a", "1") == anna_gid != golden_of(store, "b", "1")
    assert golden_of(store, "a", "2") == golden_of(store, "b", "2") == otto_gid
    assert any(t == "customer.unified" for t, _k, _v in drain(strict))


def test_relink_recomputes_features_stored_under_an_older_normalisation(tmp_path: Path) -> None:
    from pipelines.identity import FEATURES_VERSION
    from pipelines.store import records as rec

    unifier = _unifier(tmp_path, {})()
    mick = {"given_name": "Mick", "family_name": "Hoffmann", "birth_date": "1950-09-30"}
    michael = {"given_name": "Michael", "family_name": "Hoffmann", "birth_date": "1950-09-30"}
    unifier.apply([event("a", "1", mick, 100), event("b", "1", michael, 110)])
    store = unifier.store
    assert golden_of(store, "a", "1") == golden_of(store, "b", "1")
    with store.tx() as conn:  # as an older normalisation might have stored it: no nickname of mick
        row = rec.get_record(conn, "b", "1")
        assert row is not None and row.features is not None
        rec.set_features(conn, row.id, {**row.features, "v": 2, "given": "otto", "given1": "otto",
                                         "gcanon": "otto"})
    drain(unifier)
    gid = golden_of(store, "a", "1")
    stats = steward.relink(unifier, chunk=1)  # one record per transaction: the later one's features were stale
    with store.tx() as conn:
        row = rec.get_record(conn, "b", "1")
    assert row is not None and row.features is not None
    assert row.features["v"] == FEATURES_VERSION and row.features["given1"] == "michael"
    assert golden_of(store, "a", "1") == golden_of(store, "b", "1") == gid
    assert (stats.merges, stats.splits, stats.golden_changed) == (0, 0, 0)
    assert drain(unifier) == []  # nothing changed, nothing published


def test_a_session_whose_matches_are_households_is_left_out() -> None:
    """Twins at one address, nobody entered twice: pairs born on one day are housemates, and EM's "matches" there
    share address and family name but not the given name. Learning from them would make an equal given name
    evidence against a link; the session is left out and the given-name weights are not learned from it."""
    rng = random.Random(3)
    given = ["anna", "ben", "carla", "david", "emma", "felix", "greta", "hugo", "ida", "jonas", "karl", "lena"]
    records = []
    for h in range(600):
        family, dob = f"fam{h}son", f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        address = {"line1": f"{h} Main St", "postal_code": "00000", "city": "Anytown", "country": "US"}
        records += [{"kind": "person", "given_name": g, "family_name": family, "birth_date": dob,
                     "addresses": [address]} for g in rng.sample(given, 2)]
    result = train([features(r) for r in records], MatchConfig(), sample=20_000)
    assert any("same birth date" in n and "left out" in n for n in result.notes), result.notes
    learned = MatchConfig(weights=result.model.weights)
    assert learned.weight("given.exact") > 0 > learned.weight("given.disagree")
    # nothing was learned: the default weights stand for an average name anywhere, so no term frequencies either
    # (against this data's chance agreement, "anna" would lose weight for being commoner than its average name)
    assert result.model.weights == {} and result.model.tf == {}


def test_names_no_session_estimates_take_the_m_their_defaults_imply_on_the_learned_scale() -> None:
    """No birth dates: the only session is the one that chose its pairs by the names, so EM cannot estimate
    them. Their weights then come from the m the defaults imply (normalised over the levels) against this data's
    u: every level of a field moves by one constant, so their order and signs stay, and they stand on the scale
    of the learned fields and threshold instead of the defaults' own (W-2 forms: trained F1 0.9904 -> 0.9934)."""
    from pipelines.identity.config import DEFAULT_WEIGHTS

    rows = generate(1500, 21)
    feats = [features({**d, "birth_date": None}, s, k) for s, k, d, _e in rows]
    result = train(feats, MatchConfig(), sample=20_000)
    assert any(n.startswith("given: not estimated by EM") and "implied" in n for n in result.notes), result.notes
    assert any(n.startswith("family: not estimated by EM") for n in result.notes), result.notes
    weights = result.model.weights
    shifts = {round(weights[f"given.{lv}"] - DEFAULT_WEIGHTS[f"given.{lv}"], 2)
              for lv in ("exact", "disagree", "fuzzy")}
    assert len(shifts) == 1 and shifts != {0.0}, shifts  # one constant for the field, not the defaults themselves
    assert weights["given.exact"] > 0 > weights["given.disagree"]
    assert weights["family.exact"] > 0 > weights["family.disagree"]
    assert {"given", "family"} <= result.model.tf.keys()  # on this data's scale: term frequencies apply


def test_the_prior_keeps_a_level_the_matches_seem_never_to_show_off_the_floor() -> None:
    """Matches whose e-mail never shows one edit: without the prior EM puts that level at the floor, a weight far
    below what a typo in an e-mail deserves; with it, the level keeps some of what the defaults believe."""
    rng = random.Random(7)
    vectors = [{"given": "exact", "dob": "exact", "email": "agree"} if rng.random() < 0.4
               else {"given": "disagree", "dob": "disagree", "email": "disagree"} for _ in range(5_000)]
    u = {f: {lv: (0.9 if lv == "disagree" else 0.1 / (len(LEVELS[f]) - 1)) for lv in LEVELS[f]}
         for f in ("given", "dob", "email")}
    m0 = {f: {lv: 1 / len(LEVELS[f]) for lv in LEVELS[f]} for f in u}
    bare, _share, _rounds = expectation_maximisation(vectors, u, m0)
    kept, _share, _rounds = expectation_maximisation(vectors, u, m0, prior=PRIOR_SHARE)
    assert bare["email"]["fuzzy"] == pytest.approx(M_FLOOR, rel=0.2)
    assert kept["email"]["fuzzy"] > 5 * M_FLOOR
    assert kept["email"]["agree"] > 0.9
