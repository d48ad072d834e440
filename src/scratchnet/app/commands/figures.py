"""``scratchnet figures``: the tutorial's explanatory figures."""

from __future__ import annotations

import argparse

from ..arguments import make_folder, path_argument, printable
from ..interrupts import deferred
from ..overwrite import FORCE_HELP, check_replaceable, png_is_ours, replace_together

NAMES = ("sigmoid.png", "cross_entropy.png")


def add_parser(commands) -> None:
    figures = commands.add_parser(
        "figures",
        help="draw the tutorial's explanatory figures",
        description="Write sigmoid.png (the sigmoid and its derivative) and "
        "cross_entropy.png (binary cross-entropy for y=1 and y=0).",
    )
    figures.add_argument(
        "--out", type=path_argument, default="figures", help="output folder (default: ./figures)"
    )
    figures.add_argument("--force", action="store_true", help=FORCE_HELP)
    figures.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    with deferred():
        from ..plots import cross_entropy_figure, png, sigmoid_figure

    make_folder(args.out, "--out")
    paths = [args.out / name for name in NAMES]
    for path in paths:  # both checked before either is written
        check_replaceable(path, png_is_ours, "a figure", "--out", args.force)
    replace_together(dict(zip(paths, [png(sigmoid_figure()), png(cross_entropy_figure())],
                              strict=True)))  # fmt: skip
    print(printable(f"wrote {paths[0]} and {paths[1]}"))
    return 0
