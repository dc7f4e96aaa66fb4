"""``summary``, ``bench``, ``evaluate``, ``convert-weights``, ``prepare`` and ``ablation``."""

from __future__ import annotations

import argparse
import json
import os

from alexnet_keras.cli.parser import UsageError, command_line, given


def _summary(args: argparse.Namespace) -> int:
    from alexnet_keras.model.architecture import alexnet
    from alexnet_keras.model.summary import format_table, layer_table

    shape = (args.image_size, args.image_size, 3) if args.image_size else None
    model = alexnet(args.variant, classes=args.classes, input_shape=shape)
    size = model.input_shape[1]
    print(f"AlexNet, variant {args.variant!r}, {size}x{size}x3 input, {args.classes} classes")
    print(format_table(layer_table(model)))
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.what == "input":
        from alexnet_keras.bench.input import main
    elif args.what == "profile":
        from alexnet_keras.bench.profile import main
    else:
        from alexnet_keras.bench.train import main
    return main(args.rest) or 0


def _run_evaluate(args: argparse.Namespace) -> int:
    from alexnet_keras.training.evaluate import evaluate, format_results

    if bool(args.checkpoint) == bool(args.weights):
        raise UsageError("give --checkpoint FILE.keras [FILE.keras ...] (an ensemble is averaged) "
                         "or --variant NAME --weights imagenet|FILE, not both or neither")
    checkpoint = args.checkpoint
    if args.weights:
        from alexnet_keras.model.architecture import alexnet
        from alexnet_keras.model.weights import WeightsImportError

        try:
            checkpoint = alexnet(args.variant, weights=args.weights)
        except WeightsImportError as error:
            raise ValueError(str(error)) from error
    # Pretrained weights (torchvision's) expect torchvision's normalisation; our checkpoints the mean.
    preprocessing = args.preprocessing or ("torch" if args.weights else "paper")
    results = evaluate(
        checkpoint, preprocessing=preprocessing, dataset=args.dataset, split=args.split, data_dir=args.data_dir,
        manual_dir=args.manual_dir, batch_size=args.batch_size, image_size=args.image_size,
        crops=args.crops, steps=args.steps, data_path=args.data_path, skip_corrupt=args.skip_corrupt,
        validation_split=args.validation_split, allow_class_mismatch=args.allow_class_mismatch,
    )
    print(format_results(results))
    if args.json:
        print(json.dumps(results))
    return 0


def positive_int(text: str) -> int:
    """An argparse ``type=``: an integer of at least 1 (``--steps 0`` is refused, not run empty)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; received {text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; received {text}")
    return value


def split_fraction(text: str) -> float:
    """An argparse ``type=``: a share in (0, 1), such as ``--validation-split 0.1``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1); received {text}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1); received {text}")
    return value


def add_evaluate_command(subparsers) -> argparse.ArgumentParser:
    """Add ``evaluate`` to an ``argparse`` subparsers object (``python -m alexnet_keras evaluate``)."""
    parser = subparsers.add_parser(
        "evaluate", help="top-1/top-5 error of a checkpoint, centre crop and ten crops",
        
    )
    parser.add_argument("--checkpoint", nargs="+", default=None,
                        help=".keras files written by train; several: their softmax outputs are "
                        "averaged (the paper's ensembles, Section 6)")
    parser.add_argument("--variant", default="torchvision", help="with --weights: the variant built")
    parser.add_argument("--weights", default=None,
                        help="instead of --checkpoint: imagenet (torchvision's), FILE.pth or "
                        "FILE.weights.h5")
    parser.add_argument("--preprocessing", default=None, choices=["paper", "torch"],
                        help="preprocess_input mode (default: torch with --weights, else paper)")
    parser.add_argument("--dataset", default="imagenet2012")
    parser.add_argument("--split", default="validation", choices=["train", "validation", "test"])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--data-path", default=None, help="the image folder of --dataset folder")
    parser.add_argument("--skip-corrupt", action="store_true", help="leave unreadable images out")
    parser.add_argument("--validation-split", type=split_fraction, default=0.1,
                        help="a --data-path folder without train/ and validation/: the share of each "
                        "class that is its validation split, as train held it out (default 0.1)")
    parser.add_argument("--manual-dir", default=None)
    parser.add_argument("--batch-size", type=positive_int, default=128)
    parser.add_argument("--image-size", type=positive_int, default=None, help="default: the model's input")
    parser.add_argument("--crops", default="both", choices=["center", "ten", "both"])
    parser.add_argument("--steps", type=positive_int, default=None, help="evaluate the first N batches only")
    parser.add_argument("--allow-class-mismatch", action="store_true",
                        help="score even when the data's class names differ from those the "
                        "checkpoint was trained on (output k is taken as the data's class k)")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.set_defaults(func=_run_evaluate)
    return parser


