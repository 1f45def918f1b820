"""Grid search: ``python -m colorkeras.tune``.

With no arguments it runs the quick U-Net grid (``tuning/unet.toml``,
table ``[quick]``) on the embedded sample photos, and writes under ``--out``
(default ``runs/tuning/quick-unet``, untracked: the committed
``tuning/results/quick-unet`` is an example, made by
``python -m colorkeras.tune --out tuning/results/quick-unet``):

- ``trials.csv``: one row per trial: settings, objective, best epoch, wall time;
- ``summary.md``: the ranking, and the best configuration of each
  architecture as a ready ``python -m colorkeras.train`` command;
- ``plot.png``: the objective by trial, one curve per architecture;
- ``trials/``: keras-tuner's files and one training folder per trial.

Run the same command again after an interruption and the search goes on
from its finished trials. Set keras-tuner's ``KERASTUNER_TUNER_ID``,
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` to run it as a chief
(``KERASTUNER_TUNER_ID=chief``) and workers (any other id) that share the
trials; with several architectures, architecture ``i`` (in ``--model``
order) uses port ``PORT + i``. ``--distribution multi-worker`` requires
them, and trains each worker's trials on all its local devices.
"""

import contextlib
import os
import sys

from colorkeras import cli

# How a tuner trains its trials. A trial runs on one host: across hosts it is
# keras-tuner's chief and workers that share the search (tuning/README.md).
DISTRIBUTIONS = ("none", "mirrored", "multi-worker")


def build_parser():
    from colorkeras.training_config import TrainConfig

    defaults = TrainConfig()
    parser = cli.ArgumentParser(
        prog="python -m colorkeras.tune",
        description="Grid-search colorization networks with keras-tuner, one "
        "GridSearch per architecture, and rank the trials.",
        epilog="Example: python -m colorkeras.tune --model all --grid quick "
        "--data ~/photos --out tuning/results/quick-all",
    )
    parser.add_argument(
        "--model", nargs="+", default=["unet"], metavar="NAME",
        help="architectures to search: names from the registry, or 'all' (default: unet)",
    )
    parser.add_argument(
        "--grid", default="quick", metavar="quick|full|PATH[:TABLE]",
        help="the [quick] or [full] table of tuning/<model>.toml, or a TOML grid "
        "file (flat, or one table picked with :TABLE). Default: quick",
    )
    cli.add_data_args(parser, batch_size=defaults.batch_size)
    # Unset, the grid decides (its batch_size and epochs lists, else the defaults).
    parser.set_defaults(batch_size=None)
    group = parser.add_argument_group("schedule")
    group.add_argument("--epochs", type=cli.positive_int, default=None,
                       help="epochs per trial, replacing the grid's epochs list "
                       f"(default: the grid's, else {defaults.epochs})")
    group.add_argument("--steps-per-epoch", type=cli.positive_int,
                       default=defaults.steps_per_epoch,
                       help=f"training batches per epoch (default {defaults.steps_per_epoch})")
    group.add_argument("--seed", type=int, default=defaults.seed, help="random seed (default 0)")
    search = parser.add_argument_group("search")
    search.add_argument("--objective", default="val_delta_e2000", metavar="METRIC[:min|max]",
                        help="what ranks the trials (default: val_delta_e2000, the validation "
                        "CIEDE2000, minimised; PSNR favours grayish output. PSNR and SSIM are "
                        "maximised, other metrics minimised unless ':max' is added)")
    search.add_argument("--max-trials", type=cli.positive_int, default=None,
                        help="at most this many trials per architecture (default: the whole "
                        "grid); raise it later to go on with the same --out")
    search.add_argument("--distribution", default="none", choices=DISTRIBUTIONS,
                        help="mirrored: each trial on all local GPUs (or the CPU) with "
                        "tf.distribute.MirroredStrategy; multi-worker: this process is the "
                        "chief or a worker of a keras-tuner cluster (KERASTUNER_* variables), "
                        "and each worker trains its trials on all its local devices with "
                        "MirroredStrategy (default: none)")
    parser.add_argument("--out", default=None,
                        help="search folder (default: runs/tuning/<grid>-<models>); "
                        "the same folder resumes")
    parser.add_argument("--summarize", action="store_true",
                        help="train nothing: rewrite trials.csv, summary.md and plot.png "
                        "from the trials saved in --out")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch, no progress bar")
    return parser


def resolve_models(names):
    """``["all"]``, ``["unet", "cae"]`` or ``["unet,cae"]`` -> registry names."""
    from colorkeras.models import list_models

    names = [n for name in names for n in name.split(",") if n]
    if "all" in names:
        return list_models()
    unknown = [n for n in names if n not in list_models()]
    if unknown or not names:
        raise cli.UsageError(
            f"--model takes names from {list_models()} or 'all'. Received: model={unknown or names}"
        )
    return list(dict.fromkeys(names))


def default_out(grid, models):
    from colorkeras.models import list_models

    label = grid if grid in ("quick", "full") else os.path.splitext(os.path.basename(grid))[0]
    label = label.replace(":", "-")
    names = "all" if models == list_models() else "-".join(models)
    # Under runs/, which git ignores: a checkout's committed example results
    # in tuning/results/ are never written over by a user's first command.
    return os.path.join("runs", "tuning", f"{label}-{names}")


