"""Photo collections for training: ``python -m colorkeras.data pack SRC OUT``.

    python -m colorkeras.data pack ~/photos runs/photos-shards --shards 16
    python -m colorkeras.data pack tfds:tf_flowers runs/flowers-shards
    python -m colorkeras.train --data tfrecord:runs/photos-shards ...

``pack`` writes TFRecord shards of resized JPEGs per split, with a manifest
(`colorkeras.shards`); train, tune and evaluate read them with
``--data tfrecord:OUT`` (or just ``--data OUT``).
"""

import sys

from colorkeras import cli


def build_parser():
    parser = cli.ArgumentParser(
        prog="python -m colorkeras.data",
        description="Prepare photo collections for training.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    pack = commands.add_parser(
        "pack", help="write a photo source as TFRecord shards",
        description="Write the train and val photos of SRC as TFRecord shards of resized "
        "JPEGs in OUT, with a manifest.json. SRC is 'sample', a folder (with train/ and "
        "val/, or split by a stable hash of each file name) or tfds:NAME.",
    )
    pack.add_argument("source", metavar="SRC")
    pack.add_argument("out", metavar="OUT")
    pack.add_argument("--shards", type=cli.positive_int, default=8,
                      help="files per split; at least the number of workers (default 8)")
    pack.add_argument("--image-size", type=cli.positive_int, default=512,
                      help="largest shorter side kept; photos are never enlarged (default 512)")
    pack.add_argument("--quality", type=cli.positive_int, default=92,
                      help="JPEG quality of the stored photos (default 92)")
    pack.add_argument("--val-fraction", type=float, default=0.1,
                      help="a plain folder's share sent to val (default 0.1)")
    pack.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    pack.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    cli.quiet_tensorflow()
    from colorkeras import shards

    manifest = shards.pack(args.source, args.out, args.shards, args.image_size, args.quality,
                           args.val_fraction, args.overwrite, progress=not args.quiet)
    counts = ", ".join(f"{split} {entry['count']} photos in {len(entry['files'])} shards"
                       for split, entry in manifest["splits"].items())
    print(f"Wrote {args.out}: {counts}. Train from it with --data tfrecord:{args.out}")
    return 0


if __name__ == "__main__":
    cli.run(main, sys.argv[1:], build_parser)
