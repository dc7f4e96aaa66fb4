"""The run folder: what a training run writes, what it records, and how running it again continues it.

The paper's run took 90 epochs and five to six days (Section 5); such a run is interrupted, resumed
and extended, and must stay one run. ``config.output`` holds::

    config.json              {"config": the run's configuration, "derived": replicas, global batch,
                              learning rate, steps per epoch, "resumes": [one entry per resume]}
    checkpoints/best.keras   the model with the lowest validation top-1 error so far
    checkpoints/last.keras   the model after the last finished epoch
    backup/                  the whole training state after each of the two newest epochs
    logs/                    TensorBoard (when enabled)
    training_log.csv         one row per epoch
    training_curves.png      the curves of the CSV log

Running the same command again:

- nothing finished yet: starts;
- interrupted: resumes from the newest backup that reads (a damaged newer one is set aside as
  ``*.npz.damaged`` and named), with the data stream and the CSV log at that epoch;
- finished: changes nothing and says so; a larger ``epochs`` continues it.

A resume must be the same run: only ``config.RESUMABLE_FIELDS`` may differ from the record (each
change is appended to "resumes"); any other difference is refused, naming it, and so is other data
than the run started on (the fingerprint in config.json's "data", ``check_data``). While a run
trains it holds the folder's lock (``lock_run``): a second command on the folder is refused.
``restart=True`` starts over in the folder.

``fit`` makes one ``RunFolder`` up front and hands it down: its ``plan`` decides and checks,
writing nothing (the checks of the data, ``check_steps``, ``check_classes``, ``check_data``, add to
that plan); its ``start`` writes.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil

from alexnet_keras.training.backup import Backup, latest_backup_epoch, newest_readable_backup
from alexnet_keras.training.config import RESUMABLE_FIELDS, TrainConfig

HOW_TO_START_OVER = "give another --output for a new run, or --restart to start over in {output}"


class RunFolderError(ValueError):
    """The output folder and the configuration do not go together (the message says what to do)."""


def run_paths(output: str, *, tensorboard: bool = True) -> dict:
    """Paths of everything a run writes under ``output`` (no ``"tensorboard"`` key without it)."""
    paths = {
        "output": output,
        "config": os.path.join(output, "config.json"),
        "best": os.path.join(output, "checkpoints", "best.keras"),
        "last": os.path.join(output, "checkpoints", "last.keras"),
        "backup": os.path.join(output, "backup"),
        "tensorboard": os.path.join(output, "logs"),
        "csv": os.path.join(output, "training_log.csv"),
        "plot": os.path.join(output, "training_curves.png"),
    }
    if not tensorboard:
        del paths["tensorboard"]
    return paths


def backup_dir(paths: dict, task: str | None = None) -> str:
    """The chief's backups in ``backup/``; another worker's in ``backup/<task>`` (no write races)."""
    return paths["backup"] if task is None else os.path.join(paths["backup"], task)


@dataclasses.dataclass
class Plan:
    """What running ``config`` in its folder will do, decided before anything is written."""

    start_epoch: int = 0
    backup: Backup | None = None
    skipped: list = dataclasses.field(default_factory=list)  # (path, why) of damaged newer backups
    record: dict | None = None  # config.json as found (None: a new run)
    changes: dict = dataclasses.field(default_factory=dict)  # resumable fields: {field: [was, now]}
    derived: dict = dataclasses.field(default_factory=dict)
    complete: bool = False
    message: str = ""
    output: str = ""  # the folder the plan is for (named in every refusal)
    data: dict | None = None  # the data's fingerprint (inputs.training_data), recorded at the start


@dataclasses.dataclass
class RunFolder:
    """One run's folder, made once (``fit`` opens it before anything else) and handed down: its
    paths, this process's backup folder and whether this process is the chief that writes."""

    output: str
    paths: dict
    backups: str
    chief: bool = True
    task: str | None = None  # another worker of a multi-worker run: its task id

    @classmethod
    def open(cls, config: TrainConfig, *, task: str | None = None) -> "RunFolder":
        """``RunFolderError`` when ``config.output`` is a file; nothing is written."""
        check_output(config.output)
        paths = run_paths(config.output, tensorboard=config.tensorboard)
        return cls(config.output, paths, backup_dir(paths, task), chief=task is None, task=task)

    def lock(self):
        """``lock_run`` for this process's part of the folder."""
        return lock_run(self.output, self.task)

    def plan(self, config: TrainConfig, derived: dict) -> Plan:
        """``plan_run`` in this folder (reads only)."""
        return plan_run(config, self.paths, self.backups, derived)

    def start(self, config: TrainConfig, plan: Plan) -> None:
        """``start_run``: the first writes."""
        start_run(config, self.paths, plan, chief=self.chief)

    def interrupted(self, config: TrainConfig) -> str:
        """The one line a Ctrl-C ends with."""
        return interrupted_message(config, self.backups)


def as_recorded(config: TrainConfig) -> dict:
    """``config`` as config.json records it (and as it reads back)."""
    values = dataclasses.asdict(config)
    values.pop("restart")  # an action, not part of the run
    return json.loads(json.dumps(values))  # as it reads back from config.json


