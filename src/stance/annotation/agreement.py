"""Agreement between two annotators: Cohen's kappa, per-label agreement, confusion table, disagreements."""
from __future__ import annotations

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
        return (f"{self.n} items labelled by both: Cohen's kappa {self.kappa:.3f}, observed agreement "
                f"{self.observed:.1%}, {len(self.disagreements)} disagreements"
                + (f"; {self.only_one} items labelled by only one" if self.only_one else ""))


def _one_per_id(answers: list[Answer]) -> dict[str, Answer]:
    return {a.id: a for a in answers}  # read_answers already keeps each annotator's latest answer


def agreement(a: list[Answer], b: list[Answer], labels: list[str]) -> Agreement:
    A, B = _one_per_id(a), _one_per_id(b)
    both = [i for i in A if i in B]
    if not both:
        raise ValueError("the two label files share no ids: nothing to compare")
    ya, yb = [A[i].label for i in both], [B[i].label for i in both]
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
