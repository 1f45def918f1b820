"""tuning/model_cards.py: cards and the README table come from the files, figures intact."""

import csv
import importlib.util
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load_tool():
    spec = importlib.util.spec_from_file_location("model_cards", ROOT / "tuning" / "model_cards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _scores(model, image, delta_e, ratio, cast_b):
    return {"model": model, "image": image, "mae": 0.06, "mse": 0.01, "huber": 0.005,
            "bce": 0.5, "psnr": 23.0, "ssim": 0.94, "ciede2000": delta_e, "ab_mae": 10.0,
            "colorfulness": 30 * ratio, "colorfulness_ratio": ratio, "grayishness": 0.5,
            "cast_a": 0.5, "cast_b": cast_b, "color_bleeding": 1.3, "blotch_share": 0.001,
            "density_kl": 9.0, "truth_colorfulness": 30.0}


def test_cards_and_table_carry_the_measured_figures(tmp_path, monkeypatch):
    tool = _load_tool()
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "runs" / "ship-unet"
    run.mkdir(parents=True)
    config = {"model": "unet", "loss": "mae", "color_space": "lab", "learning_rate": 0.002,
              "hparams": {"depth": 4}, "image_size": 256, "crop_size": 128, "batch_size": 16,
              "epochs": 1000, "steps_per_epoch": 200, "seed": 0, "mixed_precision": True,
              "time_limit": 130.0, "out": "runs/ship-unet", "parameters": 1945250}
    (run / "config.json").write_text(json.dumps(config))
    _write_csv(run / "history.csv", [
        {"epoch": 0, "elapsed_seconds": 300.0, "cpu_seconds": 400.0, "val_psnr": 22.0},
        {"epoch": 1, "elapsed_seconds": 500.0, "cpu_seconds": 700.0, "val_psnr": 23.5},
        {"epoch": 2, "elapsed_seconds": 700.0, "cpu_seconds": 1000.0, "val_psnr": 23.1},
    ])
    evaluation = tmp_path / "evaluation"
    evaluation.mkdir()
    _write_csv(evaluation / "results.csv", [
        _scores("gray output", "a.jpg", 11.5, 0.0, -8.0),
        _scores("gray output", "b.jpg", 11.5, 0.0, -9.0),
        _scores("unet", "a.jpg", 11.0, 0.4, 1.0),
        _scores("unet", "b.jpg", 12.0, 0.6, 8.0),
    ])
    _write_csv(tmp_path / "manifest.csv", [
        {"file": "train/a.jpg", "source": "pool-a", "licence": "CC0-1.0"},
        {"file": "val/b.jpg", "source": "pool-b", "licence": "CC0-1.0"},
    ])
    (tmp_path / "exported_models" / "unet").mkdir(parents=True)
    (tmp_path / "exported_models" / "unet" / "unet.keras").write_bytes(b"x" * 2_000_000)
    monkeypatch.setattr(sys, "argv", ["model_cards.py", "--evaluation", str(evaluation),
                                      "--manifest", str(tmp_path / "manifest.csv"), "unet"])
    tool.main()
    card = (tmp_path / "exported_models" / "unet" / "README.md").read_text()
    assert "600 of 16" in card and "epoch 2" in card  # 3 epochs of 200; best PSNR at epoch 2
    assert "17 CPU-minutes" in card and "at most 240 CPU-minutes;" in card  # 1000 s
    assert "| unet | 23.00 |" in card and "11.50" in card  # means of the two photos
    assert "ΔE2000 below the gray output's: **missed** (11.50 against 11.50)" in card
    assert "ΔE2000 at most 10.0: **missed** (11.50)" in card
    assert "casts within ±3: **missed** (+0.5 / +4.5)" in card
    assert "Blotch pixels at most 0.2%: met (0.100%)" in card
    # The CF ratio is mean colourfulness over the truth's: (12 + 18) / 2 / 30.
    assert "| 0.500 |" in card
    assert "1 photos of the pool's train split from 1 sources" in card
    table = (evaluation / "readme_table.md").read_text()
    assert "| `unet` | 600 | 12 | 17 | 23.00 |" in table


def test_chosen_epoch_follows_the_runs_selection_and_its_minimum():
    tool = _load_tool()
    history = [
        {"val_psnr": "23.5", "val_delta_e2000": "10.5", "val_colorfulness_ratio": "0.50"},
        {"val_psnr": "23.0", "val_delta_e2000": "10.8", "val_colorfulness_ratio": "0.65"},
        {"val_psnr": "22.0", "val_delta_e2000": "11.5", "val_colorfulness_ratio": "0.90"},
        {"val_psnr": "23.9", "val_delta_e2000": "", "val_colorfulness_ratio": ""},
    ]
    assert tool.chosen_epoch({}, history) == (3, "val_psnr")
    assert tool.chosen_epoch({"select": "delta_e2000"}, history) == (0, "val_delta_e2000")
    config = {"select": "delta_e2000", "min_colorfulness": 0.6}
    assert tool.chosen_epoch(config, history) == (1, "val_delta_e2000")
    record = dict(config=config, best_epoch=2, best_value=10.8, monitor="val_delta_e2000")
    assert "epoch 2, the lowest validation CIEDE2000 (10.80) among" in tool.selection_text(record)


def test_refresh_keeps_the_training_facts_and_rewrites_the_figures(tmp_path):
    tool = _load_tool()
    card = tmp_path / "README.md"
    card.write_text("# `cae`\n\nTrained for 133 minutes.\n\n## Validation figures\n\nold table\n")
    rows = [_scores("gray output", "a.jpg", 11.5, 0.0, -8.0),
            _scores("cae", "a.jpg", 11.0, 0.4, 1.0)]
    results = tmp_path / "results.csv"
    _write_csv(results, rows)
    tool.refresh_card(card, "cae", tool.mean_scores(results), "sheet.jpg")
    text = card.read_text()
    assert text.startswith("# `cae`\n\nTrained for 133 minutes.\n\n## Validation figures")
    assert "old table" not in text and "| cae | 23.00 |" in text and "ΔE2000 below" in text
