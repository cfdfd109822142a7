"""What a target column asks for: classification or regression, its classes, and the output activation.

The rule (``slopekit train`` prints what it inferred, ``--task`` overrides it):

- text or true/false values: **classification**, one class per distinct value;
- integers (or numbers that are all whole), with at most `CLASS_LIMIT`
  distinct values: **classification**;
- any other numbers: **regression**.

A classifier's labels become the indices 0, 1, ..., k-1 of its sorted
classes (`Target.encode`) and back (`Target.decode`); two classes take a
sigmoid output, more a softmax. A regression takes an identity output, and
its target may be standardised (`Target.standardise`), predictions mapped
back to the original units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["CLASS_LIMIT", "TASKS", "Target", "TargetError", "infer_task"]

#: Whole numbers with at most this many distinct values are taken as class labels.
CLASS_LIMIT = 20

TASKS = ("classification", "regression")


class TargetError(ValueError):
    """A target that does not fit the task or output asked for; the message says what would."""


def _kind(y: np.ndarray) -> str:
    """``"text"``, ``"bool"``, ``"whole"`` (integers, or floats that are all whole) or ``"real"``."""
    if y.dtype.kind in "US":
        return "text"
    if y.dtype.kind == "b":
        return "bool"
    if y.dtype.kind in "iu":
        return "whole"
    if y.dtype.kind == "f":
        return "whole" if np.array_equal(y, np.round(y)) else "real"
    raise TargetError(f"holds values of dtype {y.dtype}; expected numbers, text or true/false")


def infer_task(y: np.ndarray) -> tuple[str, str]:
    """The task the rule gives for the target values ``y``, and why (a phrase for the user).

    Examples
    --------
    >>> import numpy as np
    >>> from slopekit._targets import infer_task
    >>> infer_task(np.array(["a", "b", "a"]))
    ('classification', 'text values')
    >>> infer_task(np.array([1, 2, 3, 3]))
    ('classification', '3 distinct whole numbers, at most 20')
    >>> infer_task(np.array([0.5, 1.25]))
    ('regression', 'numbers that are not all whole')
    """
    kind = _kind(y)
    if kind == "text":
        return "classification", "text values"
    if kind == "bool":
        return "classification", "true/false values"
    if kind == "real":
        return "regression", "numbers that are not all whole"
    k = len(np.unique(y))
    if k <= CLASS_LIMIT:
        return "classification", f"{k} distinct whole numbers, at most {CLASS_LIMIT}"
    return "regression", f"{k} distinct whole numbers, more than {CLASS_LIMIT}"


def _class_value(v: Any) -> Any:
    """A class as plain JSON: str, bool, int (whole floats too) or float."""
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return int(v) if float(v).is_integer() and abs(v) < 2**53 else float(v)
    return str(v)


class Target:
    """A target column's task, classes and output activation, decided once from the training data.

    Use `Target.infer` to build one from values; `to_info`/`from_info` keep
    it in a model's ``info``.

    Attributes
    ----------
    name : str
        The column's name.
    task : {"classification", "regression"}
    output : {"sigmoid", "softmax", "identity"}
    classes : list or None
        The sorted classes (str, bool, int or float), None for a regression.
    offset, scale : float
        A regression's standardisation :math:`y' = (y - o) / s` (0 and 1:
        none).
    reason : str
        Why the task was chosen (``"--task"`` when given).
    """

    def __init__(self, name: str, task: str, output: str, classes: Sequence[Any] | None = None,
                 offset: float = 0.0, scale: float = 1.0, reason: str = ""):
        self.name, self.task, self.output = name, task, output
        self.classes = None if classes is None else [_class_value(c) for c in classes]
        self.offset, self.scale, self.reason = float(offset), float(scale), reason

    # -- deciding ---------------------------------------------------------------------------------

    @classmethod
    def infer(cls, name: str, y: np.ndarray, *, task: str | None = None, output: str | None = None) -> Target:
        """Decide the task (the rule, or ``task``), the classes and the output (checked against ``output``).

        Raises
        ------
        TargetError
            For one class only, a sigmoid output with more than two classes,
            a softmax or sigmoid output on a target the rule calls continuous
            (without ``task="classification"``), an identity output with
            ``task="classification"``, or a regression on text.
        """
        try:
            inferred, reason = infer_task(y)
        except TargetError as exc:
            raise TargetError(f"target {name!r} {exc}") from None
        if task is not None:
            reason = f"--task {task}"
        elif output == "identity":  # an identity output is a regression, whatever the labels look like
            task, reason = "regression", "--output identity"
        else:
            task = inferred
        if task == "regression":
            return cls._regression(name, y, output, reason)
        return cls._classification(name, y, output, reason, inferred)

    @classmethod
    def _regression(cls, name: str, y: np.ndarray, output: str | None, reason: str) -> Target:
        if y.dtype.kind in "US":
            raise TargetError(f"target {name!r} holds text; a regression needs numbers (use --task "
                              "classification, or name a numeric --target)")
        if output not in (None, "identity"):
            raise TargetError(f"--output {output} needs class labels, but target {name!r} is continuous "
                              f"({reason}); use --output identity for a regression, or --task classification "
                              "to take each value as a class")
        return cls(name, "regression", "identity", reason=reason)

    @classmethod
    def _classification(cls, name: str, y: np.ndarray, output: str | None, reason: str, inferred: str) -> Target:
        classes = np.unique(y)
        k = len(classes)
        if k < 2:
            raise TargetError(f"target {name!r} has one class only ({_class_value(classes[0])!r}); a classifier "
                              "needs at least two")
        if output == "identity":
            raise TargetError(f"--output identity is a regression, but --task classification was given for "
                              f"target {name!r}; drop one of them")
        if output == "sigmoid" and k > 2:
            raise TargetError(f"--output sigmoid takes two classes, but target {name!r} has {k}; use --output "
                              "softmax (or leave --output out)")
        return cls(name, "classification", output or ("sigmoid" if k == 2 else "softmax"), classes.tolist(),
                   reason=reason)

    def standardise(self, y_train: np.ndarray) -> None:
        """Set a regression's offset and scale to the mean and standard deviation of ``y_train``."""
        if self.task != "regression":
            raise ValueError("standardise: only a regression's target is standardised")
        y = np.asarray(y_train, dtype=np.float64)
        self.offset = float(y.mean())
        width = float(y.std())
        self.scale = width if width > 0 else 1.0

    # -- using ------------------------------------------------------------------------------------

    @property
    def n_outputs(self) -> int:
        """Output units: the classes for softmax, else 1."""
        return len(self.classes) if self.output == "softmax" else 1

    def encode(self, y: np.ndarray) -> np.ndarray:
        """Class indices (int64) for a classifier; the standardised values (float64) for a regression."""
        if self.task == "regression":
            return (np.asarray(y, dtype=np.float64) - self.offset) / self.scale
        classes = np.asarray(self.classes, dtype=y.dtype if y.dtype.kind in "US" else None)
        index = np.searchsorted(classes, y)
        index = np.minimum(index, len(classes) - 1)
        if not np.array_equal(classes[index], y):
            unknown = y[classes[index] != y][0]
            raise TargetError(f"target {self.name!r} holds {_class_value(unknown)!r}, which is not one of the "
                              f"model's classes")
        return index.astype(np.int64)

    def decode(self, predictions: np.ndarray) -> np.ndarray:
        """The original labels of class indices, or a regression's predictions in the original units."""
        if self.task == "regression":
            return np.asarray(predictions, dtype=np.float64) * self.scale + self.offset
        return np.asarray(self.classes, dtype=object)[predictions]

    def describe(self, limit: int = 10) -> str:
        """``"3 classes (setosa, versicolor, virginica) -> softmax output"`` or a regression's line."""
        if self.task == "regression":
            return f"numbers -> regression, identity output ({self.reason})"
        shown = [str(c) for c in self.classes[:limit]] + (["..."] if len(self.classes) > limit else [])
        return f"{len(self.classes)} classes ({', '.join(shown)}) -> {self.output} output ({self.reason})"

    def class_names(self) -> list[str]:
        """The classes as text (for column names and pictures)."""
        return [str(c) for c in self.classes] if self.classes is not None else []

    # -- keeping ----------------------------------------------------------------------------------

    def to_info(self) -> dict[str, Any]:
        """A JSON-ready dict (for `Network.info`)."""
        return {"name": self.name, "task": self.task, "output": self.output, "classes": self.classes,
                "offset": self.offset, "scale": self.scale}

    @classmethod
    def from_info(cls, info: Any) -> Target:
        """The inverse of `to_info`; ValueError for anything else."""
        if not isinstance(info, dict) or info.get("task") not in TASKS:
            raise ValueError("the target's description is malformed")
        try:
            return cls(str(info["name"]), info["task"], str(info["output"]), info.get("classes"),
                       float(info.get("offset", 0.0)), float(info.get("scale", 1.0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"the target's description is malformed ({exc})") from None