def read_record(path: str) -> dict | None:
    """config.json as ``{"config", "derived", "resumes"}``; a flat file of an older version too."""
    if not os.path.exists(path):
        return None
    try:
        with open(path) as handle:
            record = json.load(handle)
    except (OSError, ValueError) as error:
        raise RunFolderError(f"{path} cannot be read ({error}); "
                             f"{HOW_TO_START_OVER.format(output=os.path.dirname(path))}") from None
    if "config" not in record:
        record = {"config": record, "derived": {}, "resumes": []}
    return record


def current_config(record: dict) -> dict:
    """The recorded configuration with every resume's changes applied."""
    values = dict(record["config"])
    for resume in record.get("resumes", []):
        values.update({field: now for field, (_, now) in resume.get("changes", {}).items()})
    return values


def compare(recorded: dict, now: dict) -> tuple[dict, dict]:
    """``(refused, allowed)`` differences between two configurations, ``{field: [was, now]}``;
    fields one side lacks (added by a later version) are not compared."""
    refused, allowed = {}, {}
    for field, value in now.items():
        if field in recorded and recorded[field] != value:
            (allowed if field in RESUMABLE_FIELDS else refused)[field] = [recorded[field], value]
    return refused, allowed


def _refuse(output: str, refused: dict) -> None:
    if refused:
        lines = [f"  {field}: {was!r} recorded, {now!r} now" for field, (was, now) in refused.items()]
        raise RunFolderError(
            f"{output} holds a run with another configuration, and a resume must be the same run:\n"
            + "\n".join(lines) + "\nTo train with these values, "
            + HOW_TO_START_OVER.format(output=output) + " (it deletes that run's files)."
        )


def _skipped_text(skipped: list) -> str:
    return "".join(f"; {path} is damaged ({why})" for path, why in skipped)


def _has_finished_epochs(paths: dict) -> bool:
    if os.path.exists(paths["best"]) or os.path.exists(paths["last"]):
        return True
    if not os.path.exists(paths["csv"]):
        return False
    with open(paths["csv"], newline="") as handle:
        return len(list(csv.reader(handle))) > 1


def recorded_differences(output: str, config: TrainConfig) -> tuple[dict, dict]:
    """How ``config`` differs from the run recorded in ``output``: ``(refused, resumable)``, each
    ``{field: [recorded, now]}``; both empty when ``output`` holds no config.json."""
    record = read_record(os.path.join(output, "config.json"))
    if record is None:
        return {}, {}
    return compare(current_config(record), as_recorded(config))


def check_output(output: str) -> None:
    """``RunFolderError`` when ``output`` exists and is not a folder."""
    if os.path.exists(output) and not os.path.isdir(output):
        raise RunFolderError(f"output {output!r} is a file; training writes a folder there: give a "
                             f"folder (new or from an earlier run) instead")


def plan_run(config: TrainConfig, paths: dict, backups: str, derived: dict) -> Plan:
    """Decide what running ``config`` in ``paths["output"]`` does; raise ``RunFolderError`` when
    it would mix two runs. Reads only: nothing is written here.

    ``backups`` is this process's backup folder; ``derived`` the replicas, global batch and learning
    rate this run computes (a resume must keep the global batch and rate).
    """
    output = paths["output"]
    check_output(output)
    derived = json.loads(json.dumps(derived))
    if config.restart:
        return Plan(derived=derived, output=output)
    record = read_record(paths["config"])
    backup, skipped = newest_readable_backup(backups)
    if backup is None:
        if record is not None and not skipped and not compare(current_config(record),
                                                             as_recorded(config))[0]:
            # This run's own files, from an attempt that stopped (a full disk, a kill) before
            # its first backup: nothing in them can be resumed, so the run starts again.
            return Plan(derived=derived, output=output, message=f"{output}: no epoch of this run was backed up "
                        "yet (the last attempt stopped first); starting it from epoch 1")
        if _has_finished_epochs(paths):
            raise RunFolderError(
                f"{output} holds a trained run (checkpoints or a CSV log) but no backup to continue "
                f"it from{_skipped_text(skipped)}; "
                + HOW_TO_START_OVER.format(output=output)
            )
        return Plan(derived=derived, skipped=skipped, output=output)  # nothing finished: start afresh
    if record is not None:
        refused, changes = compare(current_config(record), as_recorded(config))
        was = record.get("derived", {})
        refused.update({f"{key} (derived)": [was[key], value] for key, value in derived.items()
                        if key in ("global_batch_size", "learning_rate") and key in was
                        and was[key] != value})
        _refuse(output, refused)
    else:
        changes = {}
    plan = Plan(backup.epoch, backup, skipped, record, changes, derived, output=output)
    if backup.epoch >= config.epochs:
        plan.complete = True
        plan.derived["steps_per_epoch"] = (record or {}).get("derived", {}).get("steps_per_epoch", 0)
        done = (f"{backup.epoch} of {config.epochs} epochs" if backup.epoch == config.epochs
                else f"{backup.epoch} epochs trained, {config.epochs} asked")
        plan.message = (f"{output} is complete: {done}; raise --epochs to continue, or --restart "
                        f"to start over")
    else:
        plan.message = f"Resuming from {backup.path}: {backup.epoch} of {config.epochs} epochs done"
    plan.message += "".join(f"\n  skipped damaged backup {path} ({why})" for path, why in skipped)
    return plan


