"""A small, real model for `steward quickstart`: logistic regression in pure Python.

It trains on a synthetic fraud data set (seeded, so every run gives the same numbers), is
evaluated on a held-out split, and is saved as JSON. Nothing here needs numpy.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

FEATURES = ("amount", "night", "merchant_risk")


@dataclass(frozen=True)
class Trained:
    weights: tuple[float, ...]
    bias: float
    epochs: int
    learning_rate: float
    auc: float
    accuracy: float

    def save(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        model = directory / "model.json"
        model.write_text(
            json.dumps({"features": FEATURES, "weights": self.weights, "bias": self.bias}, indent=2)
            + "\n"
        )
        config = directory / "config.json"
        config.write_text(
            json.dumps({"epochs": self.epochs, "learning_rate": self.learning_rate}, indent=2)
            + "\n"
        )
        return [model, config]


def _sigmoid(z: float) -> float:
    if z < -60:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


def synthetic_transactions(n: int, seed: int) -> list[tuple[tuple[float, ...], int]]:
    """Rows of (features, is_fraud): fraud is likelier for large night-time payments at risky
    merchants, with noise so that no model is perfect."""
    rng = random.Random(seed)
    rows: list[tuple[tuple[float, ...], int]] = []
    for _ in range(n):
        amount = rng.lognormvariate(3.0, 1.0) / 100.0
        night = 1.0 if rng.random() < 0.3 else 0.0
        merchant_risk = rng.random()
        z = -4.0 + 1.2 * amount + 1.5 * night + 2.5 * merchant_risk + rng.gauss(0.0, 1.0)
        rows.append(((amount, night, merchant_risk), 1 if rng.random() < _sigmoid(z) else 0))
    return rows


def auc(scores: list[float], labels: list[int]) -> float:
    """Area under the ROC curve: the chance a random fraud scores above a random non-fraud."""
    ranked = sorted(zip(scores, labels, strict=True))
    positives = sum(labels)
    negatives = len(labels) - positives
    rank_sum = 0.0
    i = 0
    while i < len(ranked):  # average ranks over ties
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        average_rank = (i + j + 1) / 2
        rank_sum += average_rank * sum(label for _, label in ranked[i:j])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def train(epochs: int, learning_rate: float = 0.5, seed: int = 7) -> Trained:
    rows = synthetic_transactions(3000, seed)
    split = int(len(rows) * 0.8)
    training, holdout = rows[:split], rows[split:]
    weights = [0.0] * len(FEATURES)
    bias = 0.0
    for _ in range(epochs):
        grad_w = [0.0] * len(FEATURES)
        grad_b = 0.0
        for x, y in training:
            error = _sigmoid(sum(w * v for w, v in zip(weights, x, strict=True)) + bias) - y
            for k, value in enumerate(x):
                grad_w[k] += error * value
            grad_b += error
        weights = [
            w - learning_rate * g / len(training) for w, g in zip(weights, grad_w, strict=True)
        ]
        bias -= learning_rate * grad_b / len(training)
    scores = [
        _sigmoid(sum(w * v for w, v in zip(weights, x, strict=True)) + bias) for x, _ in holdout
    ]
    labels = [y for _, y in holdout]
    accuracy = sum((s >= 0.5) == bool(y) for s, y in zip(scores, labels, strict=True)) / len(labels)
    return Trained(
        tuple(round(w, 6) for w in weights),
        round(bias, 6),
        epochs,
        learning_rate,
        round(auc(scores, labels), 4),
        round(accuracy, 4),
    )
