"""The summary of a grid search: ``trials.csv``, ``summary.md`` and ``plot.png``.

Read from the oracle's trial files under ``<out>/trials/`` and from
``<out>/search.json``, so any process that can see those files writes the
same summary: the single process of a plain search, the chief of a
distributed one, or ``python -m colorkeras.tune --summarize`` afterwards.
"""

import csv
import dataclasses
import glob
import math
import os
import shlex

from colorkeras import grids, markdown, training_config, tuning

FIXED_COLUMNS = ("model", "trial", "status", "best_epoch", "wall_seconds")


@dataclasses.dataclass
class TrialRow:
    """One trial as the summary shows it."""

    model: str
    trial: str
    status: str
    score: float  # NaN when the trial did not finish
    best_epoch: int
    wall_seconds: float
    values: dict  # grid key -> value
    message: str = ""

    @property
    def finished(self):
        return self.status == "COMPLETED" and not math.isnan(self.score)


def _grid(model, entry):
    return grids.Grid(model, entry["values"], entry["source"])


def last_line(text):
    """The line of a traceback that says what went wrong."""
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else ""


def _metric(trial, name):
    """What a trial reported for ``name``, NaN if nothing."""
    value = trial.metrics.get_best_value(name) if trial.metrics.exists(name) else None
    return math.nan if value is None else float(value)


def load_rows(out, record):
    """Every trial of the search in ``out``, architectures in registry order."""
    from keras_tuner.engine.trial import Trial

    from colorkeras.models import list_models

    order = {name: i for i, name in enumerate(list_models())}
    objective = record["objective"]["name"]
    rows = []
    for model in sorted(record["grids"], key=lambda m: order.get(m, len(order))):
        grid = _grid(model, record["grids"][model])
        pattern = os.path.join(out, tuning.TRIALS_DIR, model, "trial_*", "trial.json")
        trials = sorted((Trial.load(path) for path in glob.glob(pattern)),
                        key=lambda t: int(t.trial_id))  # ids are zero-padded to max_trials
        for trial in trials:
            values = {
                key: type(grid.values[key][0])(value)
                for key, value in trial.hyperparameters.values.items()
                if key in grid.values
            }
            best_epoch = _metric(trial, "best_epoch")
            rows.append(TrialRow(
                model=model,
                trial=trial.trial_id,
                status=trial.status,
                score=_metric(trial, objective) if trial.status == "COMPLETED" else math.nan,
                best_epoch=0 if math.isnan(best_epoch) else int(best_epoch),
                wall_seconds=_metric(trial, "wall_seconds"),
                values=values,
                message=last_line(trial.message),
            ))
    return rows


def ranked(rows, direction):
    """Finished trials, best first."""
    done = [row for row in rows if row.finished]
    return sorted(done, key=lambda row: row.score, reverse=direction == "max")


def train_command(config, out=None):
    """``python -m colorkeras.train ...`` that trains ``config`` again.

    Examples:
    ```python
    train_command(TrainConfig(model="unet", hparams={"depth": 3}))
    # 'python -m colorkeras.train --model unet ... --hparam depth=3 --out runs/unet-tuned'
    ```
    """
    from dataclasses import replace

    config = replace(config, out=out or os.path.join("runs", f"{config.model}-tuned"))
    arguments = training_config.train_arguments(config)
    return shlex.join(["python", "-m", "colorkeras.train", *arguments])


def selected_by(config, objective):
    """``config`` choosing its model.keras as the search ranked trials, where train can."""
    from dataclasses import replace

    for select, (name, mode) in training_config.SELECTIONS.items():
        if objective["name"] == name and objective.get("direction", mode) == mode:
            return replace(config, select=select)
    return config


def base_config(record):
    """The `TrainConfig` every trial of the search started from."""
    return training_config.TrainConfig(**record["settings"])


def write_trials_csv(path, rows, objective):
    keys = []
    for row in rows:
        keys += [k for k in row.values if k not in keys]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*FIXED_COLUMNS[:3], objective, *FIXED_COLUMNS[3:], *keys])
        for row in rows:
            writer.writerow([
                row.model, row.trial, row.status,
                "" if math.isnan(row.score) else f"{row.score:.4f}",
                row.best_epoch or "",
                "" if math.isnan(row.wall_seconds) else f"{row.wall_seconds:.1f}",
                *(row.values.get(k, "") for k in keys),
            ])


def varying(rows):
    """{model: keys whose value differs between that model's trials}."""
    keys = {}
    for row in rows:
        seen = keys.setdefault(row.model, {})
        for key, value in row.values.items():
            seen.setdefault(key, set()).add(value)
    return {model: [k for k, v in seen.items() if len(v) > 1] for model, seen in keys.items()}


