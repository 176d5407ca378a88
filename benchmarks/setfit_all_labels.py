"""SetFit-style contrastive fine-tuning of MiniLM on all the demo's training labels (issue 25, item 3).

    .venv/bin/python benchmarks/setfit_all_labels.py [--pairs-per-row 2] [--seed 13] [--frozen-only] \
        [--compare outputs/<tfidf run id>] [--save DIR]

SetFit (Tunstall et al., 2022) in two steps: (1) the sentence encoder is fine-tuned on pairs of training
statements, cosine similarity 1 for the same label and 0 for different labels; (2) a logistic regression
(balanced classes) is fitted on the encoder's embeddings of the training statements. `--frozen-only` skips
step 1: the pretrained encoder, frozen, plus the same head (every layer frozen). Written here with
sentence-transformers, which the project already installs, instead of the `setfit` package: setfit 1.2 pins
an older transformers API than the project's 5.x, and the two steps are short.

The data are the demo's: `configs/transformer.yaml`'s sources (the whole corpus, not its 800-row cap, and the
labelled real pool), the same splits; scored on the pool's test split, realdev and the behavioural suite.
Nothing is fitted on dev, test or realdev. Prints one JSON line; with `--compare RUN_DIR` (e.g. the demo TF-IDF's
outputs/<run id>) a second one adds the paired bootstrap difference to that run's predictions.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from stance.config import load_config
from stance.data.loading import load_data, load_eval_set
from stance.evaluation.behaviour import load_suite, pass_rates
from stance.evaluation.bootstrap import paired
from stance.evaluation.metrics import macro_f1
from stance.models.transformer import resolve_pretrained

ROOT = Path(__file__).resolve().parents[1]


def pairs(df: pd.DataFrame, per_row: int, seed: int) -> pd.DataFrame:
    """SetFit's pair sampling: for each statement, per_row/2 positives (same label) and as many negatives."""
    rng = random.Random(seed)
    by_label = {lab: part["text"].tolist() for lab, part in df.groupby("label")}
    others = {lab: [t for other, ts in by_label.items() if other != lab for t in ts] for lab in by_label}
    rows = []
    for text, lab in zip(df["text"], df["label"]):
        for _ in range(max(1, per_row // 2)):
            same = rng.choice(by_label[lab])
            while same == text and len(by_label[lab]) > 1:  # a statement paired with itself teaches nothing
                same = rng.choice(by_label[lab])
            rows.append((text, same, 1.0))
            rows.append((text, rng.choice(others[lab]), 0.0))
    rng.shuffle(rows)
    return pd.DataFrame(rows, columns=["sentence1", "sentence2", "score"])


def contrastive(encoder, train: pd.DataFrame, per_row: int, seed: int) -> None:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments, losses

    with tempfile.TemporaryDirectory(prefix="stance-setfit-") as tmp:
        args = SentenceTransformerTrainingArguments(
            output_dir=tmp, num_train_epochs=1, per_device_train_batch_size=16, learning_rate=2e-5,
            warmup_steps=0.1, seed=seed, save_strategy="no", report_to=[], logging_steps=100,
            disable_tqdm=True, use_cpu=True)
        SentenceTransformerTrainer(model=encoder, args=args, loss=losses.CosineSimilarityLoss(encoder),
                                   train_dataset=Dataset.from_pandas(pairs(train, per_row, seed))).train()


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs-per-row", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--frozen-only", action="store_true")
    ap.add_argument("--compare", type=Path, help="a training run's output folder holding eval/predictions_*.csv")
    ap.add_argument("--save", type=Path, help="a folder for this run's predictions_<set>.csv")
    a = ap.parse_args(argv)
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import LogisticRegression

    cfg = load_config(ROOT / "configs" / "transformer.yaml", ["data.sources.0.max_train_rows=null"])  # 0: the corpus
    data = load_data(cfg.data, cfg.seed)
    sets = {"test_realpool": data.source_tests()["test_realpool"]}
    for es in cfg.eval_sets:
        if (df := load_eval_set(es, data.labels)) is not None:
            sets[es.name] = df
    suite = load_suite(ROOT / cfg.behaviour.path)

    encoder = SentenceTransformer(resolve_pretrained("default"), device="cpu")
    encoder.max_seq_length = cfg.model.max_length
    t0 = time.perf_counter()
    if not a.frozen_only:
        contrastive(encoder, data.train, a.pairs_per_row, a.seed)
    tune_s = time.perf_counter() - t0
    embed = lambda texts: encoder.encode(list(texts), batch_size=64, normalize_embeddings=True)  # noqa: E731
    head = LogisticRegression(class_weight="balanced", max_iter=2000, random_state=a.seed)
    head.fit(embed(data.train["text"]), data.train["label"])
    out: dict = {"method": "frozen encoder + head" if a.frozen_only else "setfit-style", "seed": a.seed,
                 "train_rows": len(data.train), "pairs_per_row": 0 if a.frozen_only else a.pairs_per_row,
                 "tune_s": round(tune_s, 1), "dev_macro_f1": _f1(data.dev, head.predict(embed(data.dev["text"])), data.labels)}
    predictions = {name: df.assign(predicted=head.predict(embed(df["text"]))) for name, df in sets.items()}
    for name, df in predictions.items():
        out[f"{name}_macro_f1"] = _f1(df, df["predicted"], data.labels)
        if a.save:
            a.save.mkdir(parents=True, exist_ok=True)
            df.to_csv(a.save / f"predictions_{name}.csv", index=False)
    rates = pass_rates(suite, head.predict(embed(item["text"] for item in suite)).tolist())
    out["behaviour"] = round(rates["overall"]["rate"], 3)
    print(json.dumps(out), flush=True)  # before the comparison: a long run's numbers are never lost to it
    for name, df in predictions.items() if a.compare else ():
        # Keyed by `where` (file:line), as stance's own comparisons: a text can change in a CSV round trip.
        theirs = pd.read_csv(a.compare / "eval" / f"predictions_{name}.csv")
        cols = ["where", "label", "predicted"]
        diff, low, high, _ = paired([df[cols]], [theirs[cols]])
        out[f"{name}_minus_compared"] = [round(diff, 3), round(low, 3), round(high, 3)]
    print(json.dumps(out))
    return out


def _f1(df: pd.DataFrame, predicted, labels: list[str]) -> float:
    return round(macro_f1(df["label"].tolist(), list(predicted), labels), 3)


if __name__ == "__main__":
    main(sys.argv[1:])