def _run_predict(args: argparse.Namespace) -> int:
    from alexnet_keras.training.evaluate import predict_files

    for result in predict_files(args.checkpoint, args.images, top=args.top):
        shown = ", ".join(f"{name} {probability:.1%}" for name, probability in result["classes"])
        print(f"{result['path']}: {shown}")
    return 0


def add_predict_command(subparsers) -> argparse.ArgumentParser:
    """``python -m alexnet_keras predict --checkpoint C IMAGE ...``: the top classes, by name."""
    parser = subparsers.add_parser(
        "predict", help="the top classes of image files, by the names the checkpoint was trained on",
        description="Centre patch of each image (the evaluation's preprocessing), then the "
        "checkpoint's most probable classes, named as in its training data.")
    parser.add_argument("--checkpoint", required=True, help="a .keras file written by train")
    parser.add_argument("images", nargs="+", help="image files (JPEG, PNG, BMP, GIF)")
    parser.add_argument("--top", type=positive_int, default=5, help="classes shown per image (5)")
    parser.set_defaults(func=_run_predict)
    return parser


def _run_convert_weights(args: argparse.Namespace) -> int:
    from alexnet_keras.model.architecture import alexnet
    from alexnet_keras.model.weights import WeightsImportError, save_torch_state_dict

    try:
        model = alexnet("torchvision", weights=args.source)
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        if args.to_torch:
            save_torch_state_dict(model, args.output)
        else:
            model.save_weights(args.output)
    except WeightsImportError as error:
        raise ValueError(str(error)) from error
    print(f"wrote {args.output}")
    return 0


def add_convert_weights_command(subparsers) -> argparse.ArgumentParser:
    """``python -m alexnet_keras convert-weights FILE.pth --output FILE.weights.h5`` (and back)."""
    parser = subparsers.add_parser(
        "convert-weights", help="torchvision's AlexNet .pth to Keras .weights.h5, or back (--to-torch)")
    parser.add_argument("source", help="a torchvision state dict (.pth), or with --to-torch a "
                        ".weights.h5 file of alexnet('torchvision'); 'imagenet': torchvision's own")
    parser.add_argument("--output", required=True, help="FILE.weights.h5 (or FILE.pth with --to-torch)")
    parser.add_argument("--to-torch", action="store_true",
                        help="write a state dict that torchvision.models.alexnet() loads")
    parser.set_defaults(func=_run_convert_weights)
    return parser


def _run_prepare(args: argparse.Namespace) -> int:
    from alexnet_keras.data.prepared_build import prepare

    manifest = prepare(
        args.output, dataset=args.dataset, data_path=args.data_path, data_dir=args.data_dir,
        manual_dir=args.manual_dir, skip_corrupt=args.skip_corrupt, shards=args.shards,
        workers=args.workers, verify=args.verify, encoding=args.encoding, min_classes=2,
        validation_split=args.validation_split,
    )
    for split, entry in manifest["splits"].items():
        count = entry.get("num_examples", f"same as {entry.get('same_as')}")
        print(f"{split}: {count} images in {len(entry.get('shards', []))} shard(s)")
    print(f"prepared 256x256 data in {args.output}; train with: python -m alexnet_keras train "
          f"--prepared {args.output}")
    return 0