def load_grids(args, models):
    """Every grid, checked before anything trains, with the CLI overrides."""
    from colorkeras.grids import load_grid
    from colorkeras.training_config import TrainConfig

    defaults = TrainConfig()
    loaded = []
    for model in models:
        grid = load_grid(model, args.grid)
        for key, value, default in (("epochs", args.epochs, defaults.epochs),
                                    ("batch_size", args.batch_size, defaults.batch_size)):
            if value is not None:
                grid.values[key] = [value]
            grid.values.setdefault(key, [default])  # recorded in every trial
        loaded.append(grid)
    return loaded


def role():
    """'chief', 'worker' or 'single', from keras-tuner's variables."""
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "single"
    missing = [v for v in ("KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID") if v not in os.environ]
    if missing:
        raise cli.UsageError(f"KERASTUNER_ORACLE_IP is set but {' and '.join(missing)} not")
    return "chief" if "chief" in os.environ["KERASTUNER_TUNER_ID"] else "worker"


@contextlib.contextmanager
def oracle_port(offset):
    """Serve architecture ``offset``'s oracle on the base port + ``offset``.

    The chief runs one oracle after the other; distinct ports keep a worker
    that is done with one architecture from reaching the oracle that just
    finished instead of the next one.
    """
    base = os.environ.get("KERASTUNER_ORACLE_PORT")
    if base is None or offset == 0:
        yield
        return
    os.environ["KERASTUNER_ORACLE_PORT"] = str(int(base) + offset)
    try:
        yield
    finally:
        os.environ["KERASTUNER_ORACLE_PORT"] = base


def trial_distribution(name, where):
    """The ``train`` distribution a tuner with ``--distribution name`` trains its trials with.

    ``multi-worker`` is a keras-tuner cluster of multi-device hosts: it needs
    the KERASTUNER_* variables, its workers train each trial with every
    local device (``mirrored``), and its chief, which only serves the
    oracle, trains nothing.
    """
    if name != "multi-worker":
        return name
    if where == "single":
        raise cli.UsageError(
            "--distribution multi-worker runs a keras-tuner cluster: set KERASTUNER_TUNER_ID "
            "(chief, or a worker id), KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT on "
            "every process (tuning/README.md)")
    return "none" if where == "chief" else "mirrored"


def print_ranking(rows, objective, out, limit=10):
    from colorkeras.tuning_report import ranking_table, varying

    finished = [row for row in rows if row.finished]
    print(f"\nRanking by {objective} ({len(finished)} of {len(rows)} trials finished):")
    if finished:
        print(ranking_table(finished, objective, limit, keys=varying(rows)))
        if len(finished) > limit:
            print(f"... {len(finished) - limit} more in the summary")
    for name in ("summary.md", "trials.csv", "plot.png"):
        print(f"  {os.path.join(out, name)}")


def planned_search(args):
    """(grids, objective, base config, search record) the arguments ask for.

    Raises if ``--out`` holds a different search (`tuning.check_search`).
    """
    from colorkeras import data, tuning
    from colorkeras.training_config import TrainConfig

    models = resolve_models(args.model)
    grids = load_grids(args, models)
    objective = tuning.parse_objective(args.objective)
    data.check_sizes(args.image_size, args.crop_size)
    out = args.out or default_out(args.grid, models)
    cli.check_out_folder_path(out)
    base = TrainConfig(
        data=args.data, image_size=args.image_size, crop_size=args.crop_size,
        steps_per_epoch=args.steps_per_epoch, seed=args.seed, out=out,
        verbose=2 if args.quiet else 1,  # keras-tuner's display wants a number
    )
    return grids, objective, base, tuning.check_search(out, tuning.search_record(grids, base,
                                                                                   objective))


def main(argv=None):
    args = build_parser().parse_args(argv)
    cli.quiet_tensorflow()
    from colorkeras import tuning, tuning_report

    tuning.quiet_retracing_notice()
    if args.summarize:  # the saved search says what it was run with: nothing to repeat
        out = args.out or default_out(args.grid, resolve_models(args.model))
        objective = tuning.load_search(out)["objective"]["name"]
        print_ranking(tuning_report.write_summary(out), objective, out)
        return 0
    grids, objective, base, record = planned_search(args)
    out = base.out
    where = role()
    trial = trial_distribution(args.distribution, where)
    pipelines = tuning.Pipelines(base)
    if where != "chief":  # fail on bad data now, not once per trial
        first = grids[0].values
        pipelines.get(first.get("color_space", [base.color_space])[0], first["batch_size"][0])
    tuning.write_search(out, record)
    from colorkeras import distribution

    strategy = distribution.make_strategy(trial)
    for offset, grid in enumerate(grids):
        with oracle_port(offset):
            tuner = tuning.make_tuner(grid, base, objective, out, args.max_trials,
                                      strategy, pipelines)
            print(f"\n== {grid.model}: {tuner.oracle.max_trials} trials of {grid.source} "
                  f"({grid.size} in the grid), {where}; output in {out}", flush=True)
            tuner.search(verbose=cli.progress_verbosity(base.verbose == 2))
    if where == "worker":
        print("Worker done; the chief writes the summary.")
        return 0
    print_ranking(tuning_report.write_summary(out), objective.name, out)
    return 0


if __name__ == "__main__":
    cli.run(main, sys.argv[1:], build_parser)