def ranking_table(rows, objective, limit=None, keys=None):
    """A Markdown table of ``rows`` (already ranked).

    Args:
        keys: {model: grid keys to show}; default, those that vary.
    """
    keys = varying(rows) if keys is None else keys
    header = ["rank", "model", "trial", objective, "best epoch", "wall s", "settings tried"]
    align = ["right", "left", "right", "right", "right", "right", "left"]
    body = []
    for rank, row in enumerate(rows[:limit], start=1):
        settings = ", ".join(f"{k}={row.values[k]}" for k in keys.get(row.model, ()))
        body.append([rank, row.model, row.trial, f"{row.score:.3f}",
                     f"{row.best_epoch}/{row.values.get('epochs', '')}",
                     f"{row.wall_seconds:.0f}", settings or "-"])
    return markdown.table(header, body, align)


def summary_markdown(name, record, rows):
    objective = record["objective"]
    settings = record["settings"]
    best = ranked(rows, objective["direction"])
    failed = [row for row in rows if row.status in ("FAILED", "INVALID")]
    pending = [row for row in rows if row.status not in ("COMPLETED", "FAILED", "INVALID")]
    wall = sum(row.wall_seconds for row in rows if not math.isnan(row.wall_seconds))
    sources = "; ".join(
        f"{model}: {entry['source']}" for model, entry in record["grids"].items()
    )
    parts = [
        f"# Grid search `{name}`",
        "",
        f"Objective: `{objective['name']}` ({objective['direction']}imised), taken at each "
        f"trial's best epoch. Data: `{settings['data']}`, {settings['crop_size']}x"
        f"{settings['crop_size']} crops of photos resized to {settings['image_size']}, "
        f"{settings['steps_per_epoch']} steps per epoch, seed {settings['seed']}.",
        f"Grids: {sources}.",
        "",
        f"{len(best)} trials finished, {len(failed)} failed, {len(pending)} not finished; "
        f"{wall / 60:.1f} min of trial wall time in all.",
        "",
        "## Ranking",
        "",
        ranking_table(best, objective["name"], keys=varying(rows))
        if best else "No trial has finished yet.",
        "",
        "## Best configuration per architecture",
        "",
    ]
    base = base_config(record)
    for model in dict.fromkeys(row.model for row in best):
        row = next(r for r in best if r.model == model)
        config = tuning.trial_config(base, _grid(model, record["grids"][model]), row.values)
        config = selected_by(config, objective)
        parts += [
            f"**{model}**: trial {row.trial}, {objective['name']} {row.score:.3f}",
            "",
            "```bash",
            train_command(config),
            "```",
            "",
        ]
    if failed:
        parts += ["## Failed trials", ""]
        parts += [f"- {row.model} trial {row.trial}: {row.message}" for row in failed]
        parts.append("")
    return "\n".join(parts)


def write_plot(path, rows, objective):
    """Objective by trial, one curve per architecture, with its best so far."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    maximise = objective["direction"] == "max"
    for i, model in enumerate(dict.fromkeys(row.model for row in rows)):
        scores = [row.score for row in rows if row.model == model]
        # keras-tuner's ids, as in trials.csv, the summary and the trial_NNNN folders.
        trials = [int(row.trial) for row in rows if row.model == model]
        colour = f"C{i}"
        ax.plot(trials, scores, "o-", color=colour, label=model, alpha=0.8)
        best, running = float("nan"), []
        for score in scores:
            if not math.isnan(score) and (math.isnan(best) or (score > best) == maximise):
                best = score
            running.append(best)
        ax.plot(trials, running, "--", color=colour, alpha=0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial id (grid order)")
    ax.set_ylabel(objective["name"])
    ax.set_title(f"{objective['name']} by trial (dashed: best so far)")
    ax.grid(alpha=0.3)
    if rows:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_summary(out, name=None):
    """Write ``trials.csv``, ``summary.md`` and ``plot.png`` in ``out``.

    Returns:
        The trials, best first, then the rest.
    """
    record = tuning.load_search(out)
    rows = load_rows(out, record)
    objective = record["objective"]
    name = name or os.path.basename(os.path.normpath(out))
    write_trials_csv(os.path.join(out, "trials.csv"), rows, objective["name"])
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(summary_markdown(name, record, rows))
    write_plot(os.path.join(out, "plot.png"), rows, objective)
    best = ranked(rows, objective["direction"])
    return best + [row for row in rows if row not in best]