def add_prepare_command(subparsers) -> argparse.ArgumentParser:
    """Add ``prepare`` (``python -m alexnet_keras prepare``): the 256x256 format of Section 2."""
    from alexnet_keras.data.catalog import NAMES

    parser = subparsers.add_parser(
        "prepare", help="write a data set as 256x256 JPEGs in TFRecord shards (Section 2)",
        description="Rescale the shorter side to 256, keep the central 256x256 square, store it as "
        "JPEG in TFRecord shards with a manifest, the mean image and the RGB PCA. Rerun the same "
        "command to continue an interrupted build.")
    parser.add_argument("--dataset", default="imagenet2012", choices=list(NAMES))
    parser.add_argument("--data-path", default=None, help="the image folder of --dataset folder")
    parser.add_argument("--data-dir", default=None,
                        help="TFDS data_dir (for offline: the folder holding offline/)")
    parser.add_argument("--manual-dir", default=None,
                        help="folder holding ILSVRC2012_img_{train,val}.tar")
    parser.add_argument("--skip-corrupt", action="store_true", help="leave unreadable images out")
    parser.add_argument("--validation-split", type=split_fraction, default=0.1,
                        help="a --data-path folder without train/ and validation/: the share of each "
                        "class held out as the validation split (default 0.1)")
    parser.add_argument("--output", required=True, help="the prepared folder to write")
    parser.add_argument("--workers", type=positive_int, default=None, help="processes (default: CPU count)")
    parser.add_argument("--shards", type=positive_int, default=None,
                        help="shards of the train split (default: one per 1,000 images)")
    parser.add_argument("--verify", action="store_true",
                        help="check every shard's SHA-256 and rewrite the damaged ones")
    parser.add_argument("--encoding", choices=["jpeg", "raw"], default="jpeg",
                        help="store each square as JPEG (quality 95, about 26 KB; default) or as "
                        "raw pixels (196 KB, 7-8x the disk, nothing to decode when training)")
    parser.set_defaults(func=_run_prepare)
    return parser


def _run_ablation(args: argparse.Namespace) -> int:
    from alexnet_keras.ablation.report import format_table
    from alexnet_keras.ablation.protocol import run_protocol

    runs = args.runs or ("runs/ablations_quick" if args.quick else "runs/ablations")
    output = args.output or (os.path.join(runs, "results") if args.quick else "results/ablations")
    options = given(args, "seeds", "epochs")
    command = command_line()
    results = run_protocol(output, runs=runs, arms=args.arms, quick=args.quick,
                           data_dir=args.data_dir, command=command, train=not args.tables_only,
                           **options)
    print(format_table(results["comparisons"], ["arm", "metric", "treatment", "control", "pairs",
                                                "difference", "low", "high", "p_value", "p_holm", "mde"]))
    return 0


def add_ablation_command(subparsers) -> argparse.ArgumentParser:
    """``python -m alexnet_keras ablation``: the paper's claims, one change at a time (ablations.py)."""
    parser = subparsers.add_parser(
        "ablation", help="the paper's claims measured: one change at a time against a base recipe",
        description="Train each ablation arm's settings with several seeds on the offline set "
        "(resumable), then write the CSVs of alexnet_keras.ablation.protocol.")
    parser.add_argument("--output", default=None, help="results folder (default: results/ablations; "
                        "with --quick: runs/ablations_quick/results)")
    parser.add_argument("--runs", default=None, help="run folders (default: runs/ablations)")
    parser.add_argument("--seeds", type=positive_int, default=None, help="seeds per setting (default: 5)")
    parser.add_argument("--epochs", type=positive_int, default=None, help="epochs per run (default: 48)")
    parser.add_argument("--arms", nargs="+", default=None,
                        help="only these arms (default: all; names in alexnet_keras.ablation.protocol.ARMS)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: smallest images, 1 seed, 1 epoch of 2 steps (not evidence)")
    parser.add_argument("--data-dir", default=None, help="the folder holding offline/")
    parser.add_argument("--tables-only", action="store_true",
                        help="train nothing: write the tables for the arms whose runs are all kept "
                        "(provenance.json lists the others as pending)")
    parser.set_defaults(func=_run_ablation)
    return parser