def check_classes(plan: Plan, classes: int) -> None:
    """A resume must train on the same number of classes (fc8's width): say so, not a shape error."""
    plan.derived["classes"] = classes
    was = (plan.record or {}).get("derived", {}).get("classes")
    if plan.backup is not None and was is not None and was != classes:
        _refuse(plan.output, {"classes (from the data set)": [was, classes]})


def check_steps(plan: Plan, steps_per_epoch: int) -> None:
    """A resume must keep the epoch's length (the data stream is positioned by whole epochs)."""
    plan.derived["steps_per_epoch"] = steps_per_epoch
    was = (plan.record or {}).get("derived", {}).get("steps_per_epoch")
    if plan.backup is not None and was is not None and was != steps_per_epoch:
        _refuse(plan.output, {"steps_per_epoch (derived from the data)": [was, steps_per_epoch]})


def check_data(plan: Plan, fingerprint: dict) -> None:
    """A resume must train on the data the run started on: refuse, naming what changed (files
    added, removed or replaced, a prepared folder rebuilt) unless ``--restart``."""
    from alexnet_keras.training.inputs import describe_changes

    plan.data = json.loads(json.dumps(fingerprint))
    was = (plan.record or {}).get("data")
    changes = describe_changes(was, plan.data) if plan.backup is not None and was else []
    if changes:
        shown = "; ".join(changes[:5]) + (f"; {len(changes) - 5} more" if len(changes) > 5 else "")
        raise RunFolderError(
            f"{plan.output} holds a run trained on other data than this command reads ({shown}); a "
            f"resume must see the same data: restore it, or to train on the data as it is now, "
            + HOW_TO_START_OVER.format(output=plan.output) + " (it deletes that run's files)")


def lock_run(output: str, task: str | None = None):
    """Hold the run folder's lock while training (``folder_lock``): a second training on the same
    ``--output`` is refused while the first runs. Another worker of a multi-worker run (``task``)
    locks its own backup folder instead, beside the chief."""
    from alexnet_keras.data.folder_lock import folder_lock

    folder = output if task is None else backup_dir(run_paths(output), task)
    return folder_lock(folder, what="training", fix="wait for it to end (or stop it), or give "
                       "this run another --output")


def _remove_run(paths: dict) -> None:
    for key in ("config", "csv", "plot"):
        if os.path.exists(paths[key]):
            os.remove(paths[key])
    for folder in (os.path.dirname(paths["best"]), paths["backup"],
                   os.path.join(paths["output"], "logs")):
        shutil.rmtree(folder, ignore_errors=True)


def _truncate_csv(path: str, start_epoch: int) -> None:
    """Keep the header and the rows of the first ``start_epoch`` epochs (those the backup holds)."""
    if not os.path.exists(path):
        return
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    # A row cut short by a crash or a full disk (no epoch number) goes with the unfinished epochs.
    kept = rows[:1] + [row for row in rows[1:]
                       if row and row[0].isdigit() and int(row[0]) < start_epoch]
    temporary = path + ".tmp"  # a full disk while writing must not cut the log itself short
    with open(temporary, "w", newline="") as handle:
        csv.writer(handle).writerows(kept)
    os.replace(temporary, path)


def start_run(config: TrainConfig, paths: dict, plan: Plan, *, chief: bool) -> None:
    """The first writes: start over if asked, set damaged backups aside, record the configuration
    (a new record, or one more entry in "resumes"), and cut the CSV log back to the backup's epoch."""
    for damaged, _ in plan.skipped:  # out of the way, kept for a look
        if os.path.exists(damaged):
            os.replace(damaged, damaged + ".damaged")
    if not chief:
        return
    if config.restart:
        _remove_run(paths)
    os.makedirs(paths["output"], exist_ok=True)
    if plan.start_epoch == 0:
        record = {"config": as_recorded(config), "derived": plan.derived, "resumes": []}
        if plan.data is not None:
            record["data"] = plan.data
        if os.path.exists(paths["csv"]):
            os.remove(paths["csv"])
    else:
        record = plan.record or {"config": as_recorded(config), "derived": plan.derived,
                                 "resumes": []}
        record.setdefault("resumes", []).append(
            {"epoch": plan.start_epoch, "backup": os.path.basename(plan.backup.path),
             "changes": plan.changes, "derived": plan.derived}
        )
        if plan.data is not None:
            record.setdefault("data", plan.data)  # a record of an older version had none
        _truncate_csv(paths["csv"], plan.start_epoch)
    temporary = paths["config"] + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(record, handle, indent=2)
    os.replace(temporary, paths["config"])


def interrupted_message(config: TrainConfig, backups: str) -> str:
    """The one line a Ctrl-C ends with."""
    done = latest_backup_epoch(backups)
    return (f"Interrupted: {done} of {config.epochs} epochs are saved in {config.output}; run the "
            f"same command to resume from there.")
