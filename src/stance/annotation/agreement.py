"""Agreement between two annotators: Cohen's kappa, per-label agreement, confusion table, disagreements."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import pandas as pd
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from ..data.labels import Answer


@dataclass
class Agreement:
    n: int                     # items both annotators labelled
    kappa: float
    observed: float            # share of items with the same label
    per_label: pd.DataFrame    # label, n_a, n_b, agreement (Dice: 2|A&B| / (|A|+|B|))
    confusion: pd.DataFrame    # rows: annotator A, columns: annotator B
    disagreements: pd.DataFrame  # id, label_a, label_b, confidence_a, confidence_b (to adjudicate)
    only_one: int              # items labelled by just one of the two

    def summary(self) -> str:
        kappa = f"Cohen's kappa {self.kappa:.3f}" if self.kappa == self.kappa else self.undefined_kappa()
        return (f"{self.n} items labelled by both: {kappa}, observed agreement "
                f"{self.observed:.1%}, {len(self.disagreements)} disagreements"
                + (f"; {self.only_one} items labelled by only one" if self.only_one else ""))


    def undefined_kappa(self) -> str:
        t = self.per_label
        used = t.loc[t["n_a"] + t["n_b"] > 0, "label"].tolist()
        return f"kappa is undefined: every answer is {used[0]}" if len(used) == 1 else "kappa is undefined"


def _one_per_id(answers: list[Answer], side: str) -> dict[str, Answer]:
    """One answer per id of ONE annotator: two annotators mixed on one side would keep whichever came last."""
    names = sorted({a.annotator for a in answers})
    if len(names) > 1:
        raise ValueError(f"annotator {side}'s answers come from {len(names)} annotators ({', '.join(names)}); "
                         f"name one per side (--a-name / --b-name)")
    return {a.id: a for a in answers}  # read_answers already keeps each annotator's latest answer


def agreement(a: list[Answer], b: list[Answer], labels: list[str]) -> Agreement:
    A, B = _one_per_id(a, "A"), _one_per_id(b, "B")
    both = [i for i in A if i in B]
    if not both:
        raise ValueError("the two label files share no ids: nothing to compare")
    if all(A[i].where == B[i].where for i in both):
        raise ValueError(f"A and B are the same answers (annotator {A[both[0]].annotator}, {A[both[0]].where}); "
                         f"compare two annotators (--a-name / --b-name for a shared file)")
    ya, yb = [A[i].label for i in both], [B[i].label for i in both]
    with warnings.catch_warnings():  # one label throughout: kappa is 0/0, said in words by summary()
        warnings.simplefilter("ignore", RuntimeWarning)
        kappa = float(cohen_kappa_score(ya, yb, labels=labels))
    cm = pd.DataFrame(confusion_matrix(ya, yb, labels=labels), index=[f"A:{x}" for x in labels],
                      columns=[f"B:{x}" for x in labels])
    rows = []
    for lab in labels:
        na, nb = ya.count(lab), yb.count(lab)
        same = sum(1 for x, y in zip(ya, yb) if x == y == lab)
        rows.append({"label": lab, "n_a": na, "n_b": nb, "agreement": 2 * same / (na + nb) if na + nb else float("nan")})
    dis = pd.DataFrame([{"id": i, "label_a": A[i].label, "label_b": B[i].label, "confidence_a": A[i].confidence,
                         "confidence_b": B[i].confidence} for i in both if A[i].label != B[i].label],
                       columns=["id", "label_a", "label_b", "confidence_a", "confidence_b"])
    observed = sum(x == y for x, y in zip(ya, yb)) / len(both)
    only_one = len(set(A) ^ set(B))
    return Agreement(len(both), kappa, observed, pd.DataFrame(rows), cm, dis, only_one)
